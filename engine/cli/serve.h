// `metalgate serve`: run this node live. Today: the Layer-2 speaker (membership, election, ARP/NDP) for every
// LoadBalancer address the manifests give; the proxy joins it in the same process when it lands.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace metalgate::cli {

struct ServeOptions {
  std::vector<std::string> manifests;
  std::string node;
  std::vector<std::string> interfaces;
  std::string bind;                // membership address, "ip:port"
  std::vector<std::string> peers;  // other nodes' membership addresses
  std::string vip_interface = "lo";
  std::string state_file;
  std::string admin_socket;  // Unix socket for `metalgate ctl` (mode 0600: root only); empty: none
  std::uint64_t seed = 1;
  bool debug = false;
  bool no_speaker = false;
  bool no_proxy = false;
  std::string listen;  // frontends' bind address; empty: every address
  std::optional<std::uint16_t> http_port, https_port;
  std::optional<std::uint16_t> stats_port, metrics_port;  // over the values' stats.port and metrics port
  std::string access_log;  // file path, "-" for stdout, empty: stdout when an Ingress asks for access logs
  int threads = 0;         // the proxy's event loops; 0: the ConfigMap's nbthread (default 1)
  // The speaker's timing (durations such as "30ms"); empty keeps the defaults (docs/speaker.md).
  std::string probe_interval, probe_timeout, suspicion_timeout, join_grace;
  // SIGTERM: how long requests in flight may take to finish before the process exits anyway. 30 s, the grace
  // Kubernetes gives a pod (terminationGracePeriodSeconds) and so the HAProxy controller's pods by default.
  std::string grace = "30s";
  std::string announce_refresh;  // announce owned addresses again this often after a burst; empty or 0: never
  // Where Deployment pods run, "NAME=IP[@NODE]" (node::PodPlacement), for manifests that give Deployments
  // without Endpoints: what a scheduler decided, as the simulator places a scenario's pods.
  std::vector<std::string> pods;
  std::string handover;  // how long segments of a leaving node's connections are sent on to it; 0: never
};

// Returns the process exit code: 0 after a graceful stop, 1 on invalid input or missing privileges.
int run_serve(const ServeOptions& options);

// `metalgate ctl`: one admin command to a serving node's socket; prints the answer. 0, or 1 when the answer
// is an error, 2 when the socket cannot be reached.
int run_ctl(const std::string& socket_path, const std::vector<std::string>& words);

}  // namespace metalgate::cli
