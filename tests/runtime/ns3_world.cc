// The runtime-port contract in the ns-3 world: two nodes on one CSMA segment, 10.77.0.1 and 10.77.0.2, in
// virtual time.
// Module headers are avoided: ns3/core-module.h pulls in singleton.h, which GCC 12 rejects in C++20.
#include "ns3/arp-cache.h"
#include "ns3/csma-helper.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/traffic-control-helper.h"
#include "sim/runtime/ns3_host.h"
#include "sim/runtime/service_address_routing.h"
#include "tests/runtime/runtime_worlds.h"

namespace metalgate::runtime::testing_worlds {

namespace {

net::IpAddress ip(const char* s) {
  return *net::IpAddress::parse(s);
}

class Ns3ContractWorld final : public ContractWorld {
 public:
  Ns3ContractWorld() {
    nodes_.Create(2);
    ns3::CsmaHelper csma;
    csma.SetChannelAttribute("DataRate", ns3::StringValue("1Gbps"));
    csma.SetChannelAttribute("Delay", ns3::TimeValue(ns3::MicroSeconds(50)));
    devices_ = csma.Install(nodes_);
    ns3::InternetStackHelper stack;
    stack.SetRoutingHelper(sim::ServiceAddressRoutingHelper());
    stack.Install(nodes_);
    ns3::Ipv4AddressHelper addresses;
    addresses.SetBase("10.77.0.0", "255.255.255.0");
    addresses.Assign(devices_);
    ns3::TrafficControlHelper().Uninstall(
        devices_);  // after Assign (see the ns-3 notes in docs/simulator.md)
    a_ = std::make_unique<sim::Ns3Host>(nodes_.Get(0), "a", sim::Ns3HostOptions{7, {}, LogLevel::kInfo});
    b_ = std::make_unique<sim::Ns3Host>(nodes_.Get(1), "b", sim::Ns3HostOptions{8, {}, LogLevel::kInfo});
    // No speaker runs in the contract: a learns where the service address lives as if b had announced it.
    auto cache = nodes_.Get(0)->GetObject<ns3::Ipv4L3Protocol>()->GetInterface(1)->GetArpCache();
    auto* entry = cache->Add(ns3::Ipv4Address("10.77.0.100"));
    entry->SetMacAddress(devices_.Get(1)->GetAddress());
    entry->MarkPermanent();
    a_->name_interface("eth0", devices_.Get(0)->GetIfIndex());
    b_->name_interface("eth0", devices_.Get(1)->GetIfIndex());
  }
  ~Ns3ContractWorld() override {
    a_.reset();
    b_.reset();
    ns3::Simulator::Destroy();
  }
  Runtime& a() override { return *a_; }
  Runtime& b() override { return *b_; }
  net::IpAddress addr_a() const override { return ip("10.77.0.1"); }
  net::IpAddress addr_b() const override { return ip("10.77.0.2"); }
  net::IpAddress service_address() const override { return ip("10.77.0.100"); }
  std::string interface_a() const override { return "eth0"; }
  std::string interface_b() const override { return "eth0"; }
  bool frames_supported() const override { return true; }
  bool local_addresses_supported() const override { return true; }
  bool link_changes_supported() const override { return false; }

  void set_link_b(bool) override {}
  bool run_until(const std::function<bool()>& done, Duration limit) override {
    const ns3::Time end = ns3::Simulator::Now() + ns3::NanoSeconds(limit.count());
    while (!done() && ns3::Simulator::Now() < end) {
      ns3::Time step = std::min(ns3::MilliSeconds(1), end - ns3::Simulator::Now());
      ns3::Simulator::Stop(step);
      ns3::Simulator::Run();
    }
    return done();
  }
  void run_for(Duration d) override {
    ns3::Simulator::Stop(ns3::NanoSeconds(d.count()));
    ns3::Simulator::Run();
  }

 private:
  ns3::NodeContainer nodes_;
  ns3::NetDeviceContainer devices_;
  std::unique_ptr<sim::Ns3Host> a_, b_;
};

}  // namespace

WorldFactory ns3_world_factory() {
  return {[] { return std::make_unique<Ns3ContractWorld>(); }, [] { return std::string(); }};
}

}  // namespace metalgate::runtime::testing_worlds
