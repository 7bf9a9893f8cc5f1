// Three speaker nodes and a client on the in-memory LAN: the client keeps finding the service address while
// its owner crashes, leaves, or comes back.
#include "engine/speaker/layer2_node.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "engine/config/manifest_loader.h"
#include "engine/model/resolve.h"
#include "engine/runtime/memory/memory_world.h"
#include "engine/speaker/arp.h"

namespace metalgate::speaker {
namespace {

using namespace std::chrono_literals;
net::IpAddress ip(const char* s) {
  return *net::IpAddress::parse(s);
}
const net::IpAddress kVip = ip("192.168.1.240");

// Asks for the VIP every 10 ms, like a client with a short neighbour timeout; remembers the last MAC that
// answered.
struct ArpingClient : runtime::FrameHandler {
  runtime::memory::MemoryWorld* world = nullptr;
  runtime::FramePortPtr port;
  runtime::TimerPtr timer;
  std::vector<std::pair<runtime::Instant, net::MacAddress>> answers;
  void on_frame(const runtime::ReceivedFrame& f) override {
    auto a = parse_arp(f.payload);
    if (a && a->operation == ArpOperation::kReply && a->sender_ip == kVip && a->target_ip != kVip)
      answers.emplace_back(world->now(), a->sender_mac);
  }
  void on_link_change(bool) override {}
  void ask() {
    port->send(
        net::MacAddress::broadcast(), runtime::kEtherTypeArp,
        serialize_arp({ArpOperation::kRequest, port->mac(), ip("192.168.1.9"), net::MacAddress(), kVip}));
  }
};

// A node's runtime that records the handovers it is asked for (Runtime::hand_over) and passes everything else
// to the host's runtime.
struct HandoverRecorder final : runtime::Runtime {
  explicit HandoverRecorder(runtime::Runtime& wrapped) : host(wrapped) {}
  struct Call {
    runtime::Instant at;
    net::IpAddress address;
    std::optional<net::IpAddress> to;  // nullopt: stop_handing_over
  };
  runtime::Instant now() const override { return host.now(); }
  runtime::TimerPtr create_timer(runtime::TimerCallback f) override {
    return host.create_timer(std::move(f));
  }
  void post(std::function<void()> task) override { host.post(std::move(task)); }
  runtime::StreamListenerPtr listen(const net::SocketAddress& a, const runtime::ListenOptions& o,
                                    runtime::AcceptCallback f, std::error_code& ec) override {
    return host.listen(a, o, std::move(f), ec);
  }
  runtime::StreamConnectionPtr connect(const net::SocketAddress& a, runtime::StreamHandler& h,
                                       const runtime::ConnectOptions& o) override {
    return host.connect(a, h, o);
  }
  runtime::DatagramSocketPtr open_datagram(const net::SocketAddress& a, runtime::DatagramCallback f,
                                           std::error_code& ec) override {
    return host.open_datagram(a, std::move(f), ec);
  }
  runtime::FramePortPtr open_frame_port(const std::string& i, const std::vector<std::uint16_t>& t,
                                        runtime::FrameHandler& h, std::error_code& ec) override {
    return host.open_frame_port(i, t, h, ec);
  }
  std::error_code add_local_address(const net::IpAddress& a) override { return host.add_local_address(a); }
  std::error_code remove_local_address(const net::IpAddress& a) override {
    return host.remove_local_address(a);
  }
  std::error_code hand_over(const net::IpAddress& a, const net::IpAddress& to) override {
    calls.push_back({now(), a, to});
    return {};
  }
  void stop_handing_over(const net::IpAddress& a) override { calls.push_back({now(), a, std::nullopt}); }
  runtime::SeededRandom& random() override { return host.random(); }
  runtime::Logger& logger() override { return host.logger(); }

  runtime::Runtime& host;
  std::vector<Call> calls;
};

class Layer2NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i)
      world.add_host(name(i), {address(i)});
    auto& client_host = world.add_host("client", {ip("192.168.1.9")});
    for (int i = 0; i < 3; ++i)
      start(i);
    client.world = &world;
    std::error_code ec;
    client.port = client_host.open_frame_port("eth0", {runtime::kEtherTypeArp}, client, ec);
    ASSERT_FALSE(ec);
    client.timer = client_host.create_timer([this] { client.ask(); });
    client.timer->arm_periodic(10ms);
    ASSERT_TRUE(world.run_until([&] { return !client.answers.empty() && agreed(); }, 2s));
  }
  static std::string name(int i) { return "node-" + std::to_string(i); }
  static net::IpAddress address(int i) {
    return net::IpAddress::v4(192, 168, 1, static_cast<std::uint8_t>(10 + i));
  }
  void start(int i, std::vector<net::SocketAddress> extra_seeds = {}) {
    Layer2NodeConfig cfg;
    cfg.seeds = std::move(extra_seeds);
    cfg.name = name(i);
    cfg.interfaces = {"eth0"};
    cfg.membership_address = {address(i), 7946};
    for (int j = 0; j < 3; ++j)
      if (j != i) cfg.seeds.push_back({address(j), 7946});
    cfg.handover = 2s;
    auto& n = nodes[static_cast<std::size_t>(i)];
    auto& recorder = recorders[static_cast<std::size_t>(i)];
    n.reset();
    recorder = std::make_unique<HandoverRecorder>(world.host(name(i)));
    auto created = Layer2Node::create(*recorder, cfg);
    ASSERT_TRUE(created) << created.error();
    n = std::move(*created);
    n->set_assignments({Layer2Assignment{"haproxy-ingress/controller", {kVip}, {}, {}, false, false, {}}});
    n->start();
  }
  // Every running node names the same owner.
  bool agreed() const {
    std::set<std::string> owners;
    for (const auto& n : nodes)
      if (n) owners.insert(n->owners().count(kVip) ? n->owners().at(kVip) : "");
    return owners.size() == 1 && !owners.begin()->empty();
  }
  int owner_index() const {
    for (const auto& n : nodes)
      if (n) return std::stoi(n->owners().at(kVip).substr(5));
    return -1;
  }
  // The MACs that answer the client's questions during the next `d`.
  std::set<net::MacAddress> answering_macs_over(runtime::Duration d) {
    client.answers.clear();
    world.run_for(d);
    std::set<net::MacAddress> macs;
    for (const auto& [t, mac] : client.answers)
      macs.insert(mac);
    return macs;
  }
  // Time from `since` until a MAC other than `old` first answers.
  std::optional<runtime::Duration> new_owner_answers_after(runtime::Instant since,
                                                           const net::MacAddress& old) const {
    for (const auto& [t, mac] : client.answers)
      if (t >= since && mac != old) return t - since;
    return std::nullopt;
  }

  runtime::memory::MemoryWorld world{3};
  std::array<std::unique_ptr<HandoverRecorder>, 3> recorders;  // declared first: they outlive the nodes
  std::array<std::unique_ptr<Layer2Node>, 3> nodes;
  ArpingClient client;
};

TEST_F(Layer2NodeTest, ExactlyOneNodeAnswersOnceConverged) {
  world.run_for(1s);
  EXPECT_EQ(answering_macs_over(1s).size(), 1u);
  EXPECT_GE(client.answers.size(), 95u);  // one answer per question
}

TEST_F(Layer2NodeTest, ClientFindsTheNewOwnerAfterTheOwnerCrashes) {
  world.run_for(1s);
  int owner = owner_index();
  auto old_mac = client.answers.back().second;
  auto crashed_at = world.now();
  nodes[static_cast<std::size_t>(owner)].reset();
  world.set_link_up(name(owner), "eth0", false);  // a dead machine answers nothing
  world.run_for(2s);
  auto failover = new_owner_answers_after(crashed_at, old_mac);
  ASSERT_TRUE(failover);
  EXPECT_LT(*failover, 400ms);
  std::printf("client saw the new owner %ld ms after the crash\n",
              static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(*failover).count()));
  EXPECT_TRUE(agreed());
  EXPECT_NE(owner_index(), owner);
}

TEST_F(Layer2NodeTest, AGracefulLeaveHandsOverWithinOneQuestion) {
  world.run_for(1s);
  int owner = owner_index();
  auto old_mac = client.answers.back().second;
  auto left_at = world.now();
  nodes[static_cast<std::size_t>(owner)]->leave();
  world.run_for(1s);
  auto failover = new_owner_answers_after(left_at, old_mac);
  ASSERT_TRUE(failover);
  EXPECT_LE(*failover, 10ms + 1ms);
  for (const auto& [t, mac] : client.answers)
    if (t > left_at) {
      EXPECT_NE(mac, old_mac) << "the leaver must not answer any more";
    }
}

TEST_F(Layer2NodeTest, TheNodeTakingALeaversAddressHandsItOverBeforeAnnouncingAndUntilTheWindowEnds) {
  world.run_for(1s);
  const int owner = owner_index();
  const auto old_mac = client.answers.back().second;
  const auto left_at = world.now();
  nodes[static_cast<std::size_t>(owner)]->leave();
  world.run_for(500ms);
  const int taker = owner_index();
  ASSERT_NE(taker, owner);
  const auto& calls = recorders[static_cast<std::size_t>(taker)]->calls;
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].address, kVip);
  EXPECT_EQ(calls[0].to, address(owner)) << "to where the leaver still holds the address";
  const auto answered = new_owner_answers_after(left_at, old_mac);
  ASSERT_TRUE(answered);
  EXPECT_LE(calls[0].at - left_at, *answered) << "handed over no later than the new owner answers";
  for (int i = 0; i < 3; ++i) {
    if (i == taker) continue;
    EXPECT_TRUE(recorders[static_cast<std::size_t>(i)]->calls.empty()) << name(i);
  }
  world.run_for(2s);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_FALSE(calls[1].to.has_value());
  EXPECT_EQ(calls[1].at - calls[0].at, 2s);  // the handover window (serve --handover)
}

TEST_F(Layer2NodeTest, ACrashedOwnersAddressIsNotHandedOverAndAReturningLeaverEndsIt) {
  world.run_for(1s);
  int owner = owner_index();
  nodes[static_cast<std::size_t>(owner)].reset();  // a crash: its connections are gone with it
  world.set_link_up(name(owner), "eth0", false);
  world.run_for(2s);
  for (const auto& r : recorders) {
    if (!r) continue;
    EXPECT_TRUE(r->calls.empty());
  }
  owner = owner_index();
  nodes[static_cast<std::size_t>(owner)]->leave();
  world.run_for(200ms);
  const int taker = owner_index();
  const auto& calls = recorders[static_cast<std::size_t>(taker)]->calls;
  ASSERT_EQ(calls.size(), 1u);
  start(owner);  // the leaver comes back at once: a new process, no connection to finish
  world.run_for(1s);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_FALSE(calls[1].to.has_value());
  EXPECT_LT(calls[1].at - calls[0].at, 2s);
}

TEST_F(Layer2NodeTest, ARestartedNodeDoesNotLeaveTwoOwnersAnswering) {
  world.run_for(1s);
  int victim = (owner_index() + 1) % 3;  // a non-owner crashes and comes back
  nodes[static_cast<std::size_t>(victim)].reset();
  world.run_for(1s);
  start(victim);
  world.run_for(3s);
  ASSERT_TRUE(agreed());
  EXPECT_EQ(answering_macs_over(1s).size(), 1u);
}

TEST_F(Layer2NodeTest, ARestartedOwnerTakesItsAddressBackWithoutASilentMoment) {
  world.run_for(1s);
  int owner = owner_index();
  auto& slot = nodes[static_cast<std::size_t>(owner)];
  slot.reset();
  world.set_link_up(name(owner), "eth0", false);
  world.run_for(2s);
  ASSERT_NE(owner_index(), owner);
  world.set_link_up(name(owner), "eth0", true);
  client.answers.clear();
  auto restarted_at = world.now();
  // One of its seeds is a decommissioned machine: it waits its whole join grace before it claims anything.
  start(owner, {{ip("192.168.1.99"), 7946}});
  // The others hand over only once the restarted node is ready, so every question keeps getting an answer.
  world.run_for(1s);
  ASSERT_GE(client.answers.size(), 95u);
  auto last = restarted_at;
  for (const auto& [t, mac] : client.answers) {
    EXPECT_LE(t - last, 11ms) << "nobody answered for a while";
    last = t;
  }
  EXPECT_TRUE(agreed());
  EXPECT_EQ(owner_index(), owner);  // MetalLB's election is deterministic: the VIP fails back
  EXPECT_TRUE(slot->speaker().core().owns(kVip));
  EXPECT_LT(client.answers.front().first - restarted_at, 11ms);
  EXPECT_GE(slot->membership().core().members().at(name(owner)).incarnation, 1u);  // it told them: ready
}

TEST(Layer2NodeAlone, ANodeWithoutSeedsClaimsAtOnce) {
  runtime::memory::MemoryWorld world{5};
  world.add_host("solo", {ip("192.168.1.10")});
  Layer2NodeConfig cfg;
  cfg.name = "solo";
  cfg.interfaces = {"eth0"};
  cfg.membership_address = {ip("192.168.1.10"), 7946};
  auto created = Layer2Node::create(world.host("solo"), cfg);
  ASSERT_TRUE(created) << created.error();
  Layer2Node& node = **created;
  node.set_assignments({Layer2Assignment{"default/solo", {kVip}, {}, {}, false, false, {}}});
  node.start();
  EXPECT_TRUE(node.speaker().core().owns(kVip));
  EXPECT_EQ(node.owners().at(kVip), "solo");
}

TEST(Layer2Assignments, TheSeedAnnouncesTheControllerAddressEverywhere) {
  config::Diagnostics d;
  auto m = model::resolve_model(
      config::load_manifest_paths({std::string(METALGATE_SOURCE_DIR) + "/scenarios/seed"}, d), {}, d);
  auto a = layer2_assignments(m);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].addresses, std::vector<net::IpAddress>{kVip});
  EXPECT_TRUE(a[0].interfaces.empty());
  EXPECT_TRUE(a[0].node_selectors.empty());
  EXPECT_TRUE(a[0].local_traffic_policy);  // the seed asks for externalTrafficPolicy: Local
}

}  // namespace
}  // namespace metalgate::speaker
