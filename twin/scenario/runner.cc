#include "twin/scenario/runner.h"

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "scenario/kinds/expectation_kinds.h"
#include "scenario/report/result_json.h"
#include "twin/scenario/live_world.h"

namespace metalgate::twin {

namespace {

namespace fs = std::filesystem;

// The last lines of a process's log, for an error that says why it stopped.
std::string tail_of(const std::string& file, std::size_t lines = 5) {
  std::ifstream in(file);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);)
    all.push_back(line);
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += "\n    " + all[i];
  return out;
}

// The daemons read the scenario's manifests staged in the run's directory (a reload replaces them there), and
// the scenario's node labels as Node objects.
void stage_node_manifests(LiveWorld& w) {
  const std::string dir = w.options.run_dir + "/manifests";
  stage_manifests(dir, w.scenario.manifests);
  w.node_manifests = {dir};
  std::string nodes;
  for (const auto& n : w.scenario.nodes) {
    if (n.labels.empty()) continue;
    nodes += "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: " + n.name + "\n  labels:\n";
    for (const auto& [k, v] : n.labels)
      nodes += "    \"" + k + "\": \"" + v + "\"\n";
  }
  if (nodes.empty()) return;
  std::ofstream(w.options.run_dir + "/nodes.yaml") << nodes;
  w.node_manifests.push_back(w.options.run_dir + "/nodes.yaml");
}

// Pods first (their servers up before anyone is sent to them), then the daemons and the clients.
bool start_processes(LiveWorld& w, config::Diagnostics& d) {
  for (const auto& p : w.plan.pods) {
    w.observations.pods.insert(p.name);
    if (auto error = w.start_pod(p); !error.empty()) {
      d.error({w.scenario.file, 0, 0}, "backends", "pod " + p.name + " did not start: " + error);
      return false;
    }
  }
  for (const auto& n : w.scenario.nodes)
    if (auto error = w.start_node(n); !error.empty()) {
      d.error(n.where, "nodes", "node " + n.name + " did not start: " + error);
      return false;
    }
  for (const auto& c : w.scenario.clients)
    if (auto error = w.start_client(c); !error.empty()) {
      d.error({w.scenario.file, 0, 0}, "clients", "client " + c.name + " did not start: " + error);
      return false;
    }
  return true;
}

// A daemon that exits at start (a port taken, an interface missing) stops the run at its node's line.
bool nodes_alive(LiveWorld& w, config::Diagnostics& d) {
  for (const auto& n : w.scenario.nodes) {
    const pid_t pid = w.node_pids[n.name];
    if (pid <= 0 || ::waitpid(pid, nullptr, WNOHANG) != pid) continue;
    w.node_pids[n.name] = 0;
    d.error(
        n.where, "nodes",
        "node " + n.name + "'s daemon exited at start:" + tail_of(w.options.run_dir + "/" + n.name + ".log"));
    return false;
  }
  return true;
}

// Every daemon's admin socket and every client's ready file exists: all are up. Under load, starting the
// processes took up to 440 ms (sanitizer builds), so t = 0 waits for this rather than a fixed headroom.
bool all_up(const LiveWorld& w) {
  for (const auto& n : w.scenario.nodes)
    if (!fs::exists(w.admin_socket(n.name))) return false;
  for (const auto& c : w.scenario.clients)
    if (!fs::exists(w.options.run_dir + "/" + c.name + ".ready")) return false;
  return true;
}

// Waits until every process is up (at most 30 s), then sets t = 0 a little ahead and tells the clients.
bool start_the_clock(LiveWorld& w, const LiveRunOptions& o, config::Diagnostics& d) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!all_up(w)) {
    if ((o.interrupted && o.interrupted->load()) || !nodes_alive(w, d)) return false;
    if (std::chrono::steady_clock::now() > deadline) {
      d.error({w.scenario.file, 0, 0}, "nodes",
              "the daemons and clients were not all up after 30 s (their logs: " + w.options.run_dir + ")");
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  w.epoch_ns = 0;
  w.epoch_ns = (w.now_ms() + 20) * 1'000'000;
  std::ofstream(w.start_file() + ".tmp") << w.epoch_ns << "\n";
  fs::rename(w.start_file() + ".tmp", w.start_file());
  return true;
}

// Sleeps until `ms` on the run's clock; false when interrupted meanwhile.
bool wait_until(LiveWorld& w, std::int64_t ms, const LiveRunOptions& o) {
  while (w.now_ms() < ms) {
    if (o.interrupted && o.interrupted->load()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::microseconds>(
        std::chrono::milliseconds(ms - w.now_ms()), std::chrono::milliseconds(10)));
  }
  return !(o.interrupted && o.interrupted->load());
}

// How far ahead of its instant a fault starts, so that it has struck before the clients' requests of that
// instant go out, as the simulator orders them (applied after them, a crash found them in flight: 502s the
// simulator never shows, and requests that counted as recovered). Measured here (live_took_us in the fault
// log): the world's claims and a signal take 0.5 ms for a node crash and 2.5 ms for a pod's, a partition's
// port moves 1.8 ms.
constexpr std::int64_t kFaultLeadMs = 5;

// Samples every 100 ms and the faults at their times, in real time: at one instant the simulator takes the
// ownership sample, then applies the fault, then sends the clients' requests; live, the sample of a fault's
// instant is taken just before the fault's lead. False when interrupted or a daemon died at start.
bool run_timeline(LiveWorld& w, const LiveRunOptions& o, config::Diagnostics& d) {
  std::vector<const scenario::ScenarioFault*> faults;
  for (const auto& f : w.scenario.faults)
    faults.push_back(&f);
  std::stable_sort(faults.begin(), faults.end(), [](auto* a, auto* b) { return a->at < b->at; });
  std::size_t next = 0;
  const std::int64_t end = w.scenario.duration.count();
  for (std::int64_t t = 0; t <= end; t += 100) {
    const bool fault_now = next < faults.size() && faults[next]->at.count() == t;
    if (!wait_until(w, fault_now ? t - kFaultLeadMs - 1 : t, o)) return false;
    scenario::run::sample_ownership(w, w, t);
    for (; next < faults.size() && faults[next]->at.count() < t + 100; ++next) {
      if (!wait_until(w, faults[next]->at.count() - kFaultLeadMs, o)) return false;
      const auto began = std::chrono::steady_clock::now();
      scenario::run::apply_fault(w, w, *faults[next], faults[next]->at.count());
      // How long the real action took (the claims, a signal, netlink requests): what kFaultLeadMs covers.
      w.observations.fault_log.back()["live_took_us"] =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - began)
              .count();
    }
    if (t == 500 && !nodes_alive(w, d)) return false;
    if (o.progress && t % 1000 == 0)
      std::cerr << "\r  ran " << t / 1000 << " s of " << end / 1000 << " s live" << std::flush;
  }
  if (o.progress) std::cerr << "\n";
  return true;
}

}  // namespace

LiveRunResult run_live_scenario(const scenario::Scenario& s, const LiveRunOptions& o,
                                config::Diagnostics& d) {
  LiveRunResult out;
  const std::size_t diagnostics_before = d.items().size();
  const std::uint64_t seed = o.seed.value_or(s.seed);
  auto plan = scenario::run::plan_run(s, d);
  if (!plan) return out;
  fs::create_directories(o.run_dir);
  LiveWorld w(s, std::move(*plan), {o.run_dir, o.metalgate, o.self, o.pcap_directory, seed});
  w.observations.vip = w.plan.vip;
  if (auto error = w.build_lan(); !error.empty()) {
    d.error({s.file, 0, 0}, "lan", "the LAN of namespaces could not be built: " + error);
    return out;
  }
  if (auto error = w.start_captures(); !error.empty()) {
    d.error({s.file, 0, 0}, "pcap", error);
    return out;
  }
  stage_node_manifests(w);
  if (!start_processes(w, d) || !start_the_clock(w, o, d)) {
    out.interrupted = !d.has_errors();
    return out;
  }
  if (!run_timeline(w, o, d)) {
    out.interrupted = !d.has_errors();
    return out;
  }
  w.collect_node_stats();
  w.collect_records();
  scenario::observe::complete_observations(w.observations, w.candidates);
  const auto verdicts = scenario::judge_expectations(s.expectations, w.observations);
  out.result = scenario::result_document(s, "live", seed, w.observations, verdicts,
                                         d.since(diagnostics_before).warning_lines());
  out.passed = scenario::all_passed(verdicts);
  return out;
}

}  // namespace metalgate::twin
