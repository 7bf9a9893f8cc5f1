// The HTTP proxy end to end in the in-memory world: clients, the proxy and backends that answer with their
// own identity, configured by manifests and annotations, timeouts in virtual time.
#include "engine/proxy/proxy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <zlib.h>

#include "engine/proxy/basic_auth.h"
#include "tests/proxy/proxy_world.h"

namespace metalgate::proxy::testing {
namespace {

using ::testing::HasSubstr;

std::string ingress(const std::string& annotations = "", const std::string& rules = "",
                    const std::string& extra_spec = "") {
  std::string r = rules.empty() ? R"(
  - host: app.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
)"
                                : rules;
  return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: default\n" +
         (annotations.empty() ? std::string() : "  annotations:\n" + annotations) +
         "spec:\n  ingressClassName: haproxy\n" + extra_spec + "  rules:" + r;
}

// ------------------------------------------------------------------------------------------ routing

TEST(Proxy, RoutesByHostAndPathToTheBackendAndAnswers404Otherwise) {
  ProxyWorld w;
  std::string second = R"(
apiVersion: v1
kind: Service
metadata: {name: api, namespace: default}
spec:
  ports: [{port: 80, targetPort: 9090}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: api, namespace: default}
subsets:
- addresses: [{ip: 10.0.2.1, targetRef: {kind: Pod, name: api-1}}]
  ports: [{port: 9090}]
)";
  auto& api_host = w.world.add_host("api-1", {*net::IpAddress::parse("10.0.2.1")});
  TestHttpServer api(api_host, {*net::IpAddress::parse("10.0.2.1"), 9090}, "api-1");
  w.start(ingress("", R"(
  - host: app.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
      - {path: /exact, pathType: Exact, backend: {service: {name: api, port: {number: 80}}}}
)"),
          {}, second);
  auto r = w.request(get("app.example.com", "/api/users?id=1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "api-1 GET /api/users\n");
  r = w.request(get("APP.example.com:80", "/apiary"));  // not an element prefix of /api
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, HasSubstr("web-"));
  r = w.request(get("app.example.com", "/exact"));
  EXPECT_EQ(r->body, "api-1 GET /exact\n");
  r = w.request(get("app.example.com", "/exact/more"));
  EXPECT_THAT(r->body, HasSubstr("web-"));
  r = w.request(get("other.example.com", "/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST(Proxy, DefaultBackendServesUnmatchedRequests) {
  ProxyWorld w;
  w.start(ingress("", "", "  defaultBackend: {service: {name: web, port: {number: 80}}}\n"));
  auto r = w.request(get("nowhere.example", "/x"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("GET /x"));
}

// ------------------------------------------------------------------------------------------ balancing

TEST(Proxy, RoundRobinSpreadsRequestsEvenly) {
  ProxyWorld w;
  w.start(ingress());
  std::map<std::string, int> seen;
  for (int i = 0; i < 30; ++i) {
    auto r = w.request(get("app.example.com", "/"));
    ASSERT_TRUE(r);
    ++seen[r->get("x-served-by")];
  }
  EXPECT_EQ(seen, (std::map<std::string, int>{{"web-1", 10}, {"web-2", 10}, {"web-3", 10}}));
}

TEST(Proxy, SourceBalancingKeepsAClientOnOneServer) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/load-balance: source\n"));
  std::set<std::string> a, b;
  for (int i = 0; i < 6; ++i) {
    a.insert(w.request(get("app.example.com", "/"))->get("x-served-by"));
    b.insert(w.request(get("app.example.com", "/"), 10s, true)->get("x-served-by"));
  }
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(b.size(), 1u);
}

TEST(Proxy, LeastConnAvoidsTheBusyServer) {
  ProxyWorld w;
  w.servers["web-1"]->options.latency = 5s;
  w.start(ingress("    haproxy.org/load-balance: leastconn\n"));
  // A slow request pins web-1 (or whichever is chosen first) ...
  TestClient slow(w.client_host, w.http_address());
  slow.send(get("app.example.com", "/slow"));
  w.world.run_for(100ms);
  std::string busy = w.servers["web-1"]->requests() == 1 ? "web-1" : "";
  ASSERT_EQ(busy, "web-1") << "the first leastconn pick is the first server";
  // ... and quick requests go to the others while it is busy.
  std::map<std::string, int> seen;
  for (int i = 0; i < 6; ++i)
    ++seen[w.request(get("app.example.com", "/"))->get("x-served-by")];
  EXPECT_EQ(seen.count("web-1"), 0u);
  EXPECT_EQ(seen["web-2"] + seen["web-3"], 6);
}

TEST(Proxy, CookiePersistenceInsertsIndirectNocache) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/cookie-persistence: mycookie\n"));
  auto first = w.request(get("app.example.com", "/"));
  ASSERT_TRUE(first);
  std::string server = first->get("x-served-by");
  EXPECT_EQ(first->get("set-cookie"), "mycookie=" + server + "; path=/");
  EXPECT_EQ(first->get("cache-control"), "private");
  for (int i = 0; i < 5; ++i) {
    auto r = w.request(get("app.example.com", "/", "Cookie: theme=dark; mycookie=" + server + "\r\n"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get("x-served-by"), server);
    EXPECT_FALSE(r->has("set-cookie")) << "the client already holds a valid cookie";
  }
  // indirect: the server never sees the persistence cookie, but sees the application's.
  const std::string& head = w.servers[server]->heads.back();
  EXPECT_THAT(head, HasSubstr("theme=dark"));
  EXPECT_THAT(head, ::testing::Not(HasSubstr("mycookie")));
  // A cookie naming an unknown server is replaced.
  auto r = w.request(get("app.example.com", "/", "Cookie: mycookie=nope\r\n"));
  EXPECT_THAT(r->get("set-cookie"), HasSubstr("mycookie=web-"));
}

// Every client has a complete response, each with `status`.
void expect_all_answered(std::vector<std::unique_ptr<TestClient>>& clients, int status) {
  for (auto& c : clients) {
    auto r = c->next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status);
  }
}

TEST(Proxy, CookiePersistenceWithIndirectAndNocacheOffLetsTheCookieThrough) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/cookie-persistence: mycookie\n    haproxy.org/cookie-indirect: \"false\"\n"
                  "    haproxy.org/cookie-nocache: \"false\"\n"));
  auto first = w.request(get("app.example.com", "/"));
  ASSERT_TRUE(first);
  const std::string server = first->get("x-served-by");
  EXPECT_EQ(first->get("set-cookie"), "mycookie=" + server + "; path=/");
  EXPECT_FALSE(first->has("cache-control")) << "nocache off: no Cache-Control: private";
  auto again = w.request(get("app.example.com", "/", "Cookie: mycookie=" + server + "\r\n"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get("x-served-by"), server);
  EXPECT_THAT(w.servers[server]->heads.back(), HasSubstr("mycookie=" + server)) << "indirect off";
}

TEST(Proxy, PerServerMaxconnQueuesThenTimesOutWith503) {
  ProxyWorld w;
  for (auto& [n, s] : w.servers)
    s->options.latency = 3s;
  w.start(ingress("    haproxy.org/pod-maxconn: \"1\"\n    haproxy.org/timeout-queue: 1s\n"));
  auto clients = w.send_on_new_clients(4, get("app.example.com", "/"));
  w.world.run_for(2s);
  int answered_503 = 0;
  for (auto& c : clients)
    if (auto r = c->next(); r && r->status == 503) ++answered_503;
  EXPECT_EQ(answered_503, 1) << "three servers with maxconn 1: the fourth request waits, then times out";
  w.world.run_for(2s);
  int ok = 0;
  for (auto& c : clients)
    if (auto r = c->next(); r && r->status == 200) ++ok;
  EXPECT_EQ(ok, 3);
  ASSERT_FALSE(w.access_log.empty());
  EXPECT_THAT(w.access_log[0], HasSubstr(" 503 "));
  EXPECT_THAT(w.access_log[0], HasSubstr(" sQ-- "));
}

TEST(Proxy, QueuedRequestIsServedWhenASlotFrees) {
  ProxyWorld w;
  for (auto& [n, s] : w.servers)
    s->options.latency = 1s;
  w.start(ingress("    haproxy.org/pod-maxconn: \"1\"\n"));
  auto clients = w.send_on_new_clients(5, get("app.example.com", "/"));
  w.world.run_for(2500ms);
  expect_all_answered(clients, 200);
}

// A client that goes while its request waits leaves the queue: the slot that frees next goes to the one
// behind it (the session is freed at once; a queue still naming it would hand the slot to freed memory).
TEST(Proxy, AClientGoneWhileQueuedLeavesTheQueueToTheNextOne) {
  ProxyWorld w;
  for (auto& [n, s] : w.servers)
    s->options.latency = 1s;
  w.start(ingress("    haproxy.org/pod-maxconn: \"1\"\n"));
  auto clients = w.send_on_new_clients(5, get("app.example.com", "/"));  // three served, two queued
  w.world.run_for(100ms);
  clients[3]->conn->reset();  // the first in the queue
  clients[3]->conn.reset();
  w.world.run_for(2500ms);  // the first three answer at 1 s, the last one at 2 s
  for (int i : {0, 1, 2, 4}) {
    auto r = clients[i]->next();
    ASSERT_TRUE(r) << "client " << i;
    EXPECT_EQ(r->status, 200) << "client " << i;
  }
  EXPECT_EQ(w.proxy->backends()[0]->queued(), 0u);
}

// ------------------------------------------------------------------------------------------ health

TEST(Proxy, HealthChecksTakeFailingServersOutAndBringThemBack) {
  ProxyWorld w;
  w.servers["web-2"]->options.health_status = 500;
  w.start(ingress("    haproxy.org/check-http: /health\n    haproxy.org/check-interval: 1s\n"));
  w.world.run_for(1500ms);  // every server checked at least once
  EXPECT_FALSE(w.proxy->backends()[0]->servers()[1].load.up)
      << "a fresh server goes down on its first failure";
  EXPECT_EQ(w.proxy->backends()[0]->servers()[1].last_check, "L7STS 500");
  std::set<std::string> seen;
  for (int i = 0; i < 9; ++i)
    seen.insert(w.request(get("app.example.com", "/"))->get("x-served-by"));
  EXPECT_EQ(seen, (std::set<std::string>{"web-1", "web-3"}));
  // rise = 2: two passing checks bring it back.
  w.servers["web-2"]->options.health_status = 200;
  w.world.run_for(1000ms);
  EXPECT_FALSE(w.proxy->backends()[0]->servers()[1].load.up);
  w.world.run_for(1100ms);
  EXPECT_TRUE(w.proxy->backends()[0]->servers()[1].load.up);
}

// The seed's ConfigMap key backend-check-interval sets every backend's check period.
TEST(Proxy, BackendCheckIntervalFromTheConfigMapSetsTheCheckPeriod) {
  for (const auto& [interval, expected] : std::vector<std::pair<std::string, int>>{{"500ms", 10}, {"2s", 3}}) {
    ProxyWorld w;
    w.start(ingress("    haproxy.org/check-http: /health\n"), {{"backend-check-interval", interval}});
    w.world.run_for(5s);
    EXPECT_NEAR(w.servers["web-1"]->health_checks(), expected, 1) << interval;
  }
}

TEST(Proxy, AServerUpForAWhileNeedsFallFailuresToGoDown) {
  ProxyWorld w;
  w.start(
      ingress("    haproxy.org/check-http: /health\n    haproxy.org/check-interval: 1s\n"
              "    haproxy.org/check-fall: \"3\"\n"));
  w.world.run_for(3s);
  auto& s = w.proxy->backends()[0]->servers()[0];
  EXPECT_EQ(s.health.health, 2 + 3 - 1);
  w.servers["web-1"]->options.health_status = 503;
  std::uint64_t checks_before = w.servers["web-1"]->health_checks();
  w.world.run_until([&] { return !s.load.up; }, 10s);
  EXPECT_EQ(w.servers["web-1"]->health_checks() - checks_before, 3u);
}

TEST(Proxy, TcpChecksNoticeAStoppedServerAndAllDownGives503) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/check-interval: 500ms\n"));
  for (auto& [n, s] : w.servers)
    s->stop();
  w.world.run_for(2s);
  EXPECT_FALSE(w.proxy->backends()[0]->any_up());
  auto r = w.request(get("app.example.com", "/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
}

// ------------------------------------------------------------------------------------------ reload

// What a configuration reload does to the proxy it replaces: no new connections, the open ones answered to
// their end, then idle (and let go).
TEST(Proxy, AfterStopAcceptingOpenConnectionsFinishAndNewOnesAreRefused) {
  ProxyWorld w;
  w.start(ingress());
  TestClient early(w.client_host, w.http_address());
  early.send(get("app.example.com", "/first"));
  auto r = w.await(early);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(w.proxy->idle());

  const auto address = w.http_address();
  w.proxy->stop_accepting();
  TestClient late(w.client_host, address);
  w.world.run_for(100ms);
  EXPECT_TRUE(late.closed);
  EXPECT_EQ(late.close_reason, std::errc::connection_refused);

  early.send(get("app.example.com", "/second"));
  r = w.await(early);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("GET /second"));
  EXPECT_FALSE(w.proxy->idle());
  early.conn->close();
  w.world.run_for(100ms);
  EXPECT_TRUE(w.proxy->idle());
}

// Stopping (SIGTERM): no new connections; an idle kept-alive connection is closed at once, one whose request is
// under way gets its response with Connection: close and is closed after it; then the proxy is idle.
TEST(Proxy, DrainingClosesIdleConnectionsAndAnswersTheRequestUnderWayWithConnectionClose) {
  ProxyWorld w;
  w.start(ingress());
  TestClient idle(w.client_host, w.http_address()), busy(w.client_host, w.http_address());
  idle.send(get("app.example.com", "/first"));
  auto r = w.await(idle);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has("connection"));  // kept alive
  const std::string request = get("app.example.com", "/under-way");
  busy.send(request.substr(0, request.size() - 2));  // the head is not complete yet
  w.world.run_for(10ms);

  const auto address = w.http_address();
  w.proxy->drain();
  EXPECT_TRUE(w.proxy->draining());
  w.world.run_for(10ms);
  EXPECT_TRUE(idle.peer_closed || idle.closed);
  EXPECT_FALSE(busy.peer_closed || busy.closed);
  TestClient late(w.client_host, address);
  w.world.run_for(100ms);
  EXPECT_EQ(late.close_reason, std::errc::connection_refused);

  busy.send("\r\n");
  r = w.await(busy);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("GET /under-way"));
  EXPECT_EQ(r->get("connection"), "close");
  w.world.run_for(100ms);
  EXPECT_TRUE(busy.peer_closed || busy.closed);
  EXPECT_TRUE(w.proxy->idle());
}

// A reload's new proxy takes over the old one's listening sockets (connections waiting to be accepted are not
// reset); the old one then accepts nothing more.
TEST(Proxy, ANewProxyStartedWithThePreviousTakesOverItsListeners) {
  ProxyWorld w;
  w.start(ingress());
  const auto address = w.http_address();
  Proxy next(w.proxy_host, w.config);
  ASSERT_FALSE(next.start(w.proxy.get()));
  EXPECT_EQ(next.frontend_address(0).port, address.port);  // the same socket
  w.proxy->stop_accepting();
  TestClient client(w.client_host, address);
  client.send(get("app.example.com", "/after"));
  auto r = w.await(client);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(next.counters().connections, 1u);
  EXPECT_EQ(w.proxy->counters().connections, 0u);
  EXPECT_TRUE(w.proxy->idle());
}

// ------------------------------------------------------------------------------------------ timeouts

TEST(Proxy, SilentServerGets504AfterTimeoutServer) {
  ProxyWorld w;
  for (auto& [n, s] : w.servers)
    s->options.silent = true;
  w.start(ingress("    haproxy.org/timeout-server: 2s\n    haproxy.org/check: \"false\"\n"));
  TestClient c(w.client_host, w.http_address());
  c.send(get("app.example.com", "/"));
  w.world.run_for(1900ms);
  EXPECT_FALSE(c.next());
  w.world.run_for(200ms);
  auto r = c.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  EXPECT_THAT(w.access_log.back(), HasSubstr(" sH-- "));
}

TEST(Proxy, IncompleteRequestHeadGets408AfterTimeoutHttpRequest) {
  ProxyWorld w;
  w.start(ingress(), {{"timeout-http-request", "3s"}});
  TestClient c(w.client_host, w.http_address());
  c.send("GET / HTTP/1.1\r\nHost: app.exa");
  w.world.run_for(2900ms);
  EXPECT_FALSE(c.next());
  w.world.run_for(200ms);
  auto r = c.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  w.world.run_for(100ms);
  EXPECT_TRUE(c.peer_closed || c.closed);
}

// timeout-connect bounds each attempt: a server whose SYNs vanish costs 1 + connect-retries attempts.
TEST(Proxy, ConnectTimeoutBoundsEachAttemptThenTheClientGets503) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/check: \"false\"\n"), {{"timeout-connect", "1s"}});
  w.world.partition({{"proxy", "client", "client2"}, {"web-1", "web-2", "web-3"}});
  TestClient c(w.client_host, w.http_address());
  c.send(get("app.example.com", "/"));
  w.world.run_for(3900ms);
  EXPECT_FALSE(c.next()) << "four attempts of 1 s each";
  w.world.run_for(300ms);
  auto r = c.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_THAT(w.access_log.back(), HasSubstr("/3 "));
}

// timeout-client while a request body is under way: the client is dropped and so is the server connection
// that waited for the rest.
TEST(Proxy, ClientTimeoutEndsARequestWhoseBodyStalls) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/check: \"false\"\n"), {{"timeout-client", "2s"}});
  TestClient c(w.client_host, w.http_address());
  c.send("POST /slow HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 100\r\n\r\n0123456789");
  w.world.run_for(1900ms);
  EXPECT_FALSE(c.closed || c.peer_closed);
  w.world.run_for(300ms);
  EXPECT_TRUE(c.closed || c.peer_closed);
  EXPECT_THAT(w.access_log.back(), HasSubstr(" cD-- "));
  int open = 0;
  for (auto& [n, s] : w.servers)
    open += s->open_connections();
  EXPECT_EQ(open, 0);
}

TEST(Proxy, UnreachableServerGets503AfterConnectRetries) {
  ProxyWorld w;
  w.servers["web-1"]->stop();
  w.servers["web-2"]->stop();
  w.servers["web-3"]->stop();
  w.start(ingress("    haproxy.org/check: \"false\"\n"));
  auto r = w.request(get("app.example.com", "/"), 30s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_THAT(w.access_log.back(), HasSubstr(" SC-- "));
  EXPECT_THAT(w.access_log.back(), HasSubstr("/3 "));  // three retries
}

TEST(Proxy, ConnectRetriesRedispatchToAnotherServerOnTheLastTry) {
  ProxyWorld w;
  w.servers["web-1"]->stop();
  w.start(ingress("    haproxy.org/check: \"false\"\n"));
  auto r = w.request(get("app.example.com", "/"), 30s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get("x-served-by"), "web-1");
}

// A cookie naming a server that refuses connections (its health check has not noticed yet): the request is
// redispatched and its answer pins the client to the server that gave it.
TEST(Proxy, ARedispatchedRequestRepinsItsClientToTheServerThatAnswered) {
  ProxyWorld w;
  w.servers["web-1"]->stop();
  w.start(ingress("    haproxy.org/check: \"false\"\n    haproxy.org/cookie-persistence: mycookie\n"));
  auto r = w.request(get("app.example.com", "/", "Cookie: mycookie=web-1\r\n"), 30s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const std::string answered = r->get("x-served-by");
  EXPECT_NE(answered, "web-1");
  EXPECT_EQ(r->get("set-cookie"), "mycookie=" + answered + "; path=/");
}

TEST(Proxy, RedispatchAvoidsTheFailedServerUnderLeastconn) {
  // leastconn counts a server that refuses every connection as idle: with the other two busy it would pick
  // that one again on the last try, as HAProxy does not (it passes the failed server to avoid).
  ProxyWorld w;
  w.servers["web-1"]->stop();
  w.servers["web-2"]->options.latency = 2s;
  w.servers["web-3"]->options.latency = 2s;
  w.start(ingress("    haproxy.org/check: \"false\"\n    haproxy.org/load-balance: leastconn\n"));
  std::vector<std::unique_ptr<TestClient>> busy;
  for (int i = 0; i < 4; ++i) {
    busy.push_back(std::make_unique<TestClient>(w.client_host, w.http_address()));
    busy.back()->send(get("app.example.com", "/slow"));
    w.world.run_for(10ms);
  }
  auto r = w.request(get("app.example.com", "/"), 30s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get("x-served-by"), "web-1");
}

TEST(Proxy, KeepAliveTimeoutClosesAnIdleClientQuietly) {
  ProxyWorld w;
  w.start(ingress(), {{"timeout-http-keep-alive", "2s"}});
  TestClient c(w.client_host, w.http_address());
  c.send(get("app.example.com", "/"));
  ASSERT_TRUE(w.await(c));
  w.world.run_for(1900ms);
  EXPECT_FALSE(c.peer_closed);
  w.world.run_for(200ms);
  EXPECT_TRUE(c.peer_closed);
  EXPECT_TRUE(c.received.empty()) << "no 408 for an idle keep-alive connection";
}

// ------------------------------------------------------------------------------------------ HTTP/1.1
// behaviour

TEST(Proxy, KeepAliveAndPipelinedRequestsAreAnsweredInOrder) {
  ProxyWorld w;
  w.servers["web-1"]->options.latency = 300ms;  // the first answer is the slowest
  w.start(ingress());
  TestClient c(w.client_host, w.http_address());
  c.send(get("app.example.com", "/one") + get("app.example.com", "/two") + get("app.example.com", "/three"));
  std::vector<std::string> bodies;
  for (int i = 0; i < 3; ++i) {
    auto r = w.await(c);
    ASSERT_TRUE(r) << i;
    bodies.push_back(r->body.substr(r->body.find(' ') + 1));
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"GET /one\n", "GET /two\n", "GET /three\n"}));
  EXPECT_FALSE(c.peer_closed);
}

// `printf 'GET /one ...GET /two ...' | nc -N`: the FIN comes with the requests, and each still gets its
// answer before the connection closes, as HAProxy answers them (checked against HAProxy 2.6: two responses).
// Half a request pipelined before the FIN will never be whole: 400. Found by ProxyProperties (below).
TEST(Proxy, RequestsPipelinedBeforeAFinAreAllAnsweredThenTheConnectionCloses) {
  ProxyWorld w;
  w.servers["web-1"]->options.latency = 300ms;
  w.start(ingress());
  TestClient c(w.client_host, w.http_address());
  c.send(get("app.example.com", "/one") + get("app.example.com", "/two") + get("app.example.com", "/three") +
         "GET /half HTTP/1.1\r\nHost: app");
  c.conn->shutdown_write();
  std::vector<int> statuses;
  for (int i = 0; i < 4; ++i)
    if (auto r = w.await(c)) statuses.push_back(r->status);
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 400}));
  w.world.run_for(100ms);
  EXPECT_TRUE(c.peer_closed || c.closed);
}

// The proxy's own answers follow the same rule: a 404 kept alive, then the pipelined request, then the close
// (a kept-alive local answer after the FIN used to leave the connection waiting for the keep-alive timeout).
TEST(Proxy, AFinAfterRequestsTheProxyAnswersItselfStillClosesAfterTheLastAnswer) {
  ProxyWorld w;
  w.start(ingress());
  TestClient c(w.client_host, w.http_address());
  c.send(get("app.example.com", "/before") + get("nowhere.example", "/") + get("app.example.com", "/after"));
  c.conn->shutdown_write();
  auto zeroth = w.await(c);
  auto first = w.await(c);
  auto second = w.await(c);
  ASSERT_TRUE(zeroth && first && second);
  EXPECT_EQ(zeroth->status, 200);
  EXPECT_EQ(first->status, 404);
  EXPECT_EQ(second->status, 200) << "a whole request behind a local answer is answered, not refused";
  EXPECT_EQ(second->get("connection"), "close") << "the last answer says so";
  w.world.run_for(100ms);
  EXPECT_TRUE(c.peer_closed || c.closed);
  TestClient alone(w.client_host, w.http_address());
  alone.send(get("nowhere.example", "/"));
  alone.conn->shutdown_write();
  auto r = w.await(alone);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  w.world.run_for(100ms);
  EXPECT_TRUE(alone.peer_closed || alone.closed) << "not left waiting for timeout-http-keep-alive";
}

TEST(Proxy, ReusesServerConnectionsTheWayHttpReuseSafeSays) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/load-balance: source\n    haproxy.org/check: \"false\"\n"));
  TestClient c(w.client_host, w.http_address());
  for (int i = 0; i < 5; ++i) {
    c.send(get("app.example.com", "/"));
    ASSERT_TRUE(w.await(c));
  }
  auto& b = *w.proxy->backends()[0];
  EXPECT_EQ(b.connections_opened(), 1u) << "one session keeps its own server connection";
  // A new session's first request never takes another session's idle connection ...
  TestClient c2(w.client_host, w.http_address());
  c2.send(get("app.example.com", "/"));
  ASSERT_TRUE(w.await(c2));
  EXPECT_EQ(b.connections_opened(), 2u);
  // ... but its second one may.
  c.conn->close();
  w.world.run_for(100ms);
  c2.send(get("app.example.com", "/"));
  ASSERT_TRUE(w.await(c2));
  EXPECT_EQ(b.connections_opened(), 2u);
}

// http-reuse never: each session its own server connection; always: even a session's first request takes
// an idle one.
TEST(Proxy, HttpReuseNeverAndAlwaysDoWhatTheySay) {
  for (const std::string mode : {"never", "always"}) {
    ProxyWorld w;
    w.start(ingress("    haproxy.org/load-balance: source\n    haproxy.org/check: \"false\"\n"
                    "    haproxy.org/http-reuse: " + mode + "\n"));
    auto& b = *w.proxy->backends()[0];
    for (int i = 0; i < 3; ++i) {
      TestClient c(w.client_host, w.http_address());
      c.send(get("app.example.com", "/"));
      ASSERT_TRUE(w.await(c)) << mode;
      c.conn->close();
      w.world.run_for(100ms);
    }
    EXPECT_EQ(b.connections_opened(), mode == "never" ? 3u : 1u) << mode;
  }
}

TEST(Proxy, AKeptServerConnectionTheServerClosedIsNotUsedAgain) {
  // The session keeps its server connection between requests; when the server closes it meanwhile (its
  // keep-alive timeout, or its process ended), the next request goes on a new connection rather than into a
  // connection whose peer may never answer.
  ProxyWorld w;
  w.start(ingress("    haproxy.org/load-balance: source\n    haproxy.org/check: \"false\"\n"));
  TestClient c(w.client_host, w.http_address());
  c.send(get("app.example.com", "/one"));
  ASSERT_TRUE(w.await(c));
  auto& b = *w.proxy->backends()[0];
  ASSERT_EQ(b.connections_opened(), 1u);
  for (auto& [name, server] : w.servers)
    server->close_connections();
  w.world.run_for(100ms);
  c.send(get("app.example.com", "/two"));
  auto r = w.await(c, 3s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(b.connections_opened(), 2u);
  EXPECT_EQ(w.proxy->counters().connect_retries, 0u);
}

TEST(Proxy, StreamsChunkedBodiesBothWays) {
  ProxyWorld w;
  for (auto& [n, s] : w.servers)
    s->options.chunked = true;
  w.start(ingress());
  auto r = w.request(
      "POST /upload HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get("transfer-encoding"), "chunked");
  EXPECT_THAT(r->body, HasSubstr("POST /upload"));
  std::string all;
  for (auto& [n, s] : w.servers)
    for (auto& b : s->bodies)
      all += b;
  EXPECT_EQ(all, "Wikipedia");
}

TEST(Proxy, StreamsALargeContentLengthBody) {
  ProxyWorld w;
  w.start(ingress());
  std::string body(3 * 1024 * 1024, 'z');
  TestClient c(w.client_host, w.http_address());
  c.send("PUT /big HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n");
  for (std::size_t off = 0; off < body.size(); off += 65536)
    c.send(std::string_view(body).substr(off, 65536));
  auto r = w.await(c, 30s);
  std::size_t got = 0;
  for (auto& [n, s] : w.servers)
    for (auto& b : s->bodies)
      got += b.size();
  ASSERT_TRUE(r) << "the servers got " << got << " bytes";
  EXPECT_EQ(r->status, 200);
  got = 0;
  for (auto& [n, s] : w.servers)
    for (auto& b : s->bodies)
      got += b.size();
  EXPECT_EQ(got, body.size());
}

TEST(Proxy, SmugglingAttemptsAreRefusedOrNeutralised) {
  ProxyWorld w;
  w.start(ingress());
  auto bad = w.request(
      "POST / HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->get("connection"), "close");
  // CL + TE: forwarded as chunked without Content-Length, connection closed after the response.
  TestClient c(w.client_host, w.http_address());
  c.send(
      "POST /a HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
  auto r = w.await(c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get("connection"), "close");
  w.world.run_for(1s);
  int smuggled = 0;
  for (auto& [n, s] : w.servers)
    for (auto& h : s->heads) {
      EXPECT_THAT(h, ::testing::Not(HasSubstr("Content-Length")));
      if (h.find("/smuggled") != std::string::npos) ++smuggled;
    }
  EXPECT_EQ(smuggled, 0);
}

// Framing another parser could read differently never reaches a server: no byte of these requests does.
TEST(Proxy, MalformedChunkLinesAndOtherCodingsReachNoServer) {
  struct Case {
    const char* name;
    std::string head_extra;
    std::string body;
    int status;
  };
  const std::string te = "Transfer-Encoding: chunked\r\n";
  for (const Case& c : std::vector<Case>{
           {"junk after a chunk size", te, "2 erfrferferf\r\nab\r\n0\r\n\r\n", 400},
           {"junk after the last chunk's size", te, "2\r\nab\r\n0 rrrr\r\n\r\n", 400},
           {"deflate, chunked", "Transfer-Encoding: deflate, chunked\r\n", "2\r\nab\r\n0\r\n\r\n", 501},
           {"deflate and chunked on two lines", "Transfer-Encoding: deflate\r\n" + te, "2\r\nab\r\n0\r\n\r\n",
            501},
       }) {
    ProxyWorld w;
    w.start(ingress());
    auto r = w.request("POST /upload HTTP/1.1\r\nHost: app.example.com\r\n" + c.head_extra + "\r\n" + c.body);
    ASSERT_TRUE(r) << c.name;
    EXPECT_EQ(r->status, c.status) << c.name;
    EXPECT_EQ(r->get("connection"), "close") << c.name;
    for (auto& [n, s] : w.servers)
      EXPECT_EQ(s->raw.find("/upload"), std::string::npos) << c.name << " reached " << n;
  }
}

// The server reads the proxy's framing, never the client's: one Transfer-Encoding, chunks without
// extensions, trailers re-serialised.
TEST(Proxy, ChunkedRequestBodiesReachTheServerInCanonicalFraming) {
  ProxyWorld w;
  w.start(ingress());
  auto r = w.request(
      "POST /up HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: , chunked\r\n\r\n"
      "3;name=\"v a l\"\r\nabc\r\n004 ; x\nwxyz\n0\r\nChecksum:   42  \r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::string raw;
  for (auto& [n, s] : w.servers)
    if (s->raw.find("/up ") != std::string::npos) raw = s->raw;
  const std::size_t body = raw.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_THAT(raw.substr(0, body + 2), HasSubstr("\r\nTransfer-Encoding: chunked\r\n"));
  EXPECT_EQ(raw.find("Transfer-Encoding: ,"), std::string::npos);
  EXPECT_EQ(raw.substr(body + 4), "3\r\nabc\r\n4\r\nwxyz\r\n0\r\nChecksum: 42\r\n\r\n");
}

TEST(Proxy, AContentLengthListIsForwardedAsOneValue) {
  ProxyWorld w;
  w.start(ingress());
  auto r = w.request("POST /cl HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5, 5\r\n\r\nhello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::string head;
  for (auto& [n, s] : w.servers)
    for (auto& h : s->heads)
      if (h.find("/cl ") != std::string::npos) head = h;
  EXPECT_THAT(head, HasSubstr("\r\nContent-Length: 5\r\n"));
  EXPECT_EQ(head.find("5, 5"), std::string::npos);
}

// A client that sends its whole request and shuts its side at once (nc -N, HTTP/1.0 scripts) is answered.
TEST(Proxy, ACompleteRequestIsAnsweredWhenTheClientShutsItsSideRightAfter) {
  for (std::string request :
       {"POST /a HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5\r\n\r\nhello",
        "POST /a HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"}) {
    ProxyWorld w;
    w.start(ingress());
    TestClient c(w.client_host, w.http_address());
    c.send(request);
    c.conn->shutdown_write();
    auto r = w.await(c);
    ASSERT_TRUE(r) << request;
    EXPECT_EQ(r->status, 200) << request;
    EXPECT_THAT(r->body, HasSubstr("POST /a"));
  }
  ProxyWorld w;
  w.start(ingress());
  TestClient bad(w.client_host, w.http_address());
  bad.send("POST /a HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n");
  bad.conn->shutdown_write();
  auto r = w.await(bad);
  ASSERT_TRUE(r) << "a malformed chunk size sent the same way gets its 400, not a reset";
  EXPECT_EQ(r->status, 400);
}

TEST(Proxy, AMalformedChunkFromAServerGives502AndIsNotForwarded) {
  ProxyWorld w;
  for (auto& [n, s] : w.servers)
    s->options.raw_response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 junk\r\nab\r\n0\r\n\r\n";
  w.start(ingress());
  TestClient c(w.client_host, w.http_address());
  c.send(get("app.example.com", "/"));
  auto r = w.await(c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(c.received.find("junk"), std::string::npos);
}

TEST(Proxy, AnInvalidHeadIsRefusedWhenItsBadByteArrivesNotAfterTheTimeout) {
  ProxyWorld w;
  w.start(ingress());
  for (std::string partial : {"GET /a b", "GET / HTTP/1.1\r\nHost: app.example.com\r\nX@Y",
                              "GET / HTTP/1.1\r\nHost: app.example.com\rX"}) {
    TestClient c(w.client_host, w.http_address());
    c.send(partial);
    auto r = w.await(c, 100ms);
    ASSERT_TRUE(r) << partial;
    EXPECT_EQ(r->status, 400) << partial;
  }
}

// RFC 9112 §3.2.2: an absolute-form target's authority wins over Host. It chose the route, and the server
// is told the same host, never the client's other Host header.
TEST(Proxy, AnAbsoluteFormTargetRoutesAndIsForwardedWithItsAuthorityAsHost) {
  ProxyWorld w;
  w.start(ingress());
  auto r = w.request("GET http://app.example.com/x HTTP/1.1\r\nHost: other.example.com\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::string head;
  for (auto& [n, s] : w.servers)
    for (auto& h : s->heads)
      head += h;
  EXPECT_THAT(head, HasSubstr("\r\nHost: app.example.com\r\n"));
  EXPECT_EQ(head.find("other.example.com"), std::string::npos);
}

TEST(Proxy, Http10ClientsGetHttp10ResponsesAndAClose) {
  ProxyWorld w;
  for (auto& [n, s] : w.servers)
    s->options.chunked = true;
  w.start(ingress());
  TestClient c(w.client_host, w.http_address());
  c.send("GET /old HTTP/1.0\r\nHost: app.example.com\r\n\r\n");
  w.world.run_for(1s);
  EXPECT_TRUE(c.peer_closed || c.closed);
  auto r = c.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head.substr(0, 8), "HTTP/1.0");
  EXPECT_FALSE(r->has("transfer-encoding"));
  EXPECT_THAT(r->body, HasSubstr("GET /old"));
}

TEST(Proxy, ExpectContinueReachesTheServerAndTheInterimResponseTheClient) {
  ProxyWorld w;
  w.start(ingress());
  TestClient c(w.client_host, w.http_address());
  c.send("PUT /x HTTP/1.1\r\nHost: app.example.com\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
  auto r = w.await(c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  bool expect_forwarded = false;
  for (auto& [n, s] : w.servers)
    for (auto& h : s->heads)
      expect_forwarded |= h.find("Expect: 100-continue") != std::string::npos;
  EXPECT_TRUE(expect_forwarded);
}

TEST(Proxy, HeadResponsesCarryNoBody) {
  ProxyWorld w;
  w.start(ingress());
  TestClient c(w.client_host, w.http_address());
  c.send("HEAD / HTTP/1.1\r\nHost: app.example.com\r\n\r\n" + get("app.example.com", "/after"));
  auto h = w.await(c, 10s, true);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->body.empty());
  auto after = w.await(c);
  ASSERT_TRUE(after);
  EXPECT_THAT(after->body, HasSubstr("/after"));
}

// ------------------------------------------------------------------------------------------ policies

TEST(Proxy, RateLimitRefusesTheRequestAfterTheNth) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/rate-limit-requests: \"3\"\n    haproxy.org/rate-limit-period: 10s\n"));
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i)
    statuses.push_back(w.request(get("app.example.com", "/"))->status);
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 403, 403}));
  EXPECT_EQ(w.request(get("app.example.com", "/"), 10s, true)->status, 200) << "rates are per source address";
  w.world.run_for(20s);
  EXPECT_EQ(w.request(get("app.example.com", "/"))->status, 200) << "the window slides";
}

TEST(Proxy, RateLimitStatusAndWhitelist) {
  ProxyWorld w;
  w.start(
      ingress("    haproxy.org/rate-limit-requests: \"1\"\n    haproxy.org/rate-limit-status-code: \"429\"\n"
              "    haproxy.org/rate-limit-whitelist: 10.0.0.101\n"));
  EXPECT_EQ(w.request(get("app.example.com", "/"))->status, 200);
  EXPECT_EQ(w.request(get("app.example.com", "/"))->status, 429);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(w.request(get("app.example.com", "/"), 10s, true)->status, 200);
}

TEST(Proxy, AllowAndDenyListsAnswer403) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/allow-list: 10.0.0.0/30, 10.0.0.100\n"));
  EXPECT_EQ(w.request(get("app.example.com", "/"))->status, 200);
  EXPECT_EQ(w.request(get("app.example.com", "/"), 10s, true)->status, 403);
  ProxyWorld d;
  d.start(ingress("    haproxy.org/deny-list: 10.0.0.101/32\n"));
  EXPECT_EQ(d.request(get("app.example.com", "/"))->status, 200);
  EXPECT_EQ(d.request(get("app.example.com", "/"), 10s, true)->status, 403);
  EXPECT_THAT(d.access_log.back(), HasSubstr(" PR-- "));
}

// ------------------------------------------------------------------------------------------ basic auth

// A Secret as `kubectl create secret generic creds --from-literal=bob=$(htpasswd -nbB ...)` stores it: each
// key a user, each value a crypt(3) hash in base64. bob's is bcrypt (password "s3cret"); alice's is
// `openssl passwd -6 -salt abc secret` with the line break a file would keep.
const std::string kCredentials = R"(
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: default}
type: Opaque
data:
  bob: JDJ5JDA1JGFiY2RlZmdoaWprbG1ub3BxcnN0dXVMSzdVMXU2cFZSbUw3TDFCQk0yYVMzNVBTWm5EWGxL
  alice: JDYkYWJjJElkV0tOS1RKRWI4THhZN0NHZzhZQlhsdnRmWnpGdzdNcC9yNm5pSzlZQjJtZHZnWS4uVEtqdjFULi44UmFkUnQycXZVSFlSTHIvVHNWQXJ0cjkxaVIxCg==
)";
const std::string kBob = "Authorization: Basic Ym9iOnMzY3JldA==\r\n";         // bob:s3cret
const std::string kAlice = "Authorization: Basic YWxpY2U6c2VjcmV0\r\n";       // alice:secret
const std::string kAliceWrong = "Authorization: Basic YWxpY2U6U2VjcmV0\r\n";  // alice:Secret

std::size_t server_requests(ProxyWorld& w) {
  std::size_t n = 0;
  for (auto& [name, s] : w.servers)
    n += s->requests();
  return n;
}

const RoutePolicy& policy_of(const ProxyWorld& w, const std::string& ingress_key) {
  for (const auto& p : w.config->policies)
    if (p.ingress == ingress_key) return p;
  return w.config->policies.front();
}

TEST(ProxyBasicAuth, WithoutValidCredentialsTheClientGets401WithTheRealmAndTheServerNothing) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/auth-type: basic-auth\n    haproxy.org/auth-secret: creds\n"
                  "    haproxy.org/auth-realm: Admin Area\n"),
          {}, kCredentials);
  for (const std::string& extra : {std::string(), kAliceWrong, std::string("Authorization: Bearer abc\r\n"),
                                   std::string("Authorization: Basic Y2Fyb2w6czNjcmV0\r\n")}) {  // carol
    auto r = w.request(get("app.example.com", "/", extra));
    ASSERT_TRUE(r) << extra;
    EXPECT_EQ(r->status, 401) << extra;
    EXPECT_EQ(r->get("www-authenticate"), "Basic realm=\"Admin-Area\"")
        << "spaces become '-', as the controller writes it";
    EXPECT_THAT(r->body, HasSubstr("401 Unauthorized"));
    EXPECT_EQ(r->get("content-length"), "112") << "HAProxy's own 401 page";
  }
  EXPECT_EQ(server_requests(w), 0u);
  EXPECT_THAT(w.access_log.back(), HasSubstr(" 401 "));
}

TEST(ProxyBasicAuth, AListedUsersBcryptOrSha512PasswordReachesTheServerWithItsAuthorizationHeader) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/auth-type: basic-auth\n    haproxy.org/auth-secret: default/creds\n"), {},
          kCredentials);
  for (const std::string& extra : {kBob, kAlice}) {
    auto r = w.request(get("app.example.com", "/private", extra));
    ASSERT_TRUE(r) << extra;
    EXPECT_EQ(r->status, 200) << extra;
    EXPECT_THAT(r->body, HasSubstr("GET /private"));
  }
  std::string head;
  for (auto& [n, s] : w.servers)
    if (!s->heads.empty()) head += s->heads.back();
  EXPECT_THAT(head, HasSubstr(kAlice)) << "the controller leaves Authorization in the forwarded request";
  EXPECT_EQ(w.request(get("app.example.com", "/private", kAliceWrong))->status, 401) << "the route is protected";
}

TEST(ProxyBasicAuth, A401KeepsTheConnectionAndEachCredentialIsVerifiedOnce) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/auth-type: basic-auth\n    haproxy.org/auth-secret: creds\n"), {},
          kCredentials);
  TestClient c(w.client_host, w.http_address());
  c.send(get("app.example.com", "/"));
  auto r = w.await(c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get("www-authenticate"), "Basic realm=\"Protected-Content\"")
      << "the controller's default realm";
  for (int i = 0; i < 4; ++i) {
    c.send(get("app.example.com", "/", kBob));
    r = w.await(c);
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200) << i;
  }
  EXPECT_FALSE(c.peer_closed);
  EXPECT_EQ(policy_of(w, "default/web").basic_auth->verifications(), 1u) << "bcrypt once, then remembered";
}

TEST(ProxyBasicAuth, TheControllerConfigMapProtectsEveryRouteWithANamespacedSecret) {
  ProxyWorld w;
  w.start(ingress(), {{"auth-type", "basic-auth"}, {"auth-secret", "default/creds"}, {"auth-realm", "Staff"}},
          kCredentials);
  auto r = w.request(get("app.example.com", "/"));
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get("www-authenticate"), "Basic realm=\"Staff\"");
  EXPECT_EQ(w.request(get("app.example.com", "/", kBob))->status, 200);
}

TEST(ProxyBasicAuth, ABareSecretNameInTheControllerConfigMapIsReadInEachIngresssNamespace) {
  ProxyWorld w;
  w.serve_despite_errors = true;  // the route without an Ingress has no namespace to read it in (an error)
  w.start(ingress(), {{"auth-type", "basic-auth"}, {"auth-secret", "creds"}}, kCredentials);
  EXPECT_EQ(w.request(get("app.example.com", "/"))->status, 401);
  EXPECT_EQ(w.request(get("app.example.com", "/", kBob))->status, 200);
  EXPECT_THAT(w.diagnostics.to_string(), HasSubstr("'creds' names no namespace"));
}

TEST(ProxyBasicAuth, AMissingSecretIsAnErrorAtTheAnnotationAndTheRouteStaysClosed) {
  ProxyWorld w;
  w.serve_despite_errors = true;
  w.start(ingress("    haproxy.org/auth-type: basic-auth\n    haproxy.org/auth-secret: nope\n"), {},
          kCredentials);
  EXPECT_THAT(w.diagnostics.to_string(),
              HasSubstr("ingress.yaml:8:5: error: Ingress default/web: metadata.annotations.haproxy.org/"
                        "auth-secret: Secret default/nope does not exist"));
  EXPECT_EQ(w.request(get("app.example.com", "/", kBob))->status, 401);
  EXPECT_EQ(server_requests(w), 0u);
}

TEST(ProxyBasicAuth, AnAuthTypeOtherThanBasicAuthIsAnErrorAndClosesTheRoute) {
  ProxyWorld w;
  w.serve_despite_errors = true;
  w.start(ingress("    haproxy.org/auth-type: oauth\n    haproxy.org/auth-secret: creds\n"), {},
          kCredentials);
  EXPECT_THAT(w.diagnostics.to_string(),
              HasSubstr("ingress.yaml:7:5: error: Ingress default/web: metadata.annotations.haproxy.org/"
                        "auth-type: 'oauth' is not an auth-type"));
  EXPECT_EQ(w.request(get("app.example.com", "/", kBob))->status, 401);
}

TEST(ProxyBasicAuth, AuthComesBeforeTheRateLimitAndRedirectsAsInTheControllersRuleOrder) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/auth-type: basic-auth\n    haproxy.org/auth-secret: creds\n"
                  "    haproxy.org/rate-limit-requests: \"1\"\n    haproxy.org/rate-limit-period: 10s\n"
                  "    haproxy.org/request-redirect: example.org\n"),
          {}, kCredentials);
  EXPECT_EQ(w.request(get("app.example.com", "/"))->status, 401) << "counted, then refused by auth";
  EXPECT_EQ(w.request(get("app.example.com", "/"))->status, 401) << "auth answers before the rate limit";
  EXPECT_EQ(w.request(get("app.example.com", "/", kBob))->status, 403) << "third request: over the limit";
  w.world.run_for(20s);
  EXPECT_EQ(w.request(get("app.example.com", "/", kBob))->status, 302) << "then the redirect";
}

// ------------------------------------------------------------------------------------------ path-rewrite

std::string last_head(ProxyWorld& w) {
  std::string head;
  for (auto& [n, s] : w.servers)
    if (!s->heads.empty()) head = s->heads.back();
  return head;
}

TEST(ProxyPathRewrite, RegexAndFormatRewriteThePathAfterRoutingAndKeepTheQuery) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/path-rewrite: /foo/(.*) /\\1\n", R"(
  - host: app.example.com
    http:
      paths:
      - {path: /foo, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
)"));
  auto r = w.request(get("app.example.com", "/foo/bar/baz?q=1&r=2"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "routed by the path as received";
  EXPECT_THAT(last_head(w), HasSubstr("GET /bar/baz?q=1&r=2 HTTP/1.1\r\n"));
  EXPECT_EQ(w.request(get("app.example.com", "/bar"))->status, 404) << "the rewritten path routes nothing";
}

TEST(ProxyPathRewrite, OneWordReplacesEveryPathAndLinesApplyInOrder) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/path-rewrite: /\n"));
  w.request(get("app.example.com", "/any/thing?x=1"));
  EXPECT_THAT(last_head(w), HasSubstr("GET /?x=1 HTTP/1.1\r\n"));
  ProxyWorld lines;
  lines.start(ingress("    haproxy.org/path-rewrite: |\n      /foo/(.*) /\\1\n      /bar/(.*) /baz/\\1\n"));
  lines.request(get("app.example.com", "/foo/bar/x"));
  EXPECT_THAT(last_head(lines), HasSubstr("GET /baz/x HTTP/1.1\r\n"));
  lines.request(get("app.example.com", "/other"));
  EXPECT_THAT(last_head(lines), HasSubstr("GET /other HTTP/1.1\r\n")) << "no rule matches: unchanged";
}

TEST(ProxyPathRewrite, AnAbsoluteFormTargetKeepsItsAuthority) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/path-rewrite: (.*) /v2\\1\n"));
  w.request("GET http://app.example.com/users?id=7 HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
  EXPECT_THAT(last_head(w), HasSubstr("GET http://app.example.com/v2/users?id=7 HTTP/1.1\r\n"));
}

TEST(ProxyPathRewrite, ABadRuleIsAnErrorAtTheAnnotationAndTheOthersStillApply) {
  ProxyWorld w;
  w.serve_despite_errors = true;
  w.start(
      ingress("    haproxy.org/path-rewrite: |\n      /v\\d+/(.*) /\\1\n      a b c\n      (.*) /p\\1\n"));
  const std::string diagnostics = w.diagnostics.to_string();
  EXPECT_THAT(diagnostics, HasSubstr("ingress.yaml:7:5: error: Ingress default/web: "
                                     "metadata.annotations.haproxy.org/path-rewrite: the regular expression "
                                     "uses \\d"));
  EXPECT_THAT(diagnostics, HasSubstr("'a b c' is neither PATH nor REGEX FORMAT"));
  w.request(get("app.example.com", "/v1/x"));
  EXPECT_THAT(last_head(w), HasSubstr("GET /p/v1/x HTTP/1.1\r\n"));
}

// ------------------------------------------------------------------------------------------ request-redirect

TEST(ProxyRequestRedirect, EveryRequestGoesToTheOtherHostWithItsPathAndQueryAnd302) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/request-redirect: example.com:8888\n"));
  auto r = w.request(get("app.example.com", "/a/b?c=1&d"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->get("location"), "http://example.com:8888/a/b?c=1&d");
  EXPECT_EQ(r->get("cache-control"), "no-cache") << "as HAProxy marks its temporary redirects";
  EXPECT_EQ(server_requests(w), 0u);
}

TEST(ProxyRequestRedirect, AnHttpsSchemeAndTheRedirectCodeAreKept) {
  ProxyWorld w;
  w.start(
      ingress("    haproxy.org/request-redirect: https://secure.example.com\n"
              "    haproxy.org/request-redirect-code: \"308\"\n"));
  auto r = w.request(get("app.example.com", "/x?y"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 308);
  EXPECT_EQ(r->get("location"), "https://secure.example.com/x?y");
  EXPECT_FALSE(r->has("cache-control")) << "a permanent redirect may be cached";
}

TEST(ProxyRequestRedirect, APortAloneOrANonRedirectCodeIsAnError) {
  ProxyWorld w;
  w.serve_despite_errors = true;
  w.start(ingress("    haproxy.org/request-redirect: :8080\n"));
  EXPECT_THAT(w.diagnostics.to_string(),
              HasSubstr("ingress.yaml:7:5: error: Ingress default/web: "
                        "metadata.annotations.haproxy.org/request-redirect: ':8080' "
                        "is not host or host:port"));
  EXPECT_EQ(w.request(get("app.example.com", "/"))->status, 200) << "no redirect is set up";
  ProxyWorld c;
  c.serve_despite_errors = true;
  c.start(ingress(
      "    haproxy.org/request-redirect: example.com\n    haproxy.org/request-redirect-code: \"304\"\n"));
  EXPECT_THAT(c.diagnostics.to_string(), HasSubstr("'304' is not a redirect code"));
  EXPECT_EQ(c.request(get("app.example.com", "/"))->status, 302);
}

TEST(Proxy, SetsRequestAndResponseHeadersAndForwardedFor) {
  ProxyWorld w;
  w.start(
      ingress("    haproxy.org/request-set-header: |\n      X-Env prod\n      X-Team: web\n"
              "    haproxy.org/response-set-header: |\n      X-Frame-Options: DENY\n"
              "    haproxy.org/headers: |\n      X-Content-Type-Options: nosniff\n"
              "    haproxy.org/set-host: internal.svc\n"));
  auto r = w.request(get("app.example.com", "/", "X-Env: dev\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get("x-frame-options"), "DENY");
  EXPECT_EQ(r->get("x-content-type-options"), "nosniff");
  std::string head;
  for (auto& [n, s] : w.servers)
    if (!s->heads.empty()) head = s->heads.back();
  EXPECT_THAT(head, HasSubstr("X-Env: prod\r\n"));
  EXPECT_THAT(head, ::testing::Not(HasSubstr("X-Env: dev")));
  EXPECT_THAT(head, HasSubstr("X-Team: web\r\n"));
  EXPECT_THAT(head, HasSubstr("Host: internal.svc\r\n"));
  EXPECT_THAT(head, ::testing::Not(HasSubstr("app.example.com")));
  EXPECT_THAT(head, HasSubstr("X-Forwarded-For: 10.0.0.100\r\n"));
}

std::string gunzip(const std::string& in) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out(1 << 20, '\0');
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "<inflate error>";
}

TEST(Proxy, CompressesListedTypesWithHaproxysRules) {
  ProxyWorld w;
  std::string page(5000, 'a');
  for (auto& [n, s] : w.servers) {
    s->options.body = page;
    s->options.content_type = "text/html; charset=utf-8";
    s->options.extra_headers = {{"ETag", "\"v1\""}};
  }
  w.start(ingress("    haproxy.org/response-compress: \"true\"\n"));
  auto r = w.request(get("app.example.com", "/", "Accept-Encoding: br, gzip\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get("content-encoding"), "gzip");
  EXPECT_EQ(r->get("vary"), "Accept-Encoding");
  EXPECT_EQ(r->get("etag"), "W/\"v1\"");
  EXPECT_FALSE(r->has("content-length"));
  EXPECT_EQ(gunzip(r->body), page);
  EXPECT_LT(r->body.size(), page.size() / 10);
  auto plain = w.request(get("app.example.com", "/"));
  EXPECT_FALSE(plain->has("content-encoding")) << "no Accept-Encoding, no compression";
  EXPECT_EQ(plain->body, page);
  for (auto& [n, s] : w.servers)
    s->options.content_type = "image/png";
  auto png = w.request(get("app.example.com", "/", "Accept-Encoding: gzip\r\n"));
  EXPECT_FALSE(png->has("content-encoding")) << "unlisted type";
}

TEST(Proxy, UpgradeTunnelsBothWays) {
  ProxyWorld w;
  // A server that switches protocols and echoes.
  auto& host = w.world.add_host("ws", {*net::IpAddress::parse("10.0.3.1")});
  struct Echo : runtime::StreamHandler {
    runtime::StreamConnectionPtr c;
    bool upgraded = false;
    std::string in;
    void on_data(runtime::ByteView d) override {
      if (upgraded) return c->write(d);
      in.append(runtime::as_chars(d));
      if (in.find("\r\n\r\n") != std::string::npos) {
        upgraded = true;
        c->write(runtime::as_bytes(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"));
      }
    }
    void on_peer_shutdown() override { c->close(); }
    void on_closed(std::error_code) override {}
  } echo;
  std::error_code ec;
  auto listener = host.listen(
      {*net::IpAddress::parse("10.0.3.1"), 7000}, {},
      [&](runtime::StreamConnectionPtr c) {
        echo.c = std::move(c);
        echo.c->start(echo);
      },
      ec);
  // No health checks: the echo server takes one connection only.
  w.start(ingress("    haproxy.org/check: \"false\"\n    haproxy.org/timeout-tunnel: 5s\n", R"(
  - host: ws.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: ws, port: {number: 80}}}}
)"),
          {}, R"(
apiVersion: v1
kind: Service
metadata: {name: ws, namespace: default}
spec:
  ports: [{port: 80, targetPort: 7000}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: ws, namespace: default}
subsets:
- addresses: [{ip: 10.0.3.1}]
  ports: [{port: 7000}]
)");
  TestClient c(w.client_host, w.http_address());
  c.send("GET /chat HTTP/1.1\r\nHost: ws.example.com\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
  w.world.run_for(1s);
  ASSERT_THAT(c.received, HasSubstr("101 Switching Protocols"));
  c.received.clear();
  c.send("ping-1");
  w.world.run_for(1s);
  EXPECT_EQ(c.received, "ping-1");
  // timeout-tunnel: an idle tunnel ends after it, not before.
  w.world.run_for(3900ms);
  EXPECT_FALSE(c.peer_closed || c.closed);
  w.world.run_for(200ms);
  EXPECT_TRUE(c.peer_closed || c.closed);
}

TEST(Proxy, AccessLogLinesUseHaproxysHttpFormat) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/access-log: \"true\"\n"));
  w.world.run_for(1s);
  ASSERT_EQ(w.request(get("app.example.com", "/path?q=1"))->status, 200);
  ASSERT_EQ(w.access_log.size(), 1u);
  // 10.0.0.100:32768 [01/Jan/1970:00:00:01.000] http default_web_80/web-1 0/0/0/0/0 200 120 - - ---- ...
  EXPECT_THAT(
      w.access_log[0],
      ::testing::MatchesRegex(R"(10\.0\.0\.100:[0-9]+ \[01/Jan/1970:00:00:01\.[0-9]{3}\] http )"
                              R"(default_web_80/web-[123] [0-9]+/0/[0-9]+/[0-9]+/[0-9]+ 200 [0-9]+ - - ---- )"
                              R"([0-9]+/[0-9]+/[0-9]+/[0-9]+/0 0/0 "GET /path\?q=1 HTTP/1\.1")"));
}

// ------------------------------------------------------------------------------------------ several loops

// One request on a new connection to the second loop.
std::optional<Response> request_loop2(ProxyWorld& w, const std::string& raw) {
  TestClient client(w.client_host, w.loop2_http_address());
  client.send(raw);
  return w.await(client);
}

TEST(ProxyLoops, HealthCheckedOnceAndHonouredByEveryLoop) {
  ProxyWorld w;
  w.second_loop = true;
  w.servers["web-2"]->options.health_status = 500;
  w.start(ingress("    haproxy.org/check-http: /health\n    haproxy.org/check-interval: 1s\n"));
  w.world.run_for(10500ms);
  // Ten intervals: each server checked about ten times, not twice that.
  for (auto& [name, s] : w.servers) {
    EXPECT_GE(s->health_checks(), 9u) << name;
    EXPECT_LE(s->health_checks(), 11u) << name << ": only the primary loop checks";
  }
  std::set<std::string> seen;
  for (int i = 0; i < 9; ++i)
    seen.insert(request_loop2(w, get("app.example.com", "/"))->get("x-served-by"));
  EXPECT_EQ(seen, (std::set<std::string>{"web-1", "web-3"}))
      << "the second loop avoids the server found down";
  // Brought back by the primary's checks, used by the second loop too.
  w.servers["web-2"]->options.health_status = 200;
  w.world.run_for(2500ms);
  seen.clear();
  for (int i = 0; i < 9; ++i)
    seen.insert(request_loop2(w, get("app.example.com", "/"))->get("x-served-by"));
  EXPECT_EQ(seen, (std::set<std::string>{"web-1", "web-2", "web-3"}));
  // All down: 503 from either loop.
  for (auto& [n, s] : w.servers)
    s->options.health_status = 503;
  w.world.run_for(3500ms);
  EXPECT_EQ(w.request(get("app.example.com", "/"))->status, 503);
  EXPECT_EQ(request_loop2(w, get("app.example.com", "/"))->status, 503);
}

TEST(ProxyLoops, PerServerMaxconnCountsEveryLoopsRequests) {
  ProxyWorld w;
  w.second_loop = true;
  for (auto& [n, s] : w.servers)
    s->options.latency = 1s;
  w.start(ingress("    haproxy.org/pod-maxconn: \"1\"\n"));
  // The first loop fills every server's only slot...
  auto first = w.send_on_new_clients(3, get("app.example.com", "/"));
  w.world.run_for(100ms);
  // ... so a request to the second loop waits in its queue, and is served once a slot frees elsewhere.
  TestClient second(w.client_host, w.loop2_http_address());
  second.send(get("app.example.com", "/"));
  w.world.run_for(700ms);
  EXPECT_FALSE(second.next()) << "no server had room";
  std::uint64_t busiest = 0;
  for (auto& [n, s] : w.servers)
    busiest = std::max(busiest, s->requests());
  EXPECT_EQ(busiest, 1u) << "no server got a second request while holding one";
  auto r = w.await(second, 3s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  expect_all_answered(first, 200);
}

TEST(ProxyLoops, LeastconnSeesTheOtherLoopsRequests) {
  ProxyWorld w;
  w.second_loop = true;
  w.servers["web-1"]->options.latency = 5s;
  w.start(ingress("    haproxy.org/load-balance: leastconn\n"));
  TestClient slow(w.client_host, w.http_address());
  slow.send(get("app.example.com", "/"));
  w.world.run_for(100ms);
  ASSERT_EQ(w.servers["web-1"]->requests(), 1u) << "the first leastconn pick is the first server";
  std::map<std::string, int> seen;
  for (int i = 0; i < 6; ++i)
    ++seen[request_loop2(w, get("app.example.com", "/"))->get("x-served-by")];
  EXPECT_EQ(seen.count("web-1"), 0u) << "the second loop counts the first loop's request in flight";
}

TEST(ProxyLoops, RateLimitCountsRequestsInEveryLoop) {
  ProxyWorld w;
  w.second_loop = true;
  w.start(ingress("    haproxy.org/rate-limit-requests: \"3\"\n    haproxy.org/rate-limit-period: 10s\n"));
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i) {
    auto r = i % 2 ? request_loop2(w, get("app.example.com", "/")) : w.request(get("app.example.com", "/"));
    statuses.push_back(r->status);
  }
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 403, 403}));
}

TEST(ProxyLoops, PersistenceCookieFromOneLoopIsHonouredByTheOther) {
  ProxyWorld w;
  w.second_loop = true;
  w.start(ingress("    haproxy.org/cookie-persistence: mycookie\n"));
  auto first = w.request(get("app.example.com", "/"));
  ASSERT_TRUE(first);
  const std::string server = first->get("x-served-by");
  const std::string cookie = first->get("set-cookie").substr(0, first->get("set-cookie").find(';'));
  ASSERT_THAT(cookie, HasSubstr("mycookie=" + server));
  for (int i = 0; i < 4; ++i) {
    auto r = request_loop2(w, get("app.example.com", "/", "Cookie: " + cookie + "\r\n"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get("x-served-by"), server);
    EXPECT_FALSE(r->has("set-cookie"));
  }
}

TEST(ProxyLoops, GlobalMaxconnCountsEveryLoopsConnections) {
  ProxyWorld w;
  w.second_loop = true;
  w.start(ingress(), {{"maxconn", "2"}});
  TestClient a(w.client_host, w.http_address()), b(w.client_host, w.http_address());
  w.world.run_for(100ms);
  ASSERT_EQ(w.proxy->client_connections(), 2u);
  TestClient c(w.client_host, w.loop2_http_address());
  c.send(get("app.example.com", "/"));
  w.world.run_for(500ms);
  EXPECT_TRUE(c.closed || c.peer_closed) << "the second loop is over the process-wide maxconn";
  EXPECT_FALSE(c.next());
  a.conn->close();
  w.world.run_for(100ms);
  EXPECT_EQ(request_loop2(w, get("app.example.com", "/"))->status, 200)
      << "a freed connection slot is usable";
}

// ------------------------------------------------------------------------------------------ CORS

const std::string kOrigin = "Origin: https://shop.example\r\n";

void serve_with_header(ProxyWorld& w, const std::string& name, const std::string& value) {
  for (auto& [n, s] : w.servers)
    s->options.extra_headers.emplace_back(name, value);
}

TEST(ProxyCors, AnOriginGetsTheControllersDefaultHeadersOverTheServersOwn) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/cors-enable: \"true\"\n"));
  serve_with_header(w, "Access-Control-Allow-Origin", "https://old.example");
  auto r = w.request(get("app.example.com", "/", kOrigin));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get("access-control-allow-origin"), "*");
  EXPECT_EQ(r->get("access-control-allow-methods"), "*");
  EXPECT_EQ(r->get("access-control-allow-headers"), "*");
  EXPECT_EQ(r->get("access-control-max-age"), "5");
  EXPECT_FALSE(r->has("access-control-allow-credentials"));
  EXPECT_EQ(r->head.find("https://old.example"), std::string::npos) << "set-header replaces the server's";
  auto plain = w.request(get("app.example.com", "/"));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->get("access-control-allow-origin"), "https://old.example") << "no Origin: untouched";
  EXPECT_FALSE(plain->has("access-control-max-age"));
}

TEST(ProxyCors, OriginPatternsEchoAMatchingOriginAndTheOtherAnnotationsShapeTheHeaders) {
  ProxyWorld w;
  w.start(ingress(
      "    haproxy.org/cors-enable: \"true\"\n"
      "    haproxy.org/cors-allow-origin: ^https://(.+\\.)?example(:\\d{1,5})?$ ^https://partner\\.net$\n"
      "    haproxy.org/cors-allow-methods: get, POST\n"
      "    haproxy.org/cors-allow-headers: X-Custom-Header, Content-Type\n"
      "    haproxy.org/cors-allow-credentials: \"true\"\n"
      "    haproxy.org/cors-max-age: 1m\n"));
  auto r = w.request(get("app.example.com", "/", "Origin: https://shop.example:8443\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get("access-control-allow-origin"), "https://shop.example:8443");
  EXPECT_EQ(r->get("access-control-allow-methods"), "GET, POST");
  EXPECT_EQ(r->get("access-control-allow-headers"), "X-Custom-Header,Content-Type");
  EXPECT_EQ(r->get("access-control-allow-credentials"), "true");
  EXPECT_EQ(r->get("access-control-max-age"), "60");
  EXPECT_EQ(w.request(get("app.example.com", "/", "Origin: https://partner.net\r\n"))
                ->get("access-control-allow-origin"),
            "https://partner.net");
  auto other = w.request(get("app.example.com", "/", "Origin: https://evil.net\r\n"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(other->head.find("ccess-Control-"), std::string::npos) << "no CORS header for another origin";
}

TEST(ProxyCors, OptionsReachTheServerUnlessRespondToOptionsAnswersThem204) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/cors-enable: \"true\"\n"));
  const std::string preflight = "OPTIONS /api HTTP/1.1\r\nHost: app.example.com\r\n" + kOrigin +
                                "Access-Control-Request-Method: PUT\r\n\r\n";
  auto passed = w.request(preflight);
  ASSERT_TRUE(passed);
  EXPECT_EQ(passed->status, 200);
  EXPECT_EQ(server_requests(w), 1u) << "the controller forwards preflights by default";
  EXPECT_EQ(passed->get("access-control-allow-origin"), "*");

  ProxyWorld r;
  r.start(ingress("    haproxy.org/cors-enable: \"true\"\n    haproxy.org/cors-respond-to-options: \"true\"\n"
                  "    haproxy.org/access-log: \"true\"\n"));
  TestClient c(r.client_host, r.http_address());
  c.send(preflight);
  auto answered = r.await(c);
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 204);
  EXPECT_FALSE(answered->has("content-length")) << "as HAProxy's return: a 204 has no length";
  EXPECT_EQ(answered->get("access-control-allow-origin"), "*");
  EXPECT_EQ(answered->get("access-control-max-age"), "5");
  EXPECT_EQ(server_requests(r), 0u);
  EXPECT_THAT(r.access_log.back(), HasSubstr(" 204 ")) << r.access_log.back();
  EXPECT_THAT(r.access_log.back(), HasSubstr(" LR-- ")) << "HAProxy's state for http-request return";
  c.send(get("app.example.com", "/"));
  auto next = r.await(c);
  ASSERT_TRUE(next) << "the connection stays open";
  EXPECT_EQ(next->status, 200);
  EXPECT_FALSE(next->has("access-control-allow-origin")) << "the next request presents no Origin";
}

TEST(ProxyCors, TheProxysOwnAnswersCarryTheHeadersAndDenialsComeBeforeThePreflightAnswer) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/cors-enable: \"true\"\n    haproxy.org/cors-respond-to-options: \"true\"\n"
                  "    haproxy.org/deny-list: 10.0.0.100\n"));
  auto denied = w.request("OPTIONS / HTTP/1.1\r\nHost: app.example.com\r\n" + kOrigin + "\r\n");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403) << "deny rules come first in the controller's order";
  EXPECT_EQ(denied->get("access-control-allow-origin"), "*") << "http-after-response covers HAProxy's own";
  auto bad = w.request("GET / HTTP/1.1\r\nHost: app.example.com\r\n" + kOrigin + "Bad Header\r\n\r\n");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_FALSE(bad->has("access-control-allow-origin")) << "an unparsed request has no route";
}

TEST(ProxyCors, TheConfigMapEnablesCorsForEveryRouteAndAnIngressRefinesIt) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/cors-allow-origin: ^https://shop\\.example$\n"),
          {{"cors-enable", "true"}, {"cors-max-age", "30s"}});
  auto r = w.request(get("app.example.com", "/", kOrigin));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get("access-control-allow-origin"), "https://shop.example");
  EXPECT_EQ(r->get("access-control-max-age"), "30");
}

TEST(ProxyCors, BadValuesAreErrorsAtTheirAnnotation) {
  ProxyWorld w;
  w.serve_despite_errors = true;
  w.start(ingress("    haproxy.org/cors-enable: \"true\"\n    haproxy.org/cors-allow-methods: GET, PURGE\n"
                  "    haproxy.org/cors-max-age: soon\n"));
  const std::string diagnostics = w.diagnostics.to_string();
  EXPECT_THAT(diagnostics, HasSubstr("metadata.annotations.haproxy.org/cors-allow-methods: unsupported HTTP "
                                     "method 'PURGE'"));
  EXPECT_THAT(diagnostics,
              HasSubstr("metadata.annotations.haproxy.org/cors-max-age: 'soon' is not a duration"));
  auto r = w.request(get("app.example.com", "/", kOrigin));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get("access-control-allow-methods"), "*") << "the default stands";
  EXPECT_EQ(r->get("access-control-max-age"), "5");
  ProxyWorld p;
  p.serve_despite_errors = true;
  p.start(ingress("    haproxy.org/cors-enable: \"true\"\n    haproxy.org/cors-allow-origin: (?i)shop\n"));
  EXPECT_THAT(p.diagnostics.to_string(), HasSubstr("the route gets no CORS headers"));
  EXPECT_FALSE(p.request(get("app.example.com", "/", kOrigin))->has("access-control-allow-origin"));
}

// ------------------------------------------------------------------------------------------ proxy-protocol

const std::string kProxyV1 = "PROXY TCP4 203.0.113.9 10.0.0.1 5555 80\r\n";

TEST(ProxyProtocol, AListedSourcesHeaderNamesTheClientForForwardedForAllowListsAndTheLog) {
  ProxyWorld w;
  w.start(ingress("    haproxy.org/allow-list: 203.0.113.0/24\n    haproxy.org/access-log: \"true\"\n"),
          {{"proxy-protocol", "192.0.2.1, 10.0.0.100/32"}});
  auto r = w.request(kProxyV1 + get("app.example.com", "/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "the allow-list sees the header's source";
  EXPECT_THAT(last_head(w), HasSubstr("X-Forwarded-For: 203.0.113.9\r\n"));
  EXPECT_EQ(w.access_log.back().rfind("203.0.113.9:5555 ", 0), 0u) << w.access_log.back();
  // Version 2 (PROXY, TCP over IPv4: 198.51.100.9:4242 -> 10.0.0.1:80), in two pieces.
  const std::string v2 = std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c", 16) +
                         std::string("\xc6\x33\x64\x09\x0a\x00\x00\x01\x10\x92\x00\x50", 12);
  TestClient c(w.client_host, w.http_address());
  c.send(v2.substr(0, 10));
  w.world.run_for(10ms);
  c.send(v2.substr(10) + get("app.example.com", "/"));
  auto denied = w.await(c);
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403) << "198.51.100.9 is not on the allow-list";
}

TEST(ProxyProtocol, AListedSourceWithoutAValidHeaderIsDroppedBeforeAnyRequest) {
  ProxyWorld w;
  w.start(ingress(), {{"proxy-protocol", "10.0.0.100"}});
  for (const std::string& first :
       {get("app.example.com", "/"),
        std::string("PROXY TCP4 203.0.113.9 10.0.0.1 5555\r\n") + get("app.example.com", "/")}) {
    TestClient c(w.client_host, w.http_address());
    c.send(first);
    w.world.run_for(1s);
    EXPECT_TRUE(c.closed || c.peer_closed) << first;
    EXPECT_TRUE(c.received.empty()) << "no answer: HAProxy resets such a connection";
  }
  EXPECT_EQ(server_requests(w), 0u);
  EXPECT_EQ(w.proxy->counters().bad_proxy_headers, 2u);
}

TEST(ProxyProtocol, AnUnlistedSourceSpeaksHttpFromItsFirstByte) {
  ProxyWorld w;
  w.start(ingress(), {{"proxy-protocol", "10.0.0.100"}});
  auto plain = w.request(get("app.example.com", "/"), 10s, /*from_client2=*/true);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  EXPECT_THAT(last_head(w), HasSubstr("X-Forwarded-For: 10.0.0.101\r\n"));
  auto spoofed = w.request(kProxyV1 + get("app.example.com", "/"), 10s, /*from_client2=*/true);
  ASSERT_TRUE(spoofed);
  EXPECT_EQ(spoofed->status, 400) << "a header from an unlisted source is a bad request";
}

TEST(ProxyProtocol, UnknownAndLocalHeadersKeepTheConnectionsAddress) {
  ProxyWorld w;
  w.start(ingress(), {{"proxy-protocol", "10.0.0.0/24"}});
  ASSERT_EQ(w.request("PROXY UNKNOWN\r\n" + get("app.example.com", "/"))->status, 200);
  EXPECT_THAT(last_head(w), HasSubstr("X-Forwarded-For: 10.0.0.100\r\n"));
  const std::string local("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16);
  ASSERT_EQ(w.request(local + get("app.example.com", "/"))->status, 200);
  EXPECT_THAT(last_head(w), HasSubstr("X-Forwarded-For: 10.0.0.100\r\n"));
}

// ------------------------------------------------------------------------------------------ properties

// HTTP/1.1 clients in any order against servers that answer at once, late or never, one request each at a
// time with a queue behind: requests whole or with half a body, the rest of a body later, pipelined pairs,
// clients that half-close or reset. Every client whose requests are complete and who stays gets an answer to
// each (a FIN after a complete request still gets it, as HAProxy answers without abortonclose) until one is
// the proxy's own error, after which the connection closes as HAProxy's does; and once the clients are gone
// nothing is held: no session, no queued request, no server slot. AddressSanitizer watches every case.
enum class ClientOp { kGet, kHalfPost, kRest, kPipelined, kFin, kReset, kWait };

struct ClientAction {
  ClientOp op;
  int client;  // which client (modulo how many there are), for kRest, kFin and kReset
  int amount;  // milliseconds for kWait, body bytes for kHalfPost
};

void showValue(const ClientAction& a, std::ostream& os) {
  static const char* names[] = {"GET", "HALF-POST", "REST", "PIPELINED", "FIN", "RESET", "WAIT"};
  os << names[static_cast<int>(a.op)] << "(" << a.client << ", " << a.amount << ")";
}

RC_GTEST_PROP(ProxyProperties, EveryCompleteRequestIsAnsweredAndNothingIsHeldOnceTheClientsGo, ()) {
  const auto latencies = *rc::gen::container<std::vector<int>>(3, rc::gen::element(0, 200, 1500));
  const auto silent = *rc::gen::container<std::vector<bool>>(3, rc::gen::element(false, false, true));
  const auto actions = *rc::gen::resize(
      25, rc::gen::nonEmpty(rc::gen::container<std::vector<ClientAction>>(rc::gen::apply(
              [](ClientOp op, int client, int amount) {
                return ClientAction{op, client, amount};
              },
              rc::gen::element(ClientOp::kGet, ClientOp::kHalfPost, ClientOp::kRest, ClientOp::kPipelined,
                               ClientOp::kFin, ClientOp::kReset, ClientOp::kWait),
              rc::gen::inRange(0, 10), rc::gen::inRange(1, 3000)))));
  ProxyWorld w;
  w.start(
      ingress("    haproxy.org/pod-maxconn: \"1\"\n    haproxy.org/timeout-queue: 2s\n"
              "    haproxy.org/timeout-server: 3s\n"));
  std::size_t n = 0;
  for (auto& [name, s] : w.servers) {
    s->options.latency = std::chrono::milliseconds(latencies[n]);
    s->options.silent = silent[n];
    ++n;
  }
  struct Client {
    std::unique_ptr<TestClient> c;
    int answers = 0;   // responses its complete requests are owed
    std::string rest;  // body bytes not sent yet
    bool reset = false, fin = false;
  };
  std::vector<Client> clients;
  auto open = [&](const std::string& raw, int answers, std::string rest = "") {
    clients.push_back({std::move(w.send_on_new_clients(1, raw)[0]), answers, std::move(rest)});
  };
  auto pick = [&](int i) -> Client* {
    return clients.empty() ? nullptr : &clients[static_cast<std::size_t>(i) % clients.size()];
  };
  for (const ClientAction& a : actions) {
    Client* c = pick(a.client);
    const bool usable = c && !c->reset && !c->fin;
    switch (a.op) {
      case ClientOp::kGet:
        open(get("app.example.com", "/g"), 1);
        break;
      case ClientOp::kPipelined:
        open(get("app.example.com", "/p1") + get("app.example.com", "/p2"), 2);
        break;
      case ClientOp::kHalfPost: {
        const std::string body(static_cast<std::size_t>(a.amount), 'b');
        const std::size_t half = body.size() / 2;
        open("POST /u HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: " + std::to_string(body.size()) +
                 "\r\n\r\n" + body.substr(0, half),
             0, body.substr(half));
        break;
      }
      case ClientOp::kRest:
        if (usable && !c->rest.empty()) c->c->send(c->rest), c->rest.clear(), c->answers = 1;
        break;
      case ClientOp::kFin:
        if (usable) c->c->conn->shutdown_write(), c->fin = true;
        break;
      case ClientOp::kReset:
        if (c && !c->reset) c->c->conn->reset(), c->reset = true;
        break;
      case ClientOp::kWait:
        w.world.run_for(std::chrono::milliseconds(a.amount));
        break;
    }
  }
  w.world.run_for(8s);  // a request may wait in the queue (2 s), then for a silent server (3 s), twice
  for (Client& c : clients) {
    if (c.reset || c.answers == 0) continue;
    int answered = 0, last_status = 0;
    while (auto r = c.c->next())
      ++answered, last_status = r->status;
    RC_ASSERT(answered >= 1);
    // The proxy's own error (503 from the queue, 504 from a silent server) closes the connection, as
    // HAProxy's does: a request pipelined behind it is not owed an answer.
    if (answered < c.answers) RC_ASSERT(last_status >= 500 && (c.c->peer_closed || c.c->closed));
  }
  for (Client& c : clients)
    if (!c.reset) c.c->conn->reset();
  w.world.run_for(10s);
  RC_ASSERT(w.proxy->idle());
  const auto& backend = w.proxy->backends()[0];
  RC_ASSERT(backend->queued() == 0u);
  for (std::size_t i = 0; i < backend->servers().size(); ++i)
    RC_ASSERT(backend->load(i).active == 0);
}

}  // namespace
}  // namespace metalgate::proxy::testing
