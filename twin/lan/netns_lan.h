// The live twin's LAN: a switched Ethernet LAN of real network namespaces on one Linux box. One namespace holds
// the switch (a Linux bridge); every host (node, pod, client) gets a namespace of its own with one veth link
// "eth0" into that bridge, its MAC and its addresses. Everything is made and removed through rtnetlink (libnl-3
// and libnl-route-3); nothing in the root namespace is created, changed or removed.
//
// Names: every namespace of a run is "<prefix>-<host>" under /run/netns, where the prefix carries the creating
// process's PID ("mgt-<pid>-<n>"), so two runs never collide and `cleanup_stale` can tell a run whose process
// is gone from a live one. The switch's namespace is "<prefix>_switch" (no host name can produce it); its
// bridge-side veth ends are "p<n>".
//
// Partitions are one bridge per group in the switch's namespace (br0 for the first group): a port moved to
// br<i> exchanges frames, broadcasts included, only with the ports of br<i> (see netns_lan.cc for why).
// Link shapes: netem and tbf on both veth ends; where the kernel has no sch_netem, loss is a BPF program on
// each end's egress and a delay is refused with that reason (see link_shape.cc).
// One thread drives a LAN; methods are not safe to call concurrently.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/net/ip_address.h"
#include "engine/net/mac_address.h"
#include "engine/runtime/result.h"

namespace metalgate::twin {

struct NetnsLanOptions {
  // "" : "mgt-<pid>-<counter>" is chosen (unique per process and per LAN it creates).
  std::string prefix;
  int prefix_length = 24;  // of every host's IPv4 address
  int prefix_length6 = 64;
  // Every link, both directions (netem on both ends of each veth); zero/empty: none.
  std::chrono::microseconds delay{0};
  double loss = 0;
  std::string rate;  // "1Gbps", "100Mbps", as the scenario writes it; empty: the veth's own speed
};

struct NetnsHost {
  std::string name;  // the scenario's host name (node, pod or client)
  net::IpAddress address;
  std::optional<net::IpAddress> address6;
  net::MacAddress mac;  // of its eth0
};

class NetnsLan {
 public:
  // Makes the switch's namespace and its bridge. Fails (with the reason) without CAP_NET_ADMIN/CAP_SYS_ADMIN.
  static Result<std::unique_ptr<NetnsLan>> create(NetnsLanOptions options);
  ~NetnsLan();  // removes every namespace of this LAN (their veths go with them)
  NetnsLan(const NetnsLan&) = delete;
  NetnsLan& operator=(const NetnsLan&) = delete;

  // A namespace for the host, its veth into the bridge, its addresses, every link up (lo too).
  Result<bool> add_host(const NetnsHost& host);
  // Each listed host gets a permanent neighbour entry (IPv4, and IPv6 where it has one) for every other
  // listed host. Linux keeps one neighbour table for all namespaces, and past
  // net.ipv4.neigh.default.gc_thresh3 (1,024 by default) dynamic entries it refuses new ones and drops what
  // waits on them ("neighbor table overflow"); permanent entries are exempt. A 64-node LAN whose nodes all
  // talk to each other needs 4,032. The host's sysctls stay as they are.
  Result<bool> pin_neighbours(const std::vector<std::string>& hosts);
  // The path a process enters the host's namespace through (setns): /run/netns/<prefix>-<name>.
  std::string netns_path(const std::string& host) const;
  const std::string& prefix() const { return prefix_; }
  std::vector<std::string> hosts() const;

  // The host's NIC down or up (its eth0's link state, as when a cable is pulled: the bridge port goes down too).
  Result<bool> set_host_link(const std::string& host, bool up);
  // Splits the LAN: a host reaches only the hosts of its own group (broadcasts included). Hosts not listed
  // join the first group. An empty list heals.
  Result<bool> set_partition(const std::vector<std::vector<std::string>>& groups);
  // The host's link, each direction: the share of frames lost, a delay added (netem), a rate (tbf). Each call
  // replaces what it sets and keeps the rest.
  Result<bool> set_link_loss(const std::string& host, double loss);
  Result<bool> set_link_delay(const std::string& host, std::chrono::microseconds delay);
  Result<bool> set_link_rate(const std::string& host, const std::string& rate);

  // Removes the namespaces (and the processes inside them) of runs whose creating process is gone; leaves
  // live runs and everything not named "mgt-<pid>-…" alone. Says on `log` what it removed; returns how many.
  static int cleanup_stale(std::ostream& log);

 private:
  NetnsLan() = default;
  std::string prefix_;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace metalgate::twin
