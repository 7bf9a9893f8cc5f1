// A scenario: the LAN, the nodes and their roles, the user's Kubernetes manifests, where the backends' pods
// run, the clients, the faults and what must hold. One schema for the simulator and the live harness
// (docs/scenario.md). Types only; scenario.h reads them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/diagnostics.h"
#include "engine/net/ip_address.h"

namespace metalgate::sim {

using std::chrono::milliseconds;

struct ScenarioNode {
  std::string name;
  net::IpAddress address;
  bool speaker = true;
  bool proxy = true;
  std::map<std::string, std::string> labels;
};

// Where a Deployment's pods run: one simulated host per replica, in order (pod <deployment>-0 gets the
// first).
struct ScenarioBackend {
  std::string deployment;  // "namespace/name"
  std::vector<net::IpAddress> addresses;
  milliseconds latency{1};
};

struct ScenarioClient {
  std::string name;
  net::IpAddress address;
  std::string host;  // HTTP Host header
  std::string path = "/";
  double rate = 10;                      // requests per second, each on a new connection
  std::optional<net::IpAddress> target;  // default: the ingress controller's first VIP
  std::uint16_t port = 80;               // 443 when https
  bool https = false;
  bool udp = false;  // a datagram client (udp: {port, rate}): one flow, each datagram answered or timed out
  milliseconds timeout{2000};
};

struct ScenarioFault {
  milliseconds at{0};
  // crash: the engine and its state are lost; restart: a fresh engine; nic_down/nic_up: the node's network
  // interface stops and starts (the engine keeps running and its state).
  enum class Kind { kCrash, kRestart, kNicDown, kNicUp } kind = Kind::kCrash;
  std::string node;  // "owner" (crash, nic_down): whoever owns the controller VIP at that moment
  config::SourceLocation where;
};

struct ScenarioExpectation {
  enum class Kind { kSingleOwner, kSuccessRatio, kFailover, kRoutedToAllowedBackend } kind;
  double min = 0;                 // success_ratio
  milliseconds max{0};            // failover
  bool outside_failover = false;  // success_ratio: leave out requests started while a failover was under way
  std::string name;               // as written: "success_ratio"
  config::SourceLocation where;
};

struct Scenario {
  std::string file;
  std::string name;
  std::uint64_t seed = 1;
  milliseconds duration{60000};
  net::Cidr subnet;
  std::string link_rate = "1Gbps";
  std::chrono::microseconds link_delay{5};
  std::vector<ScenarioNode> nodes;
  std::vector<std::string> manifests;  // resolved paths
  std::vector<ScenarioBackend> backends;
  std::vector<ScenarioClient> clients;
  std::vector<ScenarioFault> faults;
  std::vector<ScenarioExpectation> expectations;
};

}  // namespace metalgate::sim
