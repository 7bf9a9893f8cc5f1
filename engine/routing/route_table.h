// HTTP routes from Ingress rules, matched as the Kubernetes Ingress specification says:
// - host: exact, or wildcard "*.example.com" (matches exactly one more label); case-insensitive; a port is
// ignored;
//   rules without a host apply to every host. Exact hosts are tried before wildcards, wildcards before
//   host-less rules; the first of those with a matching path wins.
// - path: Exact (whole path), Prefix (element-wise by '/', trailing slash ignored), ImplementationSpecific
// (plain
//   string prefix, as the HAProxy controller does). The longest match wins; on equal length Exact beats
//   Prefix beats ImplementationSpecific. The query string is not part of the path.
// Built once per configuration, then read-only: lookups allocate nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
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

// A rule that lost to an earlier one with the same host, path and type, with where each was written.
struct RouteConflict {
  Route kept;
  Route dropped;
  config::SourceLocation kept_where;
  config::SourceLocation dropped_where;
};

class RouteTable {
 public:
  RouteTable();
  ~RouteTable();
  RouteTable(RouteTable&&) noexcept;
  RouteTable& operator=(RouteTable&&) noexcept;

  // Routes added first win conflicts; callers add Ingresses in a stable order (namespace/name).
  // `where` is the rule in the manifests, for conflict reports.
  void add(Route route, config::SourceLocation where = {});
  void set_default_target(std::uint32_t target) { default_target_ = target; }
  // Freezes the table; returns the rules that lost to an equal earlier rule.
  std::vector<RouteConflict> build();

  // The matched route, or nullptr (then the default target, if any, serves the request).
  const Route* match(std::string_view host, std::string_view path) const;
  std::optional<std::uint32_t> default_target() const { return default_target_; }
  // Every route that survived build(), in insertion order.
  const std::vector<const Route*>& routes() const { return ordered_; }

 private:
  // Layout for lookups (cache misses dominate at 10,000 hosts): one open-addressing table per host kind whose
  // slots point at one contiguous block per host in blocks_:
  //   BlockHeader | host key (padded to 8) | Entry[count] (longest key first) | key bytes past the first 8
  // so a lookup touches its slot and a few adjacent cache lines, and the first entry that matches is the
  // best.
  struct BlockHeader {
    std::uint32_t host_length;
    std::uint32_t count;
    std::int32_t large;  // index into large_, or -1
    std::uint32_t reserved;
  };
  struct Entry {
    std::uint64_t head;  // the key's first 8 bytes, zero-padded
    const Route* route;
    std::uint32_t tail_offset;  // from the block start, for keys longer than 8 bytes
    std::uint16_t key_length;
    config::PathType type;
  };
  struct LargeIndex;  // per-path-element hash lookups for hosts with many paths
  struct HostSlot {
    std::uint64_t hash = 0;
    std::uint32_t block = 0;  // byte offset of the block in blocks_
    bool used = false;
  };
  struct HostTable {
    std::vector<HostSlot> slots;
  };

  std::uint32_t build_block(std::string_view host, std::vector<const Route*>& routes,
                            std::vector<RouteConflict>& conflicts);
  void build_host_table(HostTable& table,
                        std::vector<std::pair<std::string, std::vector<const Route*>>>& hosts,
                        std::vector<RouteConflict>& conflicts);
  const char* find_block(const HostTable& table, std::string_view host) const;
  const Route* match_block(const char* block, std::string_view path, std::string_view stripped) const;

  RouteConflict conflict(const Route* kept, const Route* dropped) const;

  std::vector<std::unique_ptr<Route>> storage_;
  std::unordered_map<const Route*, config::SourceLocation> where_;
  std::vector<const Route*> ordered_;
  std::vector<std::uint64_t> blocks_;  // 8-byte aligned bytes
  std::vector<std::unique_ptr<LargeIndex>> large_;
  HostTable exact_hosts_;
  HostTable wildcard_hosts_;  // keyed by the part after "*."
  std::int64_t any_host_block_ = -1;
  std::optional<std::uint32_t> default_target_;
};

// Lower-cases and strips the port and a trailing dot: "App.Example.com:443" -> "app.example.com". Writes into
// `buf`.
std::string_view normalize_host(std::string_view host, char (&buf)[256]);

}  // namespace metalgate::routing
