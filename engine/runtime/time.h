// Time as the runtime sees it: a monotonic instant and durations, both in nanoseconds. The engine never reads
// a clock of its own; it asks its Runtime for now(), so virtual time (tests, ns-3) and real time look the
// same.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace metalgate::runtime {

struct RuntimeClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<RuntimeClock, duration>;
  static constexpr bool is_steady = true;
};

using Duration = std::chrono::nanoseconds;
using Instant = RuntimeClock::time_point;

// An instant in whole milliseconds of its clock (rates count per second of it).
inline std::int64_t milliseconds_of(Instant t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// "12.345678s": the form every log line and report uses for an instant.
std::string format_instant(Instant t);

}  // namespace metalgate::runtime
