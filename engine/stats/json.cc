#include "engine/stats/json.h"

namespace metalgate::stats {

namespace {

using nlohmann::json;

json responses(const Row& r) {
  return {{"1xx", r.responses[1]}, {"2xx", r.responses[2]}, {"3xx", r.responses[3]},
          {"4xx", r.responses[4]}, {"5xx", r.responses[5]}, {"other", r.responses[0]}};
}

json frontend(const Row& r) {
  const http2::Counters& h = r.h2;
  json h2 = {{"connections", r.h2_connections},
             {"streams", h.streams},
             {"resets_received", h.resets_received},
             {"stream_errors", h.stream_errors},
             {"headers_too_large", h.headers_too_large},
             {"connection_errors", h.connection_errors},
             {"floods", h.floods}};
  return {{"requests", r.http_requests}, {"responses", responses(r)}, {"sessions", r.sessions_total},
          {"bytes_in", r.bytes_in},      {"bytes_out", r.bytes_out},  {"denied", r.denied},
          {"errors", r.request_errors},  {"h2", std::move(h2)}};
}

json backend(const Row& r) {
  return {{"requests", r.http_requests},          {"responses", responses(r)},
          {"sessions", r.sessions_total},         {"connection_errors", r.connection_errors},
          {"response_errors", r.response_errors}, {"retries", r.retries},
          {"redispatches", r.redispatches},       {"response_time_ms", r.response_time.ms},
          {"active_servers", r.active_servers}};
}

json server(const Row& r) {
  return {{"requests", r.http_requests},
          {"responses", responses(r)},
          {"sessions", r.sessions_total},
          {"connection_errors", r.connection_errors},
          {"check_failures", r.check_failures},
          {"up_down", r.check_up_down},
          {"status", r.status}};
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

}  // namespace

json to_json(const Snapshot& snapshot) {
  json out = {{"frontends", json::object()}, {"backends", json::object()}, {"servers", json::object()}};
  for (const Row& r : snapshot.rows) {
    if (r.type == RowType::kFrontend) out["frontends"][r.proxy] = frontend(r);
    if (r.type == RowType::kBackend) out["backends"][r.proxy] = backend(r);
    if (r.type == RowType::kServer) out["servers"][r.proxy + "/" + r.name] = server(r);
  }
  if (snapshot.speaker) out["speaker"] = speaker(*snapshot.speaker);
  return out;
}

}  // namespace metalgate::stats
