#include "sim/lan/switched_lan.h"

#include "ns3/arp-cache.h"
#include "ns3/arp-header.h"
#include "ns3/csma-channel.h"
#include "ns3/csma-helper.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/string.h"

namespace metalgate::sim {

// Linux's rules for gratuitous ARP on a host that already has an entry (see the header).
class SwitchedLan::ArpShim {
 public:
  ArpShim(ns3::Ptr<ns3::Node> node, ns3::Ptr<ns3::NetDevice> device)
      : node_(std::move(node)), device_(device) {
    handler_ = ns3::MakeCallback(&ArpShim::on_arp, this);
    node_->RegisterProtocolHandler(handler_, 0x0806, device, false);
  }
  ~ArpShim() { node_->UnregisterProtocolHandler(handler_); }

 private:
  void on_arp(ns3::Ptr<ns3::NetDevice> device, ns3::Ptr<const ns3::Packet> packet, uint16_t,
              const ns3::Address&, const ns3::Address&, ns3::NetDevice::PacketType) {
    ns3::ArpHeader h;
    ns3::Ptr<ns3::Packet> copy = packet->Copy();
    if (copy->RemoveHeader(h) == 0) return;
    auto ipv4 = node_->GetObject<ns3::Ipv4L3Protocol>();
    int32_t index = ipv4->GetInterfaceForDevice(device);
    if (index < 0) return;
    auto cache = ipv4->GetInterface(static_cast<uint32_t>(index))->GetArpCache();
    ns3::ArpCache::Entry* entry = cache->Lookup(h.GetSourceIpv4Address());
    if (!entry || !entry->IsAlive()) return;  // arp_accept=0: no entry is created from a gratuitous ARP
    if (entry->GetMacAddress() == h.GetSourceHardwareAddress()) return;
    const bool gratuitous = h.GetSourceIpv4Address() == h.GetDestinationIpv4Address();
    if (!gratuitous) return;
    // A request overrides at once; a reply only after the 1 s locktime since the entry last changed.
    auto& last = last_change_[h.GetSourceIpv4Address().Get()];
    if (h.IsReply() && ns3::Simulator::Now() - last < ns3::Seconds(1)) return;
    entry->SetMacAddress(h.GetSourceHardwareAddress());
    entry->UpdateSeen();
    last = ns3::Simulator::Now();
  }

  ns3::Ptr<ns3::Node> node_;
  ns3::Ptr<ns3::NetDevice> device_;
  ns3::Node::ProtocolHandler handler_;
  std::map<uint32_t, ns3::Time> last_change_;
};

SwitchedLan::SwitchedLan(LanOptions options) : options_(std::move(options)) {
  // One seed reproduces a run: ns-3's generator seed, and below, fixed stream numbers per host (ns-3
  // otherwise hands out streams from a process-wide counter, so a second run in the same process would
  // differ).
  ns3::RngSeedManager::SetSeed(static_cast<uint32_t>(options_.seed % 4294967291u) + 1);
  ns3::RngSeedManager::SetRun(1);
  switch_node_ = ns3::CreateObject<ns3::Node>();
  bridge_ = ns3::CreateObject<ns3::BridgeNetDevice>();
  switch_node_->AddDevice(bridge_);
}

SwitchedLan::~SwitchedLan() {
  shims_.clear();
  for (auto& [name, h] : hosts_)
    h.runtime.reset();
}

Ns3Host& SwitchedLan::add_host(const std::string& name, const net::IpAddress& address, std::uint64_t seed) {
  Host h;
  h.node = ns3::CreateObject<ns3::Node>();
  ns3::CsmaHelper csma;
  csma.SetChannelAttribute("DataRate", ns3::StringValue(options_.data_rate));
  csma.SetChannelAttribute("Delay", ns3::TimeValue(ns3::NanoSeconds(options_.link_delay.count())));
  ns3::NodeContainer pair(h.node, switch_node_);
  ns3::NetDeviceContainer devices = csma.Install(pair);
  h.device = devices.Get(0);
  h.switch_port = devices.Get(1);
  bridge_->AddBridgePort(h.switch_port);
  ns3::InternetStackHelper stack;
  stack.Install(h.node);
  next_stream_ += stack.AssignStreams(ns3::NodeContainer(h.node), next_stream_);
  next_stream_ += csma.AssignStreams(devices, next_stream_);
  auto ipv4 = h.node->GetObject<ns3::Ipv4>();
  int32_t index = ipv4->AddInterface(h.device);
  ipv4->AddAddress(
      static_cast<uint32_t>(index),
      ns3::Ipv4InterfaceAddress(ns3::Ipv4Address(address.v4_host_order()), ns3::Ipv4Mask("/24")));
  ipv4->SetUp(static_cast<uint32_t>(index));
  h.runtime =
      std::make_unique<Ns3Host>(h.node, name, Ns3HostOptions{seed, options_.log_sink, options_.log_level});
  h.runtime->name_interface("eth0", h.device->GetIfIndex());
  auto [it, inserted] = hosts_.emplace(name, std::move(h));
  return *it->second.runtime;
}

void SwitchedLan::finish() {
  // Nothing to undo: interfaces are added directly rather than through Ipv4AddressHelper::Assign, which is
  // what installs the default FqCoDel qdisc (and TrafficControlHelper::Uninstall crashes on a device without
  // one).
}

void SwitchedLan::install_linux_arp(const std::string& name) {
  auto& h = hosts_.at(name);
  shims_.push_back(std::make_unique<ArpShim>(h.node, h.device));
}

void SwitchedLan::set_host_link(const std::string& name, bool up) {
  auto csma = ns3::DynamicCast<ns3::CsmaNetDevice>(hosts_.at(name).device);
  csma->SetSendEnable(up);
  csma->SetReceiveEnable(up);
}

}  // namespace metalgate::sim
