// Property 6, health: a failed backend stops getting new requests within fall × interval (+ timeout) and
// gets them again after rise passing checks; checked in memory against engine/proxy's health checks.
//
// A case draws rise and fall (1–5), the check interval, the check timeout (or none: the interval, as
// HAProxy's `inter`), how long an answered check takes, the first check's offset, and the backend's history
// (up and down phases; a down backend refuses connections or stays silent until the timeout). The checks
// run on proxy::Backend's schedule (restated below): a check's outcome is the backend's state when it starts,
// and the next check starts one interval after the previous one ended. The engine's counter
// (proxy::record_check) takes every outcome, and its up/down state must match HAProxy's rule restated by
// consecutive outcomes (health.h): a server that had been up (it has passed a check since it came up) goes
// down at exactly its fall-th failed check in a row; a server that has just started goes down at its first
// failure; a down server comes up at exactly its rise-th passed check in a row. And in time: a server up
// when its backend fails is down within fall × interval + timeout + fall × (a failed check's time), and one
// down when its backend recovers is up within rise × interval + timeout + rise × (an answered check's time).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "check/case/base.h"
#include "engine/proxy/health-t.h"

namespace metalgate::check {

// Called inside a RapidCheck property: draws check parameters and a backend's up/down history with `*gen`,
// and fails with RC_FAIL naming the invariant broken and the history that breaks it.
void health_property(const Base& base);

// The engine's health counting, replaceable so that tests can inject broken ones.
struct HealthRules {
  std::function<proxy::HealthState(int rise)> initial;
  // Counts one check's outcome; returns whether the server's up/down state changed.
  std::function<bool(proxy::HealthState& health, bool passed, int rise, int fall)> record;
};
// proxy::initial_health and proxy::record_check.
HealthRules engine_health_rules();

// The property against any rules (tests inject broken ones).
void health_property(const Base& base, const HealthRules& rules);

// HAProxy's rule by consecutive outcomes, written apart from record_check's counter.
class ExpectedHealth {
 public:
  ExpectedHealth(int rise, int fall) : rise_(rise), fall_(fall) {}
  void record(bool passed);
  bool up() const { return up_; }
  bool fresh() const { return fresh_; }       // up and not checked since it started
  int failures() const { return failures_; }  // failed checks in a row
  int passes() const { return passes_; }      // passed checks in a row

 private:
  int rise_;
  int fall_;
  bool up_ = true;
  bool fresh_ = true;
  int failures_ = 0;
  int passes_ = 0;
};

// Empty when the engine's state after a check (`engine_up`) is what `before.record(passed)` expects, else
// the invariant broken and how.
std::string check_health_step(const ExpectedHealth& before, bool passed, bool engine_up, int rise, int fall);

// The check schedule's times (proxy::Backend: run_check, finish_check).
struct CheckTimes {
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds timeout{2000};  // the check timeout, or the interval when none is set
  std::chrono::milliseconds answered{0};    // an answered check (passed, or refused) takes this long
};

// The latest a server up when its backend fails is down: the check in flight at the failure ends within the
// timeout and was started before it (it passes); the next starts an interval later; then `fall` failed
// checks, each taking `failed` (the answer's time when refused, the timeout when silent), with an interval
// between them: fall × interval + timeout + fall × failed.
std::chrono::milliseconds down_within(const CheckTimes& times, int fall, bool silent);
// The same for coming back up: rise × interval + timeout + rise × answered.
std::chrono::milliseconds up_within(const CheckTimes& times, int rise);

}  // namespace metalgate::check
