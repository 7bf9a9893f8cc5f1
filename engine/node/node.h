// One metalgate node: what `metalgate serve` runs live and what the simulator runs on every simulated node.
// A node is its configuration (manifests read, resolved and checked in full), its speaker (membership,
// election, ARP/NDP) and its proxy; it starts, reloads (a new configuration replaces the old one only when it
// is valid in full), leaves gracefully, or is destroyed (a crash: nothing said on the way out). The worlds
// keep what is theirs: `serve` its flags, signals and event-loop threads; the simulator its placement and
// faults. Neither assembles a node itself.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/config/diagnostics.h"
#include "engine/config/label_selector.h"
#include "engine/ipam/allocator.h"
#include "engine/l4/forwarding.h"
#include "engine/model/model-t.h"
#include "engine/proxy/proxy.h"
#include "engine/proxy/proxy_config.h"
#include "engine/proxy/serving_proxy.h"
#include "engine/runtime/result.h"
#include "engine/runtime/runtime.h"
#include "engine/speaker/layer2_node.h"
#include "engine/stats/registry.h"
#include "engine/stats/snapshot.h"
#include "engine/stats/stats_server.h"

namespace metalgate::node {

// What a node is told when it is created: who it is, where its manifests are and what it runs.
struct NodeSpec {
  std::string name;  // as in Node objects and nodeSelectors
  std::vector<std::string> manifests;  // files and directories
  bool speaker = true;
  bool proxy = true;
  ipam::PreviousAllocations previous;  // addresses Services keep at the first load (a state file's)
  proxy::BuildOptions build;           // frontends' address and ports; where a world placed Deployment pods
  proxy::ProxyOptions proxy_options;   // access log and clock; the node sets `shared` itself
  int proxy_threads = 1;               // event loops sharing this node's proxy state (serve's nbthread)
  // Interfaces, membership address, seeds and timing. `name` and `runs_proxy` come from the fields above;
  // node labels from the manifests' Node objects over `node_labels`.
  speaker::Layer2NodeConfig layer2;
  std::map<std::string, config::Labels> node_labels;  // nodes described outside the manifests (a scenario's)
  // Where a world placed a Deployment's pod (the simulator's placement); "" when unknown. Endpoints and
  // EndpointSlices name their node themselves.
  std::function<std::string(const routing::ResolvedEndpoint&)> endpoint_node;
};

// Where a world put a Deployment's pod: its address and the node it runs on ("" when on none). The simulator
// places the scenario's pods so; `serve --pod` says it for a node whose manifests give Deployments without
// Endpoints.
struct PodPlacement {
  net::IpAddress address;
  std::string node;
};
// Sets `spec`'s placement (build.place_endpoint, endpoint_node) from pods by name ("<deployment>-<n>").
void place_pods(NodeSpec& spec, std::map<std::string, PodPlacement> pods);

// A configuration loaded and checked in full: what a node starts with and what a reload swaps in.
struct Configuration {
  std::shared_ptr<const model::Model> model;
  // What the proxies serve. A node without the proxy serves kube-proxy's part of it only
  // (Node::serving_config).
  std::shared_ptr<const proxy::ProxyConfig> proxy_config;
  std::vector<speaker::Layer2Assignment> assignments;      // what the speaker may announce, and where
  std::map<std::string, config::Labels> node_labels;       // every node's labels
  std::vector<std::string> warnings;                       // one a line, as `validate` prints them
  // What the nodes without the proxy serve, by the proxy peers they forward the controller's Service to
  // (Node::serving_config): nodes that follow the same peers share one. Every node forwards every Service,
  // and a copy each was 60 MB of a 64-node, 1,000-Service simulated LAN (reports/sim-speed.md).
  mutable std::mutex forwarding_mutex;
  mutable std::map<std::string, std::weak_ptr<const proxy::ProxyConfig>> forwarding;
};

// Reads `manifests` as `spec` says. Errors go to `diagnostics` (file:line:column, field) and the result is a
// failure that counts them; warnings go there too and into Configuration::warnings.
Result<std::shared_ptr<const Configuration>> load_configuration(const NodeSpec& spec,
                                                               const std::vector<std::string>& manifests,
                                                               const ipam::PreviousAllocations& previous,
                                                               config::Diagnostics& diagnostics);

struct ReloadOutcome {
  bool applied = false;
  std::string refused;                // why not, when not applied; the configuration before keeps serving
  std::vector<std::string> warnings;  // of the new configuration
  std::shared_ptr<const Configuration> configuration;  // the one serving now
  std::shared_ptr<const proxy::ProxyConfig> serving;   // what its proxies serve (Node::serving)
  proxy::ProxyOptions proxy_options;  // what other event loops build their proxies with (non-primary)
};

class Node {
 public:
  // Starts the proxy, then the speaker. When a part cannot start (a port taken, an interface missing) the
  // result says which and why, and nothing of the node is left running.
  static Result<std::unique_ptr<Node>> start(runtime::Runtime& runtime, NodeSpec spec,
                                             std::shared_ptr<const Configuration> configuration);
  ~Node();  // a crash: the speaker and the proxy stop without a word
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Reads the manifests again and swaps only when the result is valid in full (SIGHUP live, `reload` in a
  // scenario); problems go to `diagnostics`.
  ReloadOutcome reload(const std::vector<std::string>& manifests, config::Diagnostics& diagnostics);
  // Swaps in a configuration loaded already (the simulator loads once for every node).
  ReloadOutcome apply(std::shared_ptr<const Configuration> configuration);
  // Graceful: the members hear goodbye at once and take over; the proxy stops accepting.
  void leave();

  const std::string& name() const { return spec_.name; }
  const Configuration& configuration() const { return *configuration_; }
  // What the proxy serves: the configuration's proxy, as this node listens and forwards (serving_config).
  std::shared_ptr<const proxy::ProxyConfig> serving() const { return serving_; }
  speaker::Layer2Node* layer2() const { return layer2_.get(); }  // null without a speaker
  // The proxy, or on a node without one the forwarder of the Services' own ports; empty after a failed start.
  proxy::ServingProxy& proxy() { return proxy_; }
  // For event loops beside this node's (serve's nbthread): their proxies share this state.
  proxy::ProxyOptions secondary_proxy_options() const;
  // The stats as the stats page, its CSV or /metrics show them now (every loop's counters, the speaker's).
  std::string stats(stats::Page page);
  stats::Snapshot stats_snapshot();
  // The stats and metrics listeners, when the values enable them (null otherwise).
  const stats::StatsServer* stats_server() const { return stats_server_.get(); }

 private:
  Node(runtime::Runtime& runtime, NodeSpec spec, std::shared_ptr<const Configuration> configuration);
  std::string start_parts();
  std::string start_proxy();
  // What the proxy serves with `c`: the configuration's proxy, or on a node without one its forwards and the
  // controller's ports forwarded to the nodes running the proxy (proxy_peers_).
  std::shared_ptr<const proxy::ProxyConfig> serving_config(const Configuration& c) const;
  // A node without the proxy: the membership changed, so the controller's endpoints may have.
  void follow_proxy_peers();
  void log_proxy_started();
  void log_speaker_started();
  // (Re)starts the stats and metrics listeners when the configuration's MonitorConfig differs from theirs.
  std::string start_stats_server();

  runtime::Runtime& runtime_;
  NodeSpec spec_;
  std::shared_ptr<const Configuration> configuration_;
  proxy::ProxyOptions proxy_options_;  // with this configuration's shared state
  proxy::ServingProxy proxy_;
  std::unique_ptr<speaker::Layer2Node> layer2_;
  std::shared_ptr<const proxy::ProxyConfig> serving_;  // the serving proxy's: serving_config(*configuration_)
  std::vector<l4::ProxyPeer> proxy_peers_;  // live members running the proxy, by name (nodes without one)
  std::shared_ptr<stats::Registry> stats_ = std::make_shared<stats::Registry>();  // every loop, every reload
  std::unique_ptr<stats::StatsServer> stats_server_;
};

}  // namespace metalgate::node
