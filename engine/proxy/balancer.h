// Server choice, sans I/O: HAProxy's roundrobin (weighted, smooth), leastconn (fewest active + queued
// requests per weight, round-robin among ties) and source (hash of the client address over the running
// servers' weights). Only servers that are up and below their maxconn are chosen.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/net/ip_address.h"
#include "engine/proxy/proxy_config-t.h"

namespace metalgate::proxy {

struct ServerLoad {
  bool up = true;
  int weight = 1;
  int active = 0;   // requests being served (connections in use)
  int queued = 0;   // requests waiting for this server
  int maxconn = 0;  // 0: no limit
  bool has_room() const { return maxconn == 0 || active < maxconn; }
};

class Balancer {
 public:
  explicit Balancer(Balance algorithm) : algorithm_(algorithm) {}

  // The chosen server's index, or nullopt when none is up (then the request gets 503) or all are full
  // (`*all_full` is then set: the request waits in the backend queue).
  std::optional<std::size_t> pick(const std::vector<ServerLoad>& servers, const net::IpAddress& client,
                                  bool* all_full = nullptr);
  Balance algorithm() const { return algorithm_; }

 private:
  std::optional<std::size_t> round_robin(const std::vector<ServerLoad>& servers);
  std::optional<std::size_t> least_conn(const std::vector<ServerLoad>& servers);
  std::optional<std::size_t> source(const std::vector<ServerLoad>& servers, const net::IpAddress& client);

  Balance algorithm_;
  std::vector<std::int64_t> current_weight_;  // smooth weighted round robin state
  std::size_t next_tie_ = 0;                  // where leastconn's tie-breaking starts
};

}  // namespace metalgate::proxy
