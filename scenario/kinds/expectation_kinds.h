// The expectation kinds, one row each: its name (the key in the scenario file), the parser that reads its
// parameters into a ScenarioExpectation, and the judge that decides it from a world's observations. The
// loader's checks and messages, and every world's judging, come from this table.
//
// Adding an expectation kind: a judge in scenario/judge/ (with its tests on hand-made observations), a row
// here, and a line in docs/scenario.md. No world changes unless the judge needs an observation no world
// makes yet.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/config/yaml_reader.h"
#include "scenario/judge/judges.h"
#include "scenario/schema/scenario-t.h"

namespace metalgate::scenario {

struct ExpectationKind {
  std::string_view name;
  // Reads the parameters (the value under the kind's key) into `x`; `scenario` holds the sections read
  // before (clients) for names to check. Problems are errors at their position.
  void (*parse)(const config::YamlReader& parameters, const Scenario& scenario, ScenarioExpectation& x);
  judge::Judgement (*judge)(const observe::Observations& observations, const ScenarioExpectation& x);
};

const std::vector<ExpectationKind>& expectation_kinds();
const ExpectationKind* find_expectation_kind(std::string_view name);
// "single_owner, success_ratio, …": every kind's name, in table order.
std::string expectation_kind_names();

}  // namespace metalgate::scenario

namespace metalgate::scenario {

struct Verdict {
  std::string name;  // the expectation's kind, as written
  judge::Judgement judgement;
};

// Every expectation judged by its kind's judge, in the scenario's order. An expectation whose name is in no
// row (one built in code, not loaded) fails, its measured value saying so.
std::vector<Verdict> judge_expectations(const std::vector<ScenarioExpectation>& expectations,
                                        const observe::Observations& observations);

}  // namespace metalgate::scenario
