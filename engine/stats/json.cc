#include "engine/stats/json.h"

#include <algorithm>
#include <array>

namespace metalgate::stats {

namespace {

using nlohmann::json;

// Sets `key` only when the counter counted something: zeros are left out of rows (json.h says why).
void count(json& row, const char* key, std::uint64_t value) {
  if (value != 0) row[key] = value;
}

// A group of counters ("responses", "h2"): left out whole when every one is zero.
void group(json& row, const char* key, json counters) {
  if (!counters.empty()) row[key] = std::move(counters);
}

json responses(const Row& r) {
  json out = json::object();
  count(out, "1xx", r.responses[1]);
  count(out, "2xx", r.responses[2]);
  count(out, "3xx", r.responses[3]);
  count(out, "4xx", r.responses[4]);
  count(out, "5xx", r.responses[5]);
  count(out, "other", r.responses[0]);
  return out;
}

json frontend(const Row& r) {
  const http2::Counters& h = r.h2;
  json h2 = json::object();
  count(h2, "connections", r.h2_connections);
  count(h2, "streams", h.streams);
  count(h2, "resets_received", h.resets_received);
  count(h2, "stream_errors", h.stream_errors);
  count(h2, "headers_too_large", h.headers_too_large);
  count(h2, "connection_errors", h.connection_errors);
  count(h2, "floods", h.floods);
  json out = json::object();
  count(out, "requests", r.http_requests);
  group(out, "responses", responses(r));
  count(out, "sessions", r.sessions_total);
  count(out, "bytes_in", r.bytes_in);
  count(out, "bytes_out", r.bytes_out);
  count(out, "denied", r.denied);
  count(out, "errors", r.request_errors);
  group(out, "h2", std::move(h2));
  return out;
}

// What backends and servers count alike.
void service_counters(json& out, const Row& r) {
  count(out, "requests", r.http_requests);
  group(out, "responses", responses(r));
  count(out, "sessions", r.sessions_total);
  count(out, "connection_errors", r.connection_errors);
}

json backend(const Row& r) {
  json out = {{"response_time_ms", r.response_time.ms}, {"active_servers", r.active_servers}};  // gauges
  service_counters(out, r);
  count(out, "response_errors", r.response_errors);
  count(out, "retries", r.retries);
  count(out, "redispatches", r.redispatches);
  return out;
}

json server(const Row& r) {
  json out = {{"status", r.status}};  // a gauge
  service_counters(out, r);
  count(out, "check_failures", r.check_failures);
  count(out, "up_down", r.check_up_down);
  return out;
}

json speaker(const SpeakerRow& s) {
  std::uint64_t requests = 0, responses = 0, gratuitous = 0;
  for (const AddressRow& a : s.addresses) {
    requests += a.requests_received;
    responses += a.responses_sent;
    gratuitous += a.gratuitous_sent;
  }
  const membership::MembershipTraffic& t = s.traffic;
  json membership = {{"datagrams_sent", t.datagrams_sent},
                     {"bytes_sent", t.bytes_sent},
                     {"datagrams_received", t.datagrams_received},
                     {"bytes_received", t.bytes_received},
                     {"views_sent", s.views_sent},
                     {"views_received", s.views_received}};
  return {{"requests_received", requests},
          {"responses_sent", responses},
          {"gratuitous_sent", gratuitous},
          {"failovers", s.owner_moves},
          {"probes", s.probes},
          {"indirect_probes", s.indirect_probes},
          {"membership", std::move(membership)}};
}

constexpr std::array<std::string_view, 6> kResponses = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};

bool in(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

json to_json(const Snapshot& snapshot) {
  json frontends = json::object(), backends = json::object(), servers = json::object();
  for (const Row& r : snapshot.rows) {
    if (r.type == RowType::kFrontend) frontends[r.proxy] = frontend(r);
    if (r.type == RowType::kBackend) backends[r.proxy] = backend(r);
    if (r.type == RowType::kServer) servers[r.proxy + "/" + r.name] = server(r);
  }
  json out = {{"frontends", std::move(frontends)},
              {"backends", std::move(backends)},
              {"servers", std::move(servers)}};
  if (snapshot.speaker) out["speaker"] = speaker(*snapshot.speaker);
  return out;
}

bool is_counter(std::string_view section, std::string_view field) {
  if (section != "frontends" && section != "backends" && section != "servers") return false;
  if (field.substr(0, 10) == "responses.")
    return std::find(kResponses.begin(), kResponses.end(), field.substr(10)) != kResponses.end();
  if (section == "frontends") {
    if (field.substr(0, 3) == "h2.")
      return in(field.substr(3), {"connections", "streams", "resets_received", "stream_errors",
                                  "headers_too_large", "connection_errors", "floods"});
    return in(field, {"requests", "sessions", "bytes_in", "bytes_out", "denied", "errors"});
  }
  if (section == "backends")
    return in(field,
              {"requests", "sessions", "connection_errors", "response_errors", "retries", "redispatches"});
  if (section == "servers")
    return in(field, {"requests", "sessions", "connection_errors", "check_failures", "up_down"});
  return false;
}

}  // namespace metalgate::stats
