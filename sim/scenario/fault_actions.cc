#include "sim/scenario/fault_actions.h"

#include <algorithm>

#include "engine/model/resolve.h"
#include "ns3/simulator.h"
#include "scenario/kinds/fault_kinds.h"

namespace metalgate::sim {

namespace {

using nlohmann::json;
using scenario::observe::Failover;

// Every VIP the target claimed moves away from it.
void target_loses_its_vips(ScenarioWorld& w, const std::string& cause, const FaultMoment& m) {
  for (const auto& vip : m.target_owns)
    w.candidates.moves.push_back({m.now, m.target, -1, cause, vip});
}

// Every VIP may fail back to where it was before (a failover when its owner changes within 3 s).
void vips_may_fail_back(ScenarioWorld& w, const std::string& cause, const FaultMoment& m) {
  for (const auto& [vip, owner] : m.owners)
    w.candidates.failbacks.push_back({m.now, owner, -1, cause, vip});
}

// crash: state lost, nothing said on the way out; leave: goodbye first, as on SIGTERM.
void stop_node(ScenarioWorld& w, const ScenarioFault& f, FaultMoment& m) {
  if (m.target.empty() || !w.nodes[m.target]) return;
  if (f.kind == "leave") w.nodes[m.target]->leave();
  w.nodes[m.target].reset();
  target_loses_its_vips(w, f.kind, m);
}

void restart(ScenarioWorld& w, const ScenarioFault&, FaultMoment& m) {
  json restarted = json::array(), failed = json::array();
  for (const auto& n : w.scenario.nodes) {
    if ((m.target != "all" && n.name != m.target) || w.nodes[n.name]) continue;
    if (auto started = w.start_node(n); !started)
      failed.push_back(n.name + ": " + started.error());
    else
      restarted.push_back(n.name);
  }
  if (m.target == "all") m.entry["nodes"] = restarted;
  if (!failed.empty()) m.entry["failed"] = failed;
  w.last_settle_event_ms = m.now;
  vips_may_fail_back(w, "restart", m);
}

// Cut off, the node still believes it owns the VIP: its claims do not count as a split.
void nic(ScenarioWorld& w, const ScenarioFault& f, FaultMoment& m) {
  if (m.target.empty()) return;
  const bool down = f.kind == "nic_down";
  if (down) target_loses_its_vips(w, "nic_down", m);
  if (!down) vips_may_fail_back(w, "nic_up", m);
  w.lan->set_host_link(m.target, !down);
  w.isolated[m.target] = down;
  if (!down) w.last_settle_event_ms = m.now;
}

// The host on whose side a VIP's clients are: the first client sending to `vip`, else the first client.
std::string clients_side(const ScenarioWorld& w, const net::IpAddress& vip) {
  for (const auto& c : w.scenario.clients)
    if (w.target_of(c) == vip) return c.name;
  return w.scenario.clients.empty() ? "" : w.scenario.clients.front().name;
}

// "owner" names whoever owns the controller's VIP now; it stays where "owner" is written even if its name is
// also listed elsewhere. A VIP whose owner the partition cuts off from its clients' side moves.
void partition(ScenarioWorld& w, const ScenarioFault& f, FaultMoment& m) {
  std::vector<std::vector<std::string>> groups;
  json listed = json::array();
  for (const auto& g : f.groups) {
    groups.emplace_back();
    const bool has_owner = std::find(g.begin(), g.end(), "owner") != g.end();
    for (const auto& name : g) {
      if (name == m.owner && !has_owner) continue;
      if (auto host = name == "owner" ? m.owner : name; !host.empty()) groups.back().push_back(host);
    }
    listed.push_back(groups.back());
  }
  m.entry["groups"] = listed;
  w.lan->set_partition(groups);
  w.group.clear();
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (const auto& name : groups[g])
      w.group[name] = static_cast<int>(g);
  for (const auto& [vip, owner] : m.owners)
    if (w.group[owner] != w.group[clients_side(w, vip)])
      w.candidates.moves.push_back({m.now, owner, -1, "partition", vip});
}

void heal(ScenarioWorld& w, const ScenarioFault&, FaultMoment& m) {
  w.lan->set_partition({});
  w.group.clear();
  w.last_settle_event_ms = m.now;
  vips_may_fail_back(w, "heal", m);
}

void link(ScenarioWorld& w, const ScenarioFault& f, FaultMoment& m) {
  if (m.target.empty()) return;
  if (f.loss) {
    w.lan->set_link_loss(m.target, *f.loss);
    m.entry["loss"] = *f.loss;
  }
  if (f.delay) {
    w.lan->set_link_delay(m.target, std::chrono::duration_cast<runtime::Duration>(*f.delay));
    m.entry["delay_us"] = f.delay->count();
  }
  if (f.rate) {
    w.lan->set_link_rate(m.target, *f.rate);
    m.entry["rate"] = *f.rate;
  }
}

void backend_crash(ScenarioWorld& w, const ScenarioFault&, FaultMoment& m) {
  w.pods[m.target].http.clear();  // its connections close, its ports refuse
  w.pods[m.target].udp.clear();
}

void backend_restart(ScenarioWorld& w, const ScenarioFault&, FaultMoment& m) {
  if (!w.pods[m.target].running()) w.start_pod(w.pods[m.target]);
}

void backend_slow(ScenarioWorld& w, const ScenarioFault& f, FaultMoment& m) {
  auto& pod = w.pods[m.target];
  pod.latency = std::chrono::duration_cast<runtime::Duration>(f.latency);
  for (auto& server : pod.http)
    server->set_latency(pod.latency);
  m.entry["latency_ms"] = f.latency.count();
}

void backend_health(ScenarioWorld& w, const ScenarioFault& f, FaultMoment& m) {
  auto& pod = w.pods[m.target];
  pod.healthy = f.kind == "backend_healthy";
  for (auto& server : pod.http)
    server->set_healthy(pod.healthy);
}

// What serve does on SIGHUP, on every running node: read, check, and replace or refuse. Loaded once for all
// nodes; addresses the Services hold stay theirs.
void reload(ScenarioWorld& w, const ScenarioFault& f, FaultMoment& m) {
  config::Diagnostics rd;
  auto next = node::load_configuration(w.load_spec, f.manifests, model::held_allocations(*w.configuration->model), rd);
  if (!next || rd.has_errors()) {
    m.entry["refused"] = rd.to_string();
    return;
  }
  if (auto warnings = rd.warning_lines(); !warnings.empty()) m.entry["warnings"] = warnings;
  json failed = json::array();
  for (const auto& n : w.scenario.nodes) {
    auto& running = w.nodes[n.name];
    if (!running) continue;
    if (auto outcome = running->apply(*next); !outcome.applied) failed.push_back(n.name + ": " + outcome.refused);
  }
  w.configuration = *next;
  m.entry["reloaded"] = failed.empty();
  if (!failed.empty()) m.entry["failed"] = failed;
}

FaultMoment moment_of(ScenarioWorld& w, const ScenarioFault& f) {
  FaultMoment m;
  m.now = f.at.count();
  m.vip = f.owner_vip.value_or(w.observations.vip);
  m.claim = w.claimants(m.vip);
  m.owner = m.claim.empty() ? "" : m.claim.front();
  m.target = f.node == "owner" ? m.owner : f.node;
  m.entry = {{"at_ms", m.now}, {"action", f.kind}};
  if (!f.node.empty()) m.entry["node"] = m.target;
  if (f.owner_vip) m.entry["owner_of"] = {{"vip", m.vip.to_string()}, {"as_written", f.owner_of}};
  for (const auto& [vip, claimants] : w.claims()) {
    m.owners[vip] = claimants.front();
    if (std::find(claimants.begin(), claimants.end(), m.target) != claimants.end())
      m.target_owns.push_back(vip);
  }
  return m;
}

}  // namespace

const std::map<std::string, FaultAction, std::less<>>& fault_actions() {
  static const std::map<std::string, FaultAction, std::less<>> actions = {
      {"crash", stop_node},
      {"leave", stop_node},
      {"restart", restart},
      {"nic_down", nic},
      {"nic_up", nic},
      {"partition", partition},
      {"heal", heal},
      {"link", link},
      {"backend_crash", backend_crash},
      {"backend_restart", backend_restart},
      {"backend_slow", backend_slow},
      {"backend_unhealthy", backend_health},
      {"backend_healthy", backend_health},
      {"reload", reload},
  };
  return actions;
}

std::vector<std::string> kinds_without_action() {
  return scenario::missing_fault_actions([](std::string_view kind) { return fault_actions().count(kind) > 0; });
}

void schedule_faults(ScenarioWorld& world) {
  for (const auto& f : world.scenario.faults)
    ns3::Simulator::Schedule(ns3::MilliSeconds(f.at.count()), [&world, &f] {
      FaultMoment m = moment_of(world, f);
      if (auto it = fault_actions().find(f.kind); it != fault_actions().end()) it->second(world, f, m);
      world.observations.fault_log.push_back(std::move(m.entry));
    });
}

}  // namespace metalgate::sim
