// What every world does the same way while a scenario runs: a fault's moment (who owns what when it strikes),
// its bookkeeping (which VIPs move, which may fail back, the partition's sides, the fault log) and the
// ownership samples every 100 ms. A world keeps only its LAN and processes: it answers `claims()` and carries
// out each action of WorldActions; the simulator (sim/scenario) and the live twin (twin/scenario) both run
// this code, so a fault means the same thing in both.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/net/ip_address.h"
#include "scenario/observe/observations.h"
#include "scenario/schema/scenario-t.h"

namespace metalgate::scenario::run {

// The actions a world carries out for the fault kinds (scenario/kinds/fault_kinds.h), each on its own LAN.
class WorldActions {
 public:
  virtual ~WorldActions() = default;
  // Every VIP a running speaker claims now, with its claimants in name order; NIC state aside (the
  // shared code leaves out nodes whose NIC is down).
  virtual std::map<net::IpAddress, std::vector<std::string>> claims() = 0;
  virtual bool node_running(const std::string& node) = 0;
  // crash (graceful = false: nothing said on the way out) or leave (goodbye first, as on SIGTERM).
  virtual void stop_node(const std::string& node, bool graceful) = 0;
  // "" when it started, else why not.
  virtual std::string start_node(const ScenarioNode& node) = 0;
  virtual void set_nic(const std::string& host, bool up) = 0;
  // Hosts reach only their own group's; hosts not listed join the first group; empty heals.
  virtual void set_partition(const std::vector<std::vector<std::string>>& groups) = 0;
  // The fault's loss, delay and rate (those it gives) on the host's link, each direction; "" or what could
  // not be set and why (the fault log says it).
  virtual std::string set_link(const std::string& host, const ScenarioFault& fault) = 0;
  virtual void pod_crash(const std::string& pod) = 0;
  virtual void pod_restart(const std::string& pod) = 0;  // only when not running
  virtual void pod_latency(const std::string& pod, milliseconds latency) = 0;
  virtual void pod_health(const std::string& pod, bool healthy) = 0;
  // SIGHUP's meaning on every running node: load, check, swap or refuse. Adds to the fault log's entry:
  // "refused" (why), or "reloaded" (bool), "failed" (nodes and why) and "warnings".
  virtual void reload(const std::vector<std::string>& manifests, nlohmann::json& entry) = 0;
};

// The state faults change, kept alike in every world, and what the run observes.
struct WorldRun {
  explicit WorldRun(const Scenario& s) : scenario(s) {}
  const Scenario& scenario;
  observe::Observations observations;
  observe::FailoverCandidates candidates;
  std::map<std::string, bool> isolated;              // NIC down
  std::map<std::string, int> group;                  // partition group of every host (0 when whole)
  std::optional<std::int64_t> last_settle_event_ms;  // the latest heal, NIC up or restart

  // Where `client`'s requests go: its target, else the scenario's VIP.
  net::IpAddress target_of(const ScenarioClient& client) const {
    return client.target.value_or(observations.vip);
  }
  // Nodes that can reach each other share a side: the same partition group and a working NIC.
  std::string side_of(const std::string& node);
};

// Applies `fault` at `now_ms`: resolves "owner", calls the world's action and logs the fault as applied.
void apply_fault(WorldRun& run, WorldActions& world, const ScenarioFault& fault, std::int64_t now_ms);
// One ownership sample at `now_ms`: who claims what, each claim with its side.
void sample_ownership(WorldRun& run, WorldActions& world, std::int64_t now_ms);
// The kinds of the shared table (scenario/kinds/fault_kinds.h) that have no action here: empty when complete.
std::vector<std::string> kinds_without_action();

}  // namespace metalgate::scenario::run
