// single_owner and failover: judged from the ownership samples and the failovers.
#include <algorithm>
#include <map>
#include <set>

#include "scenario/judge/judges.h"

namespace metalgate::scenario::judge {

namespace {

// Samples of the first 2 s are left out: the first membership round-trips are still under way.
constexpr std::int64_t kFirstSampleMs = 2000;

}  // namespace

Judgement single_owner(const Observations& o, const ScenarioExpectation& x) {
  std::int64_t samples = 0, several = 0, several_while_settling = 0, without_owner = 0;
  std::set<net::IpAddress> vips, vips_split;
  for (const auto& sample : o.samples) {
    if (sample.at_ms < kFirstSampleMs) continue;
    ++samples;
    const bool settling =
        sample.last_settle_event_ms && sample.at_ms < *sample.last_settle_event_ms + x.settle.count();
    bool split_here = false;
    for (const auto& [vip, claimants] : sample.claims) {
      vips.insert(vip);
      if (claimants.size() < 2 || observe::several_on_one_side(claimants).empty()) continue;
      if (!settling) vips_split.insert(vip);
      split_here = true;
    }
    if (split_here) ++(settling ? several_while_settling : several);
    if (sample.vip_owners.empty()) ++without_owner;
  }
  Judgement j;
  j.passed = several == 0;
  j.measured = {{"samples", samples},
                {"vips", vips.size()},
                {"vips_with_several_owners", vips_split.size()},
                {"samples_with_several_owners", several},
                {"samples_with_several_owners_while_settling", several_while_settling},
                {"samples_without_owner", without_owner}};
  j.bound = {{"several_owners_on_one_side", 0}, {"settle_ms", x.settle.count()}};
  return j;
}

Judgement announced_by(const Observations& o, const ScenarioExpectation& x) {
  std::int64_t owned = 0, by_another = 0;
  nlohmann::json first;
  for (const auto& sample : o.samples) {
    owned += sample.vip_owners.empty() ? 0 : 1;
    for (const auto& node : sample.vip_owners) {
      if (std::find(x.nodes.begin(), x.nodes.end(), node) != x.nodes.end()) continue;
      if (by_another++ == 0) first = {{"at_ms", sample.at_ms}, {"node", node}};
    }
  }
  Judgement j;
  j.passed = owned > 0 && by_another == 0;
  j.measured = {{"samples_with_an_owner", owned}, {"claims_by_another_node", by_another}};
  if (by_another) j.measured["first"] = first;
  j.bound = {{"nodes", x.nodes}};
  return j;
}

Judgement failover(const Observations& o, const ScenarioExpectation& x) {
  std::int64_t worst = -1;
  bool all_recovered = true;
  for (const auto& f : o.failovers) {
    all_recovered = all_recovered && f.failover_ms() >= 0;
    worst = std::max(worst, f.failover_ms());
  }
  Judgement j;
  j.passed = all_recovered && !o.failovers.empty() && worst <= x.max.count();
  j.measured = o.failovers.empty() ? nlohmann::json("no failover happened") : nlohmann::json(worst);
  j.bound = {{"max_ms", x.max.count()}};
  return j;
}

}  // namespace metalgate::scenario::judge
