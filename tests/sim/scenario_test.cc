// Scenarios in the ns-3 world: a run judges its expectations, every fault kind acts, a node that cannot start
// stops the run at its line, and one seed reproduces a run byte for byte. (The loader's own tests are in
// tests/scenario/loader_test.cc.)
#include "sim/scenario/scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <fstream>

#include "scenario/report/html_report.h"
#include "scenario/kinds/fault_kinds.h"
#include "sim/scenario/runner.h"
#include "tests/scenario/temp_file.h"

namespace metalgate::sim {
namespace {

using ::testing::HasSubstr;

const std::string kSmall = std::string(METALGATE_SOURCE_DIR) + "/tests/sim/data/small.yaml";

using scenario::testing::write_temp;

TEST(Scenario, TheSmallSeedScenarioPassesItsExpectations) {
  config::Diagnostics d;
  Scenario s = load_scenario(kSmall, d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  RunResult r = run_scenario(s, {}, d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  EXPECT_TRUE(r.passed) << r.result.dump(2);
  ASSERT_EQ(r.result["failovers"].size(), 1u);
  EXPECT_GT(r.result["failovers"][0]["failover_ms"].get<int>(), 0);
  EXPECT_GT(r.result["requests"]["ok"].get<int>(), 80);
  // The report draws the owner change and the crash on one timeline.
  std::string html = scenario::html_report(r.result);
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("crash " + r.result["failovers"][0]["node"].get<std::string>()));
  EXPECT_GE(r.result["owner_timeline"].size(), 2u) << "the VIP moved";
}

// A reload (SIGHUP live) in the simulator, through the same engine code: at 3 s the manifests lose the
// Ingress of app.example.com (its requests get 404 from then on), at 5 s one of them is invalid (refused:
// nothing changes), at 7 s the full set is back (served again). Every engine keeps running throughout.
TEST(Scenario, ReloadsTakeEffectAndAnInvalidOneIsRefused) {
  const std::string seed = std::string(METALGATE_SOURCE_DIR) + "/scenarios/seed";
  std::string without_ingress;
  for (const auto& entry : std::filesystem::directory_iterator(seed))
    if (entry.path().filename() != "web-ingress.yaml")
      without_ingress += "\"" + entry.path().string() + "\", ";
  const std::string bad = write_temp("reload-bad.yaml",
                                     "apiVersion: v1\nkind: Service\nmetadata: {name: x, "
                                     "namespace: default}\nspec: {colour: blue}\n");
  std::string yaml = R"(name: reload
seed: 3
duration: 9s
lan: {subnet: 192.168.1.0/24}
nodes:
  - {name: node-1, address: 192.168.1.11, roles: [speaker, proxy]}
  - {name: node-2, address: 192.168.1.12, roles: [speaker, proxy]}
manifests: [")" + seed +
                     R"("]
backends:
  - {deployment: default/web-app, addresses: [192.168.1.31, 192.168.1.32, 192.168.1.33]}
clients:
  - {name: browser, address: 192.168.1.100, https: {host: app.example.com, rate: 8}}
faults:
  - {at: 3s, reload: [)" +
                     without_ingress + R"(]}
  - {at: 5s, reload: [")" +
                     seed + R"(", ")" + bad + R"("]}
  - {at: 7s, reload: [")" +
                     seed + R"("]}
)";
  config::Diagnostics d;
  Scenario s = load_scenario(write_temp("reload.yaml", yaml), d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  RunResult r = run_scenario(s, {}, d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  const auto& faults = r.result["faults"];
  ASSERT_EQ(faults.size(), 3u);
  EXPECT_EQ(faults[0]["reloaded"], true);
  EXPECT_EQ(faults[1].count("reloaded"), 0u);
  EXPECT_THAT(faults[1]["refused"].get<std::string>(), HasSubstr("reload-bad.yaml:4:"));
  EXPECT_THAT(faults[1]["refused"].get<std::string>(), HasSubstr("unknown field 'colour'"));
  EXPECT_EQ(faults[2]["reloaded"], true);
  // Seconds 0-2 and 8 answered; 3-6 (no Ingress: 404) not, the refused reload changing nothing.
  std::map<int, std::pair<int, int>> per_second;  // second -> (ok, failed)
  for (const auto& p : r.result["per_second"])
    per_second[p["second"].get<int>()] = {p["ok"].get<int>(), p["failed"].get<int>()};
  for (int second : {1, 2, 8}) {
    EXPECT_GT(per_second[second].first, 5) << "second " << second;
    EXPECT_EQ(per_second[second].second, 0) << "second " << second;
  }
  for (int second : {4, 5, 6}) {
    EXPECT_EQ(per_second[second].first, 0) << "second " << second;
    EXPECT_GT(per_second[second].second, 5) << "second " << second;
  }
}

TEST(Scenario, ANicGoingDownOnTheOwnerFailsOverToo) {
  config::Diagnostics d;
  Scenario s = load_scenario(kSmall, d);
  ASSERT_FALSE(d.has_errors());
  s.faults[0].kind = "nic_down";  // "nic_down: owner" at 8 s: the engine lives on, cut off
  RunResult r = run_scenario(s, {}, d);
  EXPECT_TRUE(r.passed) << r.result.dump(2);
  ASSERT_EQ(r.result["failovers"].size(), 1u);
  EXPECT_EQ(r.result["faults"][0]["action"], "nic_down");
  EXPECT_GT(r.result["failovers"][0]["failover_ms"].get<int>(), 0);
}

// A small LAN for one fault at a time: two proxy nodes and a speaker, three web pods, and `clients`, `faults`
// and `expect` as given.
std::string lan_with(const std::string& name, const std::string& clients, const std::string& faults,
                     const std::string& expect, const std::string& duration = "12s",
                     const std::string& extra = "") {
  return write_temp(name + ".yaml", "name: " + name + "\nseed: 3\nduration: " + duration + R"(
lan: {subnet: 192.168.1.0/24}
nodes:
  - {name: node-1, address: 192.168.1.11, roles: [speaker, proxy]}
  - {name: node-2, address: 192.168.1.12, roles: [speaker, proxy]}
  - {name: node-3, address: 192.168.1.13, roles: [speaker]}
manifests: [)" + std::string(METALGATE_SOURCE_DIR) +
                                        R"(/scenarios/seed]
backends:
  - {deployment: default/web-app, addresses: [192.168.1.31, 192.168.1.32, 192.168.1.33]}
  - {deployment: default/coredns-custom, addresses: [192.168.1.43]}
  - {deployment: default/redis, addresses: [192.168.1.42]}
clients:
)" + clients + "faults:\n" + faults + "expect:\n" +
                                        expect + extra);
}

const std::string kBrowser =
    "  - {name: browser, address: 192.168.1.100, https: {host: app.example.com, rate: 8}}\n";

RunResult run_file(const std::string& path, RunOptions options = {}) {
  config::Diagnostics d;
  Scenario s = load_scenario(path, d);
  EXPECT_FALSE(d.has_errors()) << d.to_string();
  RunResult r = run_scenario(s, options, d);
  EXPECT_FALSE(d.has_errors()) << d.to_string();
  return r;
}

std::int64_t answers_from(const RunResult& r, const std::string& pod) {
  return r.result["requests"]["by_backend"].value(pod, std::int64_t{0});
}

TEST(ScenarioFaults, AGracefulLeaveHandsTheVipOverFasterThanACrash) {
  // A DNS client asking every 5 ms sees when the VIP answers again.
  const std::string dns = "  - {name: dns, address: 192.168.1.100, udp: {port: 53, rate: 200}}\n";
  auto crash = run_file(lan_with("crash", dns, "  - {at: 5s, crash: owner}\n", "  - failover: {max: 2s}\n"));
  auto leave = run_file(lan_with("leave", dns, "  - {at: 5s, leave: owner}\n", "  - failover: {max: 2s}\n"));
  ASSERT_TRUE(crash.passed) << crash.result.dump(2);
  ASSERT_TRUE(leave.passed) << leave.result.dump(2);
  ASSERT_EQ(leave.result["failovers"].size(), 1u);
  EXPECT_EQ(leave.result["failovers"][0]["cause"], "leave");
  // The goodbye spares the others the suspicion timeout; the clients' next request finds the new owner.
  EXPECT_LT(leave.result["failovers"][0]["failover_ms"].get<int>(),
            crash.result["failovers"][0]["failover_ms"].get<int>());
}

// A datagram records whose MAC the client's ARP cache held, as a request does, so that clients_follow_owner
// judges a DNS client too (a case with only one used to find nothing to judge).
TEST(ScenarioClients, ADatagramClientFollowsTheOwnerAfterACrash) {
  const std::string dns = "  - {name: dns, address: 192.168.1.100, udp: {port: 53, rate: 20}}\n";
  auto r = run_file(lan_with("dns-follows", dns, "  - {at: 3s, crash: owner}\n",
                             "  - clients_follow_owner: {within: 2000ms}\n", "8s"));
  EXPECT_TRUE(r.passed) << r.result.dump(2);
  EXPECT_GT(r.result["expectations"][0]["measured"]["requests"].get<int>(), 20);
  EXPECT_EQ(r.result["requests"]["by_vip_node"].size(), 2u) << "the crashed owner's, then the new one's";
}

TEST(ScenarioSpeaker, ALongerProbeIntervalDetectsTheCrashLater) {
  const std::string dns = "  - {name: dns, address: 192.168.1.100, udp: {port: 53, rate: 200}}\n";
  auto fast =
      run_file(lan_with("probe-default", dns, "  - {at: 5s, crash: owner}\n", "  - failover: {max: 3s}\n"));
  auto slow = run_file(
      lan_with("probe-slow", dns, "  - {at: 5s, crash: owner}\n", "  - failover: {max: 3s}\n", "12s",
               "speaker: {probe_interval: 300ms, probe_timeout: 100ms, suspicion_timeout: 600ms}\n"));
  ASSERT_TRUE(fast.passed) << fast.result.dump(2);
  ASSERT_TRUE(slow.passed) << slow.result.dump(2);
  // Detection needs at least the suspicion window after the missed probe.
  EXPECT_GE(slow.result["failovers"][0]["failover_ms"].get<int>(), 600);
  EXPECT_LT(fast.result["failovers"][0]["failover_ms"].get<int>(), 400);
}

TEST(ScenarioFaults, APartitionGivesEachSideItsOwnerAndHealingLeavesOne) {
  auto r = run_file(lan_with(
      "partition", kBrowser, "  - {at: 4s, partition: [[node-3], [owner]]}\n  - {at: 8s, heal: true}\n",
      "  - single_owner: {}\n  - failover: {max: 2s}\n  - success_ratio: {min: 0.95}\n"));
  EXPECT_TRUE(r.passed) << r.result.dump(2);
  ASSERT_GE(r.result["failovers"].size(), 1u);
  EXPECT_EQ(r.result["failovers"][0]["cause"], "partition");
  EXPECT_EQ(r.result["faults"][0]["groups"].size(), 2u);
  bool both_sides_claimed = false;
  for (const auto& t : r.result["owner_timeline"])
    both_sides_claimed |= t["owner"].get<std::string>().find('+') != std::string::npos;
  EXPECT_TRUE(both_sides_claimed)
      << "the owner, cut off, keeps the VIP on its side; the other side elects one";
  std::string last = r.result["owner_timeline"].back()["owner"].get<std::string>();
  EXPECT_EQ(last.find('+'), std::string::npos) << "one owner after the heal: " << last;
  EXPECT_FALSE(last.empty());
}

TEST(ScenarioFaults, LinkDelayAndLossShowInTheLatency) {
  const std::string expect = "  - success_ratio: {min: 0.5}\n";
  auto plain = run_file(lan_with("plain", kBrowser, "", expect));
  auto delayed =
      run_file(lan_with("delayed", kBrowser, "  - {at: 0s, link: {host: browser, delay: 20ms}}\n", expect));
  auto lossy =
      run_file(lan_with("lossy", kBrowser, "  - {at: 0s, link: {host: browser, loss: 0.02}}\n", expect));
  ASSERT_TRUE(plain.passed) << plain.result.dump(2);
  ASSERT_TRUE(delayed.passed) << delayed.result.dump(2);
  ASSERT_TRUE(lossy.passed) << lossy.result["requests"].dump(2);
  const double p50 = plain.result["requests"]["p50_ms"].get<double>();
  // TCP and TLS handshakes and the request: at least two round trips of 2 x 20 ms each.
  EXPECT_GT(delayed.result["requests"]["p50_ms"].get<double>(), 80.0);
  EXPECT_LT(p50, 10.0);
  // 2 % of the frames lost each way: retransmissions (ns-3's first RTO is 1 s) stretch the tail.
  EXPECT_GT(lossy.result["requests"]["p99_ms"].get<double>(), 200.0);
  EXPECT_EQ(lossy.result["faults"][0]["loss"].get<double>(), 0.02);
}

TEST(ScenarioFaults, ACrashedPodIsRetriedAroundAndServesAgainAfterItsRestart) {
  auto crashed = run_file(lan_with("pod-crash", kBrowser, "  - {at: 0s, backend_crash: web-app-1}\n",
                                   "  - success_ratio: {min: 1}\n"));
  EXPECT_TRUE(crashed.passed) << crashed.result.dump(2);
  EXPECT_EQ(answers_from(crashed, "web-app-1"), 0);
  EXPECT_GT(answers_from(crashed, "web-app-0"), 0);
  auto back =
      run_file(lan_with("pod-restart", kBrowser,
                        "  - {at: 0s, backend_crash: web-app-1}\n  - {at: 4s, backend_restart: web-app-1}\n",
                        "  - success_ratio: {min: 1}\n", "20s"));
  EXPECT_TRUE(back.passed) << back.result.dump(2);
  // Health checks (every 5 s, rise 2) took it out and bring it back.
  EXPECT_GT(answers_from(back, "web-app-1"), 0);
}

TEST(ScenarioFaults, ASlowPodStretchesTheTailAndAnUnhealthyOneAnswers503) {
  auto slow = run_file(lan_with("pod-slow", kBrowser,
                                "  - {at: 0s, backend_slow: {pod: web-app-0, latency: 300ms}}\n",
                                "  - latency: {percentile: 0.99, max: 100ms}\n"));
  EXPECT_FALSE(slow.passed);
  EXPECT_GE(slow.result["expectations"][0]["measured"].get<double>(), 300.0);
  auto sick = run_file(
      lan_with("pod-sick", kBrowser,
               "  - {at: 2s, backend_unhealthy: web-app-2}\n  - {at: 6s, backend_healthy: web-app-2}\n",
               "  - success_ratio: {min: 0.5}\n"));
  EXPECT_TRUE(sick.passed);
  EXPECT_GT(sick.result["requests"]["errors"].value("status 503", 0), 0);
  for (const auto& f : sick.result["requests"]["failures"]) {
    EXPECT_GE(f["start_ms"].get<double>(), 2000.0);
    EXPECT_LE(f["start_ms"].get<double>(), 6000.0);
  }
}

TEST(ScenarioClients, KeepAliveCookiesMixAndTheRateLimit) {
  auto r = run_file(lan_with(
      "clients",
      "  - name: shopper\n    address: 192.168.1.100\n    https:\n      mix:\n"
      "        - {host: advanced.example.com, path: /a, weight: 3}\n"
      "        - {host: advanced.example.com, path: /b}\n"
      "      rate: 5\n      keepalive: true\n      cookies: true\n"
      "  - {name: greedy, address: 192.168.1.101, https: {host: advanced.example.com, rate: 20, keepalive: "
      "true}}\n"
      "  - {name: closed-loop, address: 192.168.1.102, http: {host: redis, port: 6379, concurrency: 2, "
      "think: "
      "20ms}}\n",
      "",
      "  - sticky: {client: shopper, min: 1}\n"
      "  - rate_limit: {client: greedy, limit: 100, period: 10s}\n"
      "  - success_ratio: {min: 1, exclude: [greedy]}\n"
      "  - rate_limit: {client: greedy, limit: 50, period: 10s}\n"));
  const auto& e = r.result["expectations"];
  EXPECT_TRUE(e[0]["passed"].get<bool>()) << e[0].dump();
  EXPECT_TRUE(e[1]["passed"].get<bool>()) << e[1].dump();
  EXPECT_GT(e[1]["measured"]["denied"].get<int>(), 0);
  EXPECT_TRUE(e[2]["passed"].get<bool>()) << e[2].dump();
  EXPECT_FALSE(e[3]["passed"].get<bool>()) << "100 pass per 10 s, more than a limit of 50";
  EXPECT_GT(e[3]["measured"]["most_answered_in_a_period"].get<int>(), 90);
  // Kept-alive connections carry most browser requests; the closed loop's two users ask again 20 ms after
  // each answer: some 90 requests a second, against 25 for the two open-loop clients.
  EXPECT_GT(r.result["requests"]["on_reused_connections"].get<int>(), 200);
  EXPECT_GT(r.result["requests"]["total"].get<int>(), 1000);
}

// A client that speaks only h2 (ALPN) fails every request unless the proxy agrees on it: all answered means
// every request went as an HTTP/2 stream, judged per request as HTTP/1.1 ones are, through a failover.
TEST(ScenarioClients, AnHttp2ClientIsAnsweredStreamByStreamThroughAFailover) {
  auto r =
      run_file(lan_with("h2-client",
                        "  - {name: h2-browser, address: 192.168.1.100, https: {host: app.example.com, rate: "
                        "5, keepalive: true, http2: true}}\n",
                        "  - {at: 5s, crash: owner}\n",
                        "  - success_ratio: {min: 0.9}\n  - routed_to_allowed_backend: {}\n"
                        "  - failover: {max: 2s}\n",
                        "10s"));
  EXPECT_TRUE(r.passed) << r.result.dump(2);
  EXPECT_GT(r.result["requests"]["total"].get<int>(), 40);  // 5/s: under the Ingress's 10 a second
  EXPECT_GT(r.result["requests"]["on_reused_connections"].get<int>(), 25) << "streams of kept connections";
}

TEST(ScenarioCapture, PcapPerHostLink) {
  auto dir = std::filesystem::temp_directory_path() / "metalgate-scenario-test" / "pcap";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  RunOptions o;
  o.pcap_directory = dir.string();
  run_file(lan_with("pcap", kBrowser, "", "  - success_ratio: {min: 0.9}\n", "3s"), o);
  for (const char* host : {"node-1", "browser", "web-app-0"}) {
    auto file = dir / (std::string(host) + ".pcap");
    ASSERT_TRUE(std::filesystem::exists(file)) << file;
    std::ifstream in(file, std::ios::binary);
    std::uint32_t magic = 0;
    in.read(reinterpret_cast<char*>(&magic), 4);
    EXPECT_EQ(magic, 0xa1b2c3d4u);
    EXPECT_GT(std::filesystem::file_size(file), 1000u);
  }
}

// Gratuitous ARP frames (sender IP = target IP) in a pcap file.
int gratuitous_arps(const std::filesystem::path& pcap) {
  std::ifstream in(pcap, std::ios::binary);
  in.seekg(24);  // the file header
  int count = 0;
  std::uint32_t record[4];
  while (in.read(reinterpret_cast<char*>(record), sizeof record)) {
    std::string frame(record[2], '\0');
    in.read(frame.data(), static_cast<std::streamsize>(frame.size()));
    if (frame.size() >= 42 && frame[12] == '\x08' && frame[13] == '\x06' &&
        frame.compare(28, 4, frame, 38, 4) == 0)
      ++count;
  }
  return count;
}

// speaker.announce_refresh announces owned addresses again after the burst, for switches whose MAC tables age
// out; by default the burst is all.
TEST(ScenarioSpeaker, AnnounceRefreshRepeatsAnnouncementsAfterTheBurst) {
  std::map<std::string, int> seen;
  for (const std::string refresh : {"", "speaker: {announce_refresh: 2s}\n"}) {
    auto dir = std::filesystem::temp_directory_path() / "metalgate-scenario-test" / "refresh";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    RunOptions o;
    o.pcap_directory = dir.string();
    auto r = run_file(lan_with(refresh.empty() ? "no-refresh" : "refresh", kBrowser, "",
                               "  - success_ratio: {min: 0.9}\n", "14s", refresh),
                      o);
    ASSERT_TRUE(r.passed) << r.result.dump(2);
    seen[refresh] = gratuitous_arps(dir / "browser.pcap");
  }
  EXPECT_GT(seen[""], 0);
  EXPECT_GE(seen["speaker: {announce_refresh: 2s}\n"], seen[""] + 4) << "four refreshes or more in 10 s";
}

TEST(Scenario, AnExpectationThatCannotHoldFailsWithItsFigure) {
  config::Diagnostics d;
  Scenario s = load_scenario(kSmall, d);
  ASSERT_FALSE(d.has_errors());
  s.expectations.clear();
  ScenarioExpectation impossible;
  impossible.name = "failover";
  impossible.max = std::chrono::milliseconds(1);  // no LAN fails over in 1 ms
  s.expectations.push_back(impossible);
  RunResult r = run_scenario(s, {}, d);
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(r.result["expectations"][0]["passed"].get<bool>());
  EXPECT_GT(r.result["expectations"][0]["measured"].get<int>(), 1);
  EXPECT_THAT(junit_xml(r.result), HasSubstr("<failure message=\"measured "));
}

// A node whose speaker is told to announce on an interface its host does not have cannot start: the run stops
// before anything runs, with an error at that node's line of the scenario.
// The simulated hosts are IPv4 only: a dual-stack LAN is refused before anything runs, naming the limit and
// the world that can run it.
TEST(Scenario, TheSimulatorRefusesADualStackLanNamingItsLimitAndTheLiveWorld) {
  config::Diagnostics d;
  Scenario s = load_scenario(std::string(METALGATE_SOURCE_DIR) + "/scenarios/dual-stack.yaml", d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  RunResult r = run_scenario(s, {}, d);
  EXPECT_TRUE(r.result.is_null());
  EXPECT_THAT(d.to_string(), HasSubstr("lan.subnet6: the simulator's hosts are IPv4 only"));
  EXPECT_THAT(d.to_string(), HasSubstr("run this scenario live: metalgate netns"));
}

// Real servers are the live world's: the simulator runs its identity servers in their place and says so at
// the backend's line.
TEST(Scenario, TheSimulatorRunsIdentityServersInPlaceOfRealOnesAndSaysSo) {
  config::Diagnostics d;
  Scenario s = load_scenario(std::string(METALGATE_SOURCE_DIR) + "/scenarios/data-services.yaml", d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  RunResult r = run_scenario(s, {}, d);
  ASSERT_FALSE(r.result.is_null()) << d.to_string();
  EXPECT_TRUE(r.passed) << r.result["expectations"].dump();
  EXPECT_THAT(r.result["warnings"].dump(),
              HasSubstr("data-services.yaml:19:5: warning: server: default/postgresql runs a real postgresql live "
                        "only; the simulator runs the identity servers on its ports in its place"));
}

TEST(Scenario, ANodeThatCannotStartStopsTheRunAtItsLine) {
  const std::string path = write_temp("no-eth9.yaml", R"(name: no-eth9
duration: 5s
lan: {subnet: 192.168.1.0/24}
nodes:
  - {name: node-1, address: 192.168.1.11}
  - {name: node-2, address: 192.168.1.12, interfaces: [eth9]}
manifests: [)" + std::string(METALGATE_SOURCE_DIR) + R"(/scenarios/seed]
backends:
  - {deployment: default/web-app, addresses: [192.168.1.31]}
clients:
  - {name: browser, address: 192.168.1.100, https: {host: app.example.com, rate: 8}}
expect:
  - success_ratio: {min: 0.9}
)");
  config::Diagnostics d;
  Scenario s = load_scenario(path, d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  RunResult r = run_scenario(s, {}, d);
  EXPECT_FALSE(r.passed);
  EXPECT_TRUE(r.result.is_null()) << "nothing ran: " << r.result.dump(2);
  ASSERT_TRUE(d.has_errors());
  const std::string text = d.to_string();
  EXPECT_THAT(text, HasSubstr("no-eth9.yaml:6:5: error: nodes: node node-2 did not start"));
  EXPECT_THAT(text, HasSubstr("eth9"));
}

TEST(Scenario, OneSeedReproducesTheResultByteForByte) {
  config::Diagnostics d;
  Scenario s = load_scenario(kSmall, d);
  ASSERT_FALSE(d.has_errors());
  std::string a = run_scenario(s, {}, d).result.dump(2);
  std::string b = run_scenario(s, {}, d).result.dump(2);
  EXPECT_EQ(a, b);
  RunOptions other;
  other.seed = 6;
  EXPECT_NE(run_scenario(s, other, d).result.dump(2), a) << "a different seed is a different run";
}

}  // namespace
}  // namespace metalgate::sim
