// The stats as one JSON object, for the simulator's result.json (a node's counters at the end of a run) and
// the `counter` expectation that bounds them. Keys:
//   frontends.<name>.{requests, responses.{1xx..5xx,other}, sessions, bytes_in, bytes_out, denied, errors,
//     h2.{connections, streams, resets_received, stream_errors, headers_too_large, connection_errors,
//     floods}}
//   backends.<name>.{requests, responses.*, sessions, connection_errors, response_errors, retries,
//                    redispatches, response_time_ms, active_servers}
//   servers.<backend>/<server>.{requests, responses.*, sessions, connection_errors, check_failures,
//                               up_down, status}
//   speaker.{requests_received, responses_sent, gratuitous_sent, failovers, probes, indirect_probes}
//   speaker.membership.{datagrams_sent, bytes_sent, datagrams_received, bytes_received, views_sent,
//                       views_received}
#pragma once

#include <nlohmann/json.hpp>

#include "engine/stats/snapshot.h"

namespace metalgate::stats {

nlohmann::json to_json(const Snapshot& snapshot);

}  // namespace metalgate::stats
