#include "engine/stats/csv.h"

#include <functional>
#include <map>
#include <vector>

namespace metalgate::stats {

namespace {

// A field metalgate fills: for which row types ("FBS": frontends, backends, servers) and how.
struct Field {
  std::string_view types;
  std::function<std::string(const Row&)> value;
};

std::string num(std::int64_t v) {
  return std::to_string(v);
}
std::string avg(const Average& a) {
  return a.ms < 0 ? "0" : std::to_string(a.ms);
}

// One row per field metalgate has, as HAProxy's stats keyword list: a new field is one row.
const std::map<std::string_view, Field>& fields() {
  using R = const Row&;
  static const std::map<std::string_view, Field> k = {
      {"pxname", {"FBS", [](R r) { return r.proxy; }}},
      {"svname", {"FBS", [](R r) { return r.name; }}},
      {"qcur", {"BS", [](R r) { return num(r.queue); }}},
      {"qmax", {"BS", [](R r) { return num(r.queue_max); }}},
      {"scur", {"FBS", [](R r) { return num(r.sessions); }}},
      {"smax", {"FBS", [](R r) { return num(r.sessions_max); }}},
      {"slim", {"FS", [](R r) { return r.session_limit > 0 ? num(r.session_limit) : ""; }}},
      {"stot", {"FBS", [](R r) { return num(static_cast<std::int64_t>(r.sessions_total)); }}},
      {"bin", {"FBS", [](R r) { return std::to_string(r.bytes_in); }}},
      {"bout", {"FBS", [](R r) { return std::to_string(r.bytes_out); }}},
      {"dreq", {"FB", [](R r) { return std::to_string(r.denied); }}},
      {"ereq", {"F", [](R r) { return std::to_string(r.request_errors); }}},
      {"econ", {"BS", [](R r) { return std::to_string(r.connection_errors); }}},
      {"eresp", {"BS", [](R r) { return std::to_string(r.response_errors); }}},
      {"wretr", {"BS", [](R r) { return std::to_string(r.retries); }}},
      {"wredis", {"BS", [](R r) { return std::to_string(r.redispatches); }}},
      {"status", {"FBS", [](R r) { return r.status; }}},
      {"weight", {"BS", [](R r) { return num(r.weight); }}},
      {"act", {"BS", [](R r) { return num(r.active_servers); }}},
      {"bck", {"BS", [](R) { return std::string("0"); }}},
      {"chkfail", {"S", [](R r) { return r.checked ? std::to_string(r.check_failures) : ""; }}},
      {"chkdown",
       {"BS",
        [](R r) { return r.checked || r.type == RowType::kBackend ? std::to_string(r.check_up_down) : ""; }}},
      {"lastchg", {"S", [](R r) { return r.last_change_s >= 0 ? num(r.last_change_s) : ""; }}},
      {"pid", {"FBS", [](R) { return std::string("1"); }}},
      {"type", {"FBS", [](R r) { return num(static_cast<int>(r.type)); }}},
      {"rate", {"FBS", [](R r) { return std::to_string(r.session_rate); }}},
      {"rate_max", {"FBS", [](R r) { return std::to_string(r.session_rate_max); }}},
      {"req_rate", {"F", [](R r) { return std::to_string(r.request_rate); }}},
      {"req_rate_max", {"F", [](R r) { return std::to_string(r.request_rate_max); }}},
      {"lbtot", {"BS", [](R r) { return std::to_string(r.sessions_total); }}},
      {"check_status", {"S", [](R r) { return r.check_status; }}},
      {"check_code", {"S", [](R r) { return r.check_code ? num(r.check_code) : ""; }}},
      {"check_duration", {"S", [](R r) { return r.check_duration_ms >= 0 ? num(r.check_duration_ms) : ""; }}},
      {"hrsp_1xx", {"FBS", [](R r) { return std::to_string(r.responses[1]); }}},
      {"hrsp_2xx", {"FBS", [](R r) { return std::to_string(r.responses[2]); }}},
      {"hrsp_3xx", {"FBS", [](R r) { return std::to_string(r.responses[3]); }}},
      {"hrsp_4xx", {"FBS", [](R r) { return std::to_string(r.responses[4]); }}},
      {"hrsp_5xx", {"FBS", [](R r) { return std::to_string(r.responses[5]); }}},
      {"hrsp_other", {"FBS", [](R r) { return std::to_string(r.responses[0]); }}},
      {"req_tot", {"FB", [](R r) { return std::to_string(r.http_requests); }}},
      {"lastsess", {"BS", [](R r) { return num(r.last_session_s); }}},
      {"last_chk", {"S", [](R r) { return r.check_description; }}},
      {"qtime", {"BS", [](R r) { return avg(r.queue_time); }}},
      {"ctime", {"BS", [](R r) { return avg(r.connect_time); }}},
      {"rtime", {"BS", [](R r) { return avg(r.response_time); }}},
      {"ttime", {"BS", [](R r) { return avg(r.total_time); }}},
      {"check_rise", {"S", [](R r) { return r.checked ? num(r.check_rise) : ""; }}},
      {"check_fall", {"S", [](R r) { return r.checked ? num(r.check_fall) : ""; }}},
      {"addr", {"S", [](R r) { return r.address; }}},
      {"mode", {"FBS", [](R r) { return r.mode; }}},
      {"algo", {"B", [](R r) { return r.algorithm; }}},
      {"conn_tot", {"F", [](R r) { return std::to_string(r.sessions_total); }}},
      {"connect", {"BS", [](R r) { return std::to_string(r.connection_attempts); }}},
      {"reuse", {"BS", [](R r) { return std::to_string(r.connection_reuses); }}},
  };
  return k;
}

// A value as HAProxy writes it in its CSV: quoted when it holds a comma, a quote or a line break.
std::string cell(std::string v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v)
    out += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' ? ' ' : c);
  return out + "\"";
}

// HAProxy 2.6's `show stat` header, field for field (management.txt, section 9.1).
// clang-format off
constexpr std::string_view kFields[] = {
    "pxname", "svname", "qcur", "qmax", "scur", "smax", "slim", "stot", "bin", "bout", "dreq", "dresp",
    "ereq", "econ", "eresp", "wretr", "wredis", "status", "weight", "act", "bck", "chkfail", "chkdown",
    "lastchg", "downtime", "qlimit", "pid", "iid", "sid", "throttle", "lbtot", "tracked", "type", "rate",
    "rate_lim", "rate_max", "check_status", "check_code", "check_duration", "hrsp_1xx", "hrsp_2xx",
    "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other", "hanafail", "req_rate", "req_rate_max", "req_tot",
    "cli_abrt", "srv_abrt", "comp_in", "comp_out", "comp_byp", "comp_rsp", "lastsess", "last_chk",
    "last_agt", "qtime", "ctime", "rtime", "ttime", "agent_status", "agent_code", "agent_duration",
    "check_desc", "agent_desc", "check_rise", "check_fall", "check_health", "agent_rise", "agent_fall",
    "agent_health", "addr", "cookie", "mode", "algo", "conn_rate", "conn_rate_max", "conn_tot",
    "intercepted", "dcon", "dses", "wrew", "connect", "reuse", "cache_lookups", "cache_hits", "srv_icur",
    "src_ilim", "qtime_max", "ctime_max", "rtime_max", "ttime_max", "eint", "idle_conn_cur", "safe_conn_cur",
    "used_conn_cur", "need_conn_est", "uweight", "agg_server_status", "agg_server_check_status",
    "agg_check_status", "-", "ssl_sess", "ssl_reused_sess", "ssl_failed_handshake", "h2_headers_rcvd",
    "h2_data_rcvd", "h2_settings_rcvd", "h2_rst_stream_rcvd", "h2_goaway_rcvd",
    "h2_detected_conn_protocol_errors", "h2_detected_strm_protocol_errors", "h2_rst_stream_resp",
    "h2_goaway_resp", "h2_open_connections", "h2_backend_open_streams", "h2_total_connections",
    "h2_backend_total_streams", "h1_open_connections", "h1_open_streams", "h1_total_connections",
    "h1_total_streams", "h1_bytes_in", "h1_bytes_out", "h1_spliced_bytes_in", "h1_spliced_bytes_out",
};
// clang-format on

}  // namespace

std::span<const std::string_view> csv_fields() {
  return kFields;
}

std::string to_csv(const Snapshot& snapshot) {
  static constexpr char kType[] = {'F', 'B', 'S'};
  std::string out = "# ";
  std::vector<const Field*> known;
  for (std::string_view name : csv_fields()) {
    out.append(name).append(",");
    auto it = fields().find(name);
    known.push_back(it == fields().end() ? nullptr : &it->second);
  }
  out += "\n";
  for (const Row& row : snapshot.rows) {
    const char type = kType[static_cast<int>(row.type)];
    for (const Field* f : known) {
      if (f && f->types.find(type) != std::string_view::npos) out += cell(f->value(row));
      out += ",";
    }
    out += "\n";
  }
  return out;
}

}  // namespace metalgate::stats
