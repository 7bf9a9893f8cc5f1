// SWIM membership over the in-memory world: convergence, detection, leave, loss, partitions, restarts.
#include "engine/membership/membership.h"
#include "engine/membership/membership_agent.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdio>
#include <set>

#include "engine/election/election.h"
#include "engine/runtime/memory/memory_world.h"

namespace metalgate::membership {
namespace {

using namespace std::chrono_literals;
constexpr std::uint16_t kPort = 7946;

// N nodes on one LAN, each running a MembershipAgent; nodes can crash (state lost) and restart.
class Cluster {
 public:
  explicit Cluster(int n, std::uint64_t seed = 1, bool start_all = true) : world(seed) {
    for (int i = 0; i < n; ++i) {
      names.push_back("node-" + std::to_string(i));
      world.add_host(names.back(), {address(i)});
    }
    agents.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n && start_all; ++i)
      start(i);
  }
  static net::IpAddress address(int i) {
    return net::IpAddress::v4(10, 0, 0, static_cast<std::uint8_t>(10 + i));
  }
  void start(int i, MembershipConfig config = {}) {
    auto& a = agents[static_cast<std::size_t>(i)];
    auto opened = MembershipAgent::open(world.host(names[static_cast<std::size_t>(i)]),
                                        names[static_cast<std::size_t>(i)],
                                        net::SocketAddress{address(i), kPort}, config);
    ASSERT_TRUE(opened) << opened.error();
    a = std::move(*opened);
    std::vector<net::SocketAddress> seeds;
    for (int j = 0; j < static_cast<int>(names.size()); ++j)
      if (j != i) seeds.push_back({address(j), kPort});
    a->join(seeds);
  }
  void crash(int i) { agents[static_cast<std::size_t>(i)].reset(); }
  bool running(int i) const { return agents[static_cast<std::size_t>(i)] != nullptr; }
  std::vector<std::string> expected_view() const {
    std::vector<std::string> v;
    for (std::size_t i = 0; i < names.size(); ++i)
      if (agents[i]) v.push_back(names[i]);
    std::sort(v.begin(), v.end());
    return v;
  }
  // Every running node sees exactly the running nodes.
  bool converged() const {
    auto want = expected_view();
    for (const auto& a : agents)
      if (a && a->core().live_members() != want) return false;
    return true;
  }

  runtime::memory::MemoryWorld world;
  std::vector<std::string> names;
  std::vector<std::unique_ptr<MembershipAgent>> agents;
};

TEST(Membership, FiveNodesConverge) {
  Cluster c(5);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
  EXPECT_LT(c.world.now().time_since_epoch(), 500ms);
}

TEST(Membership, ANodeWithoutAProxyIsKnownAsSuchByEveryoneAndKeepsItThroughReadiness) {
  Cluster c(3);
  MembershipConfig speaker_only;
  speaker_only.runs_proxy = false;
  c.crash(1);
  c.start(1, speaker_only);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
  c.agents[1]->set_ready();  // a new incarnation: the flag must ride along with readiness
  c.world.run_for(500ms);
  for (const auto& a : c.agents) {
    EXPECT_FALSE(a->core().members().at("node-1").runs_proxy) << a->core().self();
    EXPECT_TRUE(a->core().members().at("node-0").runs_proxy) << a->core().self();
  }
}

TEST(Membership, ReadinessReachesEveryoneAndARestartStartsNotReady) {
  Cluster c(4);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
  for (const auto& a : c.agents)
    EXPECT_TRUE(a->core().ready_members().empty());  // nobody said it is ready
  c.agents[2]->set_ready();
  auto everyone_sees = [&](const std::vector<std::string>& ready) {
    for (const auto& a : c.agents)
      if (a && a->core().ready_members() != ready) return false;
    return true;
  };
  ASSERT_TRUE(c.world.run_until([&] { return everyone_sees({"node-2"}); }, 1s));
  // A crashed node comes back as a newcomer: live at once, ready only once it says so again.
  c.crash(2);
  ASSERT_TRUE(c.world.run_until([&] { return everyone_sees({}); }, 2s));
  c.start(2);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
  EXPECT_TRUE(everyone_sees({}));
  c.agents[2]->set_ready();
  EXPECT_TRUE(c.world.run_until([&] { return everyone_sees({"node-2"}); }, 1s));
}

TEST(Membership, ACrashedNodeIsDeclaredDeadByEveryoneQuickly) {
  // Over 30 seeds (who probes whom, and when, differs): the slowest survivor to learn of the crash.
  std::vector<runtime::Duration> detections;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    Cluster c(5, seed);
    ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
    c.world.run_for(
        std::chrono::milliseconds(1000 + 7 * seed));  // crash at varying phases of the probe round
    auto crashed_at = c.world.now();
    c.crash(static_cast<int>(seed % 5));
    ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 5s));
    detections.push_back(c.world.now() - crashed_at);
  }
  std::sort(detections.begin(), detections.end());
  auto ms = [](runtime::Duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  // Probe round + indirect probes + suspicion, with the defaults (30 ms, 12 ms, 60 ms) on a 100 us LAN.
  EXPECT_LT(detections.back(), 250ms)
      << "median " << ms(detections[15]) << " ms, max " << ms(detections.back()) << " ms";
  std::printf("crash detected by all survivors: min %ld ms, median %ld ms, max %ld ms\n",
              static_cast<long>(ms(detections.front())), static_cast<long>(ms(detections[15])),
              static_cast<long>(ms(detections.back())));
}

TEST(Membership, AGracefulLeaveIsKnownWithinOneHop) {
  Cluster c(4);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
  c.world.run_for(500ms);
  auto left_at = c.world.now();
  c.agents[1]->leave();
  auto others_know = [&] {
    for (int i : {0, 2, 3})
      for (const auto& n : c.agents[static_cast<std::size_t>(i)]->core().live_members())
        if (n == "node-1") return false;
    return true;
  };
  ASSERT_TRUE(c.world.run_until(others_know, 1s));
  EXPECT_LE(c.world.now() - left_at, 1ms);
  EXPECT_EQ(c.agents[1]->core().members().at("node-1").state, MemberState::kLeft);
}

TEST(Membership, ThreePercentLossCausesNoFalseDeaths) {
  for (std::uint64_t seed : {7, 11, 13, 17, 19}) {
    Cluster c(5, seed);
    ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
    c.world.set_default_conditions({.latency = 100us, .loss = 0.03});
    int deaths = 0, suspicions = 0;
    c.world.set_log_sink([&](const runtime::LogRecord& r) {
      if (r.event == "member-dead") ++deaths;
      if (r.event == "member-suspect") ++suspicions;
    });
    c.world.run_for(60s);
    EXPECT_EQ(deaths, 0) << "seed " << seed << ", " << suspicions << " suspicions";
    EXPECT_TRUE(c.converged()) << "seed " << seed;
  }
}

TEST(Membership, PartitionedSidesDropEachOtherAndReuniteAfterHealing) {
  Cluster c(5);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
  c.world.partition({{"node-0", "node-1", "node-2"}, {"node-3", "node-4"}});
  c.world.run_for(3s);
  EXPECT_EQ(c.agents[0]->core().live_members(), (std::vector<std::string>{"node-0", "node-1", "node-2"}));
  EXPECT_EQ(c.agents[4]->core().live_members(), (std::vector<std::string>{"node-3", "node-4"}));
  c.world.heal();
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 10s));
}

TEST(Membership, ClustersThatFormedApartMergeThroughTheSeedsTheyNeverHeardFrom) {
  // Nodes powered on one by one: the first few find each other before the rest are up, and a node that knows
  // anyone stops knocking on the seeds at every round. Here each side forms alone, then the LAN joins them.
  Cluster c(6, 1, /*start_all=*/false);
  c.world.partition({{"node-0", "node-1", "node-2"}, {"node-3", "node-4", "node-5"}});
  for (int i = 0; i < 6; ++i)
    c.start(i);
  c.world.run_for(3s);
  ASSERT_EQ(c.agents[0]->core().live_members(), (std::vector<std::string>{"node-0", "node-1", "node-2"}));
  ASSERT_EQ(c.agents[5]->core().live_members(), (std::vector<std::string>{"node-3", "node-4", "node-5"}));
  c.world.heal();
  // One reconnect round (1 s) knocks on the seeds nobody has heard from; the views then spread.
  EXPECT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
}

TEST(Membership, ANodeTheOthersHeldDeadCountsItsRefutationOnceItHearsOfItsDeath) {
  Cluster c(4);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
  int refuted = 0;
  c.agents[0]->on_death_refuted([&] { ++refuted; });
  c.world.run_for(2s);
  EXPECT_EQ(c.agents[0]->core().deaths_refuted(), 0u) << "nobody declared it dead";
  c.world.partition({{"node-0"}, {"node-1", "node-2", "node-3"}});
  c.world.run_for(3s);
  ASSERT_EQ(c.agents[1]->core().live_members(), (std::vector<std::string>{"node-1", "node-2", "node-3"}));
  EXPECT_EQ(c.agents[0]->core().deaths_refuted(), 0u) << "nothing of its death reached it yet";
  c.world.heal();
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 10s));
  EXPECT_GE(c.agents[0]->core().deaths_refuted(), 1u);
  EXPECT_EQ(refuted, static_cast<int>(c.agents[0]->core().deaths_refuted()))
      << "one call per refutation seen";
}

TEST(Membership, ARestartedNodeRejoinsWithAHigherIncarnation) {
  Cluster c(4);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
  c.crash(3);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 5s));
  c.start(3);  // state lost: incarnation starts at 0 again
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 5s));
  EXPECT_GT(c.agents[0]->core().members().at("node-3").incarnation, 0u);
}

TEST(Membership, ANodeRestartedAfterAGracefulLeaveRejoins) {
  Cluster c(4);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
  c.agents[3]->leave();  // systemctl restart: a graceful leave, then a new process
  c.world.run_for(100ms);
  c.crash(3);
  c.start(3);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 5s));
  EXPECT_EQ(c.agents[0]->core().members().at("node-3").state, MemberState::kAlive);
}

TEST(Membership, ANodeRestartedLongAfterAGracefulLeaveRejoins) {
  Cluster c(4);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
  c.agents[3]->leave();
  c.world.run_for(100ms);
  c.crash(3);
  c.world.run_for(30s);  // the others have long stopped telling of the leave
  c.start(3);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 5s));
  EXPECT_EQ(c.agents[0]->core().members().at("node-3").state, MemberState::kAlive);
}

// A hub that learned of 40 nodes at once, as in a cold start (from the view of a member they had joined), and
// what its next datagram then carries.
struct ColdStartHub {
  static net::SocketAddress at(int i) {
    return {net::IpAddress::v4(10, 0, 1, static_cast<std::uint8_t>(i)), kPort};
  }
  explicit ColdStartHub(MembershipConfig config) : hub("hub", at(0), config, 1) {
    const auto now = runtime::Instant{};
    Membership reporter("reporter", at(50), {}, 2);
    reporter.join({}, now);
    for (int i = 1; i <= 40; ++i) {
      Membership joiner("joiner-" + std::to_string(i), at(i), {}, static_cast<std::uint64_t>(i));
      joiner.join({at(50)}, now);
      for (const auto& d : joiner.take_outgoing())
        reporter.on_datagram(at(i), d.payload, now);
    }
    (void)reporter.take_outgoing();  // its answers to the joiners
    hub.join({at(50)}, now);         // a ping and a pull: the reporter answers with its view
    for (const auto& d : hub.take_outgoing())
      reporter.on_datagram(at(0), d.payload, now);
    for (const auto& d : reporter.take_outgoing())
      hub.on_datagram(at(50), d.payload, now);
    (void)hub.take_outgoing();
    hub.handle_timeout(now + config.probe_interval);
    auto out = hub.take_outgoing();
    if (!out.empty()) next = std::move(out.front().payload);
  }
  Membership hub;
  runtime::Bytes next;  // the hub's next probe
};

TEST(Membership, ACrowdOfNewsRidesOnOneDatagramUpToItsByteBudget) {
  ColdStartHub cold({});
  ASSERT_EQ(cold.hub.live_members().size(), 42u);
  // 41 updates of 34 or 35 bytes wait: the datagram is filled to within one update of 1,400 bytes.
  EXPECT_GT(cold.next.size(), 1400u - 35u);
  EXPECT_LE(cold.next.size(), 1400u);
  // A newcomer learns from that one datagram the sender and the 39 members that fit (38 joiners of 35 bytes
  // and the reporter's 34), not 16.
  Membership newcomer("newcomer", ColdStartHub::at(99), {}, 7);
  newcomer.on_datagram(ColdStartHub::at(0), cold.next, runtime::Instant{});
  EXPECT_EQ(newcomer.live_members().size(), 1u + 1u + 39u);

  MembershipConfig small;
  small.max_message_bytes = 300;
  ColdStartHub budgeted(small);
  EXPECT_GT(budgeted.next.size(), 200u);
  EXPECT_LE(budgeted.next.size(), 300u);
}

TEST(Membership, ANodeAloneKnocksOnAFewOfItsSeedsARoundNotOnAll) {
  std::vector<net::SocketAddress> seeds;
  for (int i = 1; i <= 50; ++i)
    seeds.push_back(ColdStartHub::at(i));
  Membership m("newcomer", ColdStartHub::at(99), {}, 1);
  m.join(seeds, runtime::Instant{});
  std::set<std::string> knocked;
  auto out = m.take_outgoing();
  for (const auto& d : out)
    knocked.insert(d.to.to_string());
  EXPECT_EQ(knocked.size(), 3u);
  EXPECT_EQ(out.size(), 6u);  // a ping and a pull for each
  m.handle_timeout(runtime::Instant{} + MembershipConfig{}.probe_interval);
  EXPECT_EQ(m.take_outgoing().size(), 6u);  // the next round, three more at random
}

TEST(Membership, ASeedIsKnockedOnAgainOnceTheMemberAtItsAddressMovesAway) {
  const auto at = [](int i) { return ColdStartHub::at(i); };
  const auto now = runtime::Instant{};
  const auto reconnect = MembershipConfig{}.reconnect_interval;
  Membership m("a", at(1), {}, 1);
  m.join({at(2), at(3), at(4)}, now);
  (void)m.take_outgoing();
  auto hear_from_b = [&](const net::SocketAddress& from, bool ready) {
    Membership b("b", from, {}, 2);
    if (ready) b.set_ready(now);  // a newer incarnation, so its new address is taken
    b.join({at(1)}, now);
    for (const auto& d : b.take_outgoing())
      if (d.to == at(1)) m.on_datagram(from, d.payload, now);
    (void)m.take_outgoing();
  };
  auto knocked_at = [&](runtime::Instant t) {
    m.handle_timeout(t);
    std::set<net::SocketAddress> to;
    for (const auto& d : m.take_outgoing())
      to.insert(d.to);
    return to;
  };
  hear_from_b(at(2), false);
  auto first = knocked_at(now + reconnect);
  EXPECT_TRUE(first.contains(at(3)) && first.contains(at(4)));
  hear_from_b(at(9), true);  // b restarted elsewhere: nobody is known at at(2) any more
  auto second = knocked_at(now + 2 * reconnect);
  EXPECT_TRUE(second.contains(at(2)));
  EXPECT_TRUE(second.contains(at(3)) && second.contains(at(4)));
}

TEST(Membership, JoiningAgainWithOtherSeedsKnocksOnTheNewOnes) {
  const auto at = [](int i) { return ColdStartHub::at(i); };
  const auto now = runtime::Instant{};
  const auto reconnect = MembershipConfig{}.reconnect_interval;
  Membership m("a", at(1), {}, 1);
  m.join({at(2), at(3)}, now);
  Membership b("b", at(2), {}, 2);
  b.join({at(1)}, now);
  for (const auto& d : b.take_outgoing())
    if (d.to == at(1)) m.on_datagram(at(2), d.payload, now);
  m.handle_timeout(now + reconnect);  // at(2) is b's: known from now on
  m.join({at(4), at(5)}, now + reconnect);
  (void)m.take_outgoing();
  m.handle_timeout(now + 2 * reconnect);
  std::set<net::SocketAddress> to;
  for (const auto& d : m.take_outgoing())
    to.insert(d.to);
  EXPECT_TRUE(to.contains(at(4)) && to.contains(at(5)));
}

TEST(Membership, ANewcomerLearnsTheWholeViewFromTheFirstMemberItReaches) {
  const auto now = runtime::Instant{};
  Membership hub("hub", ColdStartHub::at(0), {}, 1);
  hub.join({}, now);
  for (int i = 1; i <= 100; ++i) {
    Membership joiner("joiner-" + std::to_string(i), ColdStartHub::at(i), {}, static_cast<std::uint64_t>(i));
    joiner.join({ColdStartHub::at(0)}, now);
    for (const auto& d : joiner.take_outgoing())
      hub.on_datagram(ColdStartHub::at(i), d.payload, now);
  }
  (void)hub.take_outgoing();
  Membership newcomer("newcomer", ColdStartHub::at(200), {}, 7);
  newcomer.join({ColdStartHub::at(0)}, now);
  for (const auto& d : newcomer.take_outgoing())
    hub.on_datagram(ColdStartHub::at(200), d.payload, now);
  auto answers = hub.take_outgoing();
  EXPECT_GE(answers.size(), 3u);  // an ack, and 101 members take three datagrams of 1,400 bytes
  for (const auto& d : answers) {
    EXPECT_LE(d.payload.size(), 1400u);
    newcomer.on_datagram(ColdStartHub::at(0), d.payload, now);
  }
  EXPECT_EQ(newcomer.live_members().size(), 102u);  // the hub, its 100 joiners and itself
  EXPECT_EQ(newcomer.views_received(), answers.size() - 1);
}

TEST(Membership, AJoiningNodeStopsAskingForViewsOnceItsViewStopsGrowing) {
  Cluster c(10);
  ASSERT_TRUE(c.world.run_until([&] { return c.converged(); }, 2s));
  c.world.run_for(500ms);
  std::uint64_t sent = 0;
  for (const auto& a : c.agents) {
    EXPECT_FALSE(a->core().pulling_views()) << a->core().self();
    sent += a->core().views_sent();
  }
  EXPECT_GT(sent, 0u);
  c.world.run_for(2s);
  std::uint64_t later = 0;
  for (const auto& a : c.agents)
    later += a->core().views_sent();
  EXPECT_EQ(later, sent);  // a quiet cluster sends gossip, not views
}

TEST(Membership, TrafficCountsEveryDatagramAndByteEachWay) {
  Membership a("a", {Cluster::address(0), kPort}, {}, 1);
  Membership b("b", {Cluster::address(1), kPort}, {}, 2);
  a.join({{Cluster::address(1), kPort}}, runtime::Instant{});
  std::uint64_t bytes = 0;
  auto out = a.take_outgoing();
  ASSERT_FALSE(out.empty());
  for (const auto& d : out) {
    bytes += d.payload.size();
    b.on_datagram({Cluster::address(0), kPort}, d.payload, runtime::Instant{});
  }
  EXPECT_EQ(a.traffic().datagrams_sent, out.size());
  EXPECT_EQ(a.traffic().bytes_sent, bytes);
  EXPECT_EQ(b.traffic().datagrams_received, out.size());
  EXPECT_EQ(b.traffic().bytes_received, bytes);
  EXPECT_EQ(b.traffic().datagrams_sent, 0u);  // counted when taken, as the world sends them
  b.on_datagram({Cluster::address(0), kPort}, runtime::Bytes(5, 0xff), runtime::Instant{});
  EXPECT_EQ(b.traffic().datagrams_received, out.size() + 1);  // malformed ones too
}

TEST(Membership, MalformedDatagramsAreCountedAndIgnored) {
  Membership m("a", {Cluster::address(0), kPort}, {}, 1);
  runtime::Bytes junk{'M', 'G', 1, 1, 0, 0};
  m.on_datagram({Cluster::address(1), kPort}, junk, runtime::Instant{});
  m.on_datagram({Cluster::address(1), kPort}, runtime::Bytes(300, 0xff), runtime::Instant{});
  EXPECT_EQ(m.malformed(), 2u);
  EXPECT_EQ(m.live_members(), std::vector<std::string>{"a"});
}

// Random crashes, restarts, loss and delay; once the network is quiet again every running node must hold the
// same view (so every node elects the same single owner for each address).
RC_GTEST_PROP(MembershipProperties, ConvergesAfterRandomFaults, ()) {
  const int n = *rc::gen::inRange(3, 7);
  Cluster c(n, *rc::gen::arbitrary<std::uint32_t>());
  RC_ASSERT(c.world.run_until([&] { return c.converged(); }, 3s));
  int steps = *rc::gen::inRange(1, 8);
  for (int s = 0; s < steps; ++s) {
    int node = *rc::gen::inRange(0, n);
    switch (*rc::gen::inRange(0, 4)) {
      case 0:
        if (c.running(node)) c.crash(node);
        break;
      case 1:
        if (!c.running(node)) c.start(node);
        break;
      case 2:
        c.world.set_default_conditions({.latency = std::chrono::microseconds(*rc::gen::inRange(50, 20000)),
                                        .loss = *rc::gen::inRange(0, 20) / 100.0});
        break;
      default:
        break;
    }
    c.world.run_for(std::chrono::milliseconds(*rc::gen::inRange(10, 2000)));
  }
  c.world.set_default_conditions({});
  RC_ASSERT(c.world.run_until([&] { return c.converged(); }, 20s));
  auto view = c.expected_view();
  for (std::uint32_t i = 0; i < 16; ++i) {
    auto vip = net::IpAddress::v4(192, 168, 1, static_cast<std::uint8_t>(240 + i));
    std::set<std::string> owners;
    for (const auto& a : c.agents)
      if (a) owners.insert(election::elect_owner(vip, a->core().live_members()).value_or(""));
    RC_ASSERT(owners.size() <= 1u);
  }
}

}  // namespace
}  // namespace metalgate::membership
