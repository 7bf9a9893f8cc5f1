// The simulator's side of the faults: ScenarioWorld's WorldActions on the ns-3 LAN (fault_actions.cc), and
// every fault of the scenario scheduled at its time. What a fault means (its moment, the VIPs that move, the
// fault log) is the shared layer's (scenario/run/world_run.h), the same in every world.
#pragma once

#include "sim/scenario/world.h"

namespace metalgate::sim {

// Every fault of the scenario at its time.
void schedule_faults(ScenarioWorld& world);

}  // namespace metalgate::sim
