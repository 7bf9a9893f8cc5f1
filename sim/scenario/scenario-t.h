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
  std::optional<net::IpAddress> target;  // default: the ingress controller's first VIP
  std::uint16_t port = 80;               // 443 when https
  bool https = false;
  bool udp = false;  // a datagram client (udp: {port, rate}): one flow, each datagram answered or timed out
  milliseconds timeout{2000};
};

struct ScenarioFault {
  milliseconds at{0};
  enum class Kind {
    kCrash,             // the node's engine and its state are lost, nothing said on the way out
    kRestart,           // a fresh engine on a node whose engine crashed or left
    kLeave,             // graceful stop (SIGTERM): the speaker says goodbye, the proxy stops
    kNicDown,           // the node's network interface stops (the engine keeps running and its state)
    kNicUp,             //
    kPartition,         // the LAN splits into groups of hosts that reach only each other
    kHeal,              // the partition ends
    kLink,              // a host's link gets loss, delay or rate
    kBackendCrash,      // a pod's servers stop (connections close; new ones are refused)
    kBackendRestart,    //
    kBackendSlow,       // a pod's answers take `latency`
    kBackendUnhealthy,  // a pod answers 503 to everything (health checks included)
    kBackendHealthy,    //
    kReload,            // every running engine reads `manifests` again (SIGHUP live); refused if invalid
  } kind = Kind::kCrash;
  std::string node;  // node, host or pod name; "owner": whoever owns the controller VIP at that moment
  std::vector<std::vector<std::string>> groups;    // partition
  std::optional<double> loss;                      // link: share of frames lost, each direction
  std::optional<std::chrono::microseconds> delay;  // link
  std::optional<std::string> rate;                 // link
  milliseconds latency{0};                         // backend_slow
  std::vector<std::string> manifests;              // reload: files and directories, resolved
  config::SourceLocation where;
};

struct ScenarioExpectation {
  enum class Kind {
    kSingleOwner,
    kSuccessRatio,
    kFailover,
    kRoutedToAllowedBackend,
    kLatency,
    kSticky,
    kRateLimit
  } kind;
  std::string client;                // sticky, rate_limit: whose requests
  std::vector<std::string> exclude;  // success_ratio, latency: clients left out (a rate limit's target)
  std::int64_t limit = 0;            // rate_limit: most requests a backend may answer per `period`
  milliseconds period{1000};         // rate_limit
  double min = 0;                    // success_ratio
  milliseconds max{0};               // failover
  milliseconds settle{2000};  // single_owner: after a heal, NIC up or restart, how long claims may overlap
  double percentile = 0.99;   // latency: which percentile (its bound is `max`)
  bool outside_failover = false;  // success_ratio: leave out requests started while a failover was under way
  std::string name;               // as written: "success_ratio"
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

}  // namespace metalgate::sim
