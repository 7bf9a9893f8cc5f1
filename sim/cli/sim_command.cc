#include "sim/cli/sim_command.h"

#include <chrono>
#include <filesystem>
#include <iostream>

#include "scenario/report/outputs.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/scenario.h"

namespace metalgate::sim {

namespace {

double round_to_tenth(double s) {
  return static_cast<double>(static_cast<long>(s * 10 + 0.5)) / 10.0;
}

}  // namespace

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
  scenario::write_run_outputs(out_dir, r.result);

  const auto& res = r.result;
  std::cout << "scenario " << res["scenario"].get<std::string>() << " (seed " << res["seed"]
            << "): " << s.duration.count() / 1000.0 << " s simulated in "
            << static_cast<int>(wall * 100) / 100.0 << " s ("
            << static_cast<int>(s.duration.count() / 1000.0 / std::max(wall, 1e-3) * 10) / 10.0
            << "x real time; " << round_to_tenth(r.wall.setup_s) << " s set-up, "
            << round_to_tenth(r.wall.simulation_s) << " s simulating, " << round_to_tenth(r.wall.after_s)
            << " s collecting, judging and reporting)\n";
  scenario::print_run_summary(std::cout, res);
  std::cout << "  wrote " << out_dir << "/result.json, junit.xml and report.html"
            << (ro.pcap_directory.empty() ? "" : ", pcap/") << "\n";
  if (!r.passed)
    std::cout << "  replay: metalgate sim " << options.scenario << " --seed " << res["seed"] << "\n";
  return r.passed ? 0 : 1;
}

}  // namespace metalgate::sim
