#include "scenario/observe/observations.h"

#include <algorithm>
#include <tuple>

namespace metalgate::scenario::observe {

namespace {

std::vector<OwnerChange> owner_timeline(const std::vector<OwnershipSample>& samples) {
  std::vector<OwnerChange> timeline;
  std::string last = "?";  // no sample yet: the first one is always a change
  for (const auto& sample : samples) {
    std::string owner;
    for (const auto& node : sample.vip_owners)
      owner += (owner.empty() ? "" : "+") + node;
    if (owner == last) continue;
    timeline.push_back({sample.at_ms, owner});
    last = owner;
  }
  return timeline;
}

// A failback counts when the owner it started from had the VIP and someone else has it 3 s later.
bool owner_changed_within_3s(const Failover& f, const std::vector<OwnerChange>& timeline) {
  std::string after = f.node;
  for (const auto& change : timeline)
    if (change.at_ms > f.fault_ms && change.at_ms <= f.fault_ms + 3000) after = change.owner;
  return !f.node.empty() && after != f.node;
}

// Recovered: the first answer to a request that started after the fault. (Not the answer to the first such
// request: one that started while the VIP was still unreachable may get through a second later on a SYN
// retransmission, after others were long answered.)
void find_recoveries(std::vector<Failover>& failovers, const std::vector<RequestRecord>& records) {
  for (auto& f : failovers)
    for (const auto& r : records)
      if (r.status >= 200 && r.status < 400 && r.start_us / 1000 >= f.fault_ms &&
          (f.recovered_ms < 0 || r.end_us / 1000 < f.recovered_ms))
        f.recovered_ms = r.end_us / 1000;
}

}  // namespace

void complete_observations(Observations& o, const FailoverCandidates& candidates) {
  std::sort(o.records.begin(), o.records.end(), [](const auto& a, const auto& b) {
    return std::tie(a.start_us, a.end_us, a.client) < std::tie(b.start_us, b.end_us, b.client);
  });
  o.owner_timeline = owner_timeline(o.samples);
  o.failovers = candidates.moves;
  for (const auto& f : candidates.failbacks)
    if (owner_changed_within_3s(f, o.owner_timeline)) o.failovers.push_back(f);
  std::sort(o.failovers.begin(), o.failovers.end(),
            [](const Failover& a, const Failover& b) { return a.fault_ms < b.fault_ms; });
  find_recoveries(o.failovers, o.records);
}

}  // namespace metalgate::scenario::observe
