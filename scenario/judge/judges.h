// The judges: each decides one expectation kind from a world's observations, the same way in every world. A
// judgement says whether the expectation held, what was measured and the bound it was held to, as they appear
// in result.json and junit.xml. scenario/kinds/expectation_kinds.cc pairs each with its name and parser.
#pragma once

#include <nlohmann/json.hpp>

#include "scenario/observe/observations.h"
#include "scenario/schema/scenario-t.h"

namespace metalgate::scenario::judge {

struct Judgement {
  bool passed = false;
  nlohmann::json measured;
  nlohmann::json bound;
};

using observe::Observations;

// No sample (after the first 2 s) finds two nodes on one side claiming one VIP; samples within `settle` after
// a heal, NIC up or restart are counted apart.
Judgement single_owner(const Observations& o, const ScenarioExpectation& x);
// Every failover (of every VIP a client sends to) recovered, within `max`; a run without a failover proves
// nothing and fails.
Judgement failover(const Observations& o, const ScenarioExpectation& x);
// Answered ÷ counted requests ≥ `min` (of `client`'s alone when given), `exclude`d clients, requests that
// started before `from` and (with `outside_failover`) requests around a failover of their VIP left out.
Judgement success_ratio(const Observations& o, const ScenarioExpectation& x);
// Every answer that names a backend names one of the world's pods; at least one answer.
Judgement routed_to_allowed_backend(const Observations& o, const ScenarioExpectation& x);
// The `percentile` of answered requests' latency ≤ `max`.
Judgement latency(const Observations& o, const ScenarioExpectation& x);
// Of `client`'s answers after its first, the share from the same pod as the answer before ≥ `min`.
Judgement sticky(const Observations& o, const ScenarioExpectation& x);
// No `period`-long window holds more than `limit` of `client`'s answered requests through one proxy, and the
// client was denied at least once.
Judgement rate_limit(const Observations& o, const ScenarioExpectation& x);
// Once the faults are over the system is whole: from `within` after the last fault to the end, every request
// is answered (a rate limit's denial counts as an answer; no answer or a 5xx does not) and every ownership
// sample finds exactly one owner of the scenario's VIP; at least one request. A failed request on a
// kept-alive connection opened before the VIP last went from one owner to another is left out (and counted):
// the move broke that connection. An answer always counts. The liveness property of generated cases (check/),
// whose fault histories end with every node, link and pod back.
Judgement recovers(const Observations& o, const ScenarioExpectation& x);
// Clients follow the VIP: every request to the scenario's VIP that started when no fault had struck and one
// node had owned the VIP alone for `within` went to that node (the client's ARP
// cache held its MAC); at least one such request. Without gratuitous ARP on a takeover, clients keep the old
// owner's MAC until their cache entry ages out. (During faults, a claim shorter than the 100 ms between
// samples is not seen, yet its announcement moves the clients: docs/checking.md.)
Judgement clients_follow_owner(const Observations& o, const ScenarioExpectation& x);
// Every answer a pod gave to a request for `host` and `request_path` came from one of `pods` (none: no pod
// may answer it); at least `min_answers` (1) such requests were answered. The routing property of generated
// cases (check/), whose pods come from a reference of the Ingress rules written apart from the engine's.
Judgement answered_by(const Observations& o, const ScenarioExpectation& x);
// The counter at `path` in the nodes' stats at the end (summed over the nodes, or `node`'s) is within
// [at_least, at_most]; a path no node has fails, naming it.
Judgement counter(const Observations& o, const ScenarioExpectation& x);
// Every ownership sample finds the scenario's VIP claimed by none or by some of `nodes` only (those its
// L2Advertisements select and, for a Local Service, that hold an endpoint); at least one sample finds an
// owner. `metalgate check`'s vip_safety property, whose nodes come from its own reference.
Judgement announced_by(const Observations& o, const ScenarioExpectation& x);
// From the first reload on (requests still open then included), every request is answered or denied (no
// answer and a 5xx fail), the VIP never goes from one owner to another, every valid reload applied on every
// node, and `accepted` and `refused` (when given) count the reloads that applied and those refused. The
// reload property of generated cases (check/): a valid reload under load fails no request; an invalid one
// changes nothing. A run without a reload fails.
Judgement reloads(const Observations& o, const ScenarioExpectation& x);

}  // namespace metalgate::scenario::judge
