// The scenario schema and its loader, world-neutral, live in scenario/schema/; the simulator's code and the
// `metalgate sim` command keep their names through this header.
#pragma once

#include "scenario/schema/loader.h"
#include "scenario/schema/scenario-t.h"

namespace metalgate::sim {

using scenario::load_scenario;
using scenario::Scenario;
using scenario::ScenarioBackend;
using scenario::ScenarioClient;
using scenario::ScenarioExpectation;
using scenario::ScenarioFault;
using scenario::ScenarioNode;
using scenario::ScenarioRequestMix;
using scenario::ScenarioSpeaker;

}  // namespace metalgate::sim
