// HAProxy's check counter rules, sans I/O. A passing check raises health by one until rise+fall-1; reaching
// rise from below brings the server up and fills health to rise+fall-1. A failing check lowers it by one
// while it is above rise; at rise (or below) it drops to 0 and the server goes down. So a server that has
// been up a while needs `fall` failures to go down, a down server `rise` passes to come back, and a server
// that has just started (health = rise) goes down on its first failure.
#pragma once

#include "engine/proxy/health-t.h"

namespace metalgate::proxy {

inline HealthState initial_health(int rise) {
  return HealthState{rise, true, 0};
}

// Returns true when the check changed the server's up/down state.
bool record_check(HealthState& h, bool passed, int rise, int fall);

}  // namespace metalgate::proxy
