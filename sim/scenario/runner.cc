#include "sim/scenario/runner.h"

#include <chrono>

#include "engine/model/model-t.h"
#include "engine/stats/json.h"
#include "ns3/simulator.h"
#include "scenario/kinds/expectation_kinds.h"
#include "scenario/report/result_json.h"
#include "scenario/run/plan.h"
#include "sim/runtime/deterministic_randomness.h"
#include "sim/scenario/fault_actions.h"
#include "sim/scenario/world.h"

namespace metalgate::sim {

namespace {

using std::chrono::duration_cast;

// Phase 1, before ns-3 (the shared plan): the manifests load once for every node, the controller's VIP, the
// pods of every backend.
bool configure(ScenarioWorld& w) {
  if (w.scenario.subnet6) {
    w.diagnostics.error({w.scenario.file, 0, 0}, "lan.subnet6",
                        "the simulator's hosts are IPv4 only: each runs ns-3's IPv4 stack alone (sim/runtime/"
                        "ns3_host.cc: service addresses, the Linux ARP rules and routing are IPv4), so IPv6 "
                        "addresses and NDP are not simulated; run this scenario live: metalgate netns " +
                            w.scenario.file);
    return false;
  }
  auto plan = scenario::run::plan_run(w.scenario, w.diagnostics);
  if (!plan) return false;
  for (const auto& b : w.scenario.backends)
    if (b.server != "identity")
      w.diagnostics.warning(b.where, "server",
                            b.deployment + " runs a real " + b.server + " live only; the simulator runs the " +
                                "identity servers on its ports in its place");
  w.load_spec = plan->load_spec;
  w.configuration = plan->configuration;
  w.observations.vip = plan->vip;
  for (const auto& p : plan->pods) {
    PodServers& pod = w.pods[p.name];
    pod.name = p.name;
    pod.address = p.address;
    pod.latency = duration_cast<runtime::Duration>(p.latency);
    for (const auto& port : p.ports)
      pod.ports.push_back({port.number, port.udp});
    w.observations.pods.insert(pod.name);
    w.pod_order.push_back(pod.name);
  }
  return true;
}

LanOptions lan_options(const Scenario& s, const RunOptions& options, std::uint64_t seed) {
  LanOptions lo;
  lo.seed = seed;
  lo.data_rate = s.link_rate;
  lo.link_delay = s.link_delay;
  lo.loss = s.link_loss;
  if (s.subnet.prefix_length > 0) lo.prefix_length = s.subnet.prefix_length;
  lo.log_level = options.log_level;
  lo.log_sink = runtime::stderr_log_sink();
  return lo;
}

// Phase 2: a host per node, pod and client (in that order: each host's ns-3 seed follows from it).
void build_lan(ScenarioWorld& w, std::uint64_t seed) {
  w.lan = std::make_unique<SwitchedLan>(lan_options(w.scenario, w.options, seed));
  std::uint64_t host_seed = seed * 1000;
  for (const auto& n : w.scenario.nodes)
    w.lan->add_host(n.name, n.address, ++host_seed);
  for (const auto& [name, pod] : w.pods)
    w.lan->add_host(name, pod.address, ++host_seed);
  for (const auto& c : w.scenario.clients) {
    w.lan->add_host(c.name, c.address, ++host_seed);
    w.lan->install_linux_arp(c.name);
  }
  w.lan->finish();
  if (!w.options.pcap_directory.empty()) w.lan->enable_pcap(w.options.pcap_directory);
}

// Phase 3: the pods' servers, then the node engine on every node. A node that cannot start stops the run
// before anything runs, with an error at the node's line.
bool start_pods_and_nodes(ScenarioWorld& w) {
  for (const auto& name : w.pod_order)
    w.start_pod(w.pods[name]);
  for (const auto& n : w.scenario.nodes)
    if (auto started = w.start_node_engine(n); !started) {
      w.diagnostics.error(n.where, "nodes", "node " + n.name + " did not start: " + started.error());
      return false;
    }
  return true;
}

// Whose MAC the client's ARP cache holds for `target`, asked as each request or datagram starts.
std::function<std::string()> arp_owner(ScenarioWorld& w, const ScenarioClient& c, net::IpAddress target) {
  return [&lan = *w.lan, name = c.name, target] { return lan.arp_entry_host(name, target); };
}

HttpLoadClient::Options http_options(const ScenarioClient& c, ScenarioWorld& w) {
  HttpLoadClient::Options co;
  co.target = {w.target_of(c), c.port};
  co.host = c.host;
  co.path = c.path;
  for (const auto& m : c.mix)
    co.mix.push_back({m.host, m.path, m.weight});
  co.rate = c.rate;
  co.concurrency = c.concurrency;
  co.think = duration_cast<runtime::Duration>(c.think);
  co.keep_alive = c.keep_alive;
  co.cookies = c.cookies;
  co.resume_sessions = c.resume;
  co.http2 = c.http2;
  co.timeout = duration_cast<runtime::Duration>(c.timeout);
  co.https = c.https;
  co.vip_node = arp_owner(w, c, co.target.ip);
  return co;
}

// Phase 4: the load clients.
void start_clients(ScenarioWorld& w) {
  for (const auto& c : w.scenario.clients) {
    if (!c.udp) {
      w.http_clients.push_back(std::make_unique<HttpLoadClient>(w.lan->host(c.name), http_options(c, w)));
      w.http_clients.back()->start();
      continue;
    }
    UdpLoadClient::Options uo;
    uo.target = {w.target_of(c), c.port};
    uo.source = {c.address, 40000};
    uo.rate = c.rate;
    uo.timeout = duration_cast<runtime::Duration>(c.timeout);
    uo.vip_node = arp_owner(w, c, uo.target.ip);
    w.udp_clients.push_back(std::make_unique<UdpLoadClient>(w.lan->host(c.name), uo));
    w.udp_clients.back()->start();
  }
}

// Phase 6: every client's records, named after it and its target, and what follows from the observations.
void collect(ScenarioWorld& w) {
  std::size_t http_index = 0, udp_index = 0;
  for (const auto& sc : w.scenario.clients) {
    auto take = [&](auto& client) {
      client->stop();
      for (auto r : client->records()) {
        r.client = sc.name;
        r.target = w.target_of(sc);
        w.observations.records.push_back(std::move(r));
      }
    };
    if (sc.udp)
      take(w.udp_clients[udp_index++]);
    else
      take(w.http_clients[http_index++]);
  }
  for (auto& [name, node] : w.nodes)  // null while crashed or left: its counters went with it
    if (node) w.observations.node_stats[name] = stats::to_json(node->stats_snapshot());
  scenario::observe::complete_observations(w.observations, w.candidates);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Phases 2 to 6 in ns-3: false when a node did not start (nothing ran then). `wall` gets the set-up's wall
// time (from `started`, before the manifests were loaded) and the simulation's.
bool simulate(ScenarioWorld& w, std::uint64_t seed, std::chrono::steady_clock::time_point started,
              RunResult::WallTime& wall) {
  build_lan(w, seed);
  if (!start_pods_and_nodes(w)) return false;
  start_clients(w);
  schedule_ownership_samples(w);
  schedule_faults(w);
  ns3::Simulator::Stop(ns3::MilliSeconds(w.scenario.duration.count()) + ns3::MilliSeconds(1));
  wall.setup_s = seconds_since(started);
  const auto running = std::chrono::steady_clock::now();
  ns3::Simulator::Run();
  wall.simulation_s = seconds_since(running);
  collect(w);
  return true;
}

// What ran goes in the order a real teardown would: clients, then nodes, then pods.
void tear_down(ScenarioWorld& w) {
  w.http_clients.clear();
  w.udp_clients.clear();
  w.nodes.clear();
  w.pods.clear();
  w.lan.reset();
}

}  // namespace

RunResult run_scenario(const Scenario& s, const RunOptions& options, config::Diagnostics& d) {
  const auto start = std::chrono::steady_clock::now();
  RunResult out;
  const std::size_t diagnostics_before = d.items().size();  // a caller may run several scenarios on one `d`
  const std::uint64_t seed = options.seed.value_or(s.seed);
  ScenarioWorld w(s, options, d);
  if (!configure(w)) return out;
  bool ran = false;
  {
    // Every TLS handshake of the run draws from the seed; loading the manifests drew nothing.
    DeterministicOpensslRandomness tls_randomness(seed);
    ran = simulate(w, seed, start, out.wall);
    tear_down(w);
  }
  ns3::Simulator::Destroy();
  if (!ran) return out;
  // Phase 7: the shared layer judges and reports, as every world's run is judged.
  const auto verdicts = scenario::judge_expectations(s.expectations, w.observations);
  out.result = scenario::result_document(s, "simulated", seed, w.observations, verdicts,
                                         d.since(diagnostics_before).warning_lines());
  out.passed = scenario::all_passed(verdicts);
  out.requests = std::move(w.observations.records);
  out.wall.after_s = seconds_since(start) - out.wall.setup_s - out.wall.simulation_s;
  return out;
}

}  // namespace metalgate::sim
