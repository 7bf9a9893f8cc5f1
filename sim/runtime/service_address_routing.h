// Where a simulated node keeps its service addresses (VIPs): in a hash set consulted by this routing
// protocol, not on an ns-3 interface. ns-3 keeps an interface's addresses in a list that it indexes by
// walking, and walks every address of every interface for each packet sent (the subnet-directed broadcast
// check) and for each packet to a non-primary address, plus a /32 route per address for each lookup: with 500
// VIPs on every node that was most of the simulator's time. Linux hashes local addresses; this does the
// same for the ones the engine adds.
//
// Behaviour is what a VIP on the loopback gave: traffic to it is delivered locally whatever interface it
// arrives on (WeakEsModel), ns-3's ARP never answers for it (the engine's speaker does), a socket can bind to
// it, and traffic a node sends to its own VIP loops back. Everything else goes to ns-3's static routing.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <unordered_set>

#include "ns3/ipv4-list-routing.h"
#include "ns3/ipv4-routing-helper.h"

namespace metalgate::sim {

class ServiceAddressRouting final : public ns3::Ipv4ListRouting {
 public:
  static ns3::TypeId GetTypeId();

  bool add(ns3::Ipv4Address address) { return addresses_.insert(address.Get()).second; }
  bool remove(ns3::Ipv4Address address) { return addresses_.erase(address.Get()) > 0; }
  bool has(ns3::Ipv4Address address) const { return addresses_.count(address.Get()) > 0; }

  ns3::Ptr<ns3::Ipv4Route> RouteOutput(ns3::Ptr<ns3::Packet> p, const ns3::Ipv4Header& header,
                                       ns3::Ptr<ns3::NetDevice> oif,
                                       ns3::Socket::SocketErrno& sockerr) override;
  bool RouteInput(ns3::Ptr<const ns3::Packet> p, const ns3::Ipv4Header& header,
                  ns3::Ptr<const ns3::NetDevice> idev, UnicastForwardCallback ucb,
                  MulticastForwardCallback mcb, LocalDeliverCallback lcb, ErrorCallback ecb) override;
  void SetIpv4(ns3::Ptr<ns3::Ipv4> ipv4) override;
  void NotifyInterfaceUp(uint32_t interface) override;
  void NotifyInterfaceDown(uint32_t interface) override;
  void NotifyAddAddress(uint32_t interface, ns3::Ipv4InterfaceAddress address) override;
  void NotifyRemoveAddress(uint32_t interface, ns3::Ipv4InterfaceAddress address) override;

 private:
  void DoDispose() override;

  ns3::Ptr<ns3::Ipv4> ipv4_;
  std::unordered_set<std::uint32_t> addresses_;
  // The routes the protocols below answered, per destination. ns-3's list and static routing build a new
  // route object for every packet sent, and its content only changes when an interface or an address does
  // (then this is cleared); nothing downstream modifies a route.
  std::unordered_map<std::uint32_t, ns3::Ptr<ns3::Ipv4Route>> routes_;
};

// For InternetStackHelper::SetRoutingHelper: ServiceAddressRouting over ns-3's static routing.
class ServiceAddressRoutingHelper final : public ns3::Ipv4RoutingHelper {
 public:
  ServiceAddressRoutingHelper* Copy() const override { return new ServiceAddressRoutingHelper(*this); }
  ns3::Ptr<ns3::Ipv4RoutingProtocol> Create(ns3::Ptr<ns3::Node> node) const override;
};

}  // namespace metalgate::sim
