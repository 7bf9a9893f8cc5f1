// metalgate-check: users reach it as `metalgate check SCENARIO.yaml [--cases N] [--seed S] [--property NAME]
// [--jobs N] [--out DIR]`. Searches for failures of the properties (check/properties/) in cases generated
// around the user's scenario: their manifests, pods and clients, with generated topologies, client mixes
// and fault histories. Exit 0 when every property held, 1 when one failed (its smallest case is written as a
// scenario file, with the command that replays it), 2 on bad input.
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "check/case/from_manifests.h"
#include "check/case/reload_manifests.h"
#include "check/generate/generated_base.h"
#include "check/run/checker.h"

namespace {

// What the scenario argument is when --generate stands for it.
constexpr const char* kGenerated = "--generate";

using metalgate::check::CheckOptions;
using metalgate::check::Property;
using metalgate::check::PropertyOutcome;
using nlohmann::json;

json to_json(const PropertyOutcome& o) {
  return {{"property", o.property},
          {"passed", o.passed},
          {"in_memory", o.in_memory},
          {"cases", o.cases},
          {"shrink_runs", o.shrink_runs},
          {"seconds", o.seconds},
          {"counterexample", o.counterexample},
          {"failure", o.failure}};
}

PropertyOutcome from_json(const json& j) {
  PropertyOutcome o;
  o.property = j["property"];
  o.passed = j["passed"];
  o.in_memory = j["in_memory"];
  o.cases = j["cases"];
  o.shrink_runs = j["shrink_runs"];
  o.seconds = j["seconds"];
  o.counterexample = j["counterexample"];
  o.failure = j["failure"];
  return o;
}

// On a terminal: one line rewritten after every case.
void show_progress(std::string_view property, int passed, int shrink_runs, bool failed) {
  std::cerr << "\r  " << property << ": " << passed << " cases held"
            << (failed ? ", FAILED; shrinking (" + std::to_string(shrink_runs) + " runs)" : "") << "\033[K"
            << std::flush;
}

std::vector<PropertyOutcome> check_all(const metalgate::check::Base& base,
                                       const std::vector<const Property*>& chosen, const CheckOptions& o) {
  std::vector<PropertyOutcome> outcomes;
  for (const Property* p : chosen) {
    outcomes.push_back(metalgate::check::check_property(base, *p, o));
    if (o.progress) std::cerr << "\r\033[K";
  }
  return outcomes;
}

// `jobs` processes, each with its share of the cases and its own seed (seed + job): the simulator is one per
// process. Each job writes its outcomes as JSON lines into a pipe.
std::vector<std::vector<PropertyOutcome>> run_jobs(const metalgate::check::Base& base,
                                                   const std::vector<const Property*>& chosen,
                                                   const CheckOptions& o, int jobs) {
  std::vector<std::pair<pid_t, int>> children;
  for (int j = 0; j < jobs; ++j) {
    int fds[2];
    if (::pipe(fds) != 0) break;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      CheckOptions mine = o;
      mine.seed = o.seed + static_cast<std::uint64_t>(j);
      mine.cases = o.cases / jobs + (j < o.cases % jobs ? 1 : 0);
      mine.out_dir = o.out_dir + "/job-" + std::to_string(j + 1);
      mine.progress = nullptr;
      std::string lines;
      for (const auto& outcome : check_all(base, chosen, mine))
        lines += to_json(outcome).dump() + "\n";
      const ssize_t written = ::write(fds[1], lines.data(), lines.size());
      ::_exit(written == static_cast<ssize_t>(lines.size()) ? 0 : 3);
    }
    ::close(fds[1]);
    children.emplace_back(pid, fds[0]);
  }
  std::vector<std::vector<PropertyOutcome>> per_job;
  for (auto [pid, fd] : children) {
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
      text.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    ::waitpid(pid, nullptr, 0);
    std::istringstream lines(text);
    per_job.emplace_back();
    for (std::string line; std::getline(lines, line);)
      per_job.back().push_back(from_json(json::parse(line)));
  }
  return per_job;
}

// The chosen properties, or every property but the deliberately failing ones; nullopt on an unknown name.
std::optional<std::vector<const Property*>> choose(const std::vector<std::string>& names) {
  std::vector<const Property*> chosen;
  for (const auto& name : names) {
    const Property* p = metalgate::check::find_property(name);
    if (!p) {
      std::cerr << "metalgate check: --property " << name
                << ": no such property; one of: " << metalgate::check::property_names() << "\n";
      return std::nullopt;
    }
    chosen.push_back(p);
  }
  if (names.empty())
    for (const auto& p : metalgate::check::properties())
      if (!p.deliberately_failing) chosen.push_back(&p);
  return chosen;
}

void report(const PropertyOutcome& o, const std::string& again) {
  if (o.passed) {
    std::cout << "  " << o.property << ": held in " << o.cases << " cases (" << std::lround(o.seconds)
              << " s)\n";
    return;
  }
  std::cout << "  " << o.property << ": FAILED after " << o.cases << " cases held; shrunk in "
            << o.shrink_runs << " runs (" << std::lround(o.seconds) << " s)\n"
            << "    " << o.failure << "\n"
            << "    the smallest case: " << o.counterexample << "\n";
  // An in-memory property's counterexample is RapidCheck's (text): the same seed draws it again.
  if (!o.in_memory) std::cout << "    replay it: metalgate sim " << o.counterexample << "\n";
  std::cout << "    " << (o.in_memory ? "replay it" : "search again") << ": " << again << " --property "
            << o.property << "\n";
}

// The base: the scenario file; with --manifests one built for them and written as OUT/base.yaml; with
// --generate one drawn from the seed, written under OUT/generated/.
std::optional<metalgate::check::Base> load_only(const std::string& file, const std::string& manifests,
                                                const CheckOptions& o, metalgate::config::Diagnostics& d) {
  if (file == kGenerated)
    return metalgate::check::load_base(
        metalgate::check::write_generated_base(o.seed, o.out_dir + "/generated"), d);
  if (manifests.empty()) return metalgate::check::load_base(file, d);
  const auto text = metalgate::check::scenario_for_manifests(manifests, d);
  if (!text) return std::nullopt;
  std::filesystem::create_directories(o.out_dir);
  const std::string path = o.out_dir + "/base.yaml";
  std::ofstream(path) << *text;
  return metalgate::check::load_base_text(*text, path, d);
}

// The base, with the manifests its cases' reloads add written under OUT/reload/.
std::optional<metalgate::check::Base> load(const std::string& file, const std::string& manifests,
                                           const CheckOptions& o, metalgate::config::Diagnostics& d) {
  auto base = load_only(file, manifests, o, d);
  std::string error;
  if (base && !metalgate::check::write_reload_manifests(*base, o.out_dir + "/reload", error)) {
    d.error({}, "--out", error);
    return std::nullopt;
  }
  return base;
}

int run_check(const std::string& scenario, const std::string& manifests,
              const std::vector<std::string>& names, std::optional<std::uint64_t> seed, int jobs,
              CheckOptions o) {
  metalgate::config::Diagnostics d;
  o.seed = seed ? *seed : std::random_device{}();
  const auto base = load(scenario, manifests, o, d);
  const std::string file = !manifests.empty() ? "--manifests " + manifests : scenario;
  if (!base) {
    std::cerr << d.to_string() << "metalgate check: nothing ran\n";
    return 2;
  }
  const auto chosen = choose(names);
  if (!chosen) return 2;
  if (jobs == 1 && ::isatty(STDERR_FILENO)) o.progress = show_progress;
  std::cout << "metalgate check " << file << ": " << chosen->size() << " properties, " << o.cases
            << " cases each, seed " << o.seed << (jobs > 1 ? ", " + std::to_string(jobs) + " jobs" : "")
            << "\n"
            << std::flush;
  const std::string again = "metalgate check " + file + " --seed " + std::to_string(o.seed) + " --cases " +
                            std::to_string(o.cases) + (jobs > 1 ? " --jobs " + std::to_string(jobs) : "");
  const auto per_job = jobs == 1 ? std::vector<std::vector<PropertyOutcome>>{check_all(*base, *chosen, o)}
                                 : run_jobs(*base, *chosen, o, jobs);
  bool passed = per_job.size() == static_cast<std::size_t>(jobs);
  for (std::size_t j = 0; j < per_job.size(); ++j) {
    if (jobs > 1) std::cout << " job " << j + 1 << " (seed " << o.seed + j << "):\n";
    passed &= per_job[j].size() == chosen->size();
    for (const auto& outcome : per_job[j]) {
      report(outcome, again);
      passed &= outcome.passed;
    }
  }
  if (!passed && per_job.size() != static_cast<std::size_t>(jobs))
    std::cerr << "metalgate check: a job died\n";
  return passed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Search for failures: properties checked on cases generated around a scenario (its manifests, "
      "pods and clients; generated nodes, client mixes and fault histories), run in the simulator. "
      "Exit 0 when every property held, 1 when one failed, 2 on bad input",
      "metalgate check"};
  app.set_version_flag("--version", std::string("metalgate-check ") + METALGATE_VERSION);
  std::string scenario_file;
  CheckOptions o;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> names;
  int jobs = 1;
  std::string manifests;
  auto* scenario_option = app.add_option("scenario", scenario_file,
                                         "The scenario to work around (its manifests, pods and clients)");
  app.add_option(
         "--manifests", manifests,
         "Instead of a scenario: work around these manifests (a directory or file), on a base built for "
         "them (written as OUT/base.yaml): 3 nodes, pods for every Deployment, a client per routed host "
         "and per TCP/UDP service")
      ->excludes(scenario_option);
  bool generate = false;
  app.add_flag("--generate", generate,
               "Instead of a scenario: work around manifests drawn from the seed (a pool, the controller, "
               "Deployments, Ingresses with exact and wildcard hosts and every pathType, a tcp-services map) "
               "and clients asking the requests that tell a right router from a nearly right one, written "
               "under OUT/generated/")
      ->excludes(scenario_option);
  app.add_option("--cases", o.cases, "Cases per property")->check(CLI::Range(1, 100000));
  app.add_option("--seed", seed,
                 "The search's seed (default: drawn, and printed): the same seed, the same cases");
  app.add_option("--property", names,
                 "Check only this property (repeatable): " + metalgate::check::property_names());
  app.add_option("--jobs", jobs, "Processes, each with its share of the cases and seed + its number")
      ->check(CLI::Range(1, 64));
  app.add_option("--shrink-runs", o.shrink_runs, "Runs spent shrinking a failure at most");
  app.add_option("--out", o.out_dir, "Where the smallest failing cases are written");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (generate) scenario_file = kGenerated;
  if (scenario_file.empty() == manifests.empty()) {
    std::cerr << "metalgate check: give a scenario file, --manifests DIR or --generate\n";
    return 2;
  }
  return run_check(scenario_file, manifests, names, seed, jobs, o);
}
