#include "sim/lan/switched_lan.h"

#include "ns3/arp-cache.h"
#include "ns3/arp-header.h"
#include "ns3/config.h"
#include "ns3/csma-channel.h"
#include "ns3/csma-helper.h"
#include "ns3/double.h"
#include "ns3/error-model.h"
#include "ns3/ethernet-header.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/pcap-file-wrapper.h"
#include "ns3/random-variable-stream.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/trace-helper.h"
#include "sim/runtime/service_address_routing.h"

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

// Decides, frame by frame, what a link does to the frames reaching one of its ends: drops those from the
// other side of a partition (the host's end only) and a share of all (loss, from its own seeded stream so
// runs repeat), and holds the rest back by `delay`, as netem does. (The CSMA channel's own delay is no way to
// add latency: the channel stays busy while a frame propagates, so a 20 ms link carries 50 frames a second.)
class SwitchedLan::LinkFilter : public ns3::ErrorModel {
 public:
  // Plain pointers to the devices: `end` owns this filter (a Ptr would make a cycle, and leak the LAN).
  LinkFilter(const SwitchedLan& lan, int* own_group, std::int64_t stream, ns3::CsmaNetDevice* end,
             ns3::CsmaNetDevice* other_end)
      : lan_(lan), own_group_(own_group), end_(end), other_end_(other_end) {
    uniform_ = ns3::CreateObject<ns3::UniformRandomVariable>();
    uniform_->SetStream(stream);
  }
  double loss = 0;
  ns3::Time delay;
  bool partitioned = false;  // the host's end: check the sender's group

 private:
  bool DoCorrupt(ns3::Ptr<ns3::Packet> p) override {
    if (releasing_) return false;  // judged when it first arrived
    if (partitioned && !lan_.group_of_mac_.empty()) {
      ns3::EthernetHeader eth(false);
      p->PeekHeader(eth);
      auto it = lan_.group_of_mac_.find(eth.GetSource());
      int from = it == lan_.group_of_mac_.end() ? 0 : it->second;
      if (from != *own_group_) return true;
    }
    if (loss > 0 && uniform_->GetValue() < loss) return true;
    if (delay.IsStrictlyPositive()) {
      ns3::Simulator::Schedule(delay, &LinkFilter::release, ns3::Ptr<LinkFilter>(this), p->Copy());
      return true;  // for now: it arrives after the delay
    }
    return false;
  }
  void release(ns3::Ptr<ns3::Packet> p) {
    releasing_ = true;
    end_->Receive(p, ns3::Ptr<ns3::CsmaNetDevice>(other_end_));
    releasing_ = false;
  }
  void DoReset() override {}

  const SwitchedLan& lan_;
  int* own_group_;
  ns3::CsmaNetDevice* end_;
  ns3::CsmaNetDevice* other_end_;
  ns3::Ptr<ns3::UniformRandomVariable> uniform_;
  bool releasing_ = false;
};

namespace {

// The simulated hosts' TCP behaves as Linux's does (the live twin's hosts are Linux), not as ns-3's defaults
// would: each value below is ns-3's default -> Linux 6.x's, and why it matters to a scenario.
void use_linux_tcp_defaults() {
  using ns3::Config::SetDefault;
  // 536 -> 1448 (MSS 1460 less the timestamp option): a 16 KiB answer is 12 segments, not 31.
  SetDefault("ns3::TcpSocket::SegmentSize", ns3::UintegerValue(1448));
  // 1 -> 10 segments (RFC 6928): an answer fits in the first flight instead of four round trips.
  SetDefault("ns3::TcpSocket::InitialCwnd", ns3::UintegerValue(10));
  // 3 s -> 1 s before the first SYN is sent again (TCP_TIMEOUT_INIT): what a client waits after an ARP miss
  // or a dead owner swallowed its SYN.
  SetDefault("ns3::TcpSocket::ConnTimeout", ns3::TimeValue(ns3::Seconds(1)));
  // 1 s -> 200 ms minimum retransmission timeout (TCP_RTO_MIN): a lost data segment costs 0.2 s, not 1 s.
  SetDefault("ns3::TcpSocketBase::MinRto", ns3::TimeValue(ns3::MilliSeconds(200)));
  // 200 ms -> 40 ms delayed ACK (TCP_DELACK_MIN).
  SetDefault("ns3::TcpSocket::DelAckTimeout", ns3::TimeValue(ns3::MilliSeconds(40)));
}

}  // namespace

SwitchedLan::SwitchedLan(LanOptions options) : options_(std::move(options)) {
  // One seed reproduces a run: ns-3's generator seed, and below, fixed stream numbers per host (ns-3
  // otherwise hands out streams from a process-wide counter, so a second run in the same process would
  // differ).
  ns3::RngSeedManager::SetSeed(static_cast<uint32_t>(options_.seed % 4294967291u) + 1);
  ns3::RngSeedManager::SetRun(1);
  // TIME_WAIT is 2 x MSL: ns-3's default MSL of 120 s keeps every closed connection's endpoint for 4
  // minutes, and its demultiplexer walks them all for each packet. One second is short enough to keep that
  // list small and still long enough for a connection's last segments to drain on a LAN.
  ns3::Config::SetDefault("ns3::TcpSocketBase::MaxSegLifetime", ns3::DoubleValue(1.0));
  use_linux_tcp_defaults();
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
  stack.SetRoutingHelper(ServiceAddressRoutingHelper());
  stack.Install(h.node);
  next_stream_ += stack.AssignStreams(ns3::NodeContainer(h.node), next_stream_);
  next_stream_ += csma.AssignStreams(devices, next_stream_);
  auto ipv4 = h.node->GetObject<ns3::Ipv4>();
  int32_t index = ipv4->AddInterface(h.device);
  ipv4->AddAddress(
      static_cast<uint32_t>(index),
      ns3::Ipv4InterfaceAddress(ns3::Ipv4Address(address.v4_host_order()),
                                ns3::Ipv4Mask(("/" + std::to_string(options_.prefix_length)).c_str())));
  ipv4->SetUp(static_cast<uint32_t>(index));
  h.runtime =
      std::make_unique<Ns3Host>(h.node, name, Ns3HostOptions{seed, options_.log_sink, options_.log_level});
  h.runtime->name_interface("eth0", h.device->GetIfIndex());
  auto [it, inserted] = hosts_.emplace(name, std::move(h));
  Host& host = it->second;
  auto host_end = ns3::DynamicCast<ns3::CsmaNetDevice>(host.device);
  auto switch_end = ns3::DynamicCast<ns3::CsmaNetDevice>(host.switch_port);
  host.inbound = ns3::Create<LinkFilter>(*this, &host.group, next_stream_++, ns3::PeekPointer(host_end),
                                         ns3::PeekPointer(switch_end));
  host.inbound->partitioned = true;
  host.outbound = ns3::Create<LinkFilter>(*this, &host.group, next_stream_++, ns3::PeekPointer(switch_end),
                                          ns3::PeekPointer(host_end));
  host.inbound->loss = host.outbound->loss = options_.loss;
  host_end->SetReceiveErrorModel(host.inbound);
  switch_end->SetReceiveErrorModel(host.outbound);
  return *host.runtime;
}

void SwitchedLan::finish() {
  // Nothing to undo for traffic control: interfaces are added directly rather than through
  // Ipv4AddressHelper::Assign, which is what installs the default FqCoDel qdisc (and
  // TrafficControlHelper::Uninstall crashes on a device without one).
  //
  // Hosts know each other's MAC from the start, as hosts on a running LAN do: without that, a cold start has
  // every node resolve every other at once, ns-3 queues only three packets per unresolved address, and the
  // first membership probes are lost. The VIPs are not hosts' addresses: their ARP stays dynamic, under test.
  for (auto& [name, h] : hosts_) {
    auto ipv4 = h.node->GetObject<ns3::Ipv4L3Protocol>();
    auto cache =
        ipv4->GetInterface(static_cast<uint32_t>(ipv4->GetInterfaceForDevice(h.device)))->GetArpCache();
    for (auto& [other_name, other] : hosts_) {
      if (other_name == name) continue;
      auto other_ipv4 = other.node->GetObject<ns3::Ipv4L3Protocol>();
      auto other_if = static_cast<uint32_t>(other_ipv4->GetInterfaceForDevice(other.device));
      ns3::ArpCache::Entry* entry = cache->Add(other_ipv4->GetAddress(other_if, 0).GetLocal());
      entry->SetMacAddress(other.device->GetAddress());
      entry->MarkPermanent();
    }
  }
}

void SwitchedLan::install_linux_arp(const std::string& name) {
  auto& h = hosts_.at(name);
  shims_.push_back(std::make_unique<ArpShim>(h.node, h.device));
}

void SwitchedLan::set_partition(const std::vector<std::vector<std::string>>& groups) {
  group_of_mac_.clear();
  for (auto& [name, h] : hosts_)
    h.group = 0;
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (const auto& name : groups[g])
      hosts_.at(name).group = static_cast<int>(g);
  if (groups.empty()) return;
  for (auto& [name, h] : hosts_) {
    group_of_mac_[ns3::Mac48Address::ConvertFrom(h.device->GetAddress())] = h.group;
  }
}

void SwitchedLan::set_link_loss(const std::string& name, double loss) {
  Host& h = hosts_.at(name);
  h.inbound->loss = h.outbound->loss = loss;
}

void SwitchedLan::set_link_delay(const std::string& name, runtime::Duration delay) {
  Host& h = hosts_.at(name);
  h.inbound->delay = h.outbound->delay =
      ns3::NanoSeconds(std::chrono::duration_cast<std::chrono::nanoseconds>(delay).count());
}

void SwitchedLan::set_link_rate(const std::string& name, const std::string& rate) {
  auto csma = ns3::DynamicCast<ns3::CsmaNetDevice>(hosts_.at(name).device);
  csma->GetChannel()->SetAttribute("DataRate", ns3::StringValue(rate));
}

void SwitchedLan::enable_pcap(const std::string& directory) {
  ns3::PcapHelper helper;
  for (auto& [name, h] : hosts_) {
    auto file =
        helper.CreateFile(directory + "/" + name + ".pcap", std::ios::out, ns3::PcapHelper::DLT_EN10MB);
    helper.HookDefaultSink<ns3::CsmaNetDevice>(ns3::DynamicCast<ns3::CsmaNetDevice>(h.device),
                                               "PromiscSniffer", file);
  }
}

std::string SwitchedLan::host_of_mac(const ns3::Address& mac) const {
  for (const auto& [name, h] : hosts_)
    if (h.device->GetAddress() == mac) return name;
  return "";
}

std::string SwitchedLan::arp_entry_host(const std::string& name, const net::IpAddress& address) const {
  const Host& h = hosts_.at(name);
  auto ipv4 = h.node->GetObject<ns3::Ipv4L3Protocol>();
  int32_t index = ipv4->GetInterfaceForDevice(h.device);
  if (index < 0) return "";
  auto cache = ipv4->GetInterface(static_cast<uint32_t>(index))->GetArpCache();
  ns3::ArpCache::Entry* entry = cache->Lookup(ns3::Ipv4Address(address.v4_host_order()));
  if (!entry || !entry->IsAlive()) return "";
  return host_of_mac(entry->GetMacAddress());
}

void SwitchedLan::set_host_link(const std::string& name, bool up) {
  auto csma = ns3::DynamicCast<ns3::CsmaNetDevice>(hosts_.at(name).device);
  csma->SetSendEnable(up);
  csma->SetReceiveEnable(up);
}

}  // namespace metalgate::sim
