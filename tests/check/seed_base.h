// The tests' base: the seed scenario, loaded once.
#pragma once

#include <stdexcept>
#include <string>

#include "check/case/base.h"

namespace metalgate::check {

inline const Base& seed_base() {
  static const Base base = [] {
    config::Diagnostics d;
    auto loaded = load_base(std::string(METALGATE_SOURCE_DIR) + "/scenarios/seed.yaml", d);
    if (!loaded) throw std::runtime_error("the seed scenario does not load:\n" + d.to_string());
    return *loaded;
  }();
  return base;
}

}  // namespace metalgate::check
