// A switched Ethernet LAN in ns-3: every host gets one CSMA link into a learning switch (BridgeNetDevice), as
// a bare-metal rack has, rather than one shared CSMA bus (a hub: 2.9x slower at scale, and not what users
// run). Hosts get an address on the LAN's /24, the interface name "eth0" for frame ports, and an Ns3Host to
// run the engine on. No traffic-control qdisc is installed (ns-3's default FqCoDel costs 15x the memory and
// ~1.6x the time and models nothing metalgate needs).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ns3/bridge-net-device.h"
#include "ns3/csma-net-device.h"
#include "ns3/node.h"
#include "sim/runtime/ns3_host.h"

namespace metalgate::sim {

struct LanOptions {
  std::uint64_t seed = 1;  // ns-3's own randomness (ARP jitter, CSMA backoff): fixed per host, from this seed
  std::string data_rate = "1Gbps";
  runtime::Duration link_delay = std::chrono::microseconds(5);
  runtime::LogSink log_sink;
  runtime::LogLevel log_level = runtime::LogLevel::kInfo;
};

class SwitchedLan {
 public:
  explicit SwitchedLan(LanOptions options = {});
  ~SwitchedLan();

  // A host with `address` (/24) on its eth0; `seed` seeds its engine randomness.
  Ns3Host& add_host(const std::string& name, const net::IpAddress& address, std::uint64_t seed);
  // Call once after the last add_host().
  void finish();

  Ns3Host& host(const std::string& name) { return *hosts_.at(name).runtime; }
  ns3::Ptr<ns3::NetDevice> device(const std::string& name) { return hosts_.at(name).device; }
  // Gives `name` Linux's neighbour rules: an existing ARP entry follows a gratuitous ARP request at once and
  // a gratuitous reply after 1 s of locktime; no entry is created from one (arp_accept=0). ns-3's own ARP
  // never updates an entry from a gratuitous ARP, so without this a client would keep using a dead owner for
  // 120 s.
  void install_linux_arp(const std::string& name);
  // A NIC going down or up (CSMA has no link state: the device stops sending and receiving).
  void set_host_link(const std::string& name, bool up);

 private:
  struct Host {
    ns3::Ptr<ns3::Node> node;
    ns3::Ptr<ns3::NetDevice> device;       // the host's side of its link
    ns3::Ptr<ns3::NetDevice> switch_port;  // the switch's side
    std::unique_ptr<Ns3Host> runtime;
  };
  class ArpShim;

  LanOptions options_;
  ns3::Ptr<ns3::Node> switch_node_;
  ns3::Ptr<ns3::BridgeNetDevice> bridge_;
  std::map<std::string, Host> hosts_;
  std::int64_t next_stream_ = 0;
  std::vector<std::unique_ptr<ArpShim>> shims_;
};

}  // namespace metalgate::sim
