// kube-proxy's sessionAffinity: ClientIP. A client's new connections (TCP) and flows (UDP) go to the server
// its last one went to, until it has been silent for the timeout
// (sessionAffinityConfig.clientIP.timeoutSeconds, Kubernetes' default three hours). Sans-I/O: times come in,
// nothing is scheduled; expired entries are swept as new ones arrive, so the table holds at most the clients
// seen within one timeout.
#pragma once

#include <cstddef>
#include <optional>
#include <unordered_map>

#include "engine/net/ip_address.h"
#include "engine/runtime/time.h"

namespace metalgate::l4 {

class AffinityTable {
 public:
  explicit AffinityTable(runtime::Duration timeout) : timeout_(timeout) {}

  // The client's server while its entry lives; a hit counts as activity.
  std::optional<std::size_t> find(const net::IpAddress& client, runtime::Instant now);
  void remember(const net::IpAddress& client, std::size_t server, runtime::Instant now);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::size_t server = 0;
    runtime::Instant last{};
  };
  void sweep(runtime::Instant now);

  runtime::Duration timeout_;
  std::unordered_map<net::IpAddress, Entry> entries_;
  std::size_t sweep_at_ = 1024;  // sweeps when the table reaches this size, then at twice what is left
};

}  // namespace metalgate::l4
