// metalgate-sim: the simulator's executable. Users reach it as `metalgate sim ARGS...` (the daemon execs it,
// so a node that only serves traffic needs no ns-3); run directly, it behaves the same.
#include <CLI/CLI.hpp>

#include "sim/cli/sim_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Run a scenario (LAN, nodes, manifests, clients, faults, expectations) in the simulated LAN; "
               "exit 0 when every expectation holds, 1 when not, 2 on bad input",
               "metalgate sim"};
  app.set_version_flag("--version", std::string("metalgate-sim ") + METALGATE_VERSION);

  metalgate::sim::SimCommandOptions sim;
  app.add_option("scenario", sim.scenario, "Scenario YAML file")->required();
  app.add_option("--out", sim.out_dir, "Where result.json and junit.xml go (default sim-out/<name>)");
  app.add_option("--seed", sim.seed, "Run with this seed instead of the scenario's");
  app.add_flag("--quiet", sim.quiet, "No progress line");
  app.add_flag("--pcap", sim.pcap, "Write a pcap file per host link into OUT/pcap/");
  app.add_flag("--debug", sim.debug, "Log every engine's debug events to stderr, stamped with simulated time");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help and --version exit 0; usage errors 2
  }
  return metalgate::sim::run_sim_command(sim);
}
