// Property 5, balancing: the engine's server choice keeps every invariant, each broken choice a mutant
// compiles in (engine/mutants/) is caught within 100 cases, and the checkers judge hand-made runs as
// documented.
#include "check/properties/balancing.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/check/run_quietly.h"

namespace metalgate::check {
namespace {

using proxy::Balance;
using proxy::ServerLoad;

rc::detail::TestResult run(const ServerChoiceFactory& choice, int cases, std::uint64_t seed) {
  const Base base;
  return run_quietly(
      "balancing", [&] { balancing_property(base, choice); }, cases, seed);
}

// A broken choice around the engine's: `pick` and `pinned` may be replaced. `nth` counts this history's
// balanced picks from 1, so a broken pick is as deterministic as the real one (and shrinks as well).
class Broken final : public ServerChoice {
 public:
  using Pick = std::function<std::optional<std::size_t>(
      ServerChoice& real, Balance algorithm, int nth, const std::vector<ServerLoad>&, const net::IpAddress&)>;
  Broken(Balance algorithm, const std::vector<ServerLoad>& loads, Pick pick, bool ignore_cookie)
      : real_(engine_server_choice(algorithm, loads)),
        algorithm_(algorithm),
        pick_(std::move(pick)),
        ignore_cookie_(ignore_cookie) {}
  std::optional<std::size_t> pick(const std::vector<ServerLoad>& servers,
                                  const net::IpAddress& client) override {
    ++picks_;
    return pick_ ? pick_(*real_, algorithm_, picks_, servers, client) : real_->pick(servers, client);
  }
  std::optional<std::size_t> pinned(const std::vector<ServerLoad>& servers,
                                    std::string_view cookie) override {
    return ignore_cookie_ ? std::nullopt : real_->pinned(servers, cookie);
  }

 private:
  std::unique_ptr<ServerChoice> real_;
  Balance algorithm_;
  Pick pick_;
  bool ignore_cookie_;
  int picks_ = 0;
};

ServerChoiceFactory broken(const Broken::Pick& pick, bool ignore_cookie = false) {
  return [pick, ignore_cookie](Balance algorithm, const std::vector<ServerLoad>& loads) {
    return std::make_unique<Broken>(algorithm, loads, pick, ignore_cookie);
  };
}

// Fails within 100 cases for each of five seeds; returns the cases each needed.
std::vector<int> caught_within_100(const ServerChoiceFactory& choice) {
  std::vector<int> needed;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto result = run(choice, 100, seed);
    rc::detail::FailureResult failure;
    EXPECT_TRUE(result.match(failure))
        << "seed " << seed << ": the broken choice was not caught in 100 cases";
    if (result.is<rc::detail::FailureResult>()) needed.push_back(failure.numSuccess + 1);
  }
  return needed;
}

std::string listed(const std::vector<int>& v) {
  std::string out;
  for (int n : v)
    out += (out.empty() ? "" : " ") + std::to_string(n);
  return out;
}

ServerLoad server(int weight, int active = 0, int queued = 0, bool up = true, int maxconn = 0) {
  ServerLoad s;
  s.weight = weight;
  s.active = active;
  s.queued = queued;
  s.up = up;
  s.maxconn = maxconn;
  return s;
}

// ------------------------------------------------------------------------------------------ the engine

TEST(Balancing, EngineChoiceKeepsEveryBalancingInvariantIn200Cases) {
  const auto result = run(engine_server_choice, 200, 20261202);
  rc::detail::FailureResult failure;
  EXPECT_TRUE(result.is<rc::detail::SuccessResult>())
      << (result.match(failure) ? failure.description : "gave up");
}

// ------------------------------------------------------------------------------------------ broken choices

TEST(Balancing, RoundRobinThatSkipsAServerEveryFourthPickIsCaught) {
  const auto skipping = [](ServerChoice& real, Balance, int nth, const std::vector<ServerLoad>& servers,
                           const net::IpAddress& client) {
    auto got = real.pick(servers, client);
    if (nth % 4 == 0) got = real.pick(servers, client);  // the server whose turn it was is passed over
    return got;
  };
  RecordProperty("cases_needed", listed(caught_within_100(broken(skipping))));
}

TEST(Balancing, IgnoredPersistenceCookieIsCaught) {
  RecordProperty("cases_needed", listed(caught_within_100(broken(nullptr, true))));
}

TEST(Balancing, LeastConnPickingABusierServerIsCaught) {
  const auto busier = [](ServerChoice& real, Balance algorithm, int, const std::vector<ServerLoad>& servers,
                         const net::IpAddress& client) -> std::optional<std::size_t> {
    if (algorithm != Balance::kLeastConn) return real.pick(servers, client);
    std::optional<std::size_t> busiest;
    for (std::size_t i = 0; i < servers.size(); ++i) {
      const ServerLoad& s = servers[i];
      if (!s.up || (s.maxconn && s.active >= s.maxconn)) continue;
      const auto& b = servers[busiest.value_or(i)];
      if (!busiest || (s.active + s.queued) * b.weight > (b.active + b.queued) * s.weight) busiest = i;
    }
    return busiest;
  };
  RecordProperty("cases_needed", listed(caught_within_100(broken(busier))));
}

// ------------------------------------------------------------------------------------------ the checkers

TEST(Balancing, RoundRobinGivesEveryUpServerItsShareWithinOne) {
  EXPECT_EQ(check_round_robin_run({0, 1, 2, 0, 1, 2, 0}, {1, 1, 1}, true, 3), "");
  EXPECT_NE(check_round_robin_run({0, 1, 2, 0, 0, 1, 2}, {1, 1, 1}, true, 3), "")
      << "s0 twice in a row: the window 0 0 gives it 2, the others 0";
  EXPECT_NE(check_round_robin_run({0, 1, 0, 0}, {1, 1, 0}, true, 3), "");
  // Weights 3:1: the smooth order a a b a … from zero.
  EXPECT_EQ(check_round_robin_run({0, 0, 1, 0, 0, 0, 1, 0}, {3, 1}, true, 4), "");
  EXPECT_NE(check_round_robin_run({1, 1, 0, 0}, {3, 1}, true, 4), "")
      << "b has 2 after 2 picks, its share 0.5";
}

TEST(Balancing, RoundRobinAfterASetChangeIsHeldToTwoTotalWeightsOverTheRunsWeight) {
  // 8 equal servers, 2 in the run: a window may be 2·8/2 = 8 off the even split (16 picks of s0: 8 more than
  // its 8), not 8.5 (17 picks of s0).
  const std::vector<int> two_of_eight{1, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(check_round_robin_run(std::vector<std::size_t>(16, 0), two_of_eight, false, 8), "");
  EXPECT_NE(check_round_robin_run(std::vector<std::size_t>(17, 0), two_of_eight, false, 8), "");
  EXPECT_NE(check_round_robin_run({0, 0, 1}, two_of_eight, true, 8), "") << "from a fresh balancer: ±1";
}

// Three equal servers: the first request goes to s0, then s2 fills. s1's counter leads s0's by 3 (s0 paid for
// its pick), so s1 takes the next two requests: the rotation within ±1 holds only from a fresh balancer.
TEST(Balancing, EngineRoundRobinCarriesCountersAcrossASetChange) {
  std::vector<ServerLoad> servers{server(1), server(1), server(1, 0, 0, true, 1)};
  auto choice = engine_server_choice(Balance::kRoundRobin, servers);
  const net::IpAddress client = net::IpAddress::v4(10, 1, 0, 1);
  EXPECT_EQ(choice->pick(servers, client), 0u);
  servers[2].active = 1;  // full
  const std::vector<std::size_t> run{*choice->pick(servers, client), *choice->pick(servers, client)};
  EXPECT_EQ(run, (std::vector<std::size_t>{1, 1}));
  EXPECT_NE(check_round_robin_run(run, {1, 1, 0}, true, 3), "");
  EXPECT_EQ(check_round_robin_run(run, {1, 1, 0}, false, 3), "");
}

TEST(Balancing, LeastConnNeverPicksAServerWithMoreRequestsPerWeightThanAnotherUpWithRoom) {
  const std::vector<ServerLoad> servers{server(1, 2), server(2, 3), server(1, 0, 0, false),
                                        server(1, 1, 0, true, 1)};
  EXPECT_EQ(check_least_conn_pick(servers, 1), "") << "3/2 < 2/1; s2 is down, s3 full";
  EXPECT_NE(check_least_conn_pick(servers, 0), "");
  EXPECT_NE(check_least_conn_pick(servers, 2), "") << "down";
  EXPECT_NE(check_least_conn_pick(servers, 3), "") << "full";
  EXPECT_NE(check_least_conn_pick({server(1, 0, 2), server(1, 1)}, 0), "") << "queued requests count";
}

TEST(Balancing, PersistenceCookieNamesTheServerOnlyWhileItIsUpWithRoom) {
  std::vector<ServerLoad> servers{server(1), server(1, 0, 0, true, 1), server(1, 0, 0, false)};
  auto choice = engine_server_choice(Balance::kRoundRobin, servers);
  const auto names = server_names(3);
  EXPECT_EQ(choice->pinned(servers, names[1]), 1u);
  EXPECT_EQ(choice->pinned(servers, names[2]), std::nullopt) << "down";
  EXPECT_EQ(choice->pinned(servers, "gone"), std::nullopt);
  servers[1].active = 1;
  EXPECT_EQ(choice->pinned(servers, names[1]), std::nullopt) << "full";
}

}  // namespace
}  // namespace metalgate::check
