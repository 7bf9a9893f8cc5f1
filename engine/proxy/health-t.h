// A server's health as HAProxy counts it. Types only; health.h has the rules.
#pragma once

#include <cstdint>

namespace metalgate::proxy {

// `health` runs from 0 to rise+fall-1; the server is up while health >= rise. It starts up, at rise.
// What an operator set (the admin socket's `set server … state`, as HAProxy's): kDrain takes no new request
// but those a persistence cookie sends; kMaint takes none.
enum class AdminState : std::uint8_t { kReady = 0, kDrain = 1, kMaint = 2 };

struct HealthState {
  int health = 2;
  bool up = true;
  int consecutive_failures = 0;
};

}  // namespace metalgate::proxy
