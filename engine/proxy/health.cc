#include "engine/proxy/health.h"

#include "engine/mutants/mutants.h"

namespace metalgate::proxy {

bool record_check(HealthState& h, bool passed, int rise, int fall) {
  const bool was_up = h.up;
  if (passed) {
    h.consecutive_failures = 0;
    if (h.health < rise + fall - 1) {
      ++h.health;
      if (h.health >= rise + (METALGATE_MUTANT(kHealthRiseOffByOne) ? 1 : 0)) {
        h.health = rise + fall - 1;
        h.up = true;
      }
    }
  } else {
    ++h.consecutive_failures;
    if (h.health > rise - (METALGATE_MUTANT(kHealthFallOffByOne) ? 1 : 0)) {
      --h.health;
    } else {
      h.health = 0;
      h.up = false;
    }
  }
  return was_up != h.up;
}

}  // namespace metalgate::proxy
