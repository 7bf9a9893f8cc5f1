// metalgate-netns: users reach it as `metalgate netns ARGS...`; run directly, it behaves the same. The live
// twin's app processes are this executable too (`metalgate-netns app SPEC.json`, started by a run).
#include <CLI/CLI.hpp>
#include <cstring>

#include "twin/apps/app_spec.h"
#include "twin/cli/netns_command.h"

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "app") == 0) return metalgate::twin::run_app(argv[2]);
  CLI::App app{
      "Run a scenario (LAN, nodes, manifests, clients, faults, expectations) on real network "
      "namespaces with metalgate serve on every node; exit 0 when every expectation holds, 1 when not, "
      "2 on bad input or without root",
      "metalgate netns"};
  app.set_version_flag("--version", std::string("metalgate-netns ") + METALGATE_VERSION);
  metalgate::twin::NetnsCommandOptions o;
  app.add_option("scenario", o.scenario, "Scenario YAML file");
  app.add_option("--out", o.out_dir,
                 "Where result.json, junit.xml and report.html go (default netns-out/<name>)");
  app.add_option("--seed", o.seed, "Run with this seed instead of the scenario's");
  app.add_flag("--quiet", o.quiet, "No progress line");
  app.add_flag("--pcap", o.pcap, "Write a pcap file per host link into OUT/pcap/");
  app.add_flag("--cleanup", o.cleanup,
               "Remove the namespaces and processes of runs whose process is gone, and nothing else");
  try {
    app.parse(argc, argv);
    if (!o.cleanup && o.scenario.empty()) throw CLI::RequiredError("scenario");
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return metalgate::twin::run_netns_command(o);
}
