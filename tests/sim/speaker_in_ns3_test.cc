// The Layer-2 speaker inside ns-3: three nodes run the real Layer2Node (membership, election, ARP) on a
// switched LAN; a client with Linux's neighbour rules sends a datagram to the VIP every 20 ms and records
// which node answers. The owner crashes (its engine state is lost, its VIP stays on lo as after SIGKILL): the
// client must be answered by exactly one other node within a bound, and one seed must reproduce the run
// exactly.
#include <gtest/gtest.h>

#include "engine/speaker/layer2_node.h"
#include "ns3/simulator.h"
#include "scenario/apps/udp_responder.h"
#include "sim/lan/switched_lan.h"

namespace metalgate::sim {
namespace {

using namespace std::chrono_literals;

struct Answer {
  std::int64_t at_ms;
  std::string node;
  bool operator==(const Answer&) const = default;
};

net::IpAddress ip(const std::string& s) {
  return *net::IpAddress::parse(s);
}

std::vector<Answer> run(std::uint64_t seed, runtime::Duration crash_at, std::string* crashed) {
  std::vector<Answer> answers;
  {
    LanOptions options;
    options.seed = seed;
    SwitchedLan lan(options);
    const std::vector<std::string> names{"node-a", "node-b", "node-c"};
    std::vector<net::SocketAddress> members;
    for (std::size_t i = 0; i < names.size(); ++i) {
      net::IpAddress addr = ip("10.0.0." + std::to_string(11 + i));
      lan.add_host(names[i], addr, seed * 100 + i);
      members.push_back({addr, 7946});
    }
    lan.add_host("client", ip("10.0.0.100"), seed * 100 + 99);
    lan.install_linux_arp("client");
    lan.finish();

    const net::IpAddress vip = ip("10.0.0.240");
    std::map<std::string, std::unique_ptr<speaker::Layer2Node>> speakers;
    std::map<std::string, std::unique_ptr<apps::UdpResponder>> responders;  // "<node>:<payload>"
    for (std::size_t i = 0; i < names.size(); ++i) {
      speaker::Layer2NodeConfig cfg;
      cfg.name = names[i];
      cfg.interfaces = {"eth0"};
      cfg.membership_address = members[i];
      for (std::size_t j = 0; j < names.size(); ++j)
        if (j != i) cfg.seeds.push_back(members[j]);
      auto created = speaker::Layer2Node::create(lan.host(names[i]), cfg);
      EXPECT_TRUE(created) << created.error();
      if (!created) return {};
      auto node = std::move(*created);
      speaker::Layer2Assignment a;
      a.service = "default/web";
      a.addresses = {vip};
      node->set_assignments({a});
      node->start();
      speakers[names[i]] = std::move(node);
      const net::SocketAddress any_address{net::IpAddress::v4(0), 9};
      responders[names[i]] = std::make_unique<apps::UdpResponder>(lan.host(names[i]), any_address, names[i]);
    }

    runtime::Runtime& client = lan.host("client");
    std::error_code ec;
    auto socket = client.open_datagram(
        {ip("10.0.0.100"), 5000},
        [&](const net::SocketAddress&, const net::SocketAddress&, runtime::ByteView p) {
          std::string_view reply = runtime::as_chars(p);  // "<node>:ping"
          answers.push_back(
              {std::chrono::duration_cast<std::chrono::milliseconds>(client.now().time_since_epoch()).count(),
               std::string(reply.substr(0, reply.find(':')))});
        },
        ec);
    auto ticker = client.create_timer([&] { socket->send_to({vip, 9}, runtime::as_bytes("ping")); });
    ticker->arm_periodic(20ms);

    // The crash: whoever owns the VIP then loses its engine (state gone, nothing sent on its way out).
    ns3::Simulator::Schedule(ns3::NanoSeconds(crash_at.count()), [&] {
      for (auto& [name, node] : speakers) {
        auto owners = node->owners();
        if (owners.count(vip) && owners[vip] == name) *crashed = name;
      }
      speakers.erase(*crashed);
      responders.erase(*crashed);
    });
    ns3::Simulator::Stop(ns3::Seconds(8));
    ns3::Simulator::Run();
    ticker.reset();
    socket.reset();
    responders.clear();
    speakers.clear();
  }
  ns3::Simulator::Destroy();
  return answers;
}

TEST(SpeakerInNs3, TheVipFollowsTheOwnerAcrossACrash) {
  std::string crashed;
  auto answers = run(1, 4s, &crashed);
  ASSERT_FALSE(crashed.empty()) << "someone owned the VIP at the crash";
  std::set<std::string> before, after;
  std::int64_t first_after = -1;
  for (const auto& a : answers) {
    if (a.at_ms < 1000) continue;  // while membership converges
    if (a.at_ms < 4000) before.insert(a.node);
    if (a.at_ms > 4000) {
      after.insert(a.node);
      if (first_after < 0) first_after = a.at_ms;
    }
  }
  EXPECT_EQ(before, std::set<std::string>{crashed}) << "one owner answers before the crash";
  ASSERT_EQ(after.size(), 1u) << "exactly one other node answers after it";
  EXPECT_NE(*after.begin(), crashed);
  // Failure detection (~100 ms) + announcement + the client's next ping: well under a second.
  EXPECT_LT(first_after - 4000, 1000) << "failover took " << (first_after - 4000) << " ms";
}

TEST(SpeakerInNs3, OneSeedReproducesTheRunExactly) {
  std::string c1, c2;
  auto a1 = run(7, 3s, &c1);
  auto a2 = run(7, 3s, &c2);
  EXPECT_EQ(c1, c2);
  ASSERT_FALSE(a1.empty());
  ASSERT_EQ(a1.size(), a2.size());
  for (std::size_t i = 0; i < a1.size(); ++i)
    ASSERT_TRUE(a1[i] == a2[i]) << "answer " << i << ": " << a1[i].at_ms << " " << a1[i].node << " vs "
                                << a2[i].at_ms << " " << a2[i].node;
}

}  // namespace
}  // namespace metalgate::sim
