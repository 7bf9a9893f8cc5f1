// The runtime port on ns-3 3.37: one Ns3Host per simulated node. Timers are Simulator events, the clock is
// Simulator::Now(), streams and datagrams are ns3::Socket (TCP, UDP), frames go through PacketSocket (payload
// after the Ethernet header, source MAC from the address, as on Linux AF_PACKET/SOCK_DGRAM), and service
// addresses (VIPs) go to the node's ServiceAddressRouting (install it with ServiceAddressRoutingHelper),
// which delivers traffic to them as a VIP on Linux's loopback is, while ns-3's own ARP never answers for
// them. The engine cannot tell this world from the live one.
//
// Limits of the model, documented in docs/simulator.md: reset() before the handshake ends is a FIN-and-close
// (ns-3 answers for the connection then); CSMA links have no up/down state.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "engine/runtime/runtime.h"
#include "ns3/node.h"
#include "ns3/ptr.h"
#include "ns3/socket.h"

namespace metalgate::sim {

struct Ns3HostOptions {
  std::uint64_t seed = 1;
  runtime::LogSink log_sink;
  runtime::LogLevel log_level = runtime::LogLevel::kInfo;
};

class Ns3StreamState;

class Ns3Host final : public runtime::Runtime {
 public:
  Ns3Host(ns3::Ptr<ns3::Node> node, std::string name, Ns3HostOptions options = {});
  ~Ns3Host() override;

  const std::string& name() const { return name_; }
  ns3::Ptr<ns3::Node> node() const { return node_; }
  // Names a device ("eth0") for frame ports; the LAN builder does this for each host's CSMA device.
  void name_interface(const std::string& interface_name, std::uint32_t device_index);

  runtime::Instant now() const override;
  runtime::TimerPtr create_timer(runtime::TimerCallback on_fire) override;
  void post(std::function<void()> task) override;
  runtime::StreamListenerPtr listen(const net::SocketAddress& local, const runtime::ListenOptions& options,
                                    runtime::AcceptCallback on_accept, std::error_code& error) override;
  runtime::StreamConnectionPtr connect(const net::SocketAddress& remote, runtime::StreamHandler& handler,
                                       const runtime::ConnectOptions& options = {}) override;
  runtime::DatagramSocketPtr open_datagram(const net::SocketAddress& local,
                                           runtime::DatagramCallback on_datagram,
                                           std::error_code& error) override;
  runtime::FramePortPtr open_frame_port(const std::string& interface_name,
                                        const std::vector<std::uint16_t>& ethertypes,
                                        runtime::FrameHandler& handler, std::error_code& error) override;
  std::error_code add_local_address(const net::IpAddress& address) override;
  std::error_code remove_local_address(const net::IpAddress& address) override;
  runtime::SeededRandom& random() override { return random_; }
  runtime::Logger& logger() override { return logger_; }

  // Streams closed by their owner whose queued bytes still have to reach ns-3's socket buffer.
  void linger(std::shared_ptr<Ns3StreamState> state) { lingering_.insert(std::move(state)); }
  void unlinger(const std::shared_ptr<Ns3StreamState>& state) { lingering_.erase(state); }
  // Connections waiting for their SYN's answer, by local port (see on_ipv4_frame).
  void connecting(std::uint16_t local_port, const std::shared_ptr<Ns3StreamState>& state);
  void connected(std::uint16_t local_port) { connecting_.erase(local_port); }
  // A listener leaving its port (the port's socket closes with the last one).
  void unlisten(std::uint16_t port, const net::IpAddress& address);

 private:
  // ns-3's demultiplexer refuses address:port while any endpoint has that local address and port, a
  // connection still closing included; Linux's listeners (SO_REUSEADDR) bind regardless. So a host listens
  // on each port once, on every address, and hands each connection to the listener of its local address,
  // else to the one on the unspecified address; a connection to an address nobody listens on is closed.
  struct PortListeners {
    ns3::Ptr<ns3::Socket> socket;                      // bound to 0.0.0.0 and the port
    std::map<net::IpAddress, runtime::AcceptCallback*> listeners;  // by the local address each listens on
  };
  void on_accept(std::uint16_t port, ns3::Ptr<ns3::Socket> s, const ns3::Address& from);
  void on_ipv4_frame(ns3::Ptr<ns3::NetDevice>, ns3::Ptr<const ns3::Packet> packet, uint16_t,
                     const ns3::Address&, const ns3::Address&, ns3::NetDevice::PacketType);

  ns3::Ptr<ns3::Node> node_;
  std::string name_;
  runtime::SeededRandom random_;
  runtime::Logger logger_;
  std::map<std::string, std::uint32_t> interfaces_;
  std::set<std::shared_ptr<Ns3StreamState>> lingering_;
  std::map<std::uint16_t, std::weak_ptr<Ns3StreamState>> connecting_;
  std::map<std::uint16_t, PortListeners> ports_;
  ns3::Node::ProtocolHandler ipv4_observer_;
};

}  // namespace metalgate::sim
