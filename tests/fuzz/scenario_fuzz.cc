// libFuzzer target for the scenario loader (scenario::load_scenario): arbitrary text as a scenario file. The
// loader reads a path, so each input is written to one file in a private temp directory first. Nothing may
// crash or let an exception escape, and every diagnostic must say something. The loader only parses and
// checks (manifest paths are checked for existence, not read), so it needs no world: scenario/schema and
// scenario/kinds (with the judges the expectation table names) link with the engine's YAML reader,
// diagnostics, durations, addresses and membership timing checks.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "scenario/schema/loader.h"

using namespace metalgate;

static void check(bool ok) {
  if (!ok) std::abort();
}

static const std::string& scenario_path() {
  static const std::string path = [] {
    const char* base = std::getenv("TMPDIR");
    std::string dir = std::string(base && *base ? base : "/tmp") + "/metalgate-scenario-fuzz.XXXXXX";
    if (!mkdtemp(dir.data())) std::abort();
    std::string p = dir + "/scenario.yaml";
    return p;
  }();
  return path;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = scenario_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  check(f != nullptr);
  check(std::fwrite(data, 1, size, f) == size);
  check(std::fclose(f) == 0);
  config::Diagnostics d;
  auto loaded = scenario::load_scenario(path, d);
  (void)loaded;
  for (const auto& diagnostic : d.items()) {
    check(!diagnostic.message.empty());
    check(!diagnostic.to_string().empty());
  }
  (void)d.to_string();
  return 0;
}
