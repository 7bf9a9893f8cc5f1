// The tests' base: the seed scenario, loaded once, with its reload additions written to a directory of this
// process's (removed at exit), so generated cases draw reloads too.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "check/case/base.h"
#include "check/case/reload_manifests.h"

namespace metalgate::check {

inline const std::string& seed_base_reload_dir() {
  static const std::string dir =
      (std::filesystem::temp_directory_path() / ("metalgate-check-test-" + std::to_string(::getpid())))
          .string();
  return dir;
}

inline const Base& seed_base() {
  static const Base base = [] {
    config::Diagnostics d;
    auto loaded = load_base(std::string(METALGATE_SOURCE_DIR) + "/scenarios/seed.yaml", d);
    if (!loaded) throw std::runtime_error("the seed scenario does not load:\n" + d.to_string());
    std::string error;
    if (!write_reload_manifests(*loaded, seed_base_reload_dir(), error)) throw std::runtime_error(error);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(seed_base_reload_dir(), ec);
    });
    return *loaded;
  }();
  return base;
}

}  // namespace metalgate::check
