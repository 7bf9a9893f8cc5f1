#include "scenario/observe/observations.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace metalgate::scenario::observe {

namespace {

std::string joined(const std::vector<std::string>& nodes) {
  std::string owner;
  for (const auto& node : nodes)
    owner += (owner.empty() ? "" : "+") + node;
  return owner;
}

std::vector<OwnerChange> owner_timeline(const std::vector<OwnershipSample>& samples) {
  std::vector<OwnerChange> timeline;
  std::string last = "?";  // no sample yet: the first one is always a change
  for (const auto& sample : samples) {
    std::string owner = joined(sample.vip_owners);
    if (owner == last) continue;
    timeline.push_back({sample.at_ms, owner});
    last = owner;
  }
  return timeline;
}

// One VIP's owners over time, from every sample's claims, in the form of owner_timeline.
std::vector<OwnerChange> claims_timeline(const std::vector<OwnershipSample>& samples,
                                         const net::IpAddress& vip) {
  std::vector<OwnerChange> timeline;
  for (const auto& sample : samples) {
    std::vector<std::string> nodes;
    if (auto it = sample.claims.find(vip); it != sample.claims.end())
      for (const auto& claim : it->second)
        nodes.push_back(claim.node);
    std::string owner = joined(nodes);
    if (timeline.empty() || timeline.back().owner != owner) timeline.push_back({sample.at_ms, owner});
  }
  return timeline;
}

// A failback counts when the owner it started from had the VIP and someone else has it 3 s later; it moved
// at the first sample within those 3 s that showed another owner.
bool owner_changed_within_3s(Failover& f, const std::vector<OwnerChange>& timeline) {
  std::string after = f.node;
  for (const auto& change : timeline)
    if (change.at_ms > f.fault_ms && change.at_ms <= f.fault_ms + 3000) {
      if (f.moved_ms < 0 && change.owner != f.node) f.moved_ms = change.at_ms;
      after = change.owner;
    }
  return !f.node.empty() && after != f.node;
}

// A request to `vip` (an unspecified VIP or target stands for every one).
bool sent_to(const RequestRecord& r, const net::IpAddress& vip) {
  return vip.is_unspecified() || r.target.is_unspecified() || r.target == vip;
}

// The VIPs clients send to: a move of any other nobody could see. A record without a target stands for every
// VIP, as a failover without a VIP does for the scenario's.
struct Targets {
  std::set<net::IpAddress> vips;
  bool every_vip = false;

  explicit Targets(const std::vector<RequestRecord>& records) {
    for (const auto& r : records) {
      if (r.target.is_unspecified())
        every_vip = true;
      else
        vips.insert(r.target);
    }
  }
  bool observed(const Failover& f) const { return every_vip || f.vip.is_unspecified() || vips.count(f.vip); }
};

// Recovered: the first answer to a request to the VIP that started after the fault (a failback: after its
// move; before it the old owner answered). (Not the answer to the
// first such request: one that started while the VIP was still unreachable may get through a second later on
// a SYN retransmission, after others were long answered.)
void find_recoveries(std::vector<Failover>& failovers, const std::vector<RequestRecord>& records) {
  for (auto& f : failovers)
    for (const auto& r : records)
      if (r.status >= 200 && r.status < 400 && r.start_us / 1000 >= f.from_ms() && sent_to(r, f.vip) &&
          (f.recovered_ms < 0 || r.end_us / 1000 < f.recovered_ms))
        f.recovered_ms = r.end_us / 1000;
}

}  // namespace

std::set<std::string> several_on_one_side(const std::vector<Claim>& claims) {
  std::map<std::string, std::set<std::string>> per_side;
  for (const auto& c : claims)
    per_side[c.side].insert(c.node);
  std::set<std::string> several;
  for (const auto& [side, nodes] : per_side)
    if (nodes.size() > 1) several.insert(nodes.begin(), nodes.end());
  return several;
}

void complete_observations(Observations& o, const FailoverCandidates& candidates) {
  std::sort(o.records.begin(), o.records.end(), [](const auto& a, const auto& b) {
    return std::tie(a.start_us, a.end_us, a.client) < std::tie(b.start_us, b.end_us, b.client);
  });
  o.owner_timeline = owner_timeline(o.samples);
  const Targets targets(o.records);
  o.failovers.clear();
  for (const auto& f : candidates.moves)
    if (targets.observed(f)) o.failovers.push_back(f);
  for (auto f : candidates.failbacks) {
    if (!targets.observed(f)) continue;
    const bool scenario_vip = f.vip.is_unspecified() || f.vip == o.vip;
    if (owner_changed_within_3s(f, scenario_vip ? o.owner_timeline : claims_timeline(o.samples, f.vip)))
      o.failovers.push_back(f);
  }
  std::stable_sort(o.failovers.begin(), o.failovers.end(), [](const Failover& a, const Failover& b) {
    return std::tie(a.fault_ms, a.vip) < std::tie(b.fault_ms, b.vip);
  });
  find_recoveries(o.failovers, o.records);
}

}  // namespace metalgate::scenario::observe
