// A switched Ethernet LAN in ns-3: every host gets one CSMA link into a learning switch (BridgeNetDevice), as
// a bare-metal rack has, rather than one shared CSMA bus (a hub: 2.9x slower at scale, and not what users
// run). Hosts get an address on the LAN's subnet, the interface name "eth0" for frame ports, and an Ns3Host
// to run the engine on. No traffic-control qdisc is installed (ns-3's default FqCoDel costs 15x the memory
// and ~1.6x the time and models nothing metalgate needs).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ns3/bridge-net-device.h"
#include "ns3/csma-net-device.h"
#include "ns3/mac48-address.h"
#include "ns3/node.h"
#include "sim/runtime/ns3_host.h"

namespace metalgate::sim {

struct LanOptions {
  std::uint64_t seed = 1;  // ns-3's own randomness (ARP jitter, CSMA backoff): fixed per host, from this seed
  std::string data_rate = "1Gbps";
  runtime::Duration link_delay = std::chrono::microseconds(5);
  double loss = 0;         // every link, each direction
  int prefix_length = 24;  // of the LAN's subnet
  runtime::LogSink log_sink;
  runtime::LogLevel log_level = runtime::LogLevel::kInfo;
};

class SwitchedLan {
 public:
  explicit SwitchedLan(LanOptions options = {});
  ~SwitchedLan();

  // A host with `address` (in the LAN's subnet) on its eth0; `seed` seeds its engine randomness.
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
  // Splits the LAN: a host reaches only the hosts of its own group (frames from others are dropped as they
  // reach it, broadcasts included). Hosts not listed join the first group. An empty list heals.
  void set_partition(const std::vector<std::vector<std::string>>& groups);
  // A host's link: the share of frames lost in each direction, a delay added to each frame in each direction
  // (as netem adds it: the round trip through this link grows by twice that), its rate.
  void set_link_loss(const std::string& name, double loss);
  void set_link_delay(const std::string& name, runtime::Duration delay);
  void set_link_rate(const std::string& name, const std::string& rate);
  // A pcap file (Ethernet) per host link, as the host's NIC sees it: `<directory>/<host>.pcap`.
  void enable_pcap(const std::string& directory);
  // The host whose NIC has `mac` ("" when none does).
  std::string host_of_mac(const ns3::Address& mac) const;
  // Which host's MAC `name`'s ARP cache holds for `address` ("" when it holds none).
  std::string arp_entry_host(const std::string& name, const net::IpAddress& address) const;
  bool has_host(const std::string& name) const { return hosts_.count(name) > 0; }

 private:
  class LinkFilter;
  struct Host {
    ns3::Ptr<LinkFilter> inbound;   // frames reaching the host: partition and loss
    ns3::Ptr<LinkFilter> outbound;  // frames leaving it (at the switch port): loss
    int group = 0;                  // partition group
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
  std::map<ns3::Mac48Address, int> group_of_mac_;  // partition: sender MAC -> group; empty when whole
};

}  // namespace metalgate::sim
