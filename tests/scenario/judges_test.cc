// The judges on hand-made observations, no world involved: each holds on what it should, fails on what it
// should, and treats the edges (nothing happened, nothing answered, the first second, the end of the run) as
// every world's runs are treated.
#include "scenario/judge/judges.h"

#include <gtest/gtest.h>

#include "scenario/judge/requests.h"
#include "scenario/kinds/expectation_kinds.h"

namespace metalgate::scenario::judge {
namespace {

using observe::Claim;
using observe::Failover;
using observe::OwnershipSample;
using observe::RequestRecord;
using std::chrono::milliseconds;

const net::IpAddress kVip = *net::IpAddress::parse("192.168.1.240");
const net::IpAddress kOtherVip = *net::IpAddress::parse("192.168.1.241");

// A request of `client` started at `start_ms`, taking `took_ms`, answered with `status` by `pod`.
RequestRecord request(double start_ms, double took_ms, int status = 200, const std::string& pod = "web-0",
                      const std::string& client = "browser", const std::string& vip_node = "node-1") {
  RequestRecord r;
  r.start_us = static_cast<std::int64_t>(start_ms * 1000);
  r.end_us = r.start_us + static_cast<std::int64_t>(took_ms * 1000);
  r.status = status;
  r.served_by = status >= 200 && status < 300 ? pod : "";
  r.client = client;
  r.vip_node = vip_node;
  if (status == 0) r.error = "timed out";
  return r;
}

ScenarioExpectation expectation(const std::string& name) {
  ScenarioExpectation x;
  x.name = name;
  return x;
}

OwnershipSample sample(std::int64_t at_ms, std::vector<Claim> claims_of_vip,
                       std::optional<std::int64_t> last_settle = std::nullopt) {
  OwnershipSample s;
  s.at_ms = at_ms;
  for (const auto& c : claims_of_vip)
    s.vip_owners.push_back(c.node);
  if (!claims_of_vip.empty()) s.claims[kVip] = claims_of_vip;
  s.last_settle_event_ms = last_settle;
  return s;
}

const Claim kNode1{"node-1", "group:0"};
const Claim kNode2{"node-2", "group:0"};
const Claim kNode2Apart{"node-2", "group:1"};

TEST(Percentile, IsTheSortedValueAtFloorOfPTimesNWithoutInterpolation) {
  EXPECT_EQ(percentile({30, 10, 20, 40}, 0.5), 30);   // index floor(0.5 * 4) = 2
  EXPECT_EQ(percentile({30, 10, 20, 40}, 0.99), 40);  // index 3
  EXPECT_EQ(percentile({30, 10, 20, 40}, 1.0), 40);   // index min(3, 4)
  EXPECT_EQ(percentile({30, 10, 20, 40}, 0.0), 10);
  EXPECT_EQ(percentile({}, 0.5), std::nullopt);
  EXPECT_EQ(percentile_ms({}, 0.5), 0.0);
  EXPECT_EQ(percentile_ms({2500, 1500}, 0.5), 2.5);
}

TEST(Counting, TheFirstSecondAndRequestsStillRunningAtTheEndAreNotCounted) {
  EXPECT_FALSE(counted(request(999, 1)));
  EXPECT_TRUE(counted(request(1000, 1)));
  RequestRecord cut = request(5000, 1, 0);
  cut.error = std::string(observe::kStillRunning);
  EXPECT_FALSE(counted(cut));
}

TEST(SingleOwner, HoldsWithOneOwnerPerSideAndCountsSamplesAfterTheFirstTwoSeconds) {
  Observations o;
  o.samples = {sample(1000, {kNode1, kNode2}), sample(2000, {kNode1}), sample(2100, {kNode1, kNode2Apart}),
               sample(2200, {})};
  Judgement j = single_owner(o, expectation("single_owner"));
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured["samples"], 3) << "the sample at 1 s is too early to count";
  EXPECT_EQ(j.measured["samples_without_owner"], 1);
  EXPECT_EQ(j.measured["vips"], 1);
  EXPECT_EQ(j.bound["settle_ms"], 2000);
}

TEST(SingleOwner, FailsWhenTwoNodesOfOneSideClaimAVip) {
  Observations o;
  o.samples = {sample(3000, {kNode1, kNode2})};
  o.samples[0].claims[kOtherVip] = {kNode1};
  Judgement j = single_owner(o, expectation("single_owner"));
  EXPECT_FALSE(j.passed);
  EXPECT_EQ(j.measured["samples_with_several_owners"], 1);
  EXPECT_EQ(j.measured["vips_with_several_owners"], 1);
  EXPECT_EQ(j.measured["vips"], 2);
}

TEST(SingleOwner, ClaimsOverlappingWithinSettleAfterAHealAreCountedApart) {
  Observations o;
  o.samples = {sample(5000, {kNode1, kNode2}, 4000), sample(6100, {kNode1, kNode2}, 4000)};
  auto x = expectation("single_owner");
  x.settle = milliseconds(2000);
  Judgement j = single_owner(o, x);
  EXPECT_FALSE(j.passed) << "6.1 s is past the 2 s of settling after 4 s";
  EXPECT_EQ(j.measured["samples_with_several_owners_while_settling"], 1);
  EXPECT_EQ(j.measured["samples_with_several_owners"], 1);
  x.settle = milliseconds(3000);
  EXPECT_TRUE(single_owner(o, x).passed);
}

TEST(ClientsFollowOwner, JudgesRequestsOnceOneOwnerHeldTheVipForWithinAndFailsOnOneSentElsewhere) {
  Observations o;
  o.vip = kVip;
  o.fault_log = {{{"at_ms", 800}, {"action", "crash"}}};  // nothing judged before 2.8 s
  o.owner_timeline = {{0, "node-1"}, {4000, ""}, {4100, "node-2"}, {9000, "node-1+node-2"}};
  auto x = expectation("clients_follow_owner");
  x.within = milliseconds(2000);
  // Stale at 5 s (node-2 took over at 4.1 s, within 2 s: not judged) and during the split at 9.5 s.
  o.records = {request(2700, 1, 0, "web-0", "browser", "node-2"), request(3000, 1),
               request(5000, 1, 0, "web-0", "browser", "node-1"),
               request(6100, 1, 200, "web-0", "browser", "node-2"),
               request(9500, 1, 200, "web-0", "browser", "node-1")};
  Judgement j = clients_follow_owner(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured["requests"], 2) << "3 s (node-1 since 0) and 6.1 s (node-2 since 4.1 s)";
  o.records.insert(o.records.end() - 1, request(7000, 1, 0, "web-0", "browser", "node-1"));  // in start order
  j = clients_follow_owner(o, x);
  EXPECT_FALSE(j.passed) << "a client still sends to node-1 2.9 s after node-2 took the VIP";
  EXPECT_EQ(j.measured["to_another_node"], 1);
  EXPECT_EQ(j.measured["first"]["owner"], "node-2");
  o.records = {request(4500, 1)};
  EXPECT_FALSE(clients_follow_owner(o, x).passed) << "no request was judged";
  o.fault_log = {{{"at_ms", 5000}, {"action", "heal"}}};
  o.records = {request(6100, 1, 0, "web-0", "browser", "node-1")};
  EXPECT_FALSE(clients_follow_owner(o, x).passed) << "nothing judged within 2 s after a fault";
}

TEST(Recovers, HoldsWhenEveryRequestFromWithinAfterTheLastFaultIsAnsweredAndTheVipHasOneOwner) {
  Observations o;
  o.fault_log = {{{"at_ms", 3000}, {"action", "crash"}}, {{"at_ms", 6000}, {"action", "restart"}}};
  o.records = {request(5000, 1, 0), request(10999, 1, 502), request(11000, 1), request(12000, 1, 403)};
  o.samples = {sample(10900, {}), sample(11000, {kNode1}), sample(11100, {kNode1})};
  auto x = expectation("recovers");
  x.within = milliseconds(5000);
  Judgement j = recovers(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured["from_ms"], 11000) << "the last fault (6 s) + 5 s";
  EXPECT_EQ(j.measured["requests"], 2) << "a denial is an answer; earlier failures do not count";
  EXPECT_EQ(j.measured["samples"], 2);
  EXPECT_EQ(j.bound["within_ms"], 5000);
}

TEST(Recovers, LeavesOutAFailureOnAConnectionOpenedBeforeTheVipLastMoved) {
  Observations o;
  o.vip = kVip;
  o.fault_log = {{{"at_ms", 3000}, {"action", "heal"}}};
  o.owner_timeline = {{0, ""}, {100, "node-1"}, {3100, "node-2"}};
  o.samples = {sample(9000, {kNode2})};
  auto x = expectation("recovers");
  RequestRecord stale = request(9000, 2000, 0, "web-0", "browser", "node-2");
  stale.reused = true;
  stale.connection_opened_us = 3050 * 1000;  // to node-1, just before node-2 took the VIP
  o.records = {request(8500, 1), stale};
  Judgement j = recovers(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured["failures_left_out_on_connections_the_vip_moved_under"], 1);
  EXPECT_EQ(j.measured["requests"], 1);
  o.records[1].connection_opened_us = 3200 * 1000;  // after the move: its failure counts
  EXPECT_FALSE(recovers(o, x).passed);
  o.records[1].connection_opened_us = -1;  // not known: counted
  EXPECT_FALSE(recovers(o, x).passed);
}

TEST(Recovers, CountsAnAnswerOnAnOldConnectionAndTakesTheFirstOwnerForNoMove) {
  Observations o;
  o.vip = kVip;
  o.owner_timeline = {{0, ""}, {100, "node-3"}};
  o.samples = {sample(9000, {kNode1})};
  auto x = expectation("recovers");
  RequestRecord kept = request(9000, 1, 200, "web-0", "browser", "node-3");
  kept.reused = true;
  kept.connection_opened_us = 50 * 1000;  // before node-3 announced: its SYN was answered once it did
  o.records = {kept};
  Judgement j = recovers(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured["requests"], 1) << "an answer reached the owner, whichever connection it came on";
  o.records[0].status = 0;
  j = recovers(o, x);
  EXPECT_FALSE(j.passed) << "the VIP never moved: a failure on that connection is the run's";
  EXPECT_EQ(j.measured["failures_left_out_on_connections_the_vip_moved_under"], 0);
}

TEST(Recovers, FailsOnAFailedRequestAVipWithoutOrWithTwoOwnersOrNoRequestAfterTheFaults) {
  Observations o;
  o.fault_log = {{{"at_ms", 3000}, {"action", "crash"}}};
  o.samples = {sample(9000, {kNode1})};
  auto x = expectation("recovers");
  o.records = {request(9000, 1), request(9500, 1, 503)};
  Judgement j = recovers(o, x);
  EXPECT_FALSE(j.passed);
  EXPECT_EQ(j.measured["failed"], 1);
  EXPECT_EQ(j.measured["first_failure"]["start_ms"], 9500);
  o.records = {request(9000, 1), request(9500, 1, 0)};
  EXPECT_FALSE(recovers(o, x).passed) << "no answer";
  o.records = {request(9000, 1)};
  EXPECT_TRUE(recovers(o, x).passed);
  o.samples.push_back(sample(9100, {}));
  EXPECT_FALSE(recovers(o, x).passed) << "a sample without an owner";
  o.samples.back() = sample(9100, {kNode1, kNode2});
  EXPECT_FALSE(recovers(o, x).passed) << "a sample with two";
  o.samples.pop_back();
  o.records = {request(7000, 1)};
  EXPECT_FALSE(recovers(o, x).passed) << "nothing asked after 3 s + 5 s proves nothing";
}

TEST(AnnouncedBy, HoldsWhenOnlyTheListedNodesEverClaimTheVipAndOneDoes) {
  Observations o;
  o.samples = {sample(100, {}), sample(200, {kNode1}), sample(300, {kNode1, kNode2Apart})};
  auto x = expectation("announced_by");
  x.nodes = {"node-1", "node-2"};
  Judgement j = announced_by(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured["samples_with_an_owner"], 2);
  x.nodes = {"node-1"};
  j = announced_by(o, x);
  EXPECT_FALSE(j.passed) << "node-2 may not announce it, even apart";
  EXPECT_EQ(j.measured["first"]["node"], "node-2");
  EXPECT_EQ(j.measured["first"]["at_ms"], 300);
  o.samples = {sample(100, {})};
  EXPECT_FALSE(announced_by(o, x).passed) << "nobody ever announced it";
}

TEST(Reloads, HoldWhenNoRequestFailsFromTheFirstReloadTheVipStaysAndTheOutcomesAreCounted) {
  Observations o;
  o.fault_log = {{{"at_ms", 4000}, {"action", "reload"}, {"reloaded", true}},
                 {{"at_ms", 6000}, {"action", "reload"}, {"refused", "m.yaml:3:5: spec.rules: …"}}};
  o.owner_timeline = {{0, ""}, {100, "node-1"}};
  o.records = {request(2000, 1, 0), request(3990, 20), request(5000, 1, 403), request(7000, 1)};
  auto x = expectation("reloads");
  x.accepted = 1;
  x.refused = 1;
  Judgement j = reloads(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured["requests"], 3) << "open at the first reload or later; a denial is an answer";
  o.records.push_back(request(3950, 2000, 0));  // in flight at the reload, never answered
  j = reloads(o, x);
  EXPECT_FALSE(j.passed);
  EXPECT_EQ(j.measured["first_failure"]["start_ms"], 3950);
  o.records.back().status = 502;
  EXPECT_FALSE(reloads(o, x).passed) << "a 5xx fails too";
  o.records.pop_back();
  x.refused = 0;
  EXPECT_FALSE(reloads(o, x).passed) << "the invalid reload was meant to apply";
}

TEST(Reloads, FailWhenTheVipMovesANodeCouldNotApplyOrNothingWasReloaded) {
  Observations o;
  o.fault_log = {{{"at_ms", 4000}, {"action", "reload"}, {"reloaded", true}}};
  o.owner_timeline = {{0, ""}, {100, "node-1"}, {4100, "node-2"}};
  o.records = {request(5000, 1)};
  auto x = expectation("reloads");
  Judgement j = reloads(o, x);
  EXPECT_FALSE(j.passed);
  EXPECT_EQ(j.measured["vip_moves"], 1);
  o.owner_timeline.pop_back();
  EXPECT_TRUE(reloads(o, x).passed) << j.measured;
  o.fault_log[0]["reloaded"] = false;
  o.fault_log[0]["failed"] = {"node-2: the new configuration cannot start"};
  EXPECT_FALSE(reloads(o, x).passed);
  o.fault_log = {{{"at_ms", 4000}, {"action", "crash"}}};
  j = reloads(o, x);
  EXPECT_FALSE(j.passed);
  EXPECT_EQ(j.measured["note"], "the run reloaded nothing");
}

TEST(AnsweredBy, HoldsWhenEveryPodAnswerForTheHostAndPathCameFromAnAllowedPod) {
  Observations o;
  auto shop = [](double start, int status, const std::string& pod, const std::string& path = "/cart") {
    RequestRecord r = request(start, 1, status, pod);
    r.host = "shop.example.com";
    r.path = path;
    return r;
  };
  o.records = {shop(1500, 200, "web-0"), shop(1600, 302, ""), shop(1700, 200, "db-0", "/other"),
               shop(1800, 0, "")};
  auto x = expectation("answered_by");
  x.host = "shop.example.com";
  x.request_path = "/cart";
  x.pods = {"web-0", "web-1"};
  Judgement j = answered_by(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured["answers"], 2) << "a redirect is an answer, by no pod; /other is not asked about";
  EXPECT_EQ(j.measured["answered_by_a_pod"], 1);
  o.records.push_back(shop(1900, 200, "db-0"));
  j = answered_by(o, x);
  EXPECT_FALSE(j.passed);
  EXPECT_EQ(j.measured["other_pods"], nlohmann::json({"db-0"}));
  x.pods.clear();
  EXPECT_FALSE(answered_by(o, x).passed) << "no pod may answer: the proxy's own 404";
  o.records = {shop(1600, 302, "")};
  EXPECT_TRUE(answered_by(o, x).passed);
  o.records.clear();
  EXPECT_FALSE(answered_by(o, x).passed) << "nothing answered proves nothing";
  x.min_answers = 0;
  EXPECT_TRUE(answered_by(o, x).passed) << "unless asked for no answer";
}

TEST(Failover, HoldsWhenEveryFailoverRecoveredWithinMax) {
  Observations o;
  o.failovers = {{20000, "node-2", 20131, "crash"}, {47000, "node-1", 47500, "partition"}};
  auto x = expectation("failover");
  x.max = milliseconds(2000);
  Judgement j = failover(o, x);
  EXPECT_TRUE(j.passed);
  EXPECT_EQ(j.measured, 500);
  EXPECT_EQ(j.bound["max_ms"], 2000);
  x.max = milliseconds(400);
  EXPECT_FALSE(failover(o, x).passed);
}

TEST(Failover, FailsWhenNoFailoverHappenedOrOneNeverRecovered) {
  Observations o;
  auto x = expectation("failover");
  x.max = milliseconds(2000);
  Judgement none = failover(o, x);
  EXPECT_FALSE(none.passed);
  EXPECT_EQ(none.measured, "no failover happened");
  o.failovers = {{20000, "node-2", -1, "crash"}};
  Judgement never = failover(o, x);
  EXPECT_FALSE(never.passed);
  EXPECT_EQ(never.measured, -1);
}

TEST(SuccessRatio, CountsAnsweredRequestsAfterTheFirstSecondOfClientsNotExcluded) {
  Observations o;
  o.records = {request(500, 1, 0), request(1500, 1), request(2000, 1, 302), request(2500, 1, 503),
               request(3000, 1, 429, "", "greedy")};
  RequestRecord cut = request(4000, 1, 0);
  cut.error = std::string(observe::kStillRunning);
  o.records.push_back(cut);
  auto x = expectation("success_ratio");
  x.min = 0.6;
  x.exclude = {"greedy"};
  Judgement j = success_ratio(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_DOUBLE_EQ(j.measured.get<double>(), 2.0 / 3.0);
  EXPECT_EQ(j.bound["exclude"], nlohmann::json({"greedy"}));
  x.min = 0.7;
  EXPECT_FALSE(success_ratio(o, x).passed);
}

TEST(SuccessRatio, OutsideFailoverLeavesOutRequestsFromTwoSecondsBeforeTheFaultUntilRecovery) {
  Observations o;
  o.records = {request(2000, 1), request(18500, 1, 0), request(20050, 1, 0), request(21000, 1),
               request(30000, 1)};
  o.failovers = {{20000, "node-2", 20100, "crash"}};
  auto x = expectation("success_ratio");
  x.min = 1;
  EXPECT_FALSE(success_ratio(o, x).passed);
  x.outside_failover = true;
  Judgement j = success_ratio(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured, 1.0);
}

TEST(SuccessRatio, FromLeavesOutTheRequestsThatStartedBeforeIt) {
  Observations o;
  o.records = {request(1000, 1, 0), request(1900, 1, 0), request(2000, 1), request(3000, 1)};
  auto x = expectation("success_ratio");
  x.min = 1;
  EXPECT_FALSE(success_ratio(o, x).passed);
  x.from = milliseconds(2000);
  Judgement j = success_ratio(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.bound["from_ms"], 2000);
}

TEST(SuccessRatio, FailsWithoutACountedRequest) {
  Observations o;
  o.records = {request(500, 1)};
  auto x = expectation("success_ratio");
  x.min = 0;
  Judgement j = success_ratio(o, x);
  EXPECT_FALSE(j.passed);
  EXPECT_EQ(j.measured, 0.0);
}

TEST(RoutedToAllowedBackend, EveryBackendAnswerNamesAPodOfTheWorld) {
  Observations o;
  o.pods = {"web-0", "web-1"};
  o.records = {request(1500, 1, 200, "web-0"), request(1600, 1, 302, ""), request(1700, 1, 200, "web-1")};
  auto x = expectation("routed_to_allowed_backend");
  EXPECT_TRUE(routed_to_allowed_backend(o, x).passed) << "the proxy's own redirect names no backend";
  o.records.push_back(request(1800, 1, 200, "intruder"));
  Judgement j = routed_to_allowed_backend(o, x);
  EXPECT_FALSE(j.passed);
  EXPECT_EQ(j.measured["answered_by_unknown_backend"], 1);
}

TEST(RoutedToAllowedBackend, FailsWhenNothingWasAnswered) {
  Observations o;
  o.pods = {"web-0"};
  o.records = {request(1500, 1, 0), request(500, 1, 200, "web-0")};
  EXPECT_FALSE(routed_to_allowed_backend(o, expectation("routed_to_allowed_backend")).passed);
}

TEST(Latency, ThePercentileOfAnsweredCountedRequestsIsHeldToMax) {
  Observations o;
  o.records = {request(500, 900),
               request(1500, 2),
               request(1600, 4),
               request(1700, 6),
               request(1800, 8),
               request(1900, 700, 0),
               request(2000, 500, 200, "web-0", "greedy")};
  auto x = expectation("latency");
  x.percentile = 0.5;
  x.max = milliseconds(6);
  x.exclude = {"greedy"};
  Judgement j = latency(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured, 6.0) << "of 2, 4, 6, 8 the one at index 2";
  x.max = milliseconds(5);
  EXPECT_FALSE(latency(o, x).passed);
}

TEST(Latency, FailsWithoutAnAnsweredRequest) {
  Observations o;
  o.records = {request(1500, 2, 0)};
  auto x = expectation("latency");
  x.max = milliseconds(100);
  Judgement j = latency(o, x);
  EXPECT_FALSE(j.passed);
  EXPECT_EQ(j.measured, "no answered request");
}

TEST(Sticky, TheShareOfAnswersFromThePodBeforeIsHeldToMin) {
  Observations o;
  o.records = {request(100, 1, 200, "web-0", "shopper"), request(1500, 1, 200, "web-0", "shopper"),
               request(1600, 1, 200, "web-0", "shopper"), request(1700, 1, 200, "web-1", "shopper"),
               request(1800, 1, 200, "web-2", "other")};
  auto x = expectation("sticky");
  x.client = "shopper";
  x.min = 0.6;
  Judgement j = sticky(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured["answers"], 3);
  EXPECT_DOUBLE_EQ(j.measured["same_pod_as_before"].get<double>(), 2.0 / 3.0);
  x.min = 0.7;
  EXPECT_FALSE(sticky(o, x).passed);
}

TEST(Sticky, FailsWithoutASecondAnswer) {
  Observations o;
  o.records = {request(1500, 1, 200, "web-0", "shopper")};
  auto x = expectation("sticky");
  x.client = "shopper";
  x.min = 0;
  EXPECT_FALSE(sticky(o, x).passed);
}

// Three answered through node-1 within 10 s, two through node-2: each proxy keeps its own table.
Observations greedy_requests() {
  Observations o;
  o.records = {
      request(1000, 1, 200, "web-0", "greedy", "node-1"), request(2000, 1, 200, "web-0", "greedy", "node-1"),
      request(3000, 1, 200, "web-0", "greedy", "node-1"), request(4000, 1, 200, "web-0", "greedy", "node-2"),
      request(5000, 1, 200, "web-0", "greedy", "node-2"), request(6000, 1, 429, "", "greedy", "node-1"),
      request(12500, 1, 200, "web-0", "greedy", "node-1")};
  return o;
}

TEST(RateLimit, HoldsWhenNoWindowOfOneProxyExceedsTheLimitAndTheLimiterEngaged) {
  auto x = expectation("rate_limit");
  x.client = "greedy";
  x.limit = 3;
  x.period = milliseconds(10000);
  Judgement j = rate_limit(greedy_requests(), x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured["most_answered_in_a_period"], 3);
  EXPECT_EQ(j.measured["denied"], 1);
  x.limit = 2;
  EXPECT_FALSE(rate_limit(greedy_requests(), x).passed);
}

// A request sent while the VIP moved may have been answered by the next owner (a retransmission after the
// move): it counts against neither proxy's window.
TEST(RateLimit, LeavesOutRequestsSentWhileTheirVipMoved) {
  Observations o = greedy_requests();
  // The SYN lost, answered 1 s on; records are in start order, as complete_observations leaves them.
  o.records.insert(o.records.end() - 1, request(9000, 1000, 200, "web-0", "greedy", "node-1"));
  o.failovers = {{9500, "node-1", 10000, "partition"}};
  auto x = expectation("rate_limit");
  x.client = "greedy";
  x.limit = 3;
  x.period = milliseconds(10000);
  Judgement j = rate_limit(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured["most_answered_in_a_period"], 3);
  o.failovers.clear();
  EXPECT_FALSE(rate_limit(o, x).passed)
      << "without the move the fourth answer through node-1 is over the limit";
}

TEST(RateLimit, FailsWhenTheLimiterNeverEngaged) {
  Observations o = greedy_requests();
  std::erase_if(o.records, [](const RequestRecord& r) { return r.status == 429; });
  auto x = expectation("rate_limit");
  x.client = "greedy";
  x.limit = 100;
  x.period = milliseconds(10000);
  Judgement j = rate_limit(o, x);
  EXPECT_FALSE(j.passed) << "no denial: the bound proves nothing";
  EXPECT_EQ(j.measured["denied"], 0);
}

TEST(JudgeExpectations, EachIsJudgedByItsKindAndAnUnknownNameFails) {
  Observations o;
  o.records = {request(1500, 1)};
  std::vector<ScenarioExpectation> xs = {expectation("success_ratio"), expectation("teleport")};
  auto verdicts = judge_expectations(xs, o);
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_TRUE(verdicts[0].judgement.passed);
  EXPECT_FALSE(verdicts[1].judgement.passed);
  EXPECT_EQ(verdicts[1].judgement.measured, "unknown expectation 'teleport'");
}

// Failovers and ratios per VIP.

// A request of `client` to `vip`, as request() builds it.
RequestRecord request_to(const net::IpAddress& vip, double start_ms, double took_ms, int status = 200,
                         const std::string& client = "browser") {
  RequestRecord r = request(start_ms, took_ms, status, "web-0", client);
  r.target = vip;
  return r;
}

TEST(CompleteObservations, EachMovedVipRecoversByAnAnswerToARequestToThatVip) {
  Observations o;
  o.vip = kVip;
  o.records = {request_to(kVip, 20050, 1), request_to(kOtherVip, 20050, 1, 0, "psql"),
               request_to(kOtherVip, 20300, 1, 200, "psql")};
  observe::FailoverCandidates c;
  c.moves = {{20000, "node-1", -1, "crash", kVip}, {20000, "node-1", -1, "crash", kOtherVip}};
  observe::complete_observations(o, c);
  ASSERT_EQ(o.failovers.size(), 2u);
  EXPECT_EQ(o.failovers[0].vip, kVip);
  EXPECT_EQ(o.failovers[0].failover_ms(), 51);
  EXPECT_EQ(o.failovers[1].vip, kOtherVip);
  EXPECT_EQ(o.failovers[1].failover_ms(), 301) << "not recovered by the answer to another VIP's client";
}

TEST(CompleteObservations, AMoveOfAVipNoClientSendsToIsNoFailover) {
  Observations o;
  o.vip = kVip;
  o.records = {request_to(kVip, 20050, 1)};
  observe::FailoverCandidates c;
  c.moves = {{20000, "node-1", -1, "crash", kVip}, {20000, "node-1", -1, "crash", kOtherVip}};
  observe::complete_observations(o, c);
  ASSERT_EQ(o.failovers.size(), 1u);
  EXPECT_EQ(o.failovers[0].vip, kVip);
}

TEST(CompleteObservations, AFailbackCountsWhenThatVipsOwnerChangedWithin3s) {
  Observations o;
  o.vip = kVip;
  o.records = {request_to(kVip, 40050, 1), request_to(kOtherVip, 40050, 1, 200, "psql")};
  OwnershipSample before = sample(39900, {kNode2}), after = sample(40100, {kNode2});
  before.claims[kOtherVip] = {kNode2};
  after.claims[kOtherVip] = {kNode1};  // the other VIP fails back to node-1; the controller's stays
  o.samples = {before, after};
  observe::FailoverCandidates c;
  c.failbacks = {{40000, "node-2", -1, "restart", kVip}, {40000, "node-2", -1, "restart", kOtherVip}};
  observe::complete_observations(o, c);
  ASSERT_EQ(o.failovers.size(), 1u);
  EXPECT_EQ(o.failovers[0].vip, kOtherVip);
}

// Until a failback's move the old owner answers: the clients' wait starts at the sample showing the move.
TEST(CompleteObservations, AFailbackIsTimedFromItsMoveNotFromTheFault) {
  Observations o;
  o.vip = kVip;
  o.records = {request_to(kVip, 40050, 1), request_to(kVip, 40130, 5)};
  o.samples = {sample(39900, {kNode2}), sample(40000, {kNode2}), sample(40100, {kNode1})};
  observe::FailoverCandidates c;
  c.failbacks = {{40000, "node-2", -1, "restart", kVip}};
  observe::complete_observations(o, c);
  ASSERT_EQ(o.failovers.size(), 1u);
  EXPECT_EQ(o.failovers[0].moved_ms, 40100);
  EXPECT_EQ(o.failovers[0].recovered_ms, 40135) << "the answer before the move is the old owner's";
  EXPECT_EQ(o.failovers[0].failover_ms(), 35);
}

TEST(SuccessRatio, OfOneClientCountsThatClientsRequestsAlone) {
  Observations o;
  o.records = {request(2000, 1, 200, "web-0", "psql"), request(3000, 1, 0, "web-0", "browser")};
  auto x = expectation("success_ratio");
  x.min = 1;
  x.client = "psql";
  Judgement j = success_ratio(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.bound["client"], "psql");
  x.client = "browser";
  EXPECT_FALSE(success_ratio(o, x).passed);
}

TEST(SuccessRatio, OutsideFailoverLeavesOutOnlyRequestsToTheVipThatMoved) {
  Observations o;
  o.records = {request_to(kVip, 20050, 1, 0), request_to(kOtherVip, 20050, 1, 0, "psql")};
  o.failovers = {{20000, "node-2", 20100, "crash", kVip}};
  auto x = expectation("success_ratio");
  x.min = 1;
  x.outside_failover = true;
  Judgement j = success_ratio(o, x);
  EXPECT_FALSE(j.passed) << "the other VIP's failed request is outside any failover of its VIP";
  EXPECT_EQ(j.measured, 0.0);
}

TEST(Counter, SumsThePathOverEveryNodeOrTakesOneNodesAndHoldsItToItsBounds) {
  Observations o;
  o.node_stats["node-1"] = {{"backends", {{"default_web_80", {{"responses", {{"5xx", 2}}}}}}}};
  o.node_stats["node-2"] = {{"backends", {{"default_web_80", {{"responses", {{"5xx", 3}}}}}}}};
  auto x = expectation("counter");
  x.path = "backends.default_web_80.responses.5xx";
  x.at_most = 5;
  Judgement j = counter(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured, 5.0);
  x.at_most = 4;
  EXPECT_FALSE(counter(o, x).passed);
  x.node = "node-1";
  EXPECT_TRUE(counter(o, x).passed);
  EXPECT_EQ(counter(o, x).measured, 2.0);
  x.at_least = 3;
  EXPECT_FALSE(counter(o, x).passed);
}

TEST(Counter, APathNoNodeHasFailsNamingIt) {
  Observations o;
  o.node_stats["node-1"] = {{"speaker", {{"probes", 10}}}};
  auto x = expectation("counter");
  x.path = "speaker.prob";
  x.at_least = 1;
  Judgement j = counter(o, x);
  EXPECT_FALSE(j.passed);
  EXPECT_EQ(j.measured, "no counter 'speaker.prob' in any node's stats");
}

// result.json leaves zero counters out of the rows it keeps (engine/stats/json.h): a counter of a row that is
// there reads as zero, and a row or field that does not exist still fails.
TEST(Counter, ACounterLeftOutOfARowThatIsThereIsZeroAndAMisspeltOneStillFails) {
  Observations o;
  o.node_stats["node-1"] = {{"backends", {{"default_web_80", {{"active_servers", 3}}}}}};
  o.node_stats["node-2"] = {{"backends", {{"default_web_80", {{"responses", {{"5xx", 1}}}}}}}};
  auto x = expectation("counter");
  x.path = "backends.default_web_80.responses.5xx";
  x.at_most = 0;
  x.node = "node-1";
  Judgement j = counter(o, x);
  EXPECT_TRUE(j.passed) << j.measured;
  EXPECT_EQ(j.measured, 0.0);
  x.node.clear();
  EXPECT_EQ(counter(o, x).measured, 1.0) << "summed with the node that counted one";
  x.path = "backends.default_web_80.responses.6xx";
  EXPECT_EQ(counter(o, x).measured, "no counter 'backends.default_web_80.responses.6xx' in any node's stats");
  x.path = "backends.default_other_80.requests";
  EXPECT_FALSE(counter(o, x).passed) << "no such row: not a zero";
  x.path = "backends.default_web_80.active_servers";
  x.at_most = 3;
  x.node = "node-2";
  EXPECT_FALSE(counter(o, x).passed) << "a gauge is never left out, so its absence is no zero";
}

}  // namespace
}  // namespace metalgate::scenario::judge
