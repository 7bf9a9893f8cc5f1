// A case as a scenario document: the base's manifests, pods and clients as the user wrote them, the case's
// nodes, rates and fault history; the scenario loader reads it back without an error.
#include "check/case/emit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scenario/schema/loader.h"
#include "tests/check/seed_base.h"

namespace metalgate::check {
namespace {

using ::testing::HasSubstr;

scenario::Scenario reload(const std::string& text) {
  config::Diagnostics d;
  auto s = scenario::load_scenario_text(text, "/tmp/case.yaml", d);
  EXPECT_FALSE(d.has_errors()) << d.to_string() << text;
  return s;
}

TEST(EmitCase, NodesPastTheBasesTakeSpareAddressesAndTheCasesProxyRoles) {
  const Base& base = seed_base();
  Case c;
  c.nodes = 5;
  c.proxy = {true, false, true, true, false};
  c.clients = {{0, 3}};
  const auto s = reload(emit_case(base, c, {"case", "", {"single_owner: {}"}}));
  ASSERT_EQ(s.nodes.size(), 5u);
  EXPECT_EQ(s.nodes[0].name, "node-1");
  EXPECT_EQ(s.nodes[3].name, "node-4");
  EXPECT_EQ(s.nodes[3].address.to_string(), "192.168.1.14") << "the first free address past node-1's";
  EXPECT_FALSE(s.nodes[1].proxy);
  EXPECT_TRUE(s.nodes[2].proxy);
  EXPECT_TRUE(s.nodes[4].speaker);
  ASSERT_EQ(s.clients.size(), 1u);
  EXPECT_EQ(s.clients[0].name, "browser-app");
  EXPECT_EQ(s.clients[0].rate, 3);
  EXPECT_TRUE(s.clients[0].keep_alive) << "the user's options stay";
  EXPECT_EQ(s.manifests, base.scenario.manifests);
  ASSERT_EQ(s.expectations.size(), 1u);
  EXPECT_EQ(s.expectations[0].name, "single_owner");
}

TEST(EmitCase, EachEpisodeIsItsFaultAndItsRecoveryOneAfterAnother) {
  const Base& base = seed_base();
  Case c;
  c.nodes = 4;
  c.proxy.assign(4, true);
  c.clients = {{1, 2}};
  c.episodes = {{EpisodeKind::kCrashOwner, 0, 1, 500, 2000},
                {EpisodeKind::kPartition, 3, 2, 1000, 1500},
                {EpisodeKind::kBackendCrash, 7, 1, 0, 800},
                {EpisodeKind::kNicDown, 5, 1, 100, 300}};
  const std::string text = emit_case(base, c, {"case", "a comment\nof two lines", {"recovers: {}"}});
  EXPECT_THAT(text, HasSubstr("# a comment\n# of two lines\n"));
  const auto s = reload(text);
  ASSERT_EQ(s.faults.size(), 8u);
  EXPECT_EQ(s.faults[0].kind, "crash");
  EXPECT_EQ(s.faults[0].node, "owner");
  EXPECT_EQ(s.faults[0].at.count(), 3500);
  EXPECT_EQ(s.faults[1].kind, "restart");
  EXPECT_EQ(s.faults[1].at.count(), 5500);
  EXPECT_EQ(s.faults[2].kind, "partition");
  EXPECT_EQ(s.faults[2].at.count(), 6500);
  ASSERT_EQ(s.faults[2].groups.size(), 2u);
  EXPECT_EQ(s.faults[2].groups[1], (std::vector<std::string>{"node-1", "node-4"}))
      << "target 3, size 2: node-4 and (wrapping) node-1 are cut off";
  EXPECT_EQ(s.faults[3].kind, "heal");
  EXPECT_EQ(s.faults[4].node, base.pods[7 % base.pods.size()]);
  EXPECT_EQ(s.faults[6].kind, "nic_down");
  EXPECT_EQ(s.faults[6].node, "node-2") << "target 5 of 4 nodes";
  EXPECT_EQ(s.faults[7].kind, "nic_up");
  EXPECT_EQ(s.duration.count(), case_duration_ms(c, base.recovery_within_ms));
  EXPECT_EQ(case_duration_ms(c, base.recovery_within_ms),
            3000 + 2500 + 2500 + 800 + 400 + base.recovery_within_ms + kTailAfterRecoveryMs);
}

TEST(EmitCase, AReloadEpisodeReadsTheAdditionThenTheBasesManifestsAgain) {
  const Base& base = seed_base();
  Case c;
  c.proxy.assign(3, true);
  c.clients = {{0, 2}};
  c.episodes = {{EpisodeKind::kReloadInvalid, 0, 1, 0, 700}, {EpisodeKind::kReloadValid, 0, 1, 100, 200}};
  const auto s = reload(emit_case(base, c, {"case", "", {"reloads: {accepted: 3, refused: 1}"}}));
  ASSERT_EQ(s.faults.size(), 4u);
  std::vector<std::string> with_invalid = base.scenario.manifests, with_valid = base.scenario.manifests;
  with_invalid.push_back(base.reload_dir + "/invalid.yaml");
  with_valid.push_back(base.reload_dir + "/valid.yaml");
  EXPECT_EQ(s.faults[0].kind, "reload");
  EXPECT_EQ(s.faults[0].manifests, with_invalid);
  EXPECT_EQ(s.faults[1].at.count(), 3700);
  EXPECT_EQ(s.faults[1].manifests, base.scenario.manifests) << "the recovery: the base's manifests again";
  EXPECT_EQ(s.faults[2].manifests, with_valid);
  EXPECT_EQ(s.faults[3].at.count(), 4000);
  EXPECT_EQ(s.expectations[0].accepted, 3);
  EXPECT_EQ(s.expectations[0].refused, 1);
}

// Three proxies, the first client, and one link episode of 900 ms on node `target` (mod 3).
Case link_case(int target, int loss_percent, int delay_ms, int rate_mbps) {
  Case c;
  c.proxy.assign(3, true);
  c.clients = {{0, 2}};
  Episode e{EpisodeKind::kLinkDegraded, target, 1, 0, 900};
  e.loss_percent = loss_percent;
  e.delay_ms = delay_ms;
  e.rate_mbps = rate_mbps;
  c.episodes = {e};
  return c;
}

TEST(EmitCase, ALinkEpisodeDegradesANodesLinkAndThenMakesItWhole) {
  const Base& base = seed_base();
  const Case c = link_case(4, 7, 3, 0);
  const std::string text = emit_case(base, c, {"case", "", {"single_owner: {}"}});
  EXPECT_THAT(text, HasSubstr("link: {host: node-2, loss: 0.07, delay: 3ms}"));
  const auto s = reload(text);
  ASSERT_EQ(s.faults.size(), 2u);
  EXPECT_EQ(s.faults[0].kind, "link");
  EXPECT_EQ(s.faults[0].node, "node-2") << "target 4 of 3 nodes";
  EXPECT_DOUBLE_EQ(s.faults[0].loss.value_or(-1), 0.07);
  EXPECT_EQ(s.faults[0].delay.value_or(std::chrono::microseconds(-1)).count(), 3000);
  EXPECT_EQ(s.faults[1].at.count(), 3900);
  EXPECT_DOUBLE_EQ(s.faults[1].loss.value_or(-1), 0);
  EXPECT_EQ(s.faults[1].delay.value_or(std::chrono::microseconds(-1)).count(), 0);
  EXPECT_FALSE(s.faults[0].rate) << "the rate is left as it was unless drawn";
}

TEST(EmitCase, ALinkEpisodeWithARateSlowsTheLinkAndGivesItTheLansRateBack) {
  const Base& base = seed_base();
  const auto s = reload(emit_case(base, link_case(0, 0, 1, 10), {"case", "", {"single_owner: {}"}}));
  ASSERT_EQ(s.faults.size(), 2u);
  EXPECT_EQ(s.faults[0].rate.value_or(""), "10Mbps");
  EXPECT_EQ(s.faults[1].rate.value_or(""), base.scenario.link_rate);
}

TEST(EmitCase, AnOverlappingEpisodeStartsAfterThePreviousFaultAndTheFaultsStayInTimeOrder) {
  const Base& base = seed_base();
  Case c;
  c.proxy.assign(3, true);
  c.clients = {{0, 2}};
  c.episodes = {{EpisodeKind::kNicDown, 1, 1, 0, 2000},        // 3.0 s … 5.0 s
                {EpisodeKind::kBackendCrash, 0, 1, 500, 300},  // overlapping: 3.5 s … 3.8 s
                {EpisodeKind::kCrashNode, 2, 1, 100, 400},     // after both: 5.1 s … 5.5 s
                {EpisodeKind::kPartition, 0, 1, 0, 1000}};     // overlapping: 5.1 s … 6.1 s
  c.episodes[1].overlaps = c.episodes[3].overlaps = true;
  EXPECT_EQ(episode_starts_ms(c), (std::vector<int>{3000, 3500, 5100, 5100}));
  const auto s = reload(emit_case(base, c, {"case", "", {"recovers: {}"}}));
  std::vector<std::pair<std::int64_t, std::string>> faults;
  for (const auto& f : s.faults)
    faults.emplace_back(f.at.count(), f.kind);
  EXPECT_EQ(faults, (std::vector<std::pair<std::int64_t, std::string>>{{3000, "nic_down"},
                                                                       {3500, "backend_crash"},
                                                                       {3800, "backend_restart"},
                                                                       {5000, "nic_up"},
                                                                       {5100, "crash"},
                                                                       {5100, "partition"},
                                                                       {5500, "restart"},
                                                                       {6100, "heal"}}));
  EXPECT_EQ(s.duration.count(), 6100 + base.recovery_within_ms + kTailAfterRecoveryMs);
}

TEST(EmitCase, AClientsFlipsTurnItsConnectionOptionsAroundAndLeaveTheRestAsWritten) {
  const Base& base = seed_base();
  const auto& as_written = base.scenario.clients.at(0);
  ASSERT_TRUE(as_written.https);
  Case c;
  c.proxy.assign(3, true);
  c.clients = {{0, 2, kFlipKeepAlive | kFlipResume | kFlipHttp2}};
  auto s = reload(emit_case(base, c, {"case", "", {"single_owner: {}"}}));
  EXPECT_EQ(s.clients[0].keep_alive, !as_written.keep_alive);
  EXPECT_EQ(s.clients[0].resume, !as_written.resume);
  EXPECT_EQ(s.clients[0].http2, !as_written.http2);
  EXPECT_EQ(s.clients[0].cookies, as_written.cookies);
  c.clients[0].flips = kFlipCookies;
  s = reload(emit_case(base, c, {"case", "", {"single_owner: {}"}}));
  EXPECT_EQ(s.clients[0].keep_alive, as_written.keep_alive);
  EXPECT_EQ(s.clients[0].cookies, !as_written.cookies);
}

TEST(EmitCase, ASchemeFlipAsksTheSameRequestsOverTheOtherFrontend) {
  const Base& base = seed_base();
  std::size_t plain = 0;
  while (plain < base.scenario.clients.size() && base.scenario.clients[plain].name != "plain-http")
    ++plain;
  ASSERT_LT(plain, base.scenario.clients.size());
  Case c;
  c.proxy.assign(3, true);
  c.clients = {{0, 2, kFlipScheme}, {static_cast<int>(plain), 2, kFlipScheme}};
  const auto s = reload(emit_case(base, c, {"case", "", {"single_owner: {}"}}));
  ASSERT_EQ(s.clients.size(), 2u);
  EXPECT_FALSE(s.clients[0].https) << "browser-app asks over HTTP";
  EXPECT_FALSE(s.clients[0].http2) << "HTTP/2 is agreed in TLS: a plain client speaks HTTP/1.1";
  EXPECT_EQ(s.clients[0].port, 80);
  EXPECT_EQ(s.clients[0].host, base.scenario.clients[0].host);
  EXPECT_TRUE(s.clients[1].https) << "plain-http asks over HTTPS";
  EXPECT_EQ(s.clients[1].port, 443);
  EXPECT_EQ(s.clients[1].path, base.scenario.clients[plain].path);
}

TEST(EmitCase, PodEpisodesMakeAPodUnhealthyOrSlowAndThenAsItWasAndANodeLeaves) {
  const Base& base = seed_base();
  Case c;
  c.proxy.assign(3, true);
  c.clients = {{0, 2}};
  c.episodes = {{EpisodeKind::kBackendUnhealthy, 0, 1, 0, 500},
                {EpisodeKind::kBackendSlow, 0, 7, 0, 500},
                {EpisodeKind::kLeaveNode, 1, 1, 0, 500}};
  const auto s = reload(emit_case(base, c, {"case", "", {"single_owner: {}"}}));
  ASSERT_EQ(s.faults.size(), 6u);
  EXPECT_EQ(s.faults[0].kind, "backend_unhealthy");
  EXPECT_EQ(s.faults[0].node, base.pods[0]);
  EXPECT_EQ(s.faults[1].kind, "backend_healthy");
  EXPECT_EQ(s.faults[2].kind, "backend_slow");
  EXPECT_EQ(s.faults[2].latency.count(), 700) << "size 7: 700 ms";
  EXPECT_EQ(s.faults[3].latency.count(), base.pod_latency_ms[0]) << "back to the pod's own answer time";
  EXPECT_EQ(s.faults[4].kind, "leave");
  EXPECT_EQ(s.faults[4].node, "node-2");
  EXPECT_EQ(s.faults[5].kind, "restart");
}

}  // namespace
}  // namespace metalgate::check
