// What the stats page, the CSV (`;csv`, `show stat`) and /metrics show: one row per frontend, backend and
// server of the serving configuration, HAProxy's way, with every event loop's counters summed. Plain data;
// the renderers (csv.h, html.h, prometheus.h) only format it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/http2/counters-t.h"
#include "engine/membership/traffic-t.h"
#include "engine/runtime/time.h"
#include "engine/stats/counters-t.h"

namespace metalgate::proxy {
class Proxy;
}
namespace metalgate::speaker {
class Layer2Node;
}

namespace metalgate::stats {

enum class RowType : std::uint8_t { kFrontend = 0, kBackend = 1, kServer = 2 };  // HAProxy's type field

struct Average {  // of the last 1024 samples (counters-t.h); -1 when none
  std::int64_t ms = -1;
};

struct Row {
  RowType type = RowType::kFrontend;
  std::string proxy;  // pxname: the frontend's or backend's name
  std::string name;   // svname: FRONTEND, BACKEND or the server's name
  std::string mode;   // "http" or "tcp"
  std::int64_t queue = 0, queue_max = 0;
  std::int64_t sessions = 0, sessions_max = 0, session_limit = 0;  // limit 0: none
  std::uint64_t sessions_total = 0, bytes_in = 0, bytes_out = 0;
  std::uint64_t session_rate = 0, session_rate_max = 0;  // per second (the last second, as HAProxy's)
  std::uint64_t request_rate = 0, request_rate_max = 0;  // frontends' HTTP requests per second
  std::uint64_t denied = 0, request_errors = 0, connection_errors = 0, response_errors = 0;
  std::uint64_t retries = 0, redispatches = 0;
  std::string status;  // OPEN / STOP (frontends), UP / DOWN (backends), UP / DOWN / MAINT / DRAIN / no check
  int weight = 0, active_servers = 0;
  std::uint64_t check_failures = 0, check_up_down = 0;
  std::int64_t last_change_s = -1;   // seconds since the last UP/DOWN change, -1 unknown
  std::int64_t last_session_s = -1;  // seconds since the last session here, -1 none
  std::uint64_t http_requests = 0;
  std::uint64_t responses[6] = {};  // [1]=1xx … [5]=5xx, [0] other
  Average queue_time, connect_time, response_time, total_time;
  std::uint64_t connection_attempts = 0, connection_reuses = 0;
  std::string check_status;  // "L7OK"; "" when none ran
  int check_code = 0;
  std::int64_t check_duration_ms = -1;
  std::string check_description;  // the last check's text
  int check_rise = 0, check_fall = 0;
  bool checked = false;
  std::string address;    // servers: ip:port
  std::string algorithm;  // backends: roundrobin, leastconn, source
  std::uint64_t h2_connections = 0;  // frontends: HTTP/2 connections, and what they refused
  http2::Counters h2;
};

// The speaker's part, for MetalLB's metrics and the membership gauges.
struct AddressRow {
  std::string ip;
  std::string service;     // "namespace/name"
  bool announced = false;  // this node owns it now
  std::uint64_t requests_received = 0, responses_sent = 0, gratuitous_sent = 0;
};

struct SpeakerRow {
  std::string node;
  std::vector<AddressRow> addresses;
  std::uint64_t members[4] = {};  // by membership::MemberState: alive, suspect, dead, left
  std::uint64_t probes = 0, indirect_probes = 0, owner_moves = 0;
  std::uint64_t views_sent = 0, views_received = 0;  // whole views pushed to joining members, and pulled
  membership::MembershipTraffic traffic;
};

struct Snapshot {
  std::vector<Row> rows;  // each frontend, then each backend followed by its servers
  std::optional<SpeakerRow> speaker;
};

// The primary loop's proxy (which runs the health checks) and the registry every loop counts into.
Snapshot take_snapshot(proxy::Proxy& primary, runtime::Instant now);
SpeakerRow take_speaker_snapshot(const speaker::Layer2Node& layer2, const std::string& node);

}  // namespace metalgate::stats
