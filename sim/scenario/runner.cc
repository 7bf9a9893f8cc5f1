#include "sim/scenario/runner.h"

#include "engine/model/model-t.h"
#include "engine/stats/json.h"
#include "ns3/simulator.h"
#include "scenario/kinds/expectation_kinds.h"
#include "scenario/report/result_json.h"
#include "sim/runtime/deterministic_randomness.h"
#include "sim/scenario/fault_actions.h"
#include "sim/scenario/world.h"

namespace metalgate::sim {

namespace {

using std::chrono::duration_cast;

// Where the pods run: "<deployment>-<n>" at the n-th address the scenario gives for its Deployment, and "on"
// the n-th node of its `nodes` (what externalTrafficPolicy: Local goes by; none when not given).
void place_pods(const Scenario& s, node::NodeSpec& spec) {
  node::place_pods(spec, scenario::pod_placement(s));
}

// What every node is started with: the manifests, where the pods run, the speakers' timing and the scenario's
// node labels.
node::NodeSpec load_spec_of(const Scenario& s) {
  node::NodeSpec spec;
  spec.manifests = s.manifests;
  place_pods(s, spec);
  auto& l2 = spec.layer2;
  if (s.speaker.probe_interval) l2.membership.probe_interval = *s.speaker.probe_interval;
  if (s.speaker.probe_timeout) l2.membership.probe_timeout = *s.speaker.probe_timeout;
  if (s.speaker.suspicion_timeout) l2.membership.suspicion_timeout = *s.speaker.suspicion_timeout;
  if (s.speaker.join_grace) l2.join_grace = *s.speaker.join_grace;
  if (s.speaker.announce_refresh) l2.announce.refresh = *s.speaker.announce_refresh;
  for (const auto& n : s.nodes)
    spec.node_labels[n.name] = n.labels;
  return spec;
}

// Phase 1, before ns-3: the manifests load (once, for every node), the controller's Service has an address,
// every backend's Deployment exists, and this world has an action for every fault kind.
bool configure(ScenarioWorld& w) {
  const Scenario& s = w.scenario;
  if (auto missing = scenario::run::kinds_without_action(); !missing.empty()) {
    std::string names;
    for (const auto& m : missing)
      names += (names.empty() ? "" : ", ") + m;
    w.diagnostics.error({s.file, 0, 0}, "faults", "the simulator has no action for the fault kinds " + names);
    return false;
  }
  w.load_spec = load_spec_of(s);
  auto loaded = node::load_configuration(w.load_spec, s.manifests, {}, w.diagnostics);
  if (!loaded || w.diagnostics.has_errors()) return false;
  w.configuration = *loaded;
  const model::ResolvedService* controller = w.configuration->model->ingress_controller();
  if (!controller || controller->addresses.empty()) {
    w.diagnostics.error({s.file, 0, 0}, "manifests", "the ingress controller's Service has no address: nothing to reach");
    return false;
  }
  w.observations.vip = controller->addresses.front();
  return true;
}

// The pods of every backend, with their Deployment's container ports.
bool plan_pods(ScenarioWorld& w) {
  for (const auto& b : w.scenario.backends) {
    const config::Deployment* dep = nullptr;
    for (const auto& dd : w.configuration->model->manifests.deployments)
      if (dd.meta.key() == b.deployment || dd.meta.name == b.deployment) dep = &dd;
    if (!dep) {
      w.diagnostics.error({w.scenario.file, 0, 0}, "backends", "no Deployment '" + b.deployment + "' in the manifests");
      return false;
    }
    for (std::size_t i = 0; i < b.addresses.size(); ++i) {
      PodServers& pod = w.pods[dep->meta.name + "-" + std::to_string(i)];
      pod.name = dep->meta.name + "-" + std::to_string(i);
      pod.address = b.addresses[i];
      pod.latency = duration_cast<runtime::Duration>(b.latency);
      for (const auto& c : dep->containers)
        for (const auto& p : c.ports)
          pod.ports.push_back({p.container_port, p.protocol == config::Protocol::kUdp});
      w.observations.pods.insert(pod.name);
      w.pod_order.push_back(pod.name);
    }
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
  co.timeout = duration_cast<runtime::Duration>(c.timeout);
  co.https = c.https;
  co.vip_node = [&lan = *w.lan, name = c.name, target = co.target.ip] { return lan.arp_entry_host(name, target); };
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

// Phases 2 to 6 in ns-3: false when a node did not start (nothing ran then).
bool simulate(ScenarioWorld& w, std::uint64_t seed) {
  build_lan(w, seed);
  if (!start_pods_and_nodes(w)) return false;
  start_clients(w);
  schedule_ownership_samples(w);
  schedule_faults(w);
  ns3::Simulator::Stop(ns3::MilliSeconds(w.scenario.duration.count()) + ns3::MilliSeconds(1));
  ns3::Simulator::Run();
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
  RunResult out;
  const std::size_t diagnostics_before = d.items().size();  // a caller may run several scenarios on one `d`
  const std::uint64_t seed = options.seed.value_or(s.seed);
  ScenarioWorld w(s, options, d);
  if (!configure(w) || !plan_pods(w)) return out;
  bool ran = false;
  {
    // Every TLS handshake of the run draws from the seed; loading the manifests drew nothing.
    DeterministicOpensslRandomness tls_randomness(seed);
    ran = simulate(w, seed);
    tear_down(w);
  }
  ns3::Simulator::Destroy();
  if (!ran) return out;
  // Phase 7: the shared layer judges and reports, as every world's run is judged.
  const auto verdicts = scenario::judge_expectations(s.expectations, w.observations);
  out.result =
      scenario::result_document(s, seed, w.observations, verdicts, d.since(diagnostics_before).warning_lines());
  out.passed = scenario::all_passed(verdicts);
  return out;
}

}  // namespace metalgate::sim
