// A server's health as HAProxy counts it. Types only; health.h has the rules.
#pragma once

namespace metalgate::proxy {

// `health` runs from 0 to rise+fall-1; the server is up while health >= rise. It starts up, at rise.
struct HealthState {
  int health = 2;
  bool up = true;
  int consecutive_failures = 0;
};

}  // namespace metalgate::proxy
