#include "sim/scenario/fault_actions.h"

#include "engine/model/resolve.h"
#include "ns3/simulator.h"

namespace metalgate::sim {

using nlohmann::json;

void ScenarioWorld::stop_node(const std::string& node, bool graceful) {
  if (graceful) nodes[node]->leave();
  nodes[node].reset();
}

std::string ScenarioWorld::start_node(const ScenarioNode& node) {
  auto started = start_node_engine(node);
  return started ? "" : started.error();
}

// CSMA has no link state: the device stops sending and receiving.
void ScenarioWorld::set_nic(const std::string& host, bool up) {
  lan->set_host_link(host, up);
}

void ScenarioWorld::set_partition(const std::vector<std::vector<std::string>>& groups) {
  lan->set_partition(groups);
}

std::string ScenarioWorld::set_link(const std::string& host, const ScenarioFault& f) {
  if (f.loss) lan->set_link_loss(host, *f.loss);
  if (f.delay) lan->set_link_delay(host, std::chrono::duration_cast<runtime::Duration>(*f.delay));
  if (f.rate) lan->set_link_rate(host, *f.rate);
  return "";
}

void ScenarioWorld::pod_crash(const std::string& pod) {
  pods[pod].http.clear();  // its connections close, its ports refuse
  pods[pod].udp.clear();
}

void ScenarioWorld::pod_restart(const std::string& pod) {
  if (!pods[pod].running()) start_pod(pods[pod]);
}

void ScenarioWorld::pod_latency(const std::string& name, std::chrono::milliseconds latency) {
  auto& pod = pods[name];
  pod.latency = std::chrono::duration_cast<runtime::Duration>(latency);
  for (auto& server : pod.http)
    server->set_latency(pod.latency);
}

void ScenarioWorld::pod_health(const std::string& name, bool healthy) {
  auto& pod = pods[name];
  pod.healthy = healthy;
  for (auto& server : pod.http)
    server->set_healthy(pod.healthy);
}

// Loaded once for all nodes; addresses the Services hold stay theirs.
void ScenarioWorld::reload(const std::vector<std::string>& manifests, json& entry) {
  config::Diagnostics rd;
  const auto held = model::held_allocations(*configuration->model);
  auto next = node::load_configuration(load_spec, manifests, held, rd);
  if (!next) {  // load_configuration refuses manifests with errors
    entry["refused"] = rd.to_string();
    return;
  }
  if (auto warnings = rd.warning_lines(); !warnings.empty()) entry["warnings"] = warnings;
  json failed = json::array();
  for (const auto& n : scenario.nodes) {
    auto& running = nodes[n.name];
    if (!running) continue;
    if (auto outcome = running->apply(*next); !outcome.applied)
      failed.push_back(n.name + ": " + outcome.refused);
  }
  configuration = *next;
  entry["reloaded"] = failed.empty();
  if (!failed.empty()) entry["failed"] = failed;
}

void schedule_faults(ScenarioWorld& world) {
  for (const auto& f : world.scenario.faults)
    ns3::Simulator::Schedule(ns3::MilliSeconds(f.at.count()),
                             [&world, &f] { scenario::run::apply_fault(world, world, f, f.at.count()); });
}

}  // namespace metalgate::sim
