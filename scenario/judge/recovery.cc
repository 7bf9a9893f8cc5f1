// recovers and clients_follow_owner: once the faults are over the system is whole again, and once a fault is
// `within` past, the clients follow the VIP. Judged from the fault log, the ownership samples and the request
// records.
#include <algorithm>

#include "scenario/judge/judges.h"
#include "scenario/judge/requests.h"

namespace metalgate::scenario::judge {

namespace {

// When the last fault struck (ms), 0 without faults.
std::int64_t last_fault_ms(const Observations& o) {
  std::int64_t last = 0;
  for (const auto& entry : o.fault_log)
    last = std::max(last, entry.value("at_ms", std::int64_t{0}));
  return last;
}

// Whether a fault struck within `window_ms` before `at_ms`.
bool fault_within(const Observations& o, std::int64_t at_ms, std::int64_t window_ms) {
  for (const auto& entry : o.fault_log) {
    const std::int64_t fault = entry.value("at_ms", std::int64_t{0});
    if (fault <= at_ms && at_ms - fault < window_ms) return true;
  }
  return false;
}

// A request failed: no answer, or a 5xx. A denial (403, 429) is an answer: the run's rate limits hold.
bool failed(const observe::RequestRecord& r) {
  return r.status == 0 || r.status >= 500;
}

nlohmann::json describe(const observe::RequestRecord& r) {
  return {{"client", r.client},
          {"start_ms", r.start_us / 1000},
          {"status", r.status},
          {"error", r.error},
          {"vip_node", r.vip_node}};
}

// A request on a kept-alive connection opened before the scenario's VIP last went from one owner to another:
// the move broke the connection (it reaches a node that does not know it), as any MetalLB failover breaks the
// connections through the old owner. Such a request's failure is the move's, not the recovery's. The VIP's
// first owner moves nothing under a connection: one opened before it is answered by that owner.
bool on_a_connection_the_vip_moved_under(const Observations& o, const observe::RequestRecord& r) {
  const bool to_the_vip = r.target == o.vip || r.target == net::IpAddress{};
  if (!r.reused || r.connection_opened_us < 0 || !to_the_vip) return false;
  std::int64_t last_move_ms = -1;
  const std::string* previous = nullptr;  // the owner before this change, once the VIP had one
  for (const auto& change : o.owner_timeline) {
    if (change.at_ms * 1000 > r.start_us) break;
    if (previous && change.owner != *previous) last_move_ms = change.at_ms;
    if (previous || !change.owner.empty()) previous = &change.owner;
  }
  return last_move_ms >= 0 && r.connection_opened_us < last_move_ms * 1000;
}

}  // namespace

Judgement recovers(const Observations& o, const ScenarioExpectation& x) {
  const std::int64_t from_ms = last_fault_ms(o) + x.within.count();
  std::int64_t requests = 0, failures = 0, samples = 0, without_owner = 0, moved_under = 0;
  nlohmann::json first_failure;
  for (const auto& r : o.records) {
    if (!counted(r) || r.start_us < from_ms * 1000) continue;
    if (!failed(r)) {
      ++requests;  // an answer reaches the VIP's owner, whichever connection it came on
      continue;
    }
    if (on_a_connection_the_vip_moved_under(o, r)) {
      ++moved_under;
      continue;
    }
    ++requests;
    if (failures++ == 0) first_failure = describe(r);
  }
  for (const auto& s : o.samples) {
    if (s.at_ms < from_ms) continue;
    ++samples;
    without_owner += s.vip_owners.size() == 1 ? 0 : 1;
  }
  Judgement j;
  j.passed = requests > 0 && failures == 0 && without_owner == 0;
  j.measured = {{"from_ms", from_ms},
                {"requests", requests},
                {"failures_left_out_on_connections_the_vip_moved_under", moved_under},
                {"failed", failures},
                {"samples", samples},
                {"samples_without_one_owner", without_owner}};
  if (failures) j.measured["first_failure"] = first_failure;
  if (requests == 0) j.measured["note"] = "no request started after the faults were over";
  j.bound = {{"within_ms", x.within.count()}, {"after", "the last fault"}};
  return j;
}

Judgement clients_follow_owner(const Observations& o, const ScenarioExpectation& x) {
  std::int64_t judged = 0, stale = 0;
  nlohmann::json first_stale;
  auto change = o.owner_timeline.begin();
  const observe::OwnerChange* current = nullptr;
  for (const auto& r : o.records) {  // in start order, as the timeline is
    const std::int64_t start_ms = r.start_us / 1000;
    for (; change != o.owner_timeline.end() && change->at_ms <= start_ms; ++change)
      current = &*change;
    const bool to_the_vip = r.target == o.vip || r.target == net::IpAddress{};
    if (!counted(r) || !to_the_vip || r.vip_node.empty() || !current) continue;
    // One owner (no split, not none), held for `within` before the request started, and no fault then.
    if (current->owner.empty() || current->owner.find('+') != std::string::npos ||
        start_ms - current->at_ms < x.within.count() || fault_within(o, start_ms, x.within.count()))
      continue;
    ++judged;
    if (r.vip_node == current->owner || stale++) continue;
    first_stale = {{"client", r.client},
                   {"start_ms", start_ms},
                   {"vip_node", r.vip_node},
                   {"owner", current->owner},
                   {"owner_since_ms", current->at_ms}};
  }
  Judgement j;
  j.passed = judged > 0 && stale == 0;
  j.measured = {{"requests", judged}, {"to_another_node", stale}};
  if (stale) j.measured["first"] = first_stale;
  j.bound = {{"within_ms", x.within.count()}, {"after", "every fault and the owner's takeover"}};
  return j;
}

}  // namespace metalgate::scenario::judge
