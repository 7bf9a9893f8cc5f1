// Runs a scenario in ns-3: builds the switched LAN, starts metalgate's node engine (speaker, proxy) on every
// node, the pods of the backends and the clients, applies the faults at their times and samples VIP
// ownership; the shared scenario layer judges the observations and builds the result. The result is plain
// data (result.json), identical for identical seeds: nothing in it depends on the wall clock.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/diagnostics.h"
#include "engine/runtime/log.h"
#include "scenario/observe/observations.h"
#include "scenario/report/junit.h"
#include "sim/scenario/scenario.h"

namespace metalgate::sim {

struct RunOptions {
  std::optional<std::uint64_t> seed;                       // overrides the scenario's
  std::function<void(double simulated_seconds)> progress;  // called about every simulated second
  runtime::LogLevel log_level = runtime::LogLevel::kWarning;
  std::string
      pcap_directory;  // non-empty: a pcap per host link there (also when the scenario asks, lan.pcap)
};

struct RunResult {
  nlohmann::json result;  // the result.json document; null when the run did not start
  bool passed = false;
  // Every client's requests, as the judges read them (result.json keeps only the failures): for those who
  // look at each request, as the Python module's DataFrame does.
  std::vector<scenario::observe::RequestRecord> requests;
  // Where the wall time went, in seconds: loading the manifests, building the LAN and starting everything;
  // ns-3 running the simulated time; and the rest (collecting stats, tearing down, judging, the document).
  // What a bare ns-3 program moving the same frames costs is the floor of the second (reports/sim-speed.md).
  struct WallTime {
    double setup_s = 0, simulation_s = 0, after_s = 0;
  } wall;
};

// Diagnostics get errors for manifests that do not load, a node that cannot start (at the node's line) and a
// fault kind the simulator has no action for; the run does not start then.
RunResult run_scenario(const Scenario& scenario, const RunOptions& options, config::Diagnostics& diagnostics);

// JUnit XML for CI systems: one test case per expectation.
using scenario::junit_xml;

}  // namespace metalgate::sim
