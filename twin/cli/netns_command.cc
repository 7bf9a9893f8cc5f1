#include "twin/cli/netns_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "scenario/report/outputs.h"
#include "scenario/schema/loader.h"
#include "twin/lan/netns_lan.h"
#include "twin/scenario/runner.h"

namespace metalgate::twin {

namespace {

namespace fs = std::filesystem;

std::atomic<bool> interrupted{false};
std::atomic<int> interrupting_signal{0};

void on_signal(int signal) {
  interrupting_signal = signal;
  interrupted = true;
}

// Root, or CAP_NET_ADMIN and CAP_SYS_ADMIN (namespaces are made and mounted): read off /proc/self/status.
bool has_privileges() {
  if (::geteuid() == 0) return true;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("CapEff:", 0) == 0) {
      const unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
      return (caps >> 12 & 1) && (caps >> 21 & 1);
    }
  return false;
}

// metalgate and this executable, side by side (a build tree or an install).
bool find_binaries(LiveRunOptions& ro) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  ro.self = self.string();
  ro.metalgate = (self.parent_path() / "metalgate").string();
  return !ec && ::access(ro.metalgate.c_str(), X_OK) == 0;
}

int report(const NetnsCommandOptions& options, const scenario::Scenario& s, const LiveRunResult& r,
           const std::string& out_dir) {
  for (const auto& w : r.result["warnings"])
    std::cerr << w.get<std::string>() << "\n";
  scenario::write_run_outputs(out_dir, r.result);
  const auto& res = r.result;
  std::cout << "scenario " << res["scenario"].get<std::string>() << " (seed " << res["seed"]
            << "): " << s.duration.count() / 1000.0 << " s live on network namespaces\n";
  scenario::print_run_summary(std::cout, res);
  std::cout << "  wrote " << out_dir << "/result.json, junit.xml and report.html; the processes' logs in "
            << out_dir << "/run/\n";
  if (!r.passed)
    std::cout << "  again: metalgate netns " << options.scenario << " --seed " << res["seed"]
              << " (live runs are not deterministic: metalgate sim replays a seed exactly)\n";
  return r.passed ? 0 : 1;
}

}  // namespace

int run_netns_command(const NetnsCommandOptions& options) {
  if (!has_privileges()) {
    std::cerr << "metalgate netns: building a LAN of network namespaces needs root (CAP_NET_ADMIN and "
                 "CAP_SYS_ADMIN); without them, run the same scenario in the simulator: metalgate sim "
              << (options.scenario.empty() ? "SCENARIO.yaml" : options.scenario) << "\n";
    return 2;
  }
  if (options.cleanup) {
    const int removed = NetnsLan::cleanup_stale(std::cout);
    std::cout << "metalgate netns --cleanup: removed " << removed << " namespace(s) of runs that are gone\n";
    return 0;
  }
  config::Diagnostics d;
  scenario::Scenario s = scenario::load_scenario(options.scenario, d);
  if (d.has_errors()) {
    std::cerr << d.to_string() << "metalgate netns: " << d.error_count() << " error(s); nothing ran\n";
    return 2;
  }
  const std::string out_dir = options.out_dir.empty() ? "netns-out/" + s.name : options.out_dir;
  LiveRunOptions ro;
  if (!find_binaries(ro)) {
    std::cerr << "metalgate netns: the daemon is not next to " << ro.self << " (metalgate)\n";
    return 2;
  }
  ro.seed = options.seed;
  ro.run_dir = fs::absolute(out_dir + "/run").string();
  fs::remove_all(ro.run_dir);
  if (options.pcap || s.pcap) ro.pcap_directory = fs::absolute(out_dir + "/pcap").string();
  ro.progress = !options.quiet;
  ro.interrupted = &interrupted;
  ::signal(SIGINT, on_signal);
  ::signal(SIGTERM, on_signal);
  LiveRunResult r = run_live_scenario(s, ro, d);
  if (r.interrupted || interrupted) {
    std::cerr << "\nmetalgate netns: interrupted; every namespace and process of the run is gone\n";
    return 128 + interrupting_signal.load();
  }
  if (d.has_errors() || r.result.is_null()) {
    std::cerr << d.to_string() << "metalgate netns: the scenario could not run\n";
    return 2;
  }
  return report(options, s, r, out_dir);
}

}  // namespace metalgate::twin
