// Scenarios: the schema's errors point at file:line, a run judges its expectations, and one seed reproduces a
// run byte for byte.
#include "sim/scenario/scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/scenario/html_report.h"
#include "sim/scenario/runner.h"

namespace metalgate::sim {
namespace {

using ::testing::HasSubstr;

const std::string kSmall = std::string(METALGATE_SOURCE_DIR) + "/tests/sim/data/small.yaml";

std::string write_temp(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "metalgate-scenario-test";
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

TEST(Scenario, ErrorsNameFileLineAndField) {
  std::string bad = write_temp("bad.yaml", R"(name: bad
duration: 10s
lan: {subnet: 10.0.0.0/24}
nodes:
  - {name: n1, address: 10.0.0.1, rolez: [speaker]}
  - {name: n2, address: 10.1.0.2}
clients:
  - {name: c, address: 10.0.0.9, http: {host: a.example, rate: fast}}
faults:
  - {at: 5s, crash: nobody}
expect:
  - success_ratio: {min: 2}
)");
  config::Diagnostics d;
  load_scenario(bad, d);
  std::string text = d.to_string();
  EXPECT_GE(d.error_count(), 5u) << text;
  EXPECT_THAT(text, HasSubstr("bad.yaml:5:"));
  EXPECT_THAT(text, HasSubstr("rolez"));
  EXPECT_THAT(text, HasSubstr("roles"));  // the closest known key
  EXPECT_THAT(text, HasSubstr("10.1.0.2 is outside the LAN's subnet"));
  EXPECT_THAT(text, HasSubstr("'fast' is not a rate"));
  EXPECT_THAT(text, HasSubstr("no node is named 'nobody'"));
  EXPECT_THAT(text, HasSubstr("'2' is not a ratio"));
}

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
  std::string html = html_report(r.result);
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("crash " + r.result["failovers"][0]["node"].get<std::string>()));
  EXPECT_GE(r.result["owner_timeline"].size(), 2u) << "the VIP moved";
}

TEST(Scenario, ANicGoingDownOnTheOwnerFailsOverToo) {
  config::Diagnostics d;
  Scenario s = load_scenario(kSmall, d);
  ASSERT_FALSE(d.has_errors());
  s.faults[0].kind = ScenarioFault::Kind::kNicDown;  // "nic_down: owner" at 8 s: the engine lives on, cut off
  RunResult r = run_scenario(s, {}, d);
  EXPECT_TRUE(r.passed) << r.result.dump(2);
  ASSERT_EQ(r.result["failovers"].size(), 1u);
  EXPECT_EQ(r.result["faults"][0]["action"], "nic_down");
  EXPECT_GT(r.result["failovers"][0]["failover_ms"].get<int>(), 0);
}

TEST(Scenario, AnExpectationThatCannotHoldFailsWithItsFigure) {
  config::Diagnostics d;
  Scenario s = load_scenario(kSmall, d);
  ASSERT_FALSE(d.has_errors());
  s.expectations.clear();
  ScenarioExpectation impossible;
  impossible.kind = ScenarioExpectation::Kind::kFailover;
  impossible.name = "failover";
  impossible.max = std::chrono::milliseconds(1);  // no LAN fails over in 1 ms
  s.expectations.push_back(impossible);
  RunResult r = run_scenario(s, {}, d);
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(r.result["expectations"][0]["passed"].get<bool>());
  EXPECT_GT(r.result["expectations"][0]["measured"].get<int>(), 1);
  EXPECT_THAT(junit_xml(r.result), HasSubstr("<failure message=\"measured "));
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
