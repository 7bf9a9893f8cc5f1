// The clients' records carry instants in whole microseconds of the runtime's clock.
#pragma once

#include <chrono>
#include <cstdint>

#include "engine/runtime/time.h"

namespace metalgate::apps {

inline std::int64_t microseconds_of(runtime::Instant t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace metalgate::apps
