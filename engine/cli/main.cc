// The metalgate command line.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "engine/cli/serve.h"
#include "engine/cli/validate.h"

namespace {

namespace fs = std::filesystem;

// The simulator, the live twin and the comparison of the two are executables of their own, as git runs
// git-foo: the daemon links neither ns-3 nor the twin's netlink code, so a node that only serves traffic
// needs neither installed.
struct Companion {
  const char* command;      // metalgate COMMAND
  const char* executable;   // what it execs
  const char* missing;      // what to say when that is not found
  const char* description;  // for --help
};

constexpr Companion kCompanions[] = {
    {"sim", "metalgate-sim", "it is built when ns-3 3.37 is present — install-deps.sh installs libns3-dev",
     "Run a scenario (LAN, nodes, manifests, clients, faults, expectations) in the simulated LAN; exit 0 "
     "when "
     "every expectation holds, 1 when not, 2 on bad input"},
    {"netns", "metalgate-netns", "it is built with libnl-3 — install-deps.sh installs libnl-route-3-dev",
     "Run a scenario on real network namespaces, with metalgate serve on every node (root); exit as sim "
     "does"},
    {"check", "metalgate-check",
     "it is built with the simulator and RapidCheck — install-deps.sh installs libns3-dev and "
     "librapidcheck-dev",
     "Search for failures: properties checked on cases generated around a scenario, in the simulator; a "
     "failure is shrunk and written as a scenario that metalgate sim replays; exit 1 on a failure"},
    {"compare", "metalgate-compare", "it is built with metalgate-netns",
     "Run a scenario in the simulator and on network namespaces and compare the two (root); exit 1 on any "
     "disagreement"},
};

// A subcommand per companion: everything after its word goes to the executable unchanged, --help included.
std::vector<CLI::App*> add_companion_commands(CLI::App& app) {
  std::vector<CLI::App*> out;
  for (const auto& c : kCompanions) {
    out.push_back(app.add_subcommand(c.command, c.description));
    out.back()->set_help_flag();
    out.back()->prefix_command();
  }
  return out;
}

bool is_executable_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// `name` next to the running binary (a build tree or an install), else on PATH; nullopt if neither.
std::optional<fs::path> find_companion(const fs::path& own_dir, const std::string& name) {
  if (!own_dir.empty() && is_executable_file(own_dir / name)) return own_dir / name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    fs::path dir = dirs.substr(start, end - start);
    if (!dir.empty() && is_executable_file(dir / name)) return dir / name;
    start = end + 1;
  }
  return std::nullopt;
}

// Replaces this process with `EXECUTABLE ARGS...`; returns (exit code 2) only when that cannot happen.
int exec_companion(const Companion& c, const std::vector<std::string>& args) {
  std::error_code ec;
  const fs::path own_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  const std::optional<fs::path> found = find_companion(own_dir, c.executable);
  if (!found) {
    std::cerr << "metalgate " << c.command << ": not installed (" << c.executable << " not found next to "
              << (own_dir.empty() ? std::string("this binary") : own_dir.string()) << " or on PATH); "
              << c.missing << "\n";
    return 2;
  }
  std::vector<std::string> owned{found->string()};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : owned)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  std::cerr << "metalgate " << c.command << ": cannot run " << owned[0] << ": " << std::strerror(errno)
            << "\n";
  return 2;
}

}  // namespace

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

  metalgate::cli::ServeOptions serve;
  auto* s = app.add_subcommand("serve",
                               "Run this node live: announce the manifests' LoadBalancer addresses over "
                               "ARP/NDP (MetalLB Layer 2) with the other nodes given as peers, and proxy "
                               "HTTP(S) to the Ingress backends");
  s->add_option("--manifests", serve.manifests, "Manifest files or directories")->required();
  s->add_option("--node", serve.node, "This node's name (as in Node objects and nodeSelectors)");
  s->add_option("--interface", serve.interfaces, "Interface to announce on (repeatable)");
  s->add_option("--bind", serve.bind, "Membership address of this node, ip:port");
  s->add_flag("--no-speaker", serve.no_speaker, "Proxy only: announce nothing (needs no privileges)");
  s->add_flag("--no-proxy", serve.no_proxy,
              "Speaker only: run no ingress controller (LoadBalancer Services' ports are still forwarded, a "
              "Cluster controller's to the nodes running it)");
  s->add_option("--listen", serve.listen,
                "Address the HTTP(S) frontends and ConfigMap TCP/UDP services bind besides the controller "
                "Service's addresses (0.0.0.0: every address, and only that)");
  s->add_option("--http-port", serve.http_port, "HTTP frontend port (default: the values' or 80)");
  s->add_option("--https-port", serve.https_port, "HTTPS frontend port (default: the values' or 443)");
  s->add_option("--stats-port", serve.stats_port,
                "Stats page port when the values enable it (default: stats.port, else 1024)");
  s->add_option("--metrics-port", serve.metrics_port,
                "Prometheus /metrics port when the values enable it (default: the values' port, else 9101)");
  s->add_option("--access-log", serve.access_log, "Where access log lines go: a file, - for stdout, or off");
  s->add_option("--threads", serve.threads, "Proxy event loops (default: the ConfigMap's nbthread, else 1)")
      ->check(CLI::Range(1, 256));
  s->add_option("--peer", serve.peers, "Membership address of another node, ip:port (repeatable)");
  s->add_option("--probe-interval", serve.probe_interval, "Membership probe period (default 30ms)");
  s->add_option("--probe-timeout", serve.probe_timeout,
                "Direct ack wait, shorter than the period (default 12ms)");
  s->add_option("--suspicion-timeout", serve.suspicion_timeout,
                "Time a suspect has to refute (default 60ms)");
  s->add_option("--join-grace", serve.join_grace,
                "Longest listening before claiming at start (default 250ms)");
  s->add_option("--announce-refresh", serve.announce_refresh,
                "Announce owned addresses again this often after a burst (default 0: never)");
  s->add_option(
      "--handover", serve.handover,
      "After a node leaves gracefully, how long the node taking its addresses sends it the segments "
      "of the connections it is finishing (default 35s; 0: never, they are reset)");
  s->add_option("--grace", serve.grace,
                "On SIGTERM, how long requests in flight may take to finish (default 30s; 0: exit at once)");
  s->add_option("--pod", serve.pods,
                "Where a Deployment's pod runs, NAME=IP[@NODE] (repeatable), for manifests without "
                "Endpoints");
  s->add_option("--vip-interface", serve.vip_interface, "Where service addresses go (default lo)");
  s->add_option("--state", serve.state_file, "Allocation state file whose addresses services keep");
  s->add_option("--admin-socket", serve.admin_socket,
                "Unix socket for `metalgate ctl` (mode 0600, root only; default: none)");
  s->add_option("--seed", serve.seed, "Seed for this node's randomness");
  s->add_flag("--debug", serve.debug, "Log at debug level");

  std::string ctl_socket = "/run/metalgate/admin.sock";
  std::vector<std::string> ctl_words;
  auto* c = app.add_subcommand("ctl",
                               "Send one command to a serving node's admin socket and print the answer "
                               "(`metalgate ctl help` lists them); exit 1 on an error answer");
  c->add_option("--socket", ctl_socket, "The node's --admin-socket (default /run/metalgate/admin.sock)");
  c->add_option("command", ctl_words, "The command, e.g. show servers state")->required();

  const std::vector<CLI::App*> companions = add_companion_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help and --version exit 0; usage errors 2
  }
  if (v->parsed()) return metalgate::cli::run_validate(validate, std::cout, std::cerr);
  if (s->parsed()) return metalgate::cli::run_serve(serve);
  if (c->parsed()) return metalgate::cli::run_ctl(ctl_socket, ctl_words);
  for (std::size_t i = 0; i < companions.size(); ++i)
    if (companions[i]->parsed()) return exec_companion(kCompanions[i], companions[i]->remaining());
  return 2;
}
