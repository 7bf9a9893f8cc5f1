// The shared run logic on a recording world, no LAN involved: what each fault asks a world to do, which VIPs
// it moves or may fail back, and what the ownership samples hold. The simulator and the live twin both run
// this code, so these are the meanings of the faults in every world.
#include "scenario/run/world_run.h"

#include <gtest/gtest.h>

#include <set>

#include "scenario/kinds/fault_kinds.h"

namespace metalgate::scenario::run {
namespace {

const net::IpAddress kVip = *net::IpAddress::parse("192.168.1.240");
const net::IpAddress kOtherVip = *net::IpAddress::parse("192.168.1.241");

// A world that records what it is asked and claims what the test says.
struct RecordingWorld : WorldActions {
  std::map<net::IpAddress, std::vector<std::string>> claimed;
  std::set<std::string> running = {"node-1", "node-2", "node-3"};
  std::vector<std::string> calls;

  std::map<net::IpAddress, std::vector<std::string>> claims() override { return claimed; }
  bool node_running(const std::string& node) override { return running.count(node) > 0; }
  void stop_node(const std::string& node, bool graceful) override {
    calls.push_back((graceful ? "leave " : "kill ") + node);
    running.erase(node);
  }
  std::string start_node(const ScenarioNode& node) override {
    calls.push_back("start " + node.name);
    running.insert(node.name);
    return "";
  }
  void set_nic(const std::string& host, bool up) override { calls.push_back(host + (up ? " up" : " down")); }
  void set_partition(const std::vector<std::vector<std::string>>& groups) override {
    std::string text = "partition";
    for (const auto& g : groups) {
      text += " [";
      for (const auto& h : g)
        text += h + (h == g.back() ? "" : " ");
      text += "]";
    }
    calls.push_back(text);
  }
  std::string set_link(const std::string& host, const ScenarioFault& f) override {
    calls.push_back("link " + host + " loss " + std::to_string(f.loss.value_or(0)));
    return "";
  }
  void pod_crash(const std::string& pod) override { calls.push_back("crash pod " + pod); }
  void pod_restart(const std::string& pod) override { calls.push_back("restart pod " + pod); }
  void pod_latency(const std::string& pod, milliseconds l) override {
    calls.push_back("slow " + pod + " " + std::to_string(l.count()));
  }
  void pod_health(const std::string& pod, bool healthy) override {
    calls.push_back(pod + (healthy ? " healthy" : " unhealthy"));
  }
  void reload(const std::vector<std::string>& manifests, nlohmann::json& entry) override {
    calls.push_back("reload " + manifests.front());
    entry["reloaded"] = true;
  }
};

Scenario three_nodes() {
  Scenario s;
  for (const char* n : {"node-1", "node-2", "node-3"}) {
    s.nodes.emplace_back();
    s.nodes.back().name = n;
  }
  ScenarioClient c;
  c.name = "browser";
  s.clients.push_back(c);
  return s;
}

ScenarioFault fault(const std::string& kind, const std::string& node = "") {
  ScenarioFault f;
  f.kind = kind;
  f.node = node;
  return f;
}

TEST(WorldRun, EveryFaultKindOfTheSharedTableHasAnAction) {
  EXPECT_TRUE(kinds_without_action().empty());
}

TEST(WorldRun, CrashOfTheOwnerKillsWhoClaimsTheVipAndMovesEveryVipItClaimed) {
  Scenario s = three_nodes();
  WorldRun run(s);
  run.observations.vip = kVip;
  RecordingWorld world;
  world.claimed = {{kVip, {"node-2"}}, {kOtherVip, {"node-2"}}};
  apply_fault(run, world, fault("crash", "owner"), 20000);
  EXPECT_EQ(world.calls, std::vector<std::string>{"kill node-2"});
  ASSERT_EQ(run.candidates.moves.size(), 2u);
  EXPECT_EQ(run.candidates.moves[0].node, "node-2");
  EXPECT_EQ(run.candidates.moves[0].cause, "crash");
  EXPECT_EQ(run.observations.fault_log.at(0)["node"], "node-2");
  EXPECT_EQ(run.observations.fault_log.at(0)["at_ms"], 20000);
}

TEST(WorldRun, LeaveSaysGoodbyeAndACrashOfANodeNotRunningDoesNothing) {
  Scenario s = three_nodes();
  WorldRun run(s);
  RecordingWorld world;
  world.running.erase("node-3");
  apply_fault(run, world, fault("leave", "node-1"), 1000);
  apply_fault(run, world, fault("crash", "node-3"), 2000);
  EXPECT_EQ(world.calls, std::vector<std::string>{"leave node-1"});
  EXPECT_EQ(run.observations.fault_log.size(), 2u);  // both are logged as applied
}

TEST(WorldRun, RestartAllStartsOnlyTheStoppedNodesAndMayFailBack) {
  Scenario s = three_nodes();
  WorldRun run(s);
  RecordingWorld world;
  world.running = {"node-2"};
  world.claimed = {{kVip, {"node-2"}}};
  apply_fault(run, world, fault("restart", "all"), 40000);
  EXPECT_EQ(world.calls, (std::vector<std::string>{"start node-1", "start node-3"}));
  EXPECT_EQ(run.observations.fault_log.at(0)["nodes"], nlohmann::json({"node-1", "node-3"}));
  ASSERT_EQ(run.candidates.failbacks.size(), 1u);
  EXPECT_EQ(run.last_settle_event_ms, 40000);
}

TEST(WorldRun, ANodeWithItsNicDownIsNotHeardClaiming) {
  Scenario s = three_nodes();
  WorldRun run(s);
  run.observations.vip = kVip;
  RecordingWorld world;
  world.claimed = {{kVip, {"node-1"}}};
  apply_fault(run, world, fault("nic_down", "owner"), 5000);
  EXPECT_EQ(world.calls, std::vector<std::string>{"node-1 down"});
  world.claimed = {{kVip, {"node-1", "node-2"}}};  // node-1 still believes it owns the VIP
  sample_ownership(run, world, 5100);
  EXPECT_EQ(run.observations.samples.back().vip_owners, std::vector<std::string>{"node-2"});
  apply_fault(run, world, fault("nic_up", "node-1"), 8000);
  sample_ownership(run, world, 8100);
  EXPECT_EQ(run.observations.samples.back().vip_owners, (std::vector<std::string>{"node-1", "node-2"}));
  EXPECT_EQ(run.observations.samples.back().last_settle_event_ms, 8000);
}

TEST(WorldRun, APartitionCuttingTheOwnerFromTheClientsMovesTheVipAndSidesDifferInSamples) {
  Scenario s = three_nodes();
  WorldRun run(s);
  run.observations.vip = kVip;
  RecordingWorld world;
  world.claimed = {{kVip, {"node-1"}}};
  ScenarioFault f = fault("partition");
  f.groups = {{"node-3"}, {"owner"}};
  apply_fault(run, world, f, 47000);
  EXPECT_EQ(world.calls, std::vector<std::string>{"partition [node-3] [node-1]"});
  ASSERT_EQ(run.candidates.moves.size(), 1u);  // the clients, unlisted, are in the first group
  EXPECT_EQ(run.candidates.moves[0].cause, "partition");
  world.claimed = {{kVip, {"node-1", "node-3"}}};
  sample_ownership(run, world, 47100);
  const auto& claims = run.observations.samples.back().claims.at(kVip);
  EXPECT_NE(claims[0].side, claims[1].side);
  apply_fault(run, world, fault("heal"), 53000);
  EXPECT_EQ(world.calls.back(), "partition");
  EXPECT_TRUE(run.group.empty());
}

TEST(WorldRun, BackendFaultsReachThePodAndAreLoggedWithWhatTheyChanged) {
  Scenario s = three_nodes();
  WorldRun run(s);
  RecordingWorld world;
  ScenarioFault slow = fault("backend_slow", "web-app-0");
  slow.latency = milliseconds(300);
  apply_fault(run, world, fault("backend_crash", "web-app-1"), 1);
  apply_fault(run, world, fault("backend_restart", "web-app-1"), 2);
  apply_fault(run, world, slow, 3);
  apply_fault(run, world, fault("backend_unhealthy", "web-app-2"), 4);
  EXPECT_EQ(world.calls, (std::vector<std::string>{"crash pod web-app-1", "restart pod web-app-1",
                                                   "slow web-app-0 300", "web-app-2 unhealthy"}));
  EXPECT_EQ(run.observations.fault_log.at(2)["latency_ms"], 300);
}

}  // namespace
}  // namespace metalgate::scenario::run
