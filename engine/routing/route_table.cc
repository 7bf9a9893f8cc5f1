#include "engine/routing/route_table.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include "engine/mutants/mutants.h"

namespace metalgate::routing {

namespace {

std::string_view strip_trailing_slashes(std::string_view p) {
  while (!p.empty() && p.back() == '/')
    p.remove_suffix(1);
  return p;
}

// Eight bytes at a time with a multiply-mix (host names are short; byte-wise FNV was latency-bound).
std::uint64_t hash_bytes(std::string_view s) {
  constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ull;
  std::uint64_t h = s.size() * kMul;
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  h = (h ^ (h >> 32)) * kMul;
  return (h ^ (h >> 29)) | 1;  // never 0, so a zero hash marks nothing
}

int type_rank(config::PathType t) {
  switch (t) {
    case config::PathType::kExact:
      return 0;
    case config::PathType::kPrefix:
      return 1;
    case config::PathType::kImplementationSpecific:
      return 2;
  }
  return 3;
}

// The key a path is compared by: Prefix ignores trailing slashes.
std::string_view match_key(const Route& r) {
  return r.type == config::PathType::kPrefix ? strip_trailing_slashes(r.path) : std::string_view(r.path);
}

constexpr std::size_t kScanLimit = 16;

// Up to the first 8 bytes of `s`, zero-padded, as one word.
std::uint64_t head_word(std::string_view s) {
  std::uint64_t w = 0;
  std::memcpy(&w, s.data(), std::min<std::size_t>(8, s.size()));
  return w;
}

// Bytes [0, min(8, n)) of a head word (memcpy puts byte i at the same place on any endianness).
std::uint64_t head_mask(std::size_t n) {
  if (n >= 8) return ~std::uint64_t{0};
  std::uint64_t m = 0;
  std::memset(&m, 0xff, n);
  return m;
}

}  // namespace

struct RouteTable::LargeIndex {
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, const Route*, Hash, std::equal_to<>> exact;
  std::unordered_map<std::string, const Route*, Hash, std::equal_to<>> prefix;
  std::vector<const Route*> implementation_specific;  // longest first

  const Route* match(std::string_view path, std::string_view stripped) const {
    const Route* best = nullptr;
    std::size_t best_len = 0;
    if (auto it = exact.find(path); it != exact.end()) {
      best = it->second;
      best_len = path.size();
    }
    // Prefix candidates are the request's own path elements, tried from the longest down.
    std::string_view candidate = stripped;
    for (;;) {
      if (auto it = prefix.find(candidate); it != prefix.end()) {
        if (!best || candidate.size() > best_len) {
          best = it->second;
          best_len = candidate.size();
        }
        break;
      }
      if (candidate.empty()) break;
      candidate = candidate.substr(0, candidate.rfind('/'));
    }
    for (const Route* r : implementation_specific) {
      if (best && r->path.size() <= best_len) break;
      if (path.substr(0, r->path.size()) == r->path) return r;
    }
    return best;
  }
};

RouteTable::RouteTable() = default;
RouteTable::~RouteTable() = default;
RouteTable::RouteTable(RouteTable&&) noexcept = default;
RouteTable& RouteTable::operator=(RouteTable&&) noexcept = default;

std::string_view normalize_host(std::string_view host, char (&buf)[256]) {
  // One forward pass: lower-case into buf and remember where a port could start.
  std::size_t n = std::min(host.size(), sizeof buf);
  std::size_t colon = n;
  const bool literal_v6 = n > 0 && host[0] == '[';
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(host[i]);
    if (c == ':') colon = i;
    if (literal_v6 && c == ']') colon = n;  // colons inside [..] are the address's own
    buf[i] = static_cast<char>(c | (static_cast<unsigned char>(c - 'A') < 26 ? 0x20 : 0));
  }
  std::string_view h(buf, colon);
  if (literal_v6) {
    auto close = h.find(']');
    h = std::string_view(buf, close == std::string_view::npos ? colon : close + 1);
  }
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  return h;
}

void RouteTable::add(Route route, config::SourceLocation where) {
  std::transform(route.host.begin(), route.host.end(), route.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (route.path.empty()) route.path = "/";
  storage_.push_back(std::make_unique<Route>(std::move(route)));
  where_[storage_.back().get()] = std::move(where);
}

RouteConflict RouteTable::conflict(const Route* kept, const Route* dropped) const {
  return {*kept, *dropped, where_.at(kept), where_.at(dropped)};
}

std::uint32_t RouteTable::build_block(std::string_view host, std::vector<const Route*>& routes,
                                      std::vector<RouteConflict>& conflicts) {
  // Drop rules equal to an earlier one (same key and type), keeping insertion order for what survives.
  std::vector<const Route*> kept;
  std::map<std::pair<std::string_view, int>, const Route*> seen;
  for (const Route* r : routes) {
    auto [it, fresh] = seen.emplace(std::pair{match_key(*r), type_rank(r->type)}, r);
    if (fresh)
      kept.push_back(r);
    else
      conflicts.push_back(conflict(it->second, r));
  }
  // Longest key first, then Exact, Prefix, ImplementationSpecific: the first entry that matches is the best
  // match.
  std::stable_sort(kept.begin(), kept.end(), [](const Route* a, const Route* b) {
    auto la = match_key(*a).size(), lb = match_key(*b).size();
    return la != lb ? la > lb : type_rank(a->type) < type_rank(b->type);
  });
  auto pad8 = [](std::size_t n) { return (n + 7) & ~std::size_t{7}; };
  std::size_t host_bytes = pad8(host.size());
  std::size_t entries_at = sizeof(BlockHeader) + host_bytes;
  std::size_t tails_at = entries_at + kept.size() * sizeof(Entry);
  std::size_t tail_bytes = 0;
  for (const Route* r : kept)
    tail_bytes += match_key(*r).size() > 8 ? match_key(*r).size() - 8 : 0;
  std::size_t total = pad8(tails_at + tail_bytes);

  const std::size_t start = blocks_.size() * 8;
  blocks_.resize(blocks_.size() + total / 8, 0);
  char* block = reinterpret_cast<char*>(blocks_.data()) + start;
  BlockHeader header{static_cast<std::uint32_t>(host.size()), static_cast<std::uint32_t>(kept.size()), -1, 0};
  if (kept.size() > kScanLimit) {
    auto large = std::make_unique<LargeIndex>();
    for (const Route* r : kept) {
      if (r->type == config::PathType::kExact) large->exact.emplace(std::string(match_key(*r)), r);
      if (r->type == config::PathType::kPrefix) large->prefix.emplace(std::string(match_key(*r)), r);
      if (r->type == config::PathType::kImplementationSpecific) large->implementation_specific.push_back(r);
    }
    header.large = static_cast<std::int32_t>(large_.size());
    large_.push_back(std::move(large));
  }
  std::memcpy(block, &header, sizeof header);
  std::memcpy(block + sizeof header, host.data(), host.size());
  std::size_t tail = tails_at;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    auto key = match_key(*kept[i]);
    Entry e{head_word(key), kept[i], static_cast<std::uint32_t>(tail), static_cast<std::uint16_t>(key.size()),
            kept[i]->type};
    if (key.size() > 8) {
      std::memcpy(block + tail, key.data() + 8, key.size() - 8);
      tail += key.size() - 8;
    }
    std::memcpy(block + entries_at + i * sizeof(Entry), &e, sizeof e);
  }
  return static_cast<std::uint32_t>(start);
}

void RouteTable::build_host_table(HostTable& table,
                                  std::vector<std::pair<std::string, std::vector<const Route*>>>& hosts,
                                  std::vector<RouteConflict>& conflicts) {
  std::size_t capacity = 16;
  while (capacity < hosts.size() * 2)
    capacity *= 2;  // load factor at most one half
  table.slots.assign(capacity, HostSlot{});
  for (auto& [host, routes] : hosts) {
    std::uint32_t block = build_block(host, routes, conflicts);
    std::uint64_t h = hash_bytes(host);
    std::size_t i = h & (capacity - 1);
    while (table.slots[i].used)
      i = (i + 1) & (capacity - 1);
    table.slots[i] = {h, block, true};
  }
}

const char* RouteTable::find_block(const HostTable& table, std::string_view host) const {
  if (table.slots.empty()) return nullptr;
  const char* base = reinterpret_cast<const char*>(blocks_.data());
  std::uint64_t h = hash_bytes(host);
  std::size_t mask = table.slots.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const HostSlot& s = table.slots[i];
    if (!s.used) return nullptr;
    if (s.hash != h) continue;
    const char* block = base + s.block;
    BlockHeader header;
    std::memcpy(&header, block, sizeof header);
    if (header.host_length == host.size() &&
        std::memcmp(block + sizeof header, host.data(), host.size()) == 0)
      return block;
  }
}

std::vector<RouteConflict> RouteTable::build() {
  std::vector<RouteConflict> conflicts;
  std::vector<std::pair<std::string, std::vector<const Route*>>> exact, wildcard;
  std::map<std::string, std::size_t> exact_index, wildcard_index;
  std::vector<const Route*> any;
  for (const auto& r : storage_) {
    if (r->host.empty()) {
      any.push_back(r.get());
      continue;
    }
    bool wild = r->host.starts_with("*.");
    auto& list = wild ? wildcard : exact;
    auto& index = wild ? wildcard_index : exact_index;
    std::string key = wild ? r->host.substr(2) : r->host;
    auto [it, fresh] = index.emplace(key, list.size());
    if (fresh) list.emplace_back(key, std::vector<const Route*>{});
    list[it->second].second.push_back(r.get());
  }
  blocks_.clear();
  large_.clear();
  build_host_table(exact_hosts_, exact, conflicts);
  build_host_table(wildcard_hosts_, wildcard, conflicts);
  any_host_block_ = any.empty() ? std::int64_t{-1} : std::int64_t{build_block("", any, conflicts)};
  ordered_.clear();
  for (const auto& r : storage_) {
    bool dropped = std::any_of(conflicts.begin(), conflicts.end(), [&](const RouteConflict& c) {
      return c.dropped.source == r->source && c.dropped.host == r->host && c.dropped.path == r->path &&
             c.dropped.type == r->type && c.dropped.target == r->target;
    });
    if (!dropped) ordered_.push_back(r.get());
  }
  return conflicts;
}

const Route* RouteTable::match_block(const char* block, std::string_view path,
                                     std::string_view stripped) const {
  BlockHeader header;
  std::memcpy(&header, block, sizeof header);
  if (header.large >= 0) return large_[static_cast<std::size_t>(header.large)]->match(path, stripped);
  const char* entries = block + sizeof header + ((header.host_length + 7) & ~std::uint32_t{7});
  const std::uint64_t path_head = head_word(path);
  for (std::uint32_t i = 0; i < header.count; ++i) {
    Entry e;
    std::memcpy(&e, entries + i * sizeof(Entry), sizeof e);
    // Length rules first, then the inline head word; key bytes past the first 8 only when those agree.
    std::size_t available = e.type == config::PathType::kPrefix ? stripped.size() : path.size();
    const bool exact = e.type == config::PathType::kExact && !METALGATE_MUTANT(kExactMatchesAsPrefix);
    if (exact ? available != e.key_length : available < e.key_length) continue;
    if ((path_head & head_mask(e.key_length)) != e.head) continue;
    if (e.key_length > 8 && std::memcmp(path.data() + 8, block + e.tail_offset, e.key_length - 8u) != 0)
      continue;
    if (e.type == config::PathType::kPrefix && stripped.size() != e.key_length &&
        stripped[e.key_length] != '/' && !METALGATE_MUTANT(kPrefixAsStringPrefix))
      continue;
    return e.route;
  }
  return nullptr;
}

const Route* RouteTable::match(std::string_view host, std::string_view path) const {
  // The query string and fragment are not part of the path (one pass; find_first_of would memchr per byte).
  for (std::size_t i = 0; i < path.size(); ++i)
    if (path[i] == '?' || path[i] == '#') {
      path = path.substr(0, i);
      break;
    }
  if (path.empty()) path = "/";
  std::string_view stripped = strip_trailing_slashes(path);
  char buf[256];
  std::string_view h = normalize_host(host, buf);
  if (const char* b = find_block(exact_hosts_, h))
    if (const Route* r = match_block(b, path, stripped)) return r;
  if (!wildcard_hosts_.slots.empty()) {
    // "*.example.com" covers "a.example.com" only: strip exactly the first label.
    auto dot = h.find('.');
    if (dot != std::string_view::npos && dot > 0)
      if (const char* b = find_block(wildcard_hosts_, h.substr(dot + 1)))
        if (const Route* r = match_block(b, path, stripped)) return r;
    if (METALGATE_MUTANT(kWildcardMatchesSeveralLabels) && dot != std::string_view::npos)
      for (auto more = h.find('.', dot + 1); more != std::string_view::npos; more = h.find('.', more + 1))
        if (const char* b = find_block(wildcard_hosts_, h.substr(more + 1)))
          if (const Route* r = match_block(b, path, stripped)) return r;
  }
  if (any_host_block_ >= 0)
    return match_block(reinterpret_cast<const char*>(blocks_.data()) + any_host_block_, path, stripped);
  return nullptr;
}

}  // namespace metalgate::routing
