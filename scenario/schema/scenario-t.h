// A scenario: the LAN, the nodes and their roles, the user's Kubernetes manifests, where the backends' pods
// run, the clients, the faults and what must hold. One schema for every world, the ns-3 simulator and the
// live network namespaces (docs/scenario.md). Types only; loader.h reads them, scenario/kinds/ lists the
// fault and expectation kinds.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/diagnostics.h"
#include "engine/net/ip_address.h"

namespace metalgate::scenario {

using std::chrono::milliseconds;

struct ScenarioNode {
  std::string name;
  net::IpAddress address;
  bool speaker = true;
  bool proxy = true;
  std::map<std::string, std::string> labels;
  // The interfaces the node's speaker announces on (answers ARP, sends gratuitous ARP); each must exist on
  // the node's host, or the node does not start.
  std::vector<std::string> interfaces = {"eth0"};
  config::SourceLocation where;  // the node's entry in the scenario file
};

// Where a Deployment's pods run: one host per replica, in order (pod <deployment>-0 gets the first).
struct ScenarioBackend {
  std::string deployment;  // "namespace/name"
  std::vector<net::IpAddress> addresses;
  milliseconds latency{1};
  // The node each pod runs "on", in the order of `addresses` (pod i on nodes[i]): what externalTrafficPolicy:
  // Local goes by. Empty: on no node (no node holds a local endpoint of the Deployment's Services).
  std::vector<std::string> nodes;
  // What the pods run: "identity" (the scenario layer's identity servers, every world), or, live only, a real
  // Debian server on the Deployment's first port of its kind: "redis" (redis-server), "postgresql" (a
  // throwaway cluster), "dnsmasq" (answering <pod>.metalgate.test with the pod's address). The simulator
  // runs the identity servers in their place and says so.
  std::string server = "identity";
  config::SourceLocation where;  // the backend's entry in the scenario file
};

struct ScenarioRequestMix {
  std::string host;
  std::string path = "/";
  double weight = 1;
};

struct ScenarioClient {
  std::string name;
  net::IpAddress address;
  std::string host;  // HTTP Host header
  std::string path = "/";
  std::vector<ScenarioRequestMix> mix;  // instead of host and path: each request draws one by weight
  double rate = 10;                     // requests per second (open loop)
  int concurrency = 0;                  // > 0: closed loop, this many requests always under way
  milliseconds think{0};    // closed loop: each user's pause between an answer and its next request
  bool keep_alive = false;  // reuse connections (else a new connection per request)
  bool cookies = false;     // send back what Set-Cookie gave
  bool resume = true;       // https: resume TLS sessions
  bool http2 = false;       // https: offer only h2 in ALPN and send each request as an HTTP/2 stream
  // Where the requests go: the address written, or the first IPv4 address of the LoadBalancer Service
  // `target_service` names (the loader resolves it from the manifests). Unset: the ingress controller's first
  // VIP.
  std::optional<net::IpAddress> target;
  std::string target_service;  // "namespace/name" as written; empty when `target` was an address or not given
  std::uint16_t port = 80;     // 443 when https
  bool https = false;
  bool udp = false;  // a datagram client (udp: {port, rate}): one flow, each datagram answered or timed out
  milliseconds timeout{2000};
};

// One fault at its time. `kind` names a row of scenario/kinds/fault_kinds.h, whose parser fills the
// parameters that kind takes; the others keep their defaults.
struct ScenarioFault {
  milliseconds at{0};
  std::string kind;  // "crash", "partition", … as written
  std::string node;  // node, host or pod name; "owner": whoever owns the controller VIP at that moment
  // crash, leave, nic_down: {owner: SERVICE or VIP} names whose owner "owner" is; as written, and the VIP it
  // resolved to (a Service's first IPv4 address). Unset: the ingress controller's first VIP.
  std::string owner_of;
  std::optional<net::IpAddress> owner_vip;
  std::vector<std::vector<std::string>> groups;    // partition
  std::optional<double> loss;                      // link: share of frames lost, each direction
  std::optional<std::chrono::microseconds> delay;  // link
  std::optional<std::string> rate;                 // link
  milliseconds latency{0};                         // backend_slow
  std::vector<std::string> manifests;              // reload: files and directories, resolved
  config::SourceLocation where;
};

// One expectation. `name` names a row of scenario/kinds/expectation_kinds.h (its parser and its judge); the
// parameters a kind does not take keep their defaults.
struct ScenarioExpectation {
  std::string name;                  // "success_ratio", … as written
  std::string client;                // sticky, rate_limit, success_ratio (optional): whose requests
  std::vector<std::string> exclude;  // success_ratio, latency: clients left out (a rate limit's target)
  std::int64_t limit = 0;            // rate_limit: most requests a backend may answer per `period`
  milliseconds period{1000};         // rate_limit
  double min = 0;                    // success_ratio, sticky
  milliseconds max{0};               // failover, latency
  milliseconds within{5000};  // recovers: how long after the last fault the system must be whole again;
                              // clients_follow_owner: how long an owner holds the VIP before it is judged
  milliseconds settle{2000};  // single_owner: after a heal, NIC up or restart, how long claims may overlap
  double percentile = 0.99;   // latency: which percentile (its bound is `max`)
  bool outside_failover = false;  // success_ratio: leave out requests started while a failover was under way
  milliseconds from{0};  // success_ratio: leave out requests started before this (a large LAN forming)
  // counter: a node's stats counter at the end of the run (engine/stats/json.h names them, "a.b.c"), summed
  // over every node unless `node` names one, and its bounds (at least one).
  std::string node;
  std::string path;
  std::optional<double> at_least, at_most;
  // answered_by: the requests for `host` and `request_path`, and the pods that may answer them (none: only
  // the proxy's own answers, a redirect or a 404).
  std::string host;
  std::string request_path;
  std::vector<std::string> pods;
  std::int64_t min_answers = 1;    // answered_by: how many such requests must have been answered
  std::vector<std::string> nodes;  // announced_by: the nodes that may claim the scenario's VIP
  std::optional<std::int64_t> accepted,
      refused;  // reloads: how many reloads applied, and how many were refused
  config::SourceLocation where;
};

// The speakers' timing, for every node; unset keys keep the engine's defaults (docs/speaker.md). A large
// LAN can trade failover speed for simulation speed with a longer probe interval.
struct ScenarioSpeaker {
  std::optional<milliseconds> probe_interval, probe_timeout, suspicion_timeout, join_grace;
  std::optional<milliseconds> announce_refresh;  // periodic announcements after a burst; 0 or unset: never
};

struct Scenario {
  std::string file;
  std::string name;
  std::uint64_t seed = 1;
  milliseconds duration{60000};
  net::Cidr subnet;
  // lan.subnet6: every host also gets an IPv6 address in it (scenario::address6_of), and clients may target
  // IPv6 service addresses. The live world has it; the simulator's hosts are IPv4 only and refuse it.
  std::optional<net::Cidr> subnet6;
  std::string link_rate = "1Gbps";
  std::chrono::microseconds link_delay{5};
  double link_loss = 0;  // every link, each direction
  bool pcap = false;     // a capture per host link
  std::vector<ScenarioNode> nodes;
  ScenarioSpeaker speaker;
  std::vector<std::string> manifests;  // resolved paths
  std::vector<ScenarioBackend> backends;
  std::vector<ScenarioClient> clients;
  std::vector<ScenarioFault> faults;
  std::vector<ScenarioExpectation> expectations;
};

}  // namespace metalgate::scenario
