// What every world does before its LAN exists: the manifests loaded once (as every node loads them), the
// controller's VIP, every backend's pods with their Deployment's ports, and the spec nodes are started with.
// An error here (file:line:column in the manifests, or the scenario's field) means nothing runs in any world.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/diagnostics.h"
#include "engine/node/node.h"
#include "scenario/schema/scenario-t.h"

namespace metalgate::scenario::run {

struct PlannedPod {
  struct Port {
    std::uint16_t number = 0;
    bool udp = false;
  };
  std::string name;  // <deployment>-<n>: what its servers answer as
  net::IpAddress address;
  std::vector<Port> ports;  // the Deployment's container ports
  milliseconds latency{1};
  std::string node;  // the node it runs "on" (externalTrafficPolicy: Local); "" when on none
  std::string server = "identity";  // ScenarioBackend::server
};

struct RunPlan {
  node::NodeSpec load_spec;  // what configurations load with and nodes start from (name, roles aside)
  std::shared_ptr<const node::Configuration> configuration;
  net::IpAddress vip;            // the ingress controller's first address
  std::vector<PlannedPod> pods;  // backends' order, replica by replica: the order pods start in
};

// Nullopt, with errors in `diagnostics`, when the scenario cannot run.
std::optional<RunPlan> plan_run(const Scenario& scenario, config::Diagnostics& diagnostics);

}  // namespace metalgate::scenario::run
