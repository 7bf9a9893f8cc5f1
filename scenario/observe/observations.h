// What a world saw during a scenario run, as plain data: the clients' requests, who claimed which VIP every
// 100 ms, the VIP's moves (failovers) and the faults as applied. A world (the ns-3 simulator, the live
// network namespaces) fills an Observations; the judges (scenario/judge/) and the reports
// (scenario/report/) read nothing else, so every world is judged by the same code.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/net/ip_address.h"

namespace metalgate::scenario::observe {

// One request of a load client, as the client saw it. Times are the world's clock in microseconds since the
// run began.
struct RequestRecord {
  std::int64_t start_us = 0;
  std::int64_t end_us = 0;
  int status = 0;         // 0: no response (refused, reset, timed out)
  std::string served_by;  // X-Served-By of the response
  std::string client;     // the client's name (filled in by whoever runs the clients)
  std::string vip_node;   // whose MAC the client's ARP cache held for the target when the request started
  std::string host;       // Host header sent
  std::string path;
  std::string error;
  bool reused = false;  // sent on a kept-alive connection
  // When the request's connection was opened (the same clock; -1: not known). A VIP's move breaks the
  // connections opened before it (recovers leaves their requests out).
  std::int64_t connection_opened_us = -1;
  // The address the request went to (a client's target; filled in by whoever runs the clients). Unspecified
  // (0.0.0.0): not known, and then it counts as a request to every VIP.
  net::IpAddress target{};
};

// The error a world gives a request the end of the run cut off; such requests are not counted.
inline constexpr std::string_view kStillRunning = "still running at the end";

// A node claiming a VIP, and its side: nodes on one side reach each other (the same partition group and a
// working NIC), so two claims on one side are a conflict and claims on different sides are not.
struct Claim {
  std::string node;
  std::string side;  // "group:<n>", or "nic-down:<node>" for a node cut off alone
};

// The nodes that claim an address together with another node on their side: two claims on one side are a
// conflict (claims on different sides of a partition are MetalLB's behaviour). Empty when there is none.
std::set<std::string> several_on_one_side(const std::vector<Claim>& claims);

// Who claimed what at one moment (every 100 ms of the run).
struct OwnershipSample {
  std::int64_t at_ms = 0;
  std::vector<std::string> vip_owners;  // the live speakers that claim the scenario's VIP, by name
  std::map<net::IpAddress, std::vector<Claim>> claims;  // every VIP a live speaker claims
  // The latest heal, NIC up or restart at or before this sample (claims may overlap a while after one).
  std::optional<std::int64_t> last_settle_event_ms;
};

// The VIP's owner from `at_ms` on: "" for none, "a+b" while several nodes claim it.
struct OwnerChange {
  std::int64_t at_ms = 0;
  std::string owner;
};

// A move of a VIP away from its owner: the owner failed (crash, leave, NIC down, cut off from the clients),
// or came back and took it again (restart, NIC up, heal: MetalLB's election is deterministic, so the VIP
// fails back). Connections through the old owner break either way.
struct Failover {
  std::int64_t fault_ms = 0;
  std::string node;                // the owner it moves from
  std::int64_t recovered_ms = -1;  // the first answer to a request to `vip` after the fault; -1: never
  std::string cause;               // the fault's kind
  // The VIP that moves. Unspecified (0.0.0.0): the scenario's VIP (Observations::vip), judged by every
  // request.
  net::IpAddress vip{};
  // A failback's move: the first ownership sample after the fault that shows the new owner (-1 for a move,
  // which starts at the fault). Until then the old owner answers; the clients' wait starts there.
  std::int64_t moved_ms = -1;

  // When the clients' wait began: the fault, or a failback's move.
  std::int64_t from_ms() const { return moved_ms >= 0 ? moved_ms : fault_ms; }
  // How long the clients went without an answer: from the fault (a failback: its move) to the recovery; -1
  // when they never recovered.
  std::int64_t failover_ms() const { return recovered_ms < 0 ? -1 : recovered_ms - from_ms(); }
};

struct Observations {
  net::IpAddress vip;                     // the ingress controller's first address
  std::set<std::string> pods;             // the backends' pods the world ran (<deployment>-<n>)
  std::vector<RequestRecord> records;     // every client's, ordered by (start, end, client)
  std::vector<OwnershipSample> samples;   // every 100 ms from 0 to the end, in time order
  std::vector<OwnerChange> owner_timeline;  // from `samples` (complete_observations)
  std::vector<Failover> failovers;        // in fault order, with recovered_ms (complete_observations)
  std::vector<nlohmann::json> fault_log;  // each fault as applied: at_ms, action, what it resolved to
  // Each node's stats counters at the end of the run (engine/stats/json.h), for nodes running then.
  std::map<std::string, nlohmann::json> node_stats;
};

// What a world saw at a fault's moment that may become a failover once the run is over.
struct FailoverCandidates {
  std::vector<Failover> moves;      // the owner failed or was cut off: always a failover
  std::vector<Failover> failbacks;  // restart, NIC up, heal: a failover only when the owner changed within 3 s
};

// Derives what follows from the raw observations, the same way in every world: orders the records, builds
// the owner timeline from the samples, keeps the failbacks after which the VIP's owner did change within 3 s,
// leaves out the moves of VIPs no client sends to (nobody observes them), orders the failovers by time and
// finds when each recovered: the first answer to a request to that VIP that started after the fault.
void complete_observations(Observations& observations, const FailoverCandidates& candidates);

}  // namespace metalgate::scenario::observe
