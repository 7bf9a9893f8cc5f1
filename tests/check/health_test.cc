// Property 6, health: the engine's check counting keeps every invariant, counting broken by one (a mutant,
// engine/mutants/) is caught within 100 cases, and the checkers judge hand-made histories as documented.
#include "check/properties/health.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/proxy/health.h"
#include "tests/check/run_quietly.h"

namespace metalgate::check {
namespace {

using namespace std::chrono_literals;

rc::detail::TestResult run(const HealthRules& rules, int cases, std::uint64_t seed) {
  const Base base;
  return run_quietly(
      "health", [&] { health_property(base, rules); }, cases, seed);
}

// record_check with rise and fall changed as `broken` says.
HealthRules broken(int rise_by, int fall_by) {
  return HealthRules{
      proxy::initial_health, [rise_by, fall_by](proxy::HealthState& h, bool passed, int rise, int fall) {
        return proxy::record_check(h, passed, std::max(1, rise + rise_by), std::max(1, fall + fall_by));
      }};
}

// Fails within 100 cases for each of five seeds; returns the cases each needed.
std::string caught_within_100(const HealthRules& rules) {
  std::string needed;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto result = run(rules, 100, seed);
    rc::detail::FailureResult failure;
    EXPECT_TRUE(result.match(failure))
        << "seed " << seed << ": the broken counting was not caught in 100 cases";
    if (result.is<rc::detail::FailureResult>())
      needed += (needed.empty() ? "" : " ") + std::to_string(failure.numSuccess + 1);
  }
  return needed;
}

ExpectedHealth after(int rise, int fall, const std::vector<bool>& outcomes) {
  ExpectedHealth h(rise, fall);
  for (bool passed : outcomes)
    h.record(passed);
  return h;
}

// ------------------------------------------------------------------------------------------ the engine

TEST(Health, EngineCountingKeepsEveryHealthInvariantIn200Cases) {
  const auto result = run(engine_health_rules(), 200, 20261202);
  rc::detail::FailureResult failure;
  EXPECT_TRUE(result.is<rc::detail::SuccessResult>())
      << (result.match(failure) ? failure.description : "gave up");
}

// ------------------------------------------------------------------------------------------ broken counting

TEST(Health, FallOffByOneLateIsCaught) {
  RecordProperty("cases_needed", caught_within_100(broken(0, +1)));
}

TEST(Health, FallOffByOneEarlyIsCaught) {
  RecordProperty("cases_needed", caught_within_100(broken(0, -1)));
}

TEST(Health, RiseOffByOneLateIsCaught) {
  RecordProperty("cases_needed", caught_within_100(broken(+1, 0)));
}

// ------------------------------------------------------------------------------------------ the checkers

TEST(Health, ServerThatHasBeenUpGoesDownAtExactlyItsFallthFailedCheck) {
  EXPECT_TRUE(after(2, 3, {true, false, false}).up());
  EXPECT_FALSE(after(2, 3, {true, false, false, false}).up());
  EXPECT_TRUE(after(2, 3, {true, false, false, true, false, false}).up()) << "a pass starts the count again";
}

TEST(Health, ServerJustStartedGoesDownOnItsFirstFailedCheck) {
  EXPECT_TRUE(after(2, 3, {}).fresh());
  EXPECT_FALSE(after(2, 3, {false}).up());
}

TEST(Health, DownServerComesUpAtExactlyItsRisethPassedCheck) {
  EXPECT_FALSE(after(3, 2, {false, true, true}).up());
  EXPECT_TRUE(after(3, 2, {false, true, true, true}).up());
  EXPECT_FALSE(after(3, 2, {false, true, true, false, true, true}).up())
      << "a failure starts the count again";
}

TEST(Health, StepCheckerNamesTheFallOrRiseThatIsOffByOne) {
  const ExpectedHealth two_failed = after(2, 3, {true, false, false});
  EXPECT_EQ(check_health_step(two_failed, false, false, 2, 3), "");
  EXPECT_NE(check_health_step(two_failed, false, true, 2, 3).find("still up after 3 (fall 3)"),
            std::string::npos);
  const ExpectedHealth one_failed = after(2, 3, {true, false});
  EXPECT_NE(check_health_step(one_failed, false, false, 2, 3).find("down after 2 (fall 3)"),
            std::string::npos);
  const ExpectedHealth one_passed = after(2, 3, {false, true});
  EXPECT_NE(check_health_step(one_passed, true, false, 2, 3).find("still down after 2 (rise 2)"),
            std::string::npos);
  EXPECT_NE(check_health_step(after(2, 3, {false}), true, true, 2, 3).find("up after 1 (rise 2)"),
            std::string::npos);
  EXPECT_NE(check_health_step(after(2, 3, {}), false, true, 2, 3).find("first failed check"),
            std::string::npos);
}

TEST(Health, EngineCountingAgreesWithTheRuleStepByStep) {
  proxy::HealthState h = proxy::initial_health(2);
  ExpectedHealth expected(2, 3);
  for (bool passed : {true, false, false, true, false, false, false, true, true, false, true, true, true}) {
    proxy::record_check(h, passed, 2, 3);
    EXPECT_EQ(check_health_step(expected, passed, h.up, 2, 3), "");
    expected.record(passed);
  }
}

TEST(Health, FailedBackendIsDownWithinFallIntervalsAndTheTimeoutAndTheFailedChecksTime) {
  const CheckTimes times{2000ms, 500ms, 10ms};
  EXPECT_EQ(down_within(times, 3, false), 3 * 2000ms + 500ms + 3 * 10ms) << "refused: answered at once";
  EXPECT_EQ(down_within(times, 3, true), 3 * 2000ms + 500ms + 3 * 500ms) << "silent: each check times out";
  EXPECT_EQ(up_within(times, 2), 2 * 2000ms + 500ms + 2 * 10ms);
}

}  // namespace
}  // namespace metalgate::check
