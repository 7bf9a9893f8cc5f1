// The simulated clients' neighbour rules (SwitchedLan::install_linux_arp), which stand in for Linux's:
// a gratuitous ARP request updates an existing entry at once; a gratuitous reply only after the 1 s locktime
// since the entry last changed; no entry is created from either (arp_accept=0). A host without them (ns-3's
// own ARP) never moves, which is why the clients need them.
#include <gtest/gtest.h>

#include <sstream>

#include "engine/speaker/arp.h"
#include "ns3/arp-cache.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/mac48-address.h"
#include "ns3/simulator.h"
#include "sim/lan/switched_lan.h"

namespace metalgate::sim {
namespace {

using namespace std::chrono_literals;

net::IpAddress ip(const std::string& s) {
  return *net::IpAddress::parse(s);
}

// Answers ARP requests for `vip` while `answering`, and sends gratuitous ARP on demand.
class ArpSpeaker final : public runtime::FrameHandler {
 public:
  ArpSpeaker(runtime::Runtime& rt, net::IpAddress vip) : vip_(vip) {
    std::error_code ec;
    port_ = rt.open_frame_port("eth0", {runtime::kEtherTypeArp}, *this, ec);
  }
  bool answering = false;
  void on_frame(const runtime::ReceivedFrame& f) override {
    auto p = speaker::parse_arp(f.payload);
    if (!p || !answering || p->operation != speaker::ArpOperation::kRequest || p->target_ip != vip_) return;
    port_->send(p->sender_mac, runtime::kEtherTypeArp,
                speaker::serialize_arp(speaker::arp_reply(*p, port_->mac())));
  }
  void on_link_change(bool) override {}
  void garp_request(net::IpAddress a) {
    port_->send(net::MacAddress::broadcast(), runtime::kEtherTypeArp,
                speaker::serialize_arp(speaker::gratuitous_arp_request(a, port_->mac())));
  }
  void garp_reply(net::IpAddress a) {
    port_->send(net::MacAddress::broadcast(), runtime::kEtherTypeArp,
                speaker::serialize_arp(speaker::gratuitous_arp_reply(a, port_->mac())));
  }
  net::MacAddress mac() const { return port_->mac(); }

 private:
  net::IpAddress vip_;
  runtime::FramePortPtr port_;
};

std::string cached_mac(SwitchedLan& lan, const std::string& host, const net::IpAddress& a) {
  auto cache = lan.device(host)->GetNode()->GetObject<ns3::Ipv4L3Protocol>()->GetInterface(1)->GetArpCache();
  auto* e = cache->Lookup(ns3::Ipv4Address(a.v4_host_order()));
  if (!e || !e->IsAlive()) return "";
  std::ostringstream s;
  s << ns3::Mac48Address::ConvertFrom(e->GetMacAddress());
  return s.str();
}

std::string text(const net::MacAddress& m) {
  std::ostringstream s;
  ns3::Mac48Address n;
  n.CopyFrom(m.bytes().data());
  s << n;
  return s.str();
}

void run_for(runtime::Duration d) {
  ns3::Simulator::Stop(ns3::NanoSeconds(d.count()));
  ns3::Simulator::Run();
}

TEST(ClientArp, FollowsGratuitousArpTheWayLinuxDoes) {
  {
    SwitchedLan lan;
    lan.add_host("a", ip("10.0.0.11"), 1);
    lan.add_host("b", ip("10.0.0.12"), 2);
    auto& client = lan.add_host("client", ip("10.0.0.100"), 3);
    auto& plain = lan.add_host("plain", ip("10.0.0.101"), 4);  // ns-3's own ARP only
    lan.install_linux_arp("client");
    lan.finish();
    const auto vip = ip("10.0.0.50");
    ArpSpeaker a(lan.host("a"), vip), b(lan.host("b"), vip);

    // Both hosts learn the VIP at a's MAC by asking for it.
    a.answering = true;
    std::error_code ec;
    auto s1 = client.open_datagram(
        {ip("10.0.0.100"), 4000}, [](auto&, auto&, auto) {}, ec);
    auto s2 = plain.open_datagram(
        {ip("10.0.0.101"), 4000}, [](auto&, auto&, auto) {}, ec);
    s1->send_to({vip, 9}, runtime::as_bytes("x"));
    s2->send_to({vip, 9}, runtime::as_bytes("x"));
    run_for(100ms);
    a.answering = false;
    ASSERT_EQ(cached_mac(lan, "client", vip), text(a.mac()));
    ASSERT_EQ(cached_mac(lan, "plain", vip), text(a.mac()));

    // A gratuitous request moves an existing entry at once (on the client; ns-3's own ARP never moves it).
    b.garp_request(vip);
    run_for(10ms);
    EXPECT_EQ(cached_mac(lan, "client", vip), text(b.mac()));
    EXPECT_EQ(cached_mac(lan, "plain", vip), text(a.mac()));

    // A gratuitous reply within the 1 s locktime of that change is ignored ...
    run_for(300ms);
    a.garp_reply(vip);
    run_for(10ms);
    EXPECT_EQ(cached_mac(lan, "client", vip), text(b.mac()));
    // ... and taken after it.
    run_for(1s);
    a.garp_reply(vip);
    run_for(10ms);
    EXPECT_EQ(cached_mac(lan, "client", vip), text(a.mac()));

    // No entry is created from a gratuitous ARP (arp_accept=0).
    b.garp_request(ip("10.0.0.60"));
    b.garp_reply(ip("10.0.0.61"));
    run_for(10ms);
    EXPECT_EQ(cached_mac(lan, "client", ip("10.0.0.60")), "");
    EXPECT_EQ(cached_mac(lan, "client", ip("10.0.0.61")), "");
  }
  ns3::Simulator::Destroy();
}

}  // namespace
}  // namespace metalgate::sim
