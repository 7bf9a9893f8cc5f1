// UDP services from the UDP services ConfigMap (something HAProxy's controller cannot do): datagrams to
// VIP:port are balanced per flow (client address and port) to the Service's endpoints, and keep going to the
// same endpoint while the flow is active; replies go back to the client from the address it sent to
// (VIP:port). A flow ends after `udp-idle-timeout` of silence; when its endpoint goes down it moves to
// another. The flow table is bounded (`udp-max-flows`); datagrams that would need one more flow are dropped
// and counted.
#pragma once

#include <memory>
#include <unordered_map>

#include "engine/l4/affinity.h"
#include "engine/proxy/backend.h"
#include "engine/proxy/proxy_config-t.h"
#include "engine/runtime/runtime.h"

namespace metalgate::l4 {

struct UdpServiceCounters {
  std::uint64_t datagrams_in = 0;   // from clients
  std::uint64_t datagrams_out = 0;  // replies to clients
  std::uint64_t flows_created = 0;
  std::uint64_t flows_expired = 0;
  std::uint64_t flows_moved = 0;  // their endpoint went down
  std::uint64_t dropped_table_full = 0;
  std::uint64_t dropped_no_server = 0;
};

class UdpService {
 public:
  UdpService(runtime::Runtime& rt, const proxy::L4ServiceConfig& config);
  // Without a copy of `config` (as TcpService).
  UdpService(runtime::Runtime& rt, std::shared_ptr<const proxy::L4ServiceConfig> config);
  ~UdpService();

  // A LoadBalancer Service's port without a server here opens no socket: the kernel refuses its datagrams
  // (ICMP port unreachable), as kube-proxy rejects them.
  std::error_code start();
  net::SocketAddress address() const { return front_ ? front_->local_address() : config_->bind; }
  bool listening() const { return front_ != nullptr; }
  proxy::Backend& backend() { return backend_; }
  const UdpServiceCounters& counters() const { return counters_; }
  std::size_t flows() const { return flows_.size(); }
  // Which server a client's flow goes to, if it has one.
  std::optional<std::size_t> flow_server(const net::SocketAddress& client) const;

 private:
  struct Flow {
    net::SocketAddress client;
    net::IpAddress local;  // the address the client sent to: replies come from it
    std::size_t server = 0;
    runtime::DatagramSocketPtr upstream;
    runtime::Instant last{};
  };
  void on_client(const net::SocketAddress& from, const net::SocketAddress& local, runtime::ByteView payload);
  Flow* open_flow(const net::SocketAddress& client, const net::IpAddress& local);
  // A server for a new flow: the client's affinity's while up with room, else the balancer's.
  std::optional<std::size_t> choose(const net::IpAddress& client);
  bool bind_upstream(Flow& flow);
  void expire();

  runtime::Runtime& rt_;
  std::shared_ptr<const proxy::L4ServiceConfig> config_;  // never null
  proxy::Backend backend_;
  std::optional<AffinityTable> affinity_;
  runtime::DatagramSocketPtr front_;
  runtime::TimerPtr expiry_;
  std::unordered_map<net::SocketAddress, std::unique_ptr<Flow>> flows_;
  UdpServiceCounters counters_;
};

}  // namespace metalgate::l4
