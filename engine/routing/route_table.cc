#include "engine/routing/route_table.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

namespace metalgate::routing {

namespace {

std::string_view strip_trailing_slashes(std::string_view p) {
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
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
    case config::PathType::kExact: return 0;
    case config::PathType::kPrefix: return 1;
    case config::PathType::kImplementationSpecific: return 2;
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
  if (!host.empty() && host.front() == '[') {  // IPv6 literal: keep through ']'
    auto close = host.find(']');
    host = host.substr(0, close == std::string_view::npos ? host.size() : close + 1);
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::size_t n = std::min(host.size(), sizeof buf);
  for (std::size_t i = 0; i < n; ++i) {
    char c = host[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  return {buf, n};
}

void RouteTable::add(Route route) {
  std::transform(route.host.begin(), route.host.end(), route.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (route.path.empty()) route.path = "/";
  storage_.push_back(std::make_unique<Route>(std::move(route)));
}

std::uint32_t RouteTable::intern(std::string_view bytes) {
  auto offset = static_cast<std::uint32_t>(arena_.size());
  arena_.append(bytes);
  return offset;
}

std::int32_t RouteTable::build_path_set(std::vector<const Route*>& routes, std::vector<RouteConflict>& conflicts) {
  // Drop rules equal to an earlier one (same key and type), keeping insertion order for what survives.
  std::vector<const Route*> kept;
  std::map<std::pair<std::string_view, int>, const Route*> seen;
  for (const Route* r : routes) {
    auto [it, fresh] = seen.emplace(std::pair{match_key(*r), type_rank(r->type)}, r);
    if (fresh)
      kept.push_back(r);
    else
      conflicts.push_back({*it->second, *r});
  }
  PathSet set;
  set.begin = static_cast<std::uint32_t>(entries_.size());
  // Longest key first, then Exact, Prefix, ImplementationSpecific: the first entry that matches is the best match.
  std::stable_sort(kept.begin(), kept.end(), [](const Route* a, const Route* b) {
    auto la = match_key(*a).size(), lb = match_key(*b).size();
    return la != lb ? la > lb : type_rank(a->type) < type_rank(b->type);
  });
  for (const Route* r : kept) {
    auto key = match_key(*r);
    entries_.push_back({head_word(key), intern(key), static_cast<std::uint32_t>(key.size()), r->type, r});
  }
  set.end = static_cast<std::uint32_t>(entries_.size());
  if (kept.size() > kScanLimit) {
    set.large = std::make_unique<LargeIndex>();
    for (const Route* r : kept) {
      if (r->type == config::PathType::kExact) set.large->exact.emplace(std::string(match_key(*r)), r);
      if (r->type == config::PathType::kPrefix) set.large->prefix.emplace(std::string(match_key(*r)), r);
      if (r->type == config::PathType::kImplementationSpecific) set.large->implementation_specific.push_back(r);
    }
  }
  sets_.push_back(std::move(set));
  return static_cast<std::int32_t>(sets_.size() - 1);
}

void RouteTable::build_host_table(HostTable& table,
                                  std::vector<std::pair<std::string, std::vector<const Route*>>>& hosts,
                                  std::vector<RouteConflict>& conflicts) {
  std::size_t capacity = 16;
  while (capacity < hosts.size() * 2) capacity *= 2;  // load factor at most one half
  table.slots.assign(capacity, HostSlot{});
  for (auto& [host, routes] : hosts) {
    // The host's key goes into the arena right before its path keys: one lookup touches neighbouring lines.
    std::uint32_t key_offset = intern(host);
    std::int32_t set = build_path_set(routes, conflicts);
    std::uint64_t h = hash_bytes(host);
    std::size_t i = h & (capacity - 1);
    while (table.slots[i].set >= 0) i = (i + 1) & (capacity - 1);
    table.slots[i] = {h, key_offset, static_cast<std::uint32_t>(host.size()), set};
  }
}

std::int32_t RouteTable::HostTable::find(std::string_view host, const std::string& arena) const {
  if (slots.empty()) return -1;
  std::uint64_t h = hash_bytes(host);
  std::size_t mask = slots.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const HostSlot& s = slots[i];
    if (s.set < 0) return -1;
    if (s.hash == h && s.key_length == host.size() && std::memcmp(arena.data() + s.key_offset, host.data(), host.size()) == 0)
      return s.set;
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
  arena_.clear();
  entries_.clear();
  sets_.clear();
  build_host_table(exact_hosts_, exact, conflicts);
  build_host_table(wildcard_hosts_, wildcard, conflicts);
  any_host_set_ = any.empty() ? -1 : build_path_set(any, conflicts);
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

const Route* RouteTable::match_set(const PathSet& set, std::string_view path, std::string_view stripped) const {
  if (set.large) return set.large->match(path, stripped);
  const std::uint64_t path_head = head_word(path);
  for (std::uint32_t i = set.begin; i < set.end; ++i) {
    const Entry& e = entries_[i];
    // Length rules first, then the inline head word; the arena is read only for keys longer than 8 bytes.
    std::size_t available = e.type == config::PathType::kPrefix ? stripped.size() : path.size();
    if (e.type == config::PathType::kExact ? available != e.key_length : available < e.key_length) continue;
    if ((path_head & head_mask(e.key_length)) != e.head) continue;
    if (e.key_length > 8 &&
        std::memcmp(path.data() + 8, arena_.data() + e.key_offset + 8, e.key_length - 8) != 0)
      continue;
    if (e.type == config::PathType::kPrefix && stripped.size() != e.key_length && stripped[e.key_length] != '/')
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
  if (std::int32_t s = exact_hosts_.find(h, arena_); s >= 0)
    if (const Route* r = match_set(sets_[static_cast<std::size_t>(s)], path, stripped)) return r;
  if (!wildcard_hosts_.slots.empty()) {
    // "*.example.com" covers "a.example.com" only: strip exactly the first label.
    auto dot = h.find('.');
    if (dot != std::string_view::npos && dot > 0)
      if (std::int32_t s = wildcard_hosts_.find(h.substr(dot + 1), arena_); s >= 0)
        if (const Route* r = match_set(sets_[static_cast<std::size_t>(s)], path, stripped)) return r;
  }
  if (any_host_set_ >= 0) return match_set(sets_[static_cast<std::size_t>(any_host_set_)], path, stripped);
  return nullptr;
}

}  // namespace metalgate::routing
