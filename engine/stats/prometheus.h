// The stats in Prometheus' text exposition format (/metrics), named as HAProxy 2.6's built-in exporter names
// them (haproxy_frontend_*, haproxy_backend_*, haproxy_server_*; labels proxy, server, code, state) and, for
// the speaker, as MetalLB names its metrics (metallb_layer2_*, metallb_speaker_announced), plus metalgate's
// membership gauges. Two additions, so that the tutorial's Grafana dashboard shows data unchanged
// (docs/operations.md, "Metrics"):
// - every frontend series also carries frontend="<name>", every backend and server series backend="<name>"
//   (the dashboard's legends are {{frontend}} and {{backend}}; HAProxy's label is proxy);
// - haproxy_backend_http_response_time_average_seconds, for HTTP backends: the same value as
//   haproxy_backend_response_time_average_seconds, under the name the dashboard queries.
#pragma once

#include <string>

#include "engine/stats/snapshot.h"

namespace metalgate::stats {

std::string to_prometheus(const Snapshot& snapshot);

}  // namespace metalgate::stats
