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
//
// In frontend, backend and server rows a counter that is zero is left out, and so is a group of them
// (`responses`, `h2`) with nothing counted; gauges stay (a backend's response_time_ms and active_servers, a
// server's status), and so does every row. Why: a LAN of 64 nodes with 1,000 Services each has 320,000
// such rows at the end of a run, of which 18 counted anything; written whole they were 143 MB of result.json
// and about a quarter of the run's wall time. The `counter` judge reads a left-out counter of a row that is
// there as zero (is_counter below).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/stats/snapshot.h"

namespace metalgate::stats {

nlohmann::json to_json(const Snapshot& snapshot);

// Whether `field` (dotted, within a row: "requests", "responses.5xx", "h2.floods") is a counter of the rows
// of `section` ("frontends", "backends", "servers"), i.e. zero when it is not in the row.
bool is_counter(std::string_view section, std::string_view field);

}  // namespace metalgate::stats
