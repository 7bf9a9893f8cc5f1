#include "engine/stats/prometheus.h"

#include <cstdio>
#include <functional>
#include <string_view>
#include <vector>

#include "engine/stats/check_status.h"

namespace metalgate::stats {

namespace {

enum class Kind { kGauge, kCounter };

// One HAProxy exporter metric: the row type it is for, and its value. A new metric is one row.
struct Metric {
  RowType type;
  std::string_view name;
  Kind kind;
  std::string_view help;
  double (*value)(const Row&);
};

constexpr double seconds(const Average& a) {
  return a.ms < 0 ? 0.0 : static_cast<double>(a.ms) / 1000.0;
}

using R = const Row&;
constexpr auto F = RowType::kFrontend, B = RowType::kBackend, S = RowType::kServer;
constexpr auto G = Kind::kGauge, C = Kind::kCounter;

// HAProxy 2.6's exporter metrics that metalgate has, one row each, in the exporter's order per object type.
constexpr Metric kMetrics[] = {
    {F, "haproxy_frontend_current_sessions", G,
     "Number of current sessions on the frontend, backend or server", [](R r) { return double(r.sessions); }},
    {F, "haproxy_frontend_max_sessions", G,
     "Maximum observed number of sessions on the frontend, backend or server",
     [](R r) { return double(r.sessions_max); }},
    {F, "haproxy_frontend_limit_sessions", G, "Frontend/listener/server's maxconn, backend's fullconn",
     [](R r) { return double(r.session_limit); }},
    {F, "haproxy_frontend_sessions_total", C, "Total number of sessions since process started",
     [](R r) { return double(r.sessions_total); }},
    {F, "haproxy_frontend_bytes_in_total", C, "Total number of request bytes since process started",
     [](R r) { return double(r.bytes_in); }},
    {F, "haproxy_frontend_bytes_out_total", C, "Total number of response bytes since process started",
     [](R r) { return double(r.bytes_out); }},
    {F, "haproxy_frontend_requests_denied_total", C, "Total number of denied requests since process started",
     [](R r) { return double(r.denied); }},
    {F, "haproxy_frontend_request_errors_total", C, "Total number of invalid requests since process started",
     [](R r) { return double(r.request_errors); }},
    {F, "metalgate_frontend_h2_connections_total", C,
     "HTTP/2 connections (ALPN h2) since the process started", [](R r) { return double(r.h2_connections); }},
    {F, "metalgate_frontend_h2_streams_total", C, "HTTP/2 requests (streams) received",
     [](R r) { return double(r.h2.streams); }},
    {F, "metalgate_frontend_h2_resets_received_total", C, "HTTP/2 streams the client reset (RST_STREAM)",
     [](R r) { return double(r.h2.resets_received); }},
    {F, "metalgate_frontend_h2_stream_errors_total", C,
     "HTTP/2 streams refused for their message: pseudo-headers, connection-specific fields, content-length",
     [](R r) { return double(r.h2.stream_errors); }},
    {F, "metalgate_frontend_h2_headers_too_large_total", C,
     "HTTP/2 streams refused for a header list too large",
     [](R r) { return double(r.h2.headers_too_large); }},
    {F, "metalgate_frontend_h2_connection_errors_total", C, "HTTP/2 connections ended for a protocol error",
     [](R r) { return double(r.h2.connection_errors); }},
    {F, "metalgate_frontend_h2_floods_total", C,
     "HTTP/2 connections ended for abuse: rapid resets, PING, SETTINGS or CONTINUATION floods",
     [](R r) { return double(r.h2.floods); }},
    {F, "haproxy_frontend_http_requests_total", C,
     "Total number of HTTP requests processed by this object since the worker process started",
     [](R r) { return double(r.http_requests); }},
    {F, "haproxy_frontend_max_session_rate", G,
     "Highest value of sessions per second observed since the worker process started",
     [](R r) { return double(r.session_rate_max); }},
    {F, "haproxy_frontend_http_requests_rate_max", G,
     "Highest value of http requests observed since the worker process started",
     [](R r) { return double(r.request_rate_max); }},
    {F, "haproxy_frontend_connections_total", C,
     "Total number of new connections accepted on this frontend since the worker process started",
     [](R r) { return double(r.sessions_total); }},
    {B, "haproxy_backend_current_queue", G, "Number of current queued connections",
     [](R r) { return double(r.queue); }},
    {B, "haproxy_backend_max_queue", G,
     "Highest value of queued connections encountered since process started",
     [](R r) { return double(r.queue_max); }},
    {B, "haproxy_backend_current_sessions", G,
     "Number of current sessions on the frontend, backend or server", [](R r) { return double(r.sessions); }},
    {B, "haproxy_backend_max_sessions", G,
     "Maximum observed number of sessions on the frontend, backend or server",
     [](R r) { return double(r.sessions_max); }},
    {B, "haproxy_backend_sessions_total", C, "Total number of sessions since process started",
     [](R r) { return double(r.sessions_total); }},
    {B, "haproxy_backend_max_session_rate", G,
     "Highest value of sessions per second observed since the worker process started",
     [](R r) { return double(r.session_rate_max); }},
    {B, "haproxy_backend_bytes_in_total", C, "Total number of request bytes since process started",
     [](R r) { return double(r.bytes_in); }},
    {B, "haproxy_backend_bytes_out_total", C, "Total number of response bytes since process started",
     [](R r) { return double(r.bytes_out); }},
    {B, "haproxy_backend_connection_errors_total", C,
     "Total number of failed connections to server since the worker process started",
     [](R r) { return double(r.connection_errors); }},
    {B, "haproxy_backend_response_errors_total", C,
     "Total number of invalid responses since the worker process started",
     [](R r) { return double(r.response_errors); }},
    {B, "haproxy_backend_retry_warnings_total", C,
     "Total number of server connection retries since the worker process started",
     [](R r) { return double(r.retries); }},
    {B, "haproxy_backend_redispatch_warnings_total", C,
     "Total number of server redispatches due to connection failures since the worker process started",
     [](R r) { return double(r.redispatches); }},
    {B, "haproxy_backend_weight", G,
     "Server's effective weight, or sum of active servers' effective weights for a backend",
     [](R r) { return double(r.weight); }},
    {B, "haproxy_backend_active_servers", G, "Total number of active UP servers with a non-zero weight",
     [](R r) { return double(r.active_servers); }},
    {B, "haproxy_backend_backup_servers", G, "Total number of backup UP servers with a non-zero weight",
     [](R) { return 0.0; }},
    {B, "haproxy_backend_check_up_down_total", C,
     "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the "
     "worker process started",
     [](R r) { return double(r.check_up_down); }},
    {B, "haproxy_backend_loadbalanced_total", C,
     "Total number of requests routed by load balancing since the worker process started (ignores queue "
     "pop and stickiness)",
     [](R r) { return double(r.sessions_total); }},
    {B, "haproxy_backend_http_requests_total", C,
     "Total number of HTTP requests processed by this object since the worker process started",
     [](R r) { return double(r.http_requests); }},
    {B, "haproxy_backend_last_session_seconds", G,
     "How long ago some traffic was seen on this object on this worker process, in seconds",
     [](R r) { return double(r.last_session_s); }},
    {B, "haproxy_backend_queue_time_average_seconds", G,
     "Time spent in the queue, in seconds, averaged over the 1024 last requests (backend/server)",
     [](R r) { return seconds(r.queue_time); }},
    {B, "haproxy_backend_connect_time_average_seconds", G,
     "Time spent waiting for a connection to complete, in seconds, averaged over the 1024 last requests "
     "(backend/server)",
     [](R r) { return seconds(r.connect_time); }},
    {B, "haproxy_backend_response_time_average_seconds", G,
     "Time spent waiting for a server response, in seconds, averaged over the 1024 last requests "
     "(backend/server)",
     [](R r) { return seconds(r.response_time); }},
    {B, "haproxy_backend_total_time_average_seconds", G,
     "Total duration of the session, in seconds, averaged over the 1024 last requests (backend/server)",
     [](R r) { return seconds(r.total_time); }},
    {B, "haproxy_backend_connection_attempts_total", C,
     "Total number of outgoing connection attempts on this backend/server since the worker process started",
     [](R r) { return double(r.connection_attempts); }},
    {B, "haproxy_backend_connection_reuses_total", C,
     "Total number of reused connection on this backend/server since the worker process started",
     [](R r) { return double(r.connection_reuses); }},
    {S, "haproxy_server_current_queue", G, "Number of current queued connections",
     [](R r) { return double(r.queue); }},
    {S, "haproxy_server_current_sessions", G, "Number of current sessions on the frontend, backend or server",
     [](R r) { return double(r.sessions); }},
    {S, "haproxy_server_max_sessions", G,
     "Maximum observed number of sessions on the frontend, backend or server",
     [](R r) { return double(r.sessions_max); }},
    {S, "haproxy_server_limit_sessions", G, "Frontend/listener/server's maxconn, backend's fullconn",
     [](R r) { return double(r.session_limit); }},
    {S, "haproxy_server_sessions_total", C, "Total number of sessions since process started",
     [](R r) { return double(r.sessions_total); }},
    {S, "haproxy_server_max_session_rate", G,
     "Highest value of sessions per second observed since the worker process started",
     [](R r) { return double(r.session_rate_max); }},
    {S, "haproxy_server_bytes_in_total", C, "Total number of request bytes since process started",
     [](R r) { return double(r.bytes_in); }},
    {S, "haproxy_server_bytes_out_total", C, "Total number of response bytes since process started",
     [](R r) { return double(r.bytes_out); }},
    {S, "haproxy_server_connection_errors_total", C,
     "Total number of failed connections to server since the worker process started",
     [](R r) { return double(r.connection_errors); }},
    {S, "haproxy_server_response_errors_total", C,
     "Total number of invalid responses since the worker process started",
     [](R r) { return double(r.response_errors); }},
    {S, "haproxy_server_retry_warnings_total", C,
     "Total number of server connection retries since the worker process started",
     [](R r) { return double(r.retries); }},
    {S, "haproxy_server_redispatch_warnings_total", C,
     "Total number of server redispatches due to connection failures since the worker process started",
     [](R r) { return double(r.redispatches); }},
    {S, "haproxy_server_weight", G,
     "Server's effective weight, or sum of active servers' effective weights for a backend",
     [](R r) { return double(r.weight); }},
    {S, "haproxy_server_check_failures_total", C,
     "Total number of failed individual health checks per server/backend, since the worker process started",
     [](R r) { return double(r.check_failures); }},
    {S, "haproxy_server_check_up_down_total", C,
     "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the "
     "worker process started",
     [](R r) { return double(r.check_up_down); }},
    {S, "haproxy_server_check_last_change_seconds", G,
     "How long ago the last server state changed, in seconds", [](R r) { return double(r.last_change_s); }},
    {S, "haproxy_server_loadbalanced_total", C,
     "Total number of requests routed by load balancing since the worker process started (ignores queue "
     "pop and stickiness)",
     [](R r) { return double(r.sessions_total); }},
    {S, "haproxy_server_last_session_seconds", G,
     "How long ago some traffic was seen on this object on this worker process, in seconds",
     [](R r) { return double(r.last_session_s); }},
    {S, "haproxy_server_queue_time_average_seconds", G,
     "Time spent in the queue, in seconds, averaged over the 1024 last requests (backend/server)",
     [](R r) { return seconds(r.queue_time); }},
    {S, "haproxy_server_connect_time_average_seconds", G,
     "Time spent waiting for a connection to complete, in seconds, averaged over the 1024 last requests "
     "(backend/server)",
     [](R r) { return seconds(r.connect_time); }},
    {S, "haproxy_server_response_time_average_seconds", G,
     "Time spent waiting for a server response, in seconds, averaged over the 1024 last requests "
     "(backend/server)",
     [](R r) { return seconds(r.response_time); }},
    {S, "haproxy_server_total_time_average_seconds", G,
     "Total duration of the session, in seconds, averaged over the 1024 last requests (backend/server)",
     [](R r) { return seconds(r.total_time); }},
    {S, "haproxy_server_connection_attempts_total", C,
     "Total number of outgoing connection attempts on this backend/server since the worker process started",
     [](R r) { return double(r.connection_attempts); }},
    {S, "haproxy_server_check_code", G, "layer5-7 code, if available of the last health check",
     [](R r) { return double(r.check_code); }},
    {S, "haproxy_server_check_duration_seconds", G,
     "Total duration of the latest server health check, in seconds",
     [](R r) { return r.check_duration_ms < 0 ? 0.0 : double(r.check_duration_ms) / 1000.0; }},
};

std::string quoted(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// HAProxy's labels, and the dashboard's alias (prometheus.h).
std::string labels(const Row& r, std::string_view extra = {}) {
  std::string out = "{proxy=" + quoted(r.proxy);
  if (r.type == RowType::kServer) out += ",server=" + quoted(r.name);
  out += r.type == RowType::kFrontend ? ",frontend=" : ",backend=";
  out += quoted(r.proxy);
  if (!extra.empty()) out.append(",").append(extra);
  return out + "}";
}

std::string number(double v) {
  char buf[64];
  if (v == static_cast<double>(static_cast<long long>(v)))
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else
    std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

void header(std::string& out, std::string_view name, std::string_view kind, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(kind).append("\n");
}

void http_responses(std::string& out, const Snapshot& s, RowType type, std::string_view name) {
  header(out, name, "counter",
         "Total number of HTTP responses with status 100-199, 200-299, 300-399, 400-499, 500-599 or other");
  static constexpr std::string_view kCodes[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (const Row& r : s.rows) {
    if (r.type != type || r.mode != "http") continue;
    for (int c : {1, 2, 3, 4, 5, 0})
      out += std::string(name) + labels(r, "code=" + quoted(kCodes[c])) + " " +
             std::to_string(r.responses[c]) + "\n";
  }
}

void states(std::string& out, const Snapshot& s, RowType type, std::string_view name, std::string_view help,
            const std::vector<std::string_view>& all, const std::function<std::string(const Row&)>& current) {
  header(out, name, "gauge", help);
  for (const Row& r : s.rows) {
    if (r.type != type) continue;
    const std::string now = current(r);
    for (std::string_view st : all)
      out += std::string(name) + labels(r, "state=" + quoted(st)) + " " + (st == now ? "1" : "0") + "\n";
  }
}

void haproxy_series(std::string& out, const Snapshot& s) {
  for (const Metric& m : kMetrics) {
    header(out, m.name, m.kind == Kind::kGauge ? "gauge" : "counter", m.help);
    const bool http_only = m.name.find("_http_") != std::string_view::npos;
    for (const Row& r : s.rows)
      if (r.type == m.type && (!http_only || r.mode == "http"))
        out += std::string(m.name) + labels(r) + " " + number(m.value(r)) + "\n";
  }
  http_responses(out, s, RowType::kFrontend, "haproxy_frontend_http_responses_total");
  http_responses(out, s, RowType::kBackend, "haproxy_backend_http_responses_total");
  http_responses(out, s, RowType::kServer, "haproxy_server_http_responses_total");
  const std::string_view help = "Current status of the service, per state label value.";
  states(out, s, RowType::kFrontend, "haproxy_frontend_status", help, {"DOWN", "UP"},
         [](const Row& r) { return std::string(r.status == "OPEN" ? "UP" : "DOWN"); });
  states(out, s, RowType::kBackend, "haproxy_backend_status", help, {"DOWN", "UP"},
         [](const Row& r) { return r.status; });
  states(out, s, RowType::kServer, "haproxy_server_status", help, {"DOWN", "UP", "MAINT", "DRAIN", "NOLB"},
         [](const Row& r) { return std::string(r.status == "no check" ? "UP" : r.status); });
  states(out, s, RowType::kServer, "haproxy_server_check_status",
         "Status of last health check, per state label value.", prometheus_check_states(),
         [](const Row& r) { return r.check_status; });
  header(out, "haproxy_backend_http_response_time_average_seconds", "gauge",
         "metalgate: haproxy_backend_response_time_average_seconds of an HTTP backend, under the name the "
         "tutorial's dashboard queries");
  for (const Row& r : s.rows)
    if (r.type == RowType::kBackend && r.mode == "http")
      out += "haproxy_backend_http_response_time_average_seconds" + labels(r) + " " +
             number(seconds(r.response_time)) + "\n";
}

// MetalLB's names. Its layer2 counters have no _total suffix; they are declared untyped so that promtool's
// lint accepts the exposition while the names stay MetalLB's (rate() reads them all the same).
void speaker_series(std::string& out, const SpeakerRow& sp) {
  auto per_ip = [&](std::string_view name, std::string_view help, auto field) {
    header(out, name, "untyped", help);
    for (const AddressRow& a : sp.addresses)
      out += std::string(name) + "{ip=" + quoted(a.ip) + "} " + std::to_string(a.*field) + "\n";
  };
  per_ip("metallb_layer2_requests_received", "Number of layer2 requests received for owned IP",
         &AddressRow::requests_received);
  per_ip("metallb_layer2_responses_sent", "Number of layer2 responses sent for owned IP",
         &AddressRow::responses_sent);
  per_ip("metallb_layer2_gratuitous_sent", "Number of gratuitous layer2 packets sent for owned IP",
         &AddressRow::gratuitous_sent);
  header(out, "metallb_speaker_announced", "gauge",
         "The node that announces the service address (1) or not (0)");
  for (const AddressRow& a : sp.addresses)
    out += "metallb_speaker_announced{ip=" + quoted(a.ip) + ",node=" + quoted(sp.node) +
           ",protocol=\"layer2\",service=" + quoted(a.service) + "} " + (a.announced ? "1" : "0") + "\n";
  header(out, "metalgate_membership_members", "gauge", "Members in this node's view, by state");
  static constexpr std::string_view kStates[] = {"alive", "suspect", "dead", "left"};
  for (int i = 0; i < 4; ++i)
    out += "metalgate_membership_members{state=" + quoted(kStates[i]) + "} " + std::to_string(sp.members[i]) +
           "\n";
  header(out, "metalgate_membership_probes_total", "counter", "Probe rounds started (one direct ping each)");
  out += "metalgate_membership_probes_total " + std::to_string(sp.probes) + "\n";
  header(out, "metalgate_membership_indirect_probes_total", "counter",
         "Probe rounds that needed indirect pings");
  out += "metalgate_membership_indirect_probes_total " + std::to_string(sp.indirect_probes) + "\n";
  // memberlist's udp.sent / udp.received, with the direction as a label.
  auto sent_received = [&](std::string_view name, std::string_view help, std::uint64_t sent,
                           std::uint64_t received) {
    header(out, name, "counter", help);
    out += std::string(name) + "{direction=\"sent\"} " + std::to_string(sent) + "\n";
    out += std::string(name) + "{direction=\"received\"} " + std::to_string(received) + "\n";
  };
  const membership::MembershipTraffic& t = sp.traffic;
  sent_received("metalgate_membership_datagrams_total", "Membership datagrams", t.datagrams_sent,
                t.datagrams_received);
  sent_received("metalgate_membership_bytes_total", "Membership payload bytes", t.bytes_sent,
                t.bytes_received);
  sent_received("metalgate_membership_views_total", "Whole views pushed to joining members, and received",
                sp.views_sent, sp.views_received);
  header(out, "metalgate_speaker_failovers_total", "counter",
         "Service addresses that moved from one node to another in this node's view");
  out += "metalgate_speaker_failovers_total " + std::to_string(sp.owner_moves) + "\n";
}

}  // namespace

std::string to_prometheus(const Snapshot& snapshot) {
  std::string out;
  haproxy_series(out, snapshot);
  if (snapshot.speaker) speaker_series(out, *snapshot.speaker);
  return out;
}

}  // namespace metalgate::stats
