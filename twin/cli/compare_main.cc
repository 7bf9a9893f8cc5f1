// metalgate-compare: users reach it as `metalgate compare SCENARIO.yaml [--out DIR] [--seed N]`. Runs the
// scenario in the simulator (metalgate-sim) and then live (metalgate-netns), one after the other so neither
// takes CPU from the other, and compares their result.json (scenario/compare): compare.json and
// compare.html in DIR. Exit 0 when the worlds agree, 1 when they do not, 2 when a world could not run.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "scenario/compare/compare.h"
#include "scenario/schema/loader.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Runs `executable` (next to this one) with `args`; its exit code, or -1 when it could not start.
int run_world(const std::string& executable, std::vector<std::string> args) {
  std::error_code ec;
  const fs::path path = fs::read_symlink("/proc/self/exe", ec).parent_path() / executable;
  if (ec || ::access(path.c_str(), X_OK) != 0) {
    std::cerr << "metalgate compare: " << executable
              << " is not next to this program; both worlds are needed\n";
    return -1;
  }
  args.insert(args.begin(), path.string());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::optional<json> read_result(const std::string& file) {
  std::ifstream in(file);
  auto parsed = json::parse(in, nullptr, false);
  if (!in.good() && parsed.is_discarded()) return std::nullopt;
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

// Runs one world into OUT/DIR; its result.json, or nullopt when it could not run (exit 2, or none written).
std::optional<json> run_into(const std::string& executable, std::vector<std::string> args,
                             const std::string& dir) {
  args.insert(args.end(), {"--out", dir});
  const int code = run_world(executable, args);
  if (code < 0 || code > 1) return std::nullopt;
  return read_result(dir + "/result.json");
}

void print(const json& c) {
  for (const auto& k : c["classes"])
    if (!k["agree"].get<bool>())
      std::cout << "  differs: " << k["client"].get<std::string>() << " " << k["request"].get<std::string>()
                << ": pods " << k["simulated"].dump() << " simulated, " << k["live"].dump() << " live\n";
  for (const auto& f : c["failovers"])
    std::cout << "  failover (" << f["cause"].get<std::string>() << " at " << f["fault_at_ms"]
              << " ms): " << f["simulated_ms"].dump() << " ms simulated, " << f["live_ms"].dump()
              << " ms live"
              << (f.contains("live_runs_ms") ? " (median of " + f["live_runs_ms"].dump() + ")" : "")
              << (f["agree"].get<bool>() ? "" : "  <- differs") << "\n";
  for (const auto& e : c["expectations"])
    if (!e["agree"].get<bool>())
      std::cout << "  differs: expectation " << e["name"].get<std::string>() << ": " << e["simulated"].dump()
                << " simulated, " << e["live"].dump() << " live\n";
  std::cout << (c["agree"].get<bool>() ? "  the worlds agree\n" : "  the worlds DISAGREE\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Run a scenario in the simulator and on real network namespaces and compare the two; exit 0 "
      "when they agree, 1 when not, 2 when a world could not run",
      "metalgate compare"};
  std::string scenario_file, out_dir;
  std::optional<std::uint64_t> seed;
  app.add_option("scenario", scenario_file, "Scenario YAML file")->required();
  app.add_option("--out", out_dir, "Where both worlds' outputs, compare.json and compare.html go");
  app.add_option("--seed", seed, "Run both worlds with this seed instead of the scenario's");
  int live_runs = 1, more_runs = -1;
  app.add_option(
         "--live-runs", live_runs,
         "Run the live world this many times (live/, live-2/, …): pods and verdicts must agree in each, "
         "the simulated failover must lie within the live runs' range")
      ->check(CLI::Range(1, 20));
  app.add_option("--more-live-runs", more_runs,
                 "When only a failover time lies outside the live range, run up to this many more live runs "
                 "to widen it (default: twice --live-runs when that is over 1, else none)")
      ->check(CLI::Range(0, 20));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  metalgate::config::Diagnostics d;
  const auto s = metalgate::scenario::load_scenario(scenario_file, d);
  if (d.has_errors()) {
    std::cerr << d.to_string() << "metalgate compare: nothing ran\n";
    return 2;
  }
  if (out_dir.empty()) out_dir = "compare-out/" + s.name;
  std::vector<std::string> common = {scenario_file, "--quiet"};
  if (seed) common.insert(common.end(), {"--seed", std::to_string(*seed)});
  std::cout << "simulated:\n" << std::flush;
  const auto sim = run_into("metalgate-sim", common, out_dir + "/simulated");
  if (more_runs < 0) more_runs = live_runs > 1 ? 2 * live_runs : 0;
  std::vector<json> lives;
  json c;
  bool could_not_run = !sim;
  for (int run = 1; sim && run <= live_runs + more_runs; ++run) {
    if (run > live_runs) {
      if (!metalgate::scenario::only_failover_range_differs(c)) break;
      std::cout << "only a failover time lies outside the " << lives.size()
                << " live runs' range: one more run to widen it\n";
    }
    std::cout << "live" << (live_runs + more_runs > 1 ? " run " + std::to_string(run) : "") << ":\n"
              << std::flush;
    auto live =
        run_into("metalgate-netns", common, out_dir + "/live" + (run > 1 ? "-" + std::to_string(run) : ""));
    if (!live) {
      could_not_run = true;
      break;
    }
    lives.push_back(std::move(*live));
    if (run >= live_runs) c = metalgate::scenario::compare_results(s, *sim, lives);
  }
  if (could_not_run) {
    std::cerr << "metalgate compare: a world could not run or wrote no result.json\n";
    return 2;
  }
  std::ofstream(out_dir + "/compare.json") << c.dump(2) << "\n";
  std::ofstream(out_dir + "/compare.html") << metalgate::scenario::compare_html(c);
  std::cout << "compared " << s.name << ":\n";
  print(c);
  std::cout << "  wrote " << out_dir << "/compare.json and compare.html\n";
  return c["agree"].get<bool>() ? 0 : 1;
}
