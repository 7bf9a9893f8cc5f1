#include "sim/runtime/service_address_routing.h"

#include "ns3/ipv4-static-routing.h"
#include "ns3/ipv4.h"
#include "ns3/node.h"

namespace metalgate::sim {

NS_OBJECT_ENSURE_REGISTERED(ServiceAddressRouting);

ns3::TypeId ServiceAddressRouting::GetTypeId() {
  static ns3::TypeId tid = ns3::TypeId("metalgate::sim::ServiceAddressRouting")
                               .SetParent<ns3::Ipv4ListRouting>()
                               .SetGroupName("Internet")
                               .AddConstructor<ServiceAddressRouting>();
  return tid;
}

void ServiceAddressRouting::SetIpv4(ns3::Ptr<ns3::Ipv4> ipv4) {
  ipv4_ = ipv4;
  Ipv4ListRouting::SetIpv4(ipv4);
}

void ServiceAddressRouting::DoDispose() {
  routes_.clear();
  ipv4_ = nullptr;
  Ipv4ListRouting::DoDispose();
}

ns3::Ptr<ns3::Ipv4Route> ServiceAddressRouting::RouteOutput(ns3::Ptr<ns3::Packet> p,
                                                            const ns3::Ipv4Header& header,
                                                            ns3::Ptr<ns3::NetDevice> oif,
                                                            ns3::Socket::SocketErrno& sockerr) {
  if (has(header.GetDestination())) {  // to our own VIP: through the loopback, as a /32 on lo would
    auto route = ns3::Create<ns3::Ipv4Route>();
    route->SetDestination(header.GetDestination());
    route->SetSource(header.GetDestination());
    route->SetGateway(ns3::Ipv4Address::GetZero());
    route->SetOutputDevice(ipv4_->GetNetDevice(0));
    sockerr = ns3::Socket::ERROR_NOTERROR;
    return route;
  }
  const ns3::Ipv4Address destination = header.GetDestination();
  const bool cacheable = !oif && !destination.IsMulticast() && !destination.IsBroadcast();
  if (cacheable) {
    if (auto it = routes_.find(destination.Get()); it != routes_.end()) {
      sockerr = ns3::Socket::ERROR_NOTERROR;
      return it->second;
    }
  }
  auto route = Ipv4ListRouting::RouteOutput(p, header, oif, sockerr);
  if (route && cacheable) routes_.emplace(destination.Get(), route);
  return route;
}

void ServiceAddressRouting::NotifyInterfaceUp(uint32_t interface) {
  routes_.clear();
  Ipv4ListRouting::NotifyInterfaceUp(interface);
}

void ServiceAddressRouting::NotifyInterfaceDown(uint32_t interface) {
  routes_.clear();
  Ipv4ListRouting::NotifyInterfaceDown(interface);
}

void ServiceAddressRouting::NotifyAddAddress(uint32_t interface, ns3::Ipv4InterfaceAddress address) {
  routes_.clear();
  Ipv4ListRouting::NotifyAddAddress(interface, address);
}

void ServiceAddressRouting::NotifyRemoveAddress(uint32_t interface, ns3::Ipv4InterfaceAddress address) {
  routes_.clear();
  Ipv4ListRouting::NotifyRemoveAddress(interface, address);
}

bool ServiceAddressRouting::RouteInput(ns3::Ptr<const ns3::Packet> p, const ns3::Ipv4Header& header,
                                       ns3::Ptr<const ns3::NetDevice> idev, UnicastForwardCallback ucb,
                                       MulticastForwardCallback mcb, LocalDeliverCallback lcb,
                                       ErrorCallback ecb) {
  if (has(header.GetDestination()) && !lcb.IsNull()) {
    lcb(p, header, static_cast<uint32_t>(ipv4_->GetInterfaceForDevice(idev)));
    return true;
  }
  return Ipv4ListRouting::RouteInput(p, header, idev, ucb, mcb, lcb, ecb);
}

ns3::Ptr<ns3::Ipv4RoutingProtocol> ServiceAddressRoutingHelper::Create(ns3::Ptr<ns3::Node>) const {
  auto routing = ns3::CreateObject<ServiceAddressRouting>();
  routing->AddRoutingProtocol(ns3::CreateObject<ns3::Ipv4StaticRouting>(), 0);
  return routing;
}

}  // namespace metalgate::sim
