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
  net::IpAddress vip;  // whose owner "owner" is: the fault's {owner: …}, else the controller's VIP
  std::vector<std::string> claim;  // who claims `vip` now
  std::string owner;               // the first of them; "" when nobody does
  std::string target;              // the fault's node, pod or host with "owner" resolved
  std::map<net::IpAddress, std::string> owners;  // every claimed VIP's owner now (its first claimant)
  std::vector<net::IpAddress> target_owns;       // the VIPs the target claims now
  nlohmann::json entry;                          // at_ms, action, node; the action adds what it did
};

using FaultAction = void (*)(ScenarioWorld& world, const ScenarioFault& fault, FaultMoment& moment);

const std::map<std::string, FaultAction, std::less<>>& fault_actions();
// The kinds of the shared table that have no action here (empty when the world is complete).
std::vector<std::string> kinds_without_action();
// Every fault of the scenario at its time.
void schedule_faults(ScenarioWorld& world);

}  // namespace metalgate::sim
