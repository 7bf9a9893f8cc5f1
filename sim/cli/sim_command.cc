#include "sim/cli/sim_command.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "scenario/report/html_report.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/scenario.h"

namespace metalgate::sim {

int run_sim_command(const SimCommandOptions& options) {
  config::Diagnostics d;
  Scenario s = load_scenario(options.scenario, d);
  if (d.has_errors()) {
    std::cerr << d.to_string() << "metalgate sim: " << d.error_count() << " error(s); nothing ran\n";
    return 2;
  }
  RunOptions ro;
  ro.seed = options.seed;
  if (options.debug) ro.log_level = runtime::LogLevel::kDebug;
  std::string out_dir = options.out_dir.empty() ? "sim-out/" + s.name : options.out_dir;
  if (options.pcap || s.pcap) {
    ro.pcap_directory = out_dir + "/pcap";
    std::filesystem::create_directories(ro.pcap_directory);
  }
  const auto wall_start = std::chrono::steady_clock::now();
  if (!options.quiet)
    ro.progress = [&](double sim_s) {
      double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
      std::cerr << "\r  simulated " << static_cast<int>(sim_s) << " s of " << s.duration.count() / 1000
                << " s (" << static_cast<int>(wall * 10) / 10.0 << " s wall)" << std::flush;
    };
  RunResult r = run_scenario(s, ro, d);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (!options.quiet) std::cerr << "\n";
  if (d.has_errors() || r.result.is_null()) {
    std::cerr << d.to_string() << "metalgate sim: the scenario could not run\n";
    return 2;
  }
  // Choices the configuration left to a rule (conflicting settings) are said, as validate says them.
  for (const auto& w : r.result["warnings"])
    std::cerr << w.get<std::string>() << "\n";
  std::filesystem::create_directories(out_dir);
  std::ofstream(out_dir + "/result.json") << r.result.dump(2) << "\n";
  std::ofstream(out_dir + "/junit.xml") << junit_xml(r.result);
  std::ofstream(out_dir + "/report.html") << scenario::html_report(r.result);

  const auto& res = r.result;
  std::cout << "scenario " << res["scenario"].get<std::string>() << " (seed " << res["seed"]
            << "): " << s.duration.count() / 1000.0 << " s simulated in "
            << static_cast<int>(wall * 100) / 100.0 << " s ("
            << static_cast<int>(s.duration.count() / 1000.0 / std::max(wall, 1e-3) * 10) / 10.0
            << "x real time)\n";
  const auto& q = res["requests"];
  std::cout << "  requests: " << q["ok"] << "/" << q["total"] << " ok, p50 " << q["p50_ms"] << " ms, p99 "
            << q["p99_ms"] << " ms\n";
  for (const auto& f : res["failovers"])
    std::cout << "  failover of " << f["vip"].get<std::string>() << " from " << f["node"].get<std::string>()
              << " (" << f["cause"].get<std::string>() << " at "
              << f["fault_at_ms"].get<std::int64_t>() / 1000.0 << " s): "
              << (f["failover_ms"].get<std::int64_t>() < 0
                      ? std::string("never recovered")
                      : std::to_string(f["failover_ms"].get<std::int64_t>()) + " ms")
              << "\n";
  for (const auto& e : res["expectations"])
    std::cout << "  " << (e["passed"].get<bool>() ? "PASS" : "FAIL") << " " << e["name"].get<std::string>()
              << ": measured " << e["measured"].dump() << ", bound " << e["bound"].dump() << "\n";
  std::cout << "  wrote " << out_dir << "/result.json, junit.xml and report.html"
            << (ro.pcap_directory.empty() ? "" : ", pcap/") << "\n";
  if (!r.passed)
    std::cout << "  replay: metalgate sim " << options.scenario << " --seed " << res["seed"] << "\n";
  return r.passed ? 0 : 1;
}

}  // namespace metalgate::sim
