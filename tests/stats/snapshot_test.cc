// The stats snapshot over a running proxy in the in-memory world: every request counts once in its frontend,
// backend and server; response times are the backends' latency in virtual time; health checks show in the
// server rows; two event loops' counters add up.
#include "engine/stats/snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/proxy/proxy_world.h"

namespace metalgate::stats {
namespace {

using proxy::testing::get;
using proxy::testing::ProxyWorld;
using namespace std::chrono_literals;

std::string ingress(const std::string& annotations = "") {
  return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: default\n" +
         (annotations.empty() ? std::string() : "  annotations:\n" + annotations) +
         "spec:\n  ingressClassName: haproxy\n  rules:\n  - host: app.example.com\n    http:\n      paths:\n"
         "      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n";
}

const Row& row(const Snapshot& s, const std::string& proxy, const std::string& name) {
  for (const Row& r : s.rows)
    if (r.proxy == proxy && r.name == name) return r;
  ADD_FAILURE() << "no row " << proxy << "/" << name;
  static const Row none;
  return none;
}

const Row& backend(const Snapshot& s) {
  for (const Row& r : s.rows)
    if (r.type == RowType::kBackend && r.mode == "http") return r;
  ADD_FAILURE() << "no HTTP backend";
  static const Row none;
  return none;
}

TEST(StatsSnapshot, EveryRequestCountsOnceInItsFrontendItsBackendAndTheServerThatAnswered) {
  ProxyWorld w;
  w.start(ingress());
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(w.request(get("app.example.com", "/"))->status, 200);
  ASSERT_EQ(w.request(get("nobody.example.com", "/"))->status, 404);
  w.world.run_for(3s);  // every server checked (the first checks spread over one 2 s interval)
  const Snapshot s = take_snapshot(*w.proxy, w.proxy_host.now());
  const Row& fe = row(s, "http", "FRONTEND");
  EXPECT_EQ(fe.http_requests, 7u);
  EXPECT_EQ(fe.responses[2], 6u);
  EXPECT_EQ(fe.responses[4], 1u);
  EXPECT_EQ(fe.sessions_total, 7u);
  EXPECT_EQ(fe.sessions, 0);  // every client has gone
  EXPECT_GE(fe.sessions_max, 1);
  EXPECT_GT(fe.bytes_in, 6u * 40);
  EXPECT_GT(fe.bytes_out, fe.bytes_in);
  EXPECT_EQ(fe.status, "OPEN");
  EXPECT_GE(fe.session_rate_max, 2u);  // virtual time: the requests come milliseconds apart
  EXPECT_GE(fe.request_rate_max, 2u);
  EXPECT_EQ(fe.session_rate, 0u);  // 3 s later
  const Row& be = backend(s);
  EXPECT_EQ(be.http_requests, 6u);
  EXPECT_EQ(be.responses[2], 6u);
  EXPECT_EQ(be.sessions_total, 6u);
  EXPECT_EQ(be.active_servers, 3);
  EXPECT_EQ(be.weight, 3);
  EXPECT_EQ(be.status, "UP");
  EXPECT_EQ(be.connection_attempts, 6u);  // roundrobin: each server's connection once per request here
  for (const char* server : {"web-1", "web-2", "web-3"}) {
    const Row& sv = row(s, be.proxy, server);
    EXPECT_EQ(sv.sessions_total, 2u) << server;
    EXPECT_EQ(sv.responses[2], 2u) << server;
    EXPECT_EQ(sv.sessions, 0) << server;
    EXPECT_EQ(sv.status, "UP") << server;
    EXPECT_EQ(sv.check_status, "L4OK") << server;  // `check` (TCP) is on by default
    EXPECT_THAT(sv.address, ::testing::EndsWith(":8080"));
  }
}

TEST(StatsSnapshot, ResponseTimesAreTheServersLatencyAveraged) {
  ProxyWorld w;
  for (auto& [name, server] : w.servers)
    server->set_latency(50ms);
  w.start(ingress("    haproxy.org/check: \"false\"\n"));
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(w.request(get("app.example.com", "/"))->status, 200);
  const Snapshot s = take_snapshot(*w.proxy, w.proxy_host.now());
  const Row& be = backend(s);
  EXPECT_GE(be.response_time.ms, 50);
  EXPECT_LE(be.response_time.ms, 55);
  EXPECT_GE(be.total_time.ms, be.response_time.ms);
  EXPECT_GE(be.connect_time.ms, 0);
  EXPECT_EQ(be.queue_time.ms, 0);
  EXPECT_EQ(row(s, be.proxy, "web-1").status, "no check");
  EXPECT_EQ(row(s, be.proxy, "web-1").check_status, "");
  EXPECT_GE(row(s, be.proxy, "web-1").response_time.ms, 50);
}

TEST(StatsSnapshot, AFailingHealthCheckShowsTheServerDownWithItsCheckStatusAndCounts) {
  ProxyWorld w;
  w.servers["web-2"]->set_healthy(false);
  w.start(ingress("    haproxy.org/check-http: /health\n    haproxy.org/check-interval: 1s\n"));
  w.world.run_for(6s);  // fall 3 at 1 s
  const Snapshot s = take_snapshot(*w.proxy, w.proxy_host.now());
  const Row& be = backend(s);
  const Row& down = row(s, be.proxy, "web-2");
  EXPECT_EQ(down.status, "DOWN");
  EXPECT_EQ(down.check_status, "L7STS");
  EXPECT_EQ(down.check_code, 503);
  EXPECT_GE(down.check_failures, 3u);
  EXPECT_EQ(down.check_up_down, 1u);
  EXPECT_GE(down.last_change_s, 1);  // down within the first 5 s of the 6 s run
  EXPECT_LE(down.last_change_s, 6);
  EXPECT_EQ(row(s, be.proxy, "web-1").check_status, "L7OK");
  EXPECT_EQ(row(s, be.proxy, "web-1").check_code, 200);
  EXPECT_EQ(be.active_servers, 2);
  EXPECT_EQ(be.check_up_down, 1u);
}

TEST(StatsSnapshot, DrainAndMaintShowAsTheServersStatusAndTakeItsWeight) {
  ProxyWorld w;
  w.start(ingress());
  w.world.run_for(3s);
  auto& b = *w.proxy->backends().front();
  b.set_admin(0, proxy::AdminState::kDrain);
  b.set_admin(1, proxy::AdminState::kMaint);
  const Snapshot s = take_snapshot(*w.proxy, w.proxy_host.now());
  EXPECT_EQ(row(s, b.name(), b.servers()[0].config.name).status, "DRAIN");
  EXPECT_EQ(row(s, b.name(), b.servers()[1].config.name).status, "MAINT");
  EXPECT_EQ(row(s, b.name(), b.servers()[0].config.name).weight, 0);
  EXPECT_EQ(backend(s).active_servers, 1);
}

TEST(StatsSnapshot, BadRequestsAndDenialsCountAsTheFrontendsErrorsAndDenials) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/deny-list: 10.0.0.101\n"));
  EXPECT_EQ(w.request("NOT HTTP AT ALL\r\n\r\n")->status, 400);
  EXPECT_EQ(w.request(get("app.example.com", "/"), 10s, /*from_client2=*/true)->status, 403);
  const Snapshot s = take_snapshot(*w.proxy, w.proxy_host.now());
  const Row& fe = row(s, "http", "FRONTEND");
  EXPECT_EQ(fe.request_errors, 1u);
  EXPECT_EQ(fe.denied, 1u);
  EXPECT_EQ(fe.responses[4], 2u);
  // The denial was the frontend's rule: the backend never saw the request.
  EXPECT_EQ(backend(s).http_requests, 0u);
  EXPECT_EQ(backend(s).responses[4], 0u);
}

TEST(StatsSnapshot, TwoEventLoopsCountersAddUp) {
  ProxyWorld w;
  w.second_loop = true;
  w.start(ingress());
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(w.request(get("app.example.com", "/"))->status, 200);
  for (int i = 0; i < 2; ++i) {
    proxy::testing::TestClient c(w.client_host, w.loop2_http_address());
    c.send(get("app.example.com", "/"));
    ASSERT_EQ(w.await(c)->status, 200);
  }
  const Snapshot s = take_snapshot(*w.proxy, w.proxy_host.now());
  EXPECT_EQ(row(s, "http", "FRONTEND").http_requests, 5u);
  EXPECT_EQ(backend(s).responses[2], 5u);
  EXPECT_EQ(w.stats->frontends("http").size(), 2u);  // one block per loop
}

}  // namespace
}  // namespace metalgate::stats
