// The metalgate command line.
#include <CLI/CLI.hpp>
#include <iostream>

#include "engine/cli/validate.h"

int main(int argc, char** argv) {
  CLI::App app{
      "metalgate: service addresses announced over ARP/NDP (MetalLB Layer 2) and an L4/L7 proxy behind them "
      "(HAProxy Kubernetes Ingress), configured with Kubernetes manifests"};
  app.set_version_flag("--version", std::string("metalgate ") + METALGATE_VERSION);
  app.require_subcommand(1);

  metalgate::cli::ValidateOptions validate;
  auto* v = app.add_subcommand("validate",
                               "Load manifests, print the resolved model (addresses, routes, L4 maps) "
                               "and every problem; exit 0 when valid, 1 when not");
  v->add_option("paths", validate.paths, "Manifest files or directories (*.yaml, *.yml, recursively)")
      ->required();
  v->add_flag("--json", validate.json, "Print the model as JSON");
  v->add_option("--state", validate.state_file, "Allocation state file whose addresses services keep");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help and --version exit 0; usage errors 2
  }
  if (v->parsed()) return metalgate::cli::run_validate(validate, std::cout, std::cerr);
  return 2;
}
