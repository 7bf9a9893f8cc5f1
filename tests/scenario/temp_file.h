// What the scenario tests share: a scenario (or manifest) text written to a file of this process's own temp
// directory, since the loader reads paths. The pid keeps concurrent test processes apart.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace metalgate::scenario::testing {

inline std::string write_temp(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / ("metalgate-scenario-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

}  // namespace metalgate::scenario::testing
