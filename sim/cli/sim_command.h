// `metalgate sim SCENARIO.yaml` (the metalgate-sim executable): runs a scenario in the simulated LAN, prints
// a summary, writes result.json and junit.xml. Exit 0 when every expectation holds, 1 when one does not, 2 on
// invalid input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace metalgate::sim {

struct SimCommandOptions {
  std::string scenario;
  std::string out_dir;  // default: sim-out/<scenario name>
  std::optional<std::uint64_t> seed;
  bool quiet = false;
  bool pcap = false;   // a pcap per host link in <out>/pcap/ (also when the scenario sets lan.pcap)
  bool debug = false;  // the engines' debug logs on stderr
};

int run_sim_command(const SimCommandOptions& options);

}  // namespace metalgate::sim
