// reloads: a valid reload under load fails no request and moves no VIP; an invalid one is refused and changes
// nothing. Judged from the fault log (each reload's outcome), the request records and the owner timeline.
#include <algorithm>

#include "scenario/judge/judges.h"
#include "scenario/judge/requests.h"

namespace metalgate::scenario::judge {

namespace {

struct ReloadCounts {
  std::int64_t first_at_ms = -1, accepted = 0, refused = 0, failed_on_a_node = 0;
};

ReloadCounts count_reloads(const Observations& o) {
  ReloadCounts c;
  for (const auto& entry : o.fault_log) {
    if (entry.value("action", "") != "reload") continue;
    const std::int64_t at = entry.value("at_ms", std::int64_t{0});
    if (c.first_at_ms < 0 || at < c.first_at_ms) c.first_at_ms = at;
    if (entry.contains("refused"))
      ++c.refused;
    else if (entry.value("reloaded", false))
      ++c.accepted;
    else
      ++c.failed_on_a_node;  // valid, yet a node could not apply it (a listener it could not take over)
  }
  return c;
}

// Changes of the VIP's owner from one node to another (or to none, or to two): its first owner is no move.
std::int64_t vip_moves(const Observations& o) {
  std::int64_t moves = 0;
  const std::string* previous = nullptr;
  for (const auto& change : o.owner_timeline) {
    if (previous && change.owner != *previous) ++moves;
    if (previous || !change.owner.empty()) previous = &change.owner;
  }
  return moves;
}

}  // namespace

Judgement reloads(const Observations& o, const ScenarioExpectation& x) {
  const ReloadCounts c = count_reloads(o);
  std::int64_t requests = 0, failures = 0;
  nlohmann::json first_failure;
  for (const auto& r : o.records) {
    // Every request still open at the first reload or started after it; a denial (403, 429) is an answer.
    if (c.first_at_ms < 0 || !counted(r) || r.end_us < c.first_at_ms * 1000) continue;
    ++requests;
    if (r.status != 0 && r.status < 500) continue;
    if (failures++ == 0)
      first_failure = {{"client", r.client},
                       {"start_ms", r.start_us / 1000},
                       {"status", r.status},
                       {"error", r.error},
                       {"vip_node", r.vip_node}};
  }
  const std::int64_t moves = vip_moves(o);
  Judgement j;
  j.passed = c.first_at_ms >= 0 && requests > 0 && failures == 0 && moves == 0 && c.failed_on_a_node == 0 &&
             (!x.accepted || *x.accepted == c.accepted) && (!x.refused || *x.refused == c.refused);
  j.measured = {{"accepted", c.accepted}, {"refused", c.refused}, {"failed_on_a_node", c.failed_on_a_node},
                {"requests", requests},   {"failed", failures},   {"vip_moves", moves}};
  if (failures) j.measured["first_failure"] = first_failure;
  if (c.first_at_ms < 0) j.measured["note"] = "the run reloaded nothing";
  j.bound = {{"failed", 0}, {"vip_moves", 0}, {"from", "the first reload"}};
  if (x.accepted) j.bound["accepted"] = *x.accepted;
  if (x.refused) j.bound["refused"] = *x.refused;
  return j;
}

}  // namespace metalgate::scenario::judge
