// HTTP routes from Ingress rules, matched as the Kubernetes Ingress specification says:
// - host: exact, or wildcard "*.example.com" (matches exactly one more label); case-insensitive; a port is ignored;
//   rules without a host apply to every host. Exact hosts are tried before wildcards, wildcards before host-less
//   rules; the first of those with a matching path wins.
// - path: Exact (whole path), Prefix (element-wise by '/', trailing slash ignored), ImplementationSpecific (plain
//   string prefix, as the HAProxy controller does). The longest match wins; on equal length Exact beats Prefix beats
//   ImplementationSpecific. The query string is not part of the path.
// Built once per configuration, then read-only: lookups allocate nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/config/manifest-t.h"

namespace metalgate::routing {

struct Route {
  std::string host;  // lower-case; "" for every host; "*.x" for a wildcard
  std::string path;
  config::PathType type = config::PathType::kPrefix;
  std::uint32_t target = 0;  // the caller's backend id
  std::string source;        // e.g. "Ingress default/web"
};

// A rule that lost to an earlier one with the same host, path and type.
struct RouteConflict {
  Route kept;
  Route dropped;
};

class RouteTable {
 public:
  RouteTable();
  ~RouteTable();
  RouteTable(RouteTable&&) noexcept;
  RouteTable& operator=(RouteTable&&) noexcept;

  // Routes added first win conflicts; callers add Ingresses in a stable order (namespace/name).
  void add(Route route);
  void set_default_target(std::uint32_t target) { default_target_ = target; }
  // Freezes the table; returns the rules that lost to an equal earlier rule.
  std::vector<RouteConflict> build();

  // The matched route, or nullptr (then the default target, if any, serves the request).
  const Route* match(std::string_view host, std::string_view path) const;
  std::optional<std::uint32_t> default_target() const { return default_target_; }
  // Every route that survived build(), in insertion order.
  const std::vector<const Route*>& routes() const { return ordered_; }

 private:
  struct PathSet;
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using HostMap = std::unordered_map<std::string, std::unique_ptr<PathSet>, StringHash, std::equal_to<>>;
  PathSet& path_set_for(const std::string& host);

  std::vector<std::unique_ptr<Route>> storage_;
  std::vector<const Route*> ordered_;
  HostMap exact_hosts_;
  HostMap wildcard_hosts_;  // keyed by the part after "*."
  std::unique_ptr<PathSet> any_host_;
  std::optional<std::uint32_t> default_target_;
  std::vector<RouteConflict> conflicts_;
};

// Lower-cases and strips the port and a trailing dot: "App.Example.com:443" -> "app.example.com". Writes into `buf`.
std::string_view normalize_host(std::string_view host, char (&buf)[256]);

}  // namespace metalgate::routing
