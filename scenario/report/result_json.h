// result.json: a run's observations and verdicts as one document (docs/scenario.md shows its shape). Built
// the same way in every world from plain data, so identical observations give a byte-identical file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario/kinds/expectation_kinds.h"
#include "scenario/observe/observations.h"
#include "scenario/schema/scenario-t.h"

namespace metalgate::scenario {

// `world`: "simulated" or "live". `warnings`: what `validate` would warn about the manifests, one a line.
// The observations' node counters are moved into the document, not copied: on a 256-node LAN with 1,000
// Services they are most of result.json (a million rows), and the rest of `observations` is only read.
nlohmann::json result_document(const Scenario& scenario, std::string_view world, std::uint64_t seed,
                               observe::Observations& observations, const std::vector<Verdict>& verdicts,
                               const std::vector<std::string>& warnings);

// Whether every verdict passed (an empty list passes).
bool all_passed(const std::vector<Verdict>& verdicts);

}  // namespace metalgate::scenario
