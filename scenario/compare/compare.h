// Two result.json documents of one scenario, one per world (the simulator's and the live twin's), side by
// side: what must agree and whether it does. World-neutral: it reads nothing but the two documents and the
// scenario, so `metalgate compare` and a notebook judge agreement the same way.
//
// What must agree (docs/scenario.md, "Comparing the worlds"):
// - per request class (client × Host and path, or datagram): the set of pods that answered, identical. A
//   cookie-pinned class (a client that keeps cookies) is pinned to the pod the balancer picked for its first
//   answer, which depends on the order concurrent first requests reached the proxy (the simulator's is fixed
//   by its seed, the kernel's is not), and moves when that pod fails: for those, each world's pods answer the
//   same Host in the other world too (stickiness is the `sticky` expectation's, compared by verdict);
// - per fault, in order: the failover time, within 20 % of the simulator's or 50 ms, whichever is larger;
// - every expectation's verdict.
// Success ratios per client are shown side by side; they are measured, not bounded.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario/schema/scenario-t.h"

namespace metalgate::scenario {

// The compare.json document: "agree" (bool), "classes", "failovers", "success", "expectations", each entry
// with both worlds' values and its own "agree".
nlohmann::json compare_results(const Scenario& scenario, const nlohmann::json& simulated,
                               const nlohmann::json& live);
// Several live runs against the simulator's one (it repeats itself): pods and verdicts must agree in every
// run, a failover by the median of the live runs' times ("live_runs_ms" lists each).
nlohmann::json compare_results(const Scenario& scenario, const nlohmann::json& simulated,
                               const std::vector<nlohmann::json>& lives);

// True when the worlds disagree only because the simulator's failover time lies outside the live runs'
// range (every failover happened in both worlds, pods and verdicts agree). The live range is an estimate
// from few runs of a spread-out time (the probe round a crash lands in: 93-205 ms for the seed, in two
// modes), so more live runs may widen it to include the simulator's; any other disagreement is final.
bool only_failover_range_differs(const nlohmann::json& comparison);

// The comparison as one HTML page (tables, nothing fetched).
std::string compare_html(const nlohmann::json& comparison);

}  // namespace metalgate::scenario
