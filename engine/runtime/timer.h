// A timer owned by the engine. Destroying it cancels it; its callback never runs after that.
#pragma once

#include <functional>
#include <memory>

#include "engine/runtime/time.h"

namespace metalgate::runtime {

class Timer {
 public:
  virtual ~Timer() = default;
  // Fire once, `after` from now. Re-arming replaces any earlier schedule.
  virtual void arm(Duration after) = 0;
  // Fire every `period`, first after one period; deadlines do not drift with callback latency.
  virtual void arm_periodic(Duration period) = 0;
  virtual void cancel() = 0;
  virtual bool armed() const = 0;
};

using TimerPtr = std::unique_ptr<Timer>;
using TimerCallback = std::function<void()>;

}  // namespace metalgate::runtime
