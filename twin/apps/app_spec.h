// What one app process of the live twin runs: a pod (its identity servers) or a client (one load client that
// records every request). The runner writes an AppSpec as JSON into the run's directory and starts
// `metalgate-netns app SPEC.json` inside the host's namespace; the process runs the scenario layer's apps
// (scenario/apps) on the live runtime, the same code the simulator runs on ns-3.
//
// Times: the run's clock is CLOCK_MONOTONIC (the same in every namespace) minus `epoch_ns`, the instant the
// run began; a client's records carry that clock, as the simulator's carry simulated time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/net/ip_address.h"
#include "engine/runtime/result.h"
#include "scenario/observe/observations.h"

namespace metalgate::twin {

struct PodAppSpec {
  std::string name;  // <deployment>-<n>: what its servers answer as (X-Served-By, the UDP prefix)
  net::IpAddress address;
  struct Port {
    std::uint16_t number = 0;
    bool udp = false;
  };
  std::vector<Port> ports;
  std::int64_t latency_ms = 1;
  // Polled every 20 ms while the pod runs: {"latency_ms": N, "healthy": true|false}; a missing or unreadable
  // file changes nothing. backend_slow and backend_(un)healthy write it; crash and restart are signals.
  std::string control_file;
};

struct ClientAppSpec {
  std::string name;
  net::IpAddress address;  // the client's own
  net::SocketAddress target;
  bool udp = false;
  // HTTP(S): as scenario::ScenarioClient says.
  bool https = false;
  std::string host, path = "/";
  struct Mix {
    std::string host, path;
    double weight = 1;
  };
  std::vector<Mix> mix;
  double rate = 10;
  int concurrency = 0;
  std::int64_t think_ms = 0;
  std::int64_t timeout_ms = 2000;
  bool keep_alive = false, cookies = false, resume = true, http2 = false;
  std::uint64_t seed = 1;
  // Which node a neighbour-table MAC is (fills RequestRecord::vip_node).
  std::map<std::string, std::string> node_of_mac;  // "02:…" -> node name (read back in lower case)
  // On SIGTERM the client stops, writes every record here (one JSON object per line, RequestRecord's fields;
  // requests still under way with error kStillRunning) and exits 0.
  std::string records_file;
};

struct AppSpec {
  std::int64_t epoch_ns = 0;  // CLOCK_MONOTONIC at the run's t = 0
  // A client given these waits for the run's start: once up it creates `ready_file`, then polls `start_file`
  // every millisecond; the runner writes t = 0 there (epoch_ns, in decimal) once every process is up, and it
  // replaces `epoch_ns`. (A fixed headroom did not do: under load, processes came up 10-340 ms after it.)
  std::string ready_file, start_file;
  std::optional<PodAppSpec> pod;
  std::optional<ClientAppSpec> client;
};

nlohmann::json to_json(const AppSpec& spec);
// Fails with the field that is missing or wrong.
Result<AppSpec> app_spec_from_json(const nlohmann::json& j);

// A client's records file: one JSON object per line, as the client writes it on SIGTERM.
nlohmann::json to_json(const scenario::observe::RequestRecord& record);
Result<std::vector<scenario::observe::RequestRecord>> read_records(const std::string& records_file);

// Which node this network namespace's neighbour table (ARP, NDP; a fresh rtnetlink query) says `address` is
// at: node_of_mac's name for the MAC of a usable entry (reachable, stale, delay, probe, permanent); "" when
// there is no such entry or node_of_mac does not know its MAC. Fills a twin client's RequestRecord::vip_node.
std::string neighbour_node(const net::IpAddress& address,
                           const std::map<std::string, std::string>& node_of_mac);

// `metalgate-netns app SPEC.json`: runs the pod or the client until SIGTERM; the process's exit code.
int run_app(const std::string& spec_file);

}  // namespace metalgate::twin
