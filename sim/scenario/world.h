// The ns-3 world of one scenario run, internal to sim/scenario: the switched LAN, the pods' servers, the
// nodes (metalgate's node engine on each) and the clients, with the state faults change. It fills a
// scenario::observe::Observations; judging and reporting are the shared layer's (scenario/).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/node/node.h"
#include "scenario/observe/observations.h"
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

struct ScenarioWorld {
  ScenarioWorld(const Scenario& s, const RunOptions& o, config::Diagnostics& d)
      : scenario(s), options(o), diagnostics(d) {}

  const Scenario& scenario;
  const RunOptions& options;
  config::Diagnostics& diagnostics;
  std::unique_ptr<SwitchedLan> lan;  // once the configuration loaded

  std::shared_ptr<const node::Configuration> configuration;  // the one the nodes run (a reload swaps it)
  node::NodeSpec load_spec;                                   // what configurations are loaded with
  std::map<std::string, PodServers> pods;
  std::vector<std::string> pod_order;  // backends' order, replica by replica: the order pods start in
  std::map<std::string, std::unique_ptr<node::Node>> nodes;  // by name; null while crashed or left
  std::map<std::string, bool> isolated;                      // NIC down
  std::map<std::string, int> group;                          // partition group of every host (0 when whole)
  std::optional<std::int64_t> last_settle_event_ms;          // the latest heal, NIC up or restart
  std::vector<std::unique_ptr<HttpLoadClient>> http_clients;  // in the scenario's order
  std::vector<std::unique_ptr<UdpLoadClient>> udp_clients;
  scenario::observe::Observations observations;
  scenario::observe::FailoverCandidates candidates;

  // Starts the node engine on `node`'s host with the current configuration; the failure says why.
  Result<node::Node*> start_node(const ScenarioNode& node);
  void start_pod(PodServers& pod);
  // The nodes whose live speaker, NIC up, claims `vip` (the scenario's VIP: the controller's), by name.
  std::vector<std::string> claimants(const net::IpAddress& vip);
  std::vector<std::string> vip_claimants() { return claimants(observations.vip); }
  // Every VIP a live speaker with its NIC up claims, with its claimants by name.
  std::map<net::IpAddress, std::vector<std::string>> claims();
  // Where `client`'s requests go: its target, else the scenario's VIP.
  net::IpAddress target_of(const ScenarioClient& client) const {
    return client.target.value_or(observations.vip);
  }
  // Nodes that can reach each other share a side: the same partition group and a working NIC.
  std::string side_of(const std::string& node);
};

// Every 100 ms of the run, who claims what (an OwnershipSample); also reports progress.
void schedule_ownership_samples(ScenarioWorld& world);

}  // namespace metalgate::sim
