// The fault kinds, one row each: its name (the key in the scenario file), how its argument is written (for
// error messages) and the parser that reads the argument into a ScenarioFault. The loader's checks and
// messages come from this table; each world keeps its own table of actions keyed by the same names and
// refuses to start when a kind has no action there (missing_fault_actions).
//
// Adding a fault kind: a row here (plus a field in ScenarioFault if it takes a new parameter), its action in
// each world (sim/scenario/fault_actions.cc), and a line in docs/scenario.md.
#pragma once

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/yaml_reader.h"
#include "scenario/schema/scenario-t.h"

namespace metalgate::scenario {

// The names a fault may refer to, from the scenario's other sections.
struct ScenarioNames {
  std::set<std::string> nodes;
  std::set<std::string> hosts;  // nodes, pods and clients
  std::set<std::string> pods;   // <deployment>-<n>
  std::filesystem::path base;   // the scenario file's folder: paths are relative to it
};

struct FaultKind {
  std::string_view name;
  std::string_view argument;  // how the argument is written: "NODE or all", "{pod, latency}"
  // Reads the argument (the value under the kind's key) into `fault`; problems are errors at their position.
  void (*parse)(const config::YamlReader& argument, const ScenarioNames& names, ScenarioFault& fault);
};

const std::vector<FaultKind>& fault_kinds();
const FaultKind* find_fault_kind(std::string_view name);
// "crash, restart, …": every kind's name, in table order.
std::string fault_kind_names();
// The kinds of the table that `has_action` does not know, in table order: a world checks its action table
// with this before it runs anything.
std::vector<std::string> missing_fault_actions(const std::function<bool(std::string_view)>& has_action);

}  // namespace metalgate::scenario
