#include "check/properties/health.h"

#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <vector>

#include "engine/proxy/health.h"

namespace metalgate::check {

namespace {

using std::chrono::milliseconds;

struct Phase {
  bool up = true;
  bool silent = false;  // down: connections time out instead of being refused
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
};

struct HealthCase {
  int rise = 2;
  int fall = 3;
  CheckTimes times;
  std::int64_t first_check_ms = 0;
  std::vector<Phase> phases;  // back to back from 0
};

HealthCase draw_case() {
  HealthCase c;
  c.rise = *rc::gen::inRange(1, 6);
  c.fall = *rc::gen::inRange(1, 6);
  const int interval = *rc::gen::inRange(1, 51) * 100;
  c.times.interval = milliseconds(interval);
  const bool timeout_set = *rc::gen::arbitrary<bool>();
  c.times.timeout =
      timeout_set ? milliseconds(*rc::gen::inRange(1, 2 * interval / 50 + 1) * 50) : c.times.interval;
  const int timeout = static_cast<int>(c.times.timeout.count());
  c.times.answered = milliseconds(*rc::gen::inRange(0, std::min(timeout, 200)));
  // Backend::start_checks spreads the first check over one interval.
  c.first_check_ms = *rc::gen::inRange(0, interval);
  const auto count = *rc::gen::inRange(1, 9);
  bool up = *rc::gen::weightedElement<bool>({{3, true}, {1, false}});
  std::int64_t at = 0;
  for (int i = 0; i < count; ++i, up = !up) {
    // Long enough for a given number of checks (0 to rise + fall + 2), and a part of an interval more.
    const int checks = *rc::gen::inRange(0, c.rise + c.fall + 3);
    const int part = *rc::gen::inRange(0, interval);
    const bool silent = !up && *rc::gen::arbitrary<bool>();
    const std::int64_t length = std::int64_t{checks} * (interval + timeout) + part + 1;
    c.phases.push_back(Phase{up, silent, at, at + length});
    at += length;
  }
  return c;
}

const Phase& phase_at(const HealthCase& c, std::int64_t t) {
  for (const Phase& p : c.phases)
    if (t < p.to_ms) return p;
  return c.phases.back();
}

std::string describe(const HealthCase& c) {
  std::ostringstream out;
  out << "rise " << c.rise << ", fall " << c.fall << ", interval " << c.times.interval.count()
      << "ms, timeout " << c.times.timeout.count() << "ms, an answer takes " << c.times.answered.count()
      << "ms, first check at " << c.first_check_ms << "ms\n  backend:";
  for (const Phase& p : c.phases)
    out << ' '
        << (p.up       ? "up"
            : p.silent ? "silent"
                       : "refusing")
        << ' ' << p.from_ms << '-' << p.to_ms << "ms";
  return out.str();
}

// Runs one case's checks on Backend's schedule through `rules`, failing on the first broken invariant.
void run_checks(const HealthCase& c, const HealthRules& rules) {
  proxy::HealthState health = rules.initial(c.rise);
  ExpectedHealth expected(c.rise, c.fall);
  std::ostringstream checks;
  const auto fail = [&](const std::string& invariant) {
    RC_FAIL(invariant + "\n  " + describe(c) +
            "\n  checks (start, +/- outcome, the server's state):" + checks.str());
  };
  const std::int64_t end = c.phases.back().to_ms;
  const std::int64_t interval = c.times.interval.count();
  for (std::int64_t t = c.first_check_ms; t < end;) {
    const Phase& at_start = phase_at(c, t);
    const bool passed = at_start.up;
    const std::int64_t took = passed || !at_start.silent ? c.times.answered.count() : c.times.timeout.count();
    const std::int64_t ended = t + took;
    rules.record(health, passed, c.rise, c.fall);
    checks << ' ' << t << (passed ? '+' : '-') << (health.up ? 'U' : 'D');
    const std::string step = check_health_step(expected, passed, health.up, c.rise, c.fall);
    if (!step.empty()) fail(step);
    expected.record(passed);
    const Phase& now = phase_at(c, ended);
    const std::int64_t since = ended - now.from_ms;
    if (!now.up && health.up && since > down_within(c.times, c.fall, now.silent).count())
      fail("a failed backend is down within fall × interval + timeout + fall × a failed check's time (" +
           std::to_string(down_within(c.times, c.fall, now.silent).count()) + "ms): still up " +
           std::to_string(since) + "ms after it failed");
    if (now.up && !health.up && since > up_within(c.times, c.rise).count())
      fail("a recovered backend is up within rise × interval + timeout + rise × an answer's time (" +
           std::to_string(up_within(c.times, c.rise).count()) + "ms): still down " + std::to_string(since) +
           "ms after it recovered");
    t = ended + interval;  // finish_check arms the next check one interval after this one ended
  }
}

}  // namespace

void ExpectedHealth::record(bool passed) {
  const bool was_fresh = fresh_;
  fresh_ = false;
  if (passed) {
    failures_ = 0;
    ++passes_;
    if (!up_ && passes_ >= rise_) up_ = true;
    return;
  }
  passes_ = 0;
  ++failures_;
  if (up_ && (was_fresh || failures_ >= fall_)) up_ = false;
}

std::string check_health_step(const ExpectedHealth& before, bool passed, bool engine_up, int rise, int fall) {
  ExpectedHealth after = before;
  after.record(passed);
  if (after.up() == engine_up) return {};
  const std::string failures = std::to_string(after.failures());
  const std::string passes = std::to_string(after.passes());
  if (before.up() && !passed) {
    if (after.up())
      return "a server that has been up goes down only at its fall-th failed check in a row: down after " +
             failures + " (fall " + std::to_string(fall) + ")";
    if (before.fresh()) return "a server just started goes down at its first failed check: still up";
    return "a server that has been up goes down at its fall-th failed check in a row: still up after " +
           failures + " (fall " + std::to_string(fall) + ")";
  }
  if (!before.up() && passed) {
    if (after.up())
      return "a down server comes up at its rise-th passed check in a row: still down after " + passes +
             " (rise " + std::to_string(rise) + ")";
    return "a down server comes up only at its rise-th passed check in a row: up after " + passes +
           " (rise " + std::to_string(rise) + ")";
  }
  return before.up() ? "a passed check keeps an up server up: down after a pass"
                     : "a failed check keeps a down server down: up after a failure";
}

milliseconds down_within(const CheckTimes& times, int fall, bool silent) {
  const milliseconds failed = silent ? times.timeout : times.answered;
  return fall * times.interval + times.timeout + fall * failed;
}

milliseconds up_within(const CheckTimes& times, int rise) {
  return rise * times.interval + times.timeout + rise * times.answered;
}

HealthRules engine_health_rules() {
  return HealthRules{proxy::initial_health, proxy::record_check};
}

void health_property(const Base& base, const HealthRules& rules) {
  (void)base;  // the check parameters are drawn; the base's annotations do not narrow them yet
  run_checks(draw_case(), rules);
}

void health_property(const Base& base) {
  health_property(base, engine_health_rules());
}

}  // namespace metalgate::check
