// Runs a scenario on real network namespaces: builds the LAN, starts the pods, the daemons (one `metalgate
// serve` per node) and the clients, applies the faults at their times in real time and samples who claims
// each VIP every 100 ms from the daemons' admin sockets ("show claims": what each speaker answers ARP/NDP
// for, the simulator's source too). The shared scenario layer judges the observations and builds result.json,
// with "world": "live".
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/config/diagnostics.h"
#include "scenario/schema/scenario-t.h"

namespace metalgate::twin {

struct LiveRunOptions {
  std::optional<std::uint64_t> seed;  // overrides the scenario's (the clients' draws, the daemons' --seed)
  std::string run_dir;                // where the processes' specs, sockets, records and logs go
  std::string metalgate;              // the daemon's binary
  std::string self;                   // metalgate-netns
  std::string pcap_directory;
  bool progress = true;  // a progress line on stderr every second
  // Set from a signal handler: the run stops at the next step, everything is torn down.
  const std::atomic<bool>* interrupted = nullptr;
};

struct LiveRunResult {
  nlohmann::json result;  // null when the run did not start or was interrupted
  bool passed = false;
  bool interrupted = false;
};

// Diagnostics get errors for manifests that do not load, a LAN that cannot be built (no privileges) and a
// node whose daemon exits at start (with its log's last lines).
LiveRunResult run_live_scenario(const scenario::Scenario& scenario, const LiveRunOptions& options,
                                config::Diagnostics& diagnostics);

}  // namespace metalgate::twin
