// The ns-3 world of one scenario run, internal to sim/scenario: the switched LAN, the pods' servers, the
// nodes (metalgate's node engine on each) and the clients. The shared layer (scenario/run) applies the faults
// through its WorldActions and samples ownership; judging and reporting are the shared layer's too.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/node/node.h"
#include "scenario/observe/observations.h"
#include "scenario/run/world_run.h"
#include "sim/apps/apps.h"
#include "sim/lan/switched_lan.h"
#include "sim/scenario/runner.h"

namespace metalgate::sim {

// One pod's servers: an identity server on every TCP container port, a responder on every UDP one.
struct PodServers {
  struct Port {
    std::uint16_t number = 0;
    bool udp = false;
  };
  std::string name;  // <deployment>-<n>, what its servers answer as
  net::IpAddress address;
  std::vector<Port> ports;  // the Deployment's container ports
  std::vector<std::unique_ptr<IdentityHttpServer>> http;
  std::vector<std::unique_ptr<IdentityUdpServer>> udp;
  runtime::Duration latency{};
  bool healthy = true;

  bool running() const { return !http.empty() || !udp.empty(); }
};

// The shared run state (observations, failover candidates, partition sides) and the simulator's actions for
// the faults (fault_actions.cc).
struct ScenarioWorld : scenario::run::WorldRun, scenario::run::WorldActions {
  ScenarioWorld(const Scenario& s, const RunOptions& o, config::Diagnostics& d)
      : WorldRun(s), options(o), diagnostics(d) {}

  const RunOptions& options;
  config::Diagnostics& diagnostics;
  std::unique_ptr<SwitchedLan> lan;  // once the configuration loaded

  std::shared_ptr<const node::Configuration> configuration;  // the one the nodes run (a reload swaps it)
  node::NodeSpec load_spec;                                   // what configurations are loaded with
  std::map<std::string, PodServers> pods;
  std::vector<std::string> pod_order;  // backends' order, replica by replica: the order pods start in
  std::map<std::string, std::unique_ptr<node::Node>> nodes;  // by name; null while crashed or left
  std::vector<std::unique_ptr<HttpLoadClient>> http_clients;  // in the scenario's order
  std::vector<std::unique_ptr<UdpLoadClient>> udp_clients;

  // Starts the node engine on `node`'s host with the current configuration; the failure says why.
  Result<node::Node*> start_node_engine(const ScenarioNode& node);
  void start_pod(PodServers& pod);

  // WorldActions, in ns-3 (fault_actions.cc).
  std::map<net::IpAddress, std::vector<std::string>> claims() override;
  bool node_running(const std::string& node) override { return nodes.count(node) && nodes[node]; }
  void stop_node(const std::string& node, bool graceful) override;
  std::string start_node(const ScenarioNode& node) override;
  void set_nic(const std::string& host, bool up) override;
  void set_partition(const std::vector<std::vector<std::string>>& groups) override;
  std::string set_link(const std::string& host, const ScenarioFault& fault) override;
  void pod_crash(const std::string& pod) override;
  void pod_restart(const std::string& pod) override;
  void pod_latency(const std::string& pod, std::chrono::milliseconds latency) override;
  void pod_health(const std::string& pod, bool healthy) override;
  void reload(const std::vector<std::string>& manifests, nlohmann::json& entry) override;
};

// Every 100 ms of the run, who claims what (an OwnershipSample); also reports progress.
void schedule_ownership_samples(ScenarioWorld& world);

}  // namespace metalgate::sim
