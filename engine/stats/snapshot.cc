#include "engine/stats/snapshot.h"

#include <algorithm>
#include <set>

#include "engine/l4/tcp_service.h"
#include "engine/proxy/backend.h"
#include "engine/proxy/proxy.h"
#include "engine/stats/check_status.h"

namespace metalgate::stats {

namespace {

Average average(std::uint64_t sum, std::uint64_t samples) {
  if (samples == 0) return {};
  return {static_cast<std::int64_t>(sum / std::min<std::uint64_t>(samples, SlidingAverage::kWindow))};
}

std::int64_t seconds_since(std::int64_t ns, runtime::Instant now) {
  if (ns < 0) return -1;
  return (now.time_since_epoch().count() - ns) / 1000000000;
}

template <typename T>
std::int64_t latest(const std::vector<const T*>& blocks) {
  std::int64_t at = -1;
  for (const T* b : blocks)
    at = std::max<std::int64_t>(at, b->last_session_ns.load(std::memory_order_relaxed));
  return at;
}

void add_frontend(Row& row, const FrontendCounters& c, std::int64_t now_ms) {
  row.session_rate += c.session_rate.read(now_ms);
  row.session_rate_max += c.session_rate.max();  // each loop's highest, summed (exact with one loop)
  row.request_rate += c.request_rate.read(now_ms);
  row.request_rate_max += c.request_rate.max();
  row.sessions += c.sessions.get();
  row.sessions_max += c.sessions.max();
  row.sessions_total += c.sessions_total.get();
  row.bytes_in += c.bytes_in.get();
  row.bytes_out += c.bytes_out.get();
  row.denied += c.denied.get();
  row.request_errors += c.request_errors.get();
  row.http_requests += c.http.requests.get();
  for (int i = 0; i < 6; ++i)
    row.responses[i] += c.http.responses[i].get();
  row.h2_connections += c.h2.connections.get();
  row.h2.streams += c.h2.streams.get();
  row.h2.resets_received += c.h2.resets_received.get();
  row.h2.stream_errors += c.h2.stream_errors.get();
  row.h2.headers_too_large += c.h2.headers_too_large.get();
  row.h2.connection_errors += c.h2.connection_errors.get();
  row.h2.floods += c.h2.floods.get();
}

// What backends and servers share; the averages' sums and samples add up across loops before dividing.
template <typename T>
void add_service(Row& row, const std::vector<const T*>& blocks, runtime::Instant now) {
  std::uint64_t sums[4] = {}, samples[4] = {};
  for (const ServiceCounters* c : blocks) {
    row.session_rate += c->session_rate.read(runtime::milliseconds_of(now));
    row.session_rate_max += c->session_rate.max();
    row.sessions_total += c->sessions_total.get();
    row.bytes_in += c->bytes_in.get();
    row.bytes_out += c->bytes_out.get();
    row.connection_errors += c->connection_errors.get();
    row.response_errors += c->response_errors.get();
    row.retries += c->retries.get();
    row.redispatches += c->redispatches.get();
    row.http_requests += c->http.requests.get();
    for (int i = 0; i < 6; ++i)
      row.responses[i] += c->http.responses[i].get();
    const SlidingAverage* avgs[4] = {&c->queue_ms, &c->connect_ms, &c->response_ms, &c->total_ms};
    for (int i = 0; i < 4; ++i)
      sums[i] += avgs[i]->sum(), samples[i] += avgs[i]->samples();
  }
  row.queue_time = average(sums[0], samples[0]);
  row.connect_time = average(sums[1], samples[1]);
  row.response_time = average(sums[2], samples[2]);
  row.total_time = average(sums[3], samples[3]);
  row.last_session_s = seconds_since(latest(blocks), now);
}

std::string server_status(const proxy::Backend& backend, std::size_t i) {
  switch (backend.admin(i)) {
    case proxy::AdminState::kMaint:
      return "MAINT";
    case proxy::AdminState::kDrain:
      return "DRAIN";
    case proxy::AdminState::kReady:
      break;
  }
  if (!backend.config().check.enabled) return "no check";
  return backend.load(i).up ? "UP" : "DOWN";
}

void add_check(Row& row, const std::vector<const ServerCounters*>& blocks, runtime::Instant now) {
  std::int64_t changed = 0;
  for (const ServerCounters* c : blocks) {
    row.sessions += c->sessions.get();
    row.sessions_max += c->sessions.max();
    row.check_failures += c->check_failures.get();
    row.check_up_down += c->check_up_down.get();
    const CheckStatus st = c->check_status.load(std::memory_order_relaxed);
    if (st == CheckStatus::kNone) continue;  // a loop that runs no checks
    row.check_status = std::string(to_string(st));
    row.check_code = c->check_code.load(std::memory_order_relaxed);
    row.check_duration_ms = c->check_duration_ms.load(std::memory_order_relaxed);
    changed = c->last_change_ns.load(std::memory_order_relaxed);
  }
  row.last_change_s = changed == 0 ? -1 : seconds_since(changed, now);  // 0: no change since the start
}

Row server_row(proxy::Backend& backend, std::size_t i, const std::string& mode, runtime::Instant now,
               const Registry& registry) {
  const proxy::ServerState& s = backend.servers()[i];
  Row row;
  row.type = RowType::kServer;
  row.proxy = backend.name();
  row.name = s.config.name;
  row.mode = mode;
  row.address = s.config.address.to_string();
  row.session_limit = s.config.maxconn;
  row.status = server_status(backend, i);
  row.weight = backend.admin(i) == proxy::AdminState::kReady ? s.config.weight : 0;
  row.active_servers = row.status == "UP" || row.status == "no check" ? 1 : 0;
  row.checked = backend.config().check.enabled;
  row.check_rise = backend.config().check.rise;
  row.check_fall = backend.config().check.fall;
  row.check_description = s.last_check;
  const auto blocks = registry.servers(backend.name(), s.config.name);
  add_service(row, blocks, now);
  add_check(row, blocks, now);
  return row;
}

void add_backend(Snapshot& out, proxy::Backend& backend, const std::string& mode, runtime::Instant now,
                 const Registry& registry) {
  Row row;
  row.type = RowType::kBackend;
  row.proxy = backend.name();
  row.name = "BACKEND";
  row.mode = mode;
  row.algorithm = std::string(proxy::to_string(backend.config().balance));
  const auto blocks = registry.backends(backend.name());
  add_service(row, blocks, now);
  for (const BackendCounters* c : blocks) {
    row.queue += c->queue.get();
    row.queue_max += c->queue.max();
    row.connection_attempts += c->connection_attempts.get();
    row.connection_reuses += c->connection_reuses.get();
  }
  const std::size_t at = out.rows.size();
  out.rows.push_back(std::move(row));
  for (std::size_t i = 0; i < backend.servers().size(); ++i) {
    Row s = server_row(backend, i, mode, now, registry);
    Row& b = out.rows[at];
    b.sessions += s.sessions;
    b.sessions_max = std::max(b.sessions_max, s.sessions_max);
    b.weight += s.active_servers ? s.weight : 0;
    b.active_servers += s.active_servers;
    b.check_up_down += s.check_up_down;
    out.rows.push_back(std::move(s));
  }
  out.rows[at].status = out.rows[at].active_servers > 0 ? "UP" : "DOWN";
}

void add_frontend_row(Snapshot& out, const std::string& name, const std::string& mode, std::int64_t limit,
                      bool stopping, const Registry& registry, runtime::Instant now) {
  Row row;
  row.type = RowType::kFrontend;
  row.proxy = name;
  row.name = "FRONTEND";
  row.mode = mode;
  row.session_limit = limit;
  row.status = stopping ? "STOP" : "OPEN";
  for (const FrontendCounters* c : registry.frontends(name))
    add_frontend(row, *c, runtime::milliseconds_of(now));
  out.rows.push_back(std::move(row));
}

}  // namespace

Snapshot take_snapshot(proxy::Proxy& primary, runtime::Instant now) {
  Snapshot out;
  const proxy::ProxyConfig& config = primary.config();
  const Registry& registry = primary.stats();
  const auto limit = static_cast<std::int64_t>(config.maxconn);
  // Room for every row at once: a node forwarding 1,000 Services has 5,000 rows of 640 bytes, and growing
  // to them took a dozen reallocations, each into fresh pages.
  std::size_t rows = config.frontends.size() + primary.tcp_services().size();
  for (auto& b : primary.backends())
    rows += 1 + b->servers().size();
  for (auto* services : {&primary.tcp_services(), &primary.passthrough_services()})
    for (auto& svc : *services)
      rows += 1 + svc->backend().servers().size();
  out.rows.reserve(rows);
  std::set<std::string> seen;
  for (const auto& fe : config.frontends)
    if (seen.insert(fe.name).second)
      add_frontend_row(out, fe.name, "http", limit, primary.draining(), registry, now);
  for (const auto& svc : primary.tcp_services())
    if (seen.insert(svc->config().name).second)
      add_frontend_row(out, svc->config().name, "tcp", 0, primary.draining(), registry, now);
  for (auto& b : primary.backends())
    add_backend(out, *b, "http", now, registry);
  for (auto* services : {&primary.tcp_services(), &primary.passthrough_services()})
    for (auto& svc : *services)
      add_backend(out, svc->backend(), "tcp", now, registry);
  return out;
}

}  // namespace metalgate::stats
