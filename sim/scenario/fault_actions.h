// The simulator's action for each fault kind of scenario/kinds/fault_kinds.h, keyed by the kind's name. A
// kind without an action here stops every run at its start (kinds_without_action), so a kind added to the
// shared table cannot be silently ignored by this world.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario/world.h"

namespace metalgate::sim {

// The world as the fault finds it, and the fault log's entry the action completes.
struct FaultMoment {
  std::int64_t now = 0;            // ms
  std::vector<std::string> claim;  // who claims the VIP now
  std::string owner;               // the first of them; "" when nobody does
  std::string target;              // the fault's node, pod or host with "owner" resolved
  bool target_owned = false;       // the target claims the VIP
  nlohmann::json entry;            // at_ms, action, node; the action adds what it did
};

using FaultAction = void (*)(ScenarioWorld& world, const ScenarioFault& fault, FaultMoment& moment);

const std::map<std::string, FaultAction, std::less<>>& fault_actions();
// The kinds of the shared table that have no action here (empty when the world is complete).
std::vector<std::string> kinds_without_action();
// Every fault of the scenario at its time.
void schedule_faults(ScenarioWorld& world);

}  // namespace metalgate::sim
