// The speaker over the in-memory runtime: real frame ports on a virtual switch, virtual time.
#include "engine/speaker/speaker_agent.h"

#include <gtest/gtest.h>

#include "engine/runtime/memory/memory_world.h"
#include "engine/speaker/arp.h"

namespace metalgate::speaker {
namespace {

using namespace std::chrono_literals;
net::IpAddress ip(const char* s) {
  return *net::IpAddress::parse(s);
}

// A client on the LAN that asks who has an address and remembers who answered, and every announcement it
// hears.
struct Client : runtime::FrameHandler {
  std::vector<std::pair<runtime::Instant, ArpPacket>> heard;
  runtime::memory::MemoryWorld* world = nullptr;
  void on_frame(const runtime::ReceivedFrame& f) override {
    if (auto a = parse_arp(f.payload)) heard.emplace_back(world->now(), *a);
  }
  void on_link_change(bool) override {}
};

class SpeakerAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client.world = &world;
    auto opened_a = SpeakerAgent::open(world.host("node-a"), {"eth0"}, AnnouncePolicy{});
    ASSERT_TRUE(opened_a) << opened_a.error();
    a = std::move(*opened_a);
    auto opened_b = SpeakerAgent::open(world.host("node-b"), {"eth0"}, AnnouncePolicy{});
    ASSERT_TRUE(opened_b) << opened_b.error();
    b = std::move(*opened_b);
    std::error_code ec;
    port = world.host("client").open_frame_port("eth0", {runtime::kEtherTypeArp}, client, ec);
    ASSERT_FALSE(ec);
  }
  std::vector<ArpPacket> ask(net::IpAddress who) {
    client.heard.clear();
    port->send(net::MacAddress::broadcast(), runtime::kEtherTypeArp,
               serialize_arp({ArpOperation::kRequest, port->mac(), ip("10.0.0.9"), net::MacAddress(), who}));
    world.run_for(10ms);
    std::vector<ArpPacket> replies;
    for (auto& [t, p] : client.heard)
      if (p.operation == ArpOperation::kReply && p.sender_ip != p.target_ip) replies.push_back(p);
    return replies;
  }

  runtime::memory::MemoryWorld world{5};
  runtime::memory::MemoryHost& host_a = world.add_host("node-a", {ip("10.0.0.1")});
  runtime::memory::MemoryHost& host_b = world.add_host("node-b", {ip("10.0.0.2")});
  runtime::memory::MemoryHost& host_c = world.add_host("client", {ip("10.0.0.9")});
  Client client;
  runtime::FramePortPtr port;
  std::unique_ptr<SpeakerAgent> a, b;
};

TEST_F(SpeakerAgentTest, OnlyTheOwnerAnswersAndTheAnswerFollowsAMove) {
  auto vip = ip("10.0.0.240");
  a->set_owned({{vip, {}}});
  world.run_for(5s);
  auto replies = ask(vip);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_NE(replies[0].sender_mac, port->mac());
  EXPECT_EQ(replies[0].sender_ip, vip);
  net::MacAddress mac_a = replies[0].sender_mac;

  // Move: a gives up, b takes over; the client hears b's gratuitous ARP at once and only b answers after.
  a->set_owned({});
  client.heard.clear();
  auto moved_at = world.now();
  b->set_owned({{vip, {}}});
  world.run_for(10ms);
  ASSERT_GE(client.heard.size(), 2u);
  EXPECT_EQ(client.heard[0].first - moved_at, 100us);  // one hop of the virtual switch
  EXPECT_EQ(client.heard[0].second.sender_ip, vip);
  EXPECT_NE(client.heard[0].second.sender_mac, mac_a);
  replies = ask(vip);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_NE(replies[0].sender_mac, mac_a);
  EXPECT_EQ(a->core().counters().arp_replies_sent, 1u);
}

TEST_F(SpeakerAgentTest, GratuitousRoundsFollowThePolicyInVirtualTime) {
  auto vip = ip("10.0.0.241");
  auto start = world.now();
  a->set_owned({{vip, {}}});
  world.run_for(10s);
  std::vector<runtime::Duration> request_times;
  for (auto& [t, p] : client.heard)
    if (p.operation == ArpOperation::kRequest && p.sender_ip == vip) request_times.push_back(t - start);
  ASSERT_EQ(request_times.size(), 4u);
  EXPECT_EQ(request_times[0], 100us);
  EXPECT_EQ(request_times[1], 1100ms + 100us);
  EXPECT_EQ(request_times[3], 3300ms + 100us);
}

TEST_F(SpeakerAgentTest, LinkComingBackTriggersAnnouncements) {
  auto vip = ip("10.0.0.242");
  a->set_owned({{vip, {}}});
  world.run_for(10s);
  client.heard.clear();
  world.set_link_up("node-a", "eth0", false);
  world.run_for(1s);
  world.set_link_up("node-a", "eth0", true);
  world.run_for(10ms);
  ASSERT_FALSE(client.heard.empty());
  EXPECT_EQ(client.heard[0].second.sender_ip, vip);
}

TEST(SpeakerAgentErrors, AnUnknownInterfaceIsNamedInTheFailureAndNoAgentIsMade) {
  runtime::memory::MemoryWorld world;
  auto& h = world.add_host("n");
  auto agent = SpeakerAgent::open(h, {"eth0", "eth7"}, {});
  ASSERT_FALSE(agent);
  EXPECT_EQ(agent.error(), "cannot open interface eth7: " + std::make_error_code(std::errc::no_such_device).message());
}

}  // namespace
}  // namespace metalgate::speaker
