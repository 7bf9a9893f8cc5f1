#include "engine/routing/route_table.h"

#include <algorithm>

namespace metalgate::routing {

namespace {
std::string_view strip_trailing_slashes(std::string_view p) {
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  return p;
}
}  // namespace

// The paths of one host. Small sets are scanned (a few comparisons beat hashing); large sets use a hash lookup per
// path element for Prefix, from the longest candidate down.
struct RouteTable::PathSet {
  static constexpr std::size_t kScanLimit = 16;
  std::unordered_map<std::string, const Route*, StringHash, std::equal_to<>> exact;
  std::unordered_map<std::string, const Route*, StringHash, std::equal_to<>> prefix;  // key: no trailing '/'
  std::vector<std::pair<std::string, const Route*>> prefix_by_length;                // longest first
  std::vector<const Route*> implementation_specific;                                 // longest first

  // Returns false when an equal rule is already there.
  bool add(const Route* r, const Route** existing) {
    switch (r->type) {
      case config::PathType::kExact: {
        auto [it, ok] = exact.emplace(r->path, r);
        if (!ok) *existing = it->second;
        return ok;
      }
      case config::PathType::kPrefix: {
        auto [it, ok] = prefix.emplace(std::string(strip_trailing_slashes(r->path)), r);
        if (!ok) *existing = it->second;
        return ok;
      }
      case config::PathType::kImplementationSpecific:
        for (const auto* other : implementation_specific)
          if (other->path == r->path) {
            *existing = other;
            return false;
          }
        implementation_specific.push_back(r);
        return true;
    }
    return false;
  }

  void build() {
    for (const auto& [k, r] : prefix) prefix_by_length.emplace_back(k, r);
    std::stable_sort(prefix_by_length.begin(), prefix_by_length.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    std::stable_sort(implementation_specific.begin(), implementation_specific.end(),
                     [](const Route* a, const Route* b) { return a->path.size() > b->path.size(); });
  }

  const Route* match(std::string_view path) const {
    const Route* best = nullptr;
    std::size_t best_len = 0;
    if (!exact.empty()) {
      if (auto it = exact.find(path); it != exact.end()) {
        best = it->second;
        best_len = path.size();
      }
    }
    // Prefix: "/aaa/bbb" matches "/aaa/bbb", "/aaa/bbb/", "/aaa/bbb/ccc", not "/aaa/bbbxyz".
    const Route* pre = nullptr;
    std::size_t pre_len = 0;
    std::string_view p = strip_trailing_slashes(path);
    if (prefix.size() <= kScanLimit) {
      for (const auto& [key, r] : prefix_by_length) {
        if (p.size() >= key.size() && p.compare(0, key.size(), key) == 0 &&
            (p.size() == key.size() || p[key.size()] == '/')) {
          pre = r;
          pre_len = key.size();
          break;
        }
      }
    } else {
      std::string_view candidate = p;
      for (;;) {
        if (auto it = prefix.find(candidate); it != prefix.end()) {
          pre = it->second;
          pre_len = candidate.size();
          break;
        }
        if (candidate.empty()) break;
        candidate = candidate.substr(0, candidate.rfind('/'));
      }
    }
    // Longer wins; on a tie the Exact match found first stays.
    if (pre && (!best || pre_len > best_len)) {
      best = pre;
      best_len = pre_len;
    }
    for (const Route* r : implementation_specific) {
      if (best && r->path.size() <= best_len) break;  // shorter or equal cannot win any more
      if (path.substr(0, r->path.size()) == r->path) {
        best = r;
        best_len = r->path.size();
        break;
      }
    }
    return best;
  }
};

RouteTable::RouteTable() : any_host_(std::make_unique<PathSet>()) {}
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

RouteTable::PathSet& RouteTable::path_set_for(const std::string& host) {
  if (host.empty()) return *any_host_;
  HostMap& map = host.starts_with("*.") ? wildcard_hosts_ : exact_hosts_;
  std::string key = host.starts_with("*.") ? host.substr(2) : host;
  auto& slot = map[key];
  if (!slot) slot = std::make_unique<PathSet>();
  return *slot;
}

void RouteTable::add(Route route) {
  std::transform(route.host.begin(), route.host.end(), route.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (route.path.empty()) route.path = "/";
  storage_.push_back(std::make_unique<Route>(std::move(route)));
  const Route* r = storage_.back().get();
  const Route* existing = nullptr;
  if (path_set_for(r->host).add(r, &existing))
    ordered_.push_back(r);
  else
    conflicts_.push_back({*existing, *r});
}

std::vector<RouteConflict> RouteTable::build() {
  any_host_->build();
  for (auto& [k, v] : exact_hosts_) v->build();
  for (auto& [k, v] : wildcard_hosts_) v->build();
  return std::move(conflicts_);
}

const Route* RouteTable::match(std::string_view host, std::string_view path) const {
  if (auto q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
  if (path.empty()) path = "/";
  char buf[256];
  std::string_view h = normalize_host(host, buf);
  if (!exact_hosts_.empty()) {
    if (auto it = exact_hosts_.find(h); it != exact_hosts_.end())
      if (const Route* r = it->second->match(path)) return r;
  }
  if (!wildcard_hosts_.empty()) {
    // "*.example.com" covers "a.example.com" only: strip exactly the first label.
    auto dot = h.find('.');
    if (dot != std::string_view::npos && dot > 0) {
      if (auto it = wildcard_hosts_.find(h.substr(dot + 1)); it != wildcard_hosts_.end())
        if (const Route* r = it->second->match(path)) return r;
    }
  }
  return any_host_->match(path);
}

}  // namespace metalgate::routing
