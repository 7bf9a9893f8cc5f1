// A backend on its own, over the in-memory world: HAProxy's rise/fall health checks bringing servers down and
// up, per-server maxconn with the backend's FIFO queue, redispatch, cookie lookups and the idle pool.
#include "engine/proxy/backend.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/proxy/probe_cache.h"
#include "engine/runtime/memory/memory_world.h"
#include "tests/proxy/proxy_world.h"

namespace metalgate::proxy {
namespace {

using namespace std::chrono_literals;
using runtime::memory::MemoryHost;

net::IpAddress ip(const std::string& text) {
  return *net::IpAddress::parse(text);
}

const net::IpAddress kClient = ip("10.0.0.100");

// A TCP server that accepts and holds connections without a word (a TCP check passes on connect).
struct Listener {
  Listener(runtime::Runtime& rt, net::SocketAddress at) {
    std::error_code ec;
    listener = rt.listen(
        at, {},
        [this](runtime::StreamConnectionPtr c) {
          ++accepted;
          held.push_back(std::move(c));
        },
        ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  runtime::StreamListenerPtr listener;
  int accepted = 0;
  std::vector<runtime::StreamConnectionPtr> held;
};

// A request in the backend queue; like a session, it takes the slot it is given.
struct Waiter final : QueuedRequest {
  Waiter(Backend& b, std::string n, std::vector<std::string>& l) : backend(b), name(std::move(n)), log(l) {}
  void on_server_slot(std::size_t server) override {
    got = server;
    backend.acquire(server);
    log.push_back(name);
  }
  Backend& backend;
  std::string name;
  std::vector<std::string>& log;
  std::optional<std::size_t> got;
};

struct NoEvents final : ServerEvents {
  void on_server_connected() override { connected = true; }
  void on_server_data(runtime::ByteView) override {}
  void on_server_shutdown() override {}
  void on_server_closed(std::error_code) override {}
  void on_server_drained() override {}
  bool connected = false;
};

class BackendTest : public ::testing::Test {
 protected:
  BackendTest() {
    config.name = "default_web_80";
    config.check.interval = 1000ms;
    config.check.rise = 2;
    config.check.fall = 3;
  }
  ~BackendTest() override {
    backend.reset();
    listeners.clear();
  }

  // Server i is "web-i" at 10.0.1.i:8080 on a host of its own.
  void add_server(int weight = 1, int maxconn = 0) {
    const int i = static_cast<int>(hosts.size());
    const std::string name = "web-" + std::to_string(i);
    const net::SocketAddress at{ip("10.0.1." + std::to_string(i + 1)), 8080};
    hosts.push_back(&world.add_host(name, {at.ip}));
    config.servers.push_back(ServerConfig{name, at, weight, maxconn, "", true});
  }
  Listener& listen_on(std::size_t server) {
    listeners[server] = std::make_unique<Listener>(*hosts[server], config.servers[server].address);
    return *listeners[server];
  }
  Backend& make(SharedServer* shared = nullptr, bool runs_checks = true) {
    backend = std::make_unique<Backend>(proxy, config, shared, runs_checks);
    backend->on_state_change = [this](std::size_t server, bool up) { changes.emplace_back(server, up); };
    return *backend;
  }
  bool run_until(const std::function<bool()>& done, runtime::Duration limit = 30s) {
    return world.run_until(done, limit);
  }
  const ServerState& server(std::size_t i) const { return backend->servers()[i]; }

  runtime::memory::MemoryWorld world{11};
  MemoryHost& proxy = world.add_host("proxy", {ip("10.0.0.1")});
  std::vector<MemoryHost*> hosts;
  std::map<std::size_t, std::unique_ptr<Listener>> listeners;
  BackendConfig config;
  std::unique_ptr<Backend> backend;
  std::vector<std::pair<std::size_t, bool>> changes;  // on_state_change calls
  std::vector<std::string> served;                    // queued requests, in the order they got a slot
};

// ------------------------------------------------------------------------------------------ health

TEST_F(BackendTest, ServersStartUpAndStayUpWhenChecksAreOff) {
  add_server();
  add_server(3, 10);
  config.check.enabled = false;
  Backend& b = make();
  EXPECT_TRUE(b.any_up());
  EXPECT_EQ(server(1).load.weight, 3);
  EXPECT_EQ(server(1).load.maxconn, 10);
  EXPECT_EQ(server(0).health.health, config.check.rise) << "HAProxy starts a server's health at rise";
  b.start_checks();
  world.run_for(1min);  // nothing listens: any check would fail
  EXPECT_TRUE(b.load(0).up);
  EXPECT_TRUE(b.load(1).up);
  EXPECT_EQ(server(0).last_check, "");
  EXPECT_TRUE(changes.empty());
}

// HAProxy ends a check's connection with a reset once the verdict is in (a FIN would leave it in TIME_WAIT
// on the checking node, a socket and a port per check): the server sees its connection reset, not closed.
TEST_F(BackendTest, APassedCheckEndsItsConnectionWithAReset) {
  struct Server final : runtime::StreamHandler {
    void on_data(runtime::ByteView) override {}
    void on_peer_shutdown() override { ++shut; }
    void on_closed(std::error_code reason) override { ends.push_back(reason); }
    int shut = 0;
    std::vector<std::error_code> ends;
  } handler;
  add_server();
  std::vector<runtime::StreamConnectionPtr> accepted;
  std::error_code ec;
  auto listener = hosts[0]->listen(
      config.servers[0].address, {},
      [&](runtime::StreamConnectionPtr c) {
        c->start(handler);
        accepted.push_back(std::move(c));
      },
      ec);
  ASSERT_FALSE(ec);
  Backend& b = make();
  b.start_checks();
  ASSERT_TRUE(run_until([&] { return handler.ends.size() >= 2; }));
  EXPECT_EQ(server(0).last_check, "L4OK");
  EXPECT_EQ(handler.shut, 0) << "no FIN";
  for (const std::error_code& reason : handler.ends)
    EXPECT_EQ(reason, std::make_error_code(std::errc::connection_reset));
}

TEST_F(BackendTest, FreshServerGoesDownOnItsFirstFailedCheck) {
  add_server();
  Backend& b = make();
  ASSERT_TRUE(b.load(0).up);
  b.start_checks();
  ASSERT_TRUE(run_until([&] { return server(0).health.consecutive_failures == 1; }));
  EXPECT_FALSE(b.load(0).up);
  EXPECT_FALSE(b.any_up());
  EXPECT_EQ(server(0).health.health, 0);
  EXPECT_EQ(server(0).last_check.rfind("L4CON", 0), 0u) << server(0).last_check;
  EXPECT_EQ(changes, (std::vector<std::pair<std::size_t, bool>>{{0, false}}));
  bool all_full = true;
  EXPECT_EQ(b.choose(kClient, &all_full), std::nullopt);
  EXPECT_FALSE(all_full) << "no server up: 503, not the queue";
}

TEST_F(BackendTest, OnDemandChecksStartWithTheFirstChoiceNotWithTheProxy) {
  add_server();
  config.check.on_demand = true;
  Backend& b = make();
  b.start_checks();
  world.run_for(1min);  // nothing listens: a check would have failed
  EXPECT_EQ(server(0).last_check, "");
  EXPECT_TRUE(b.load(0).up);
  bool all_full = false;
  EXPECT_EQ(b.choose(kClient, &all_full), 0u);  // the first connection goes out, and the checks begin
  ASSERT_TRUE(run_until([&] { return server(0).health.consecutive_failures == 1; }));
  EXPECT_FALSE(b.load(0).up);
}

TEST_F(BackendTest, ServerThatHasBeenUpGoesDownOnlyAfterFallFailedChecksInARow) {
  add_server();
  config.check.rise = 2;
  config.check.fall = 3;
  listen_on(0);
  Backend& b = make();
  b.start_checks();
  ASSERT_TRUE(run_until([&] { return server(0).last_check == "L4OK"; }));
  EXPECT_EQ(server(0).health.health, 4) << "one pass fills health to rise + fall - 1";
  listeners.clear();  // the server stops listening: connections are refused
  for (int failures = 1; failures <= 3; ++failures) {
    ASSERT_TRUE(run_until([&] { return server(0).health.consecutive_failures == failures; }));
    EXPECT_EQ(b.load(0).up, failures < 3) << "after " << failures << " failures";
  }
  EXPECT_EQ(server(0).health.health, 0);
  EXPECT_EQ(changes, (std::vector<std::pair<std::size_t, bool>>{{0, false}}));
}

TEST_F(BackendTest, DownServerComesBackAfterRisePassedChecks) {
  add_server();
  config.check.rise = 3;
  config.check.fall = 2;
  Backend& b = make();
  b.start_checks();
  ASSERT_TRUE(run_until([&] { return !b.load(0).up; }));
  Listener& l = listen_on(0);
  ASSERT_TRUE(run_until([&] { return server(0).health.health == 1; }));
  EXPECT_FALSE(b.load(0).up);
  ASSERT_TRUE(run_until([&] { return server(0).health.health == 2; }));
  EXPECT_FALSE(b.load(0).up);
  ASSERT_TRUE(run_until([&] { return b.load(0).up; }));
  EXPECT_EQ(l.accepted, 3) << "exactly rise checks";
  EXPECT_EQ(server(0).health.health, 4);
  EXPECT_EQ(server(0).health.consecutive_failures, 0);
  EXPECT_EQ(changes, (std::vector<std::pair<std::size_t, bool>>{{0, false}, {0, true}}));
}

TEST_F(BackendTest, HttpCheckPassesOn2xxAnd3xxAndFailsOtherwise) {
  add_server();
  config.check.http = true;
  config.check.uri = "/health";
  config.check.rise = 1;
  config.check.fall = 1;
  testing::TestHttpServer http(*hosts[0], config.servers[0].address, "web-0");
  Backend& b = make();
  b.start_checks();
  ASSERT_TRUE(run_until([&] { return server(0).last_check == "L7OK 200"; }));
  EXPECT_TRUE(b.load(0).up);
  EXPECT_NE(http.raw.find("GET /health HTTP/1.0\r\n"), std::string::npos) << http.raw;
  http.options.health_status = 503;
  ASSERT_TRUE(run_until([&] { return server(0).last_check == "L7STS 503"; }));
  EXPECT_FALSE(b.load(0).up);
  http.options.health_status = 302;
  ASSERT_TRUE(run_until([&] { return server(0).last_check == "L7OK 302"; }));
  EXPECT_TRUE(b.load(0).up);
  http.options.health_status = 404;
  ASSERT_TRUE(run_until([&] { return server(0).last_check == "L7STS 404"; }));
  EXPECT_FALSE(b.load(0).up);
  EXPECT_EQ(changes, (std::vector<std::pair<std::size_t, bool>>{{0, false}, {0, true}, {0, false}}));
}

TEST_F(BackendTest, CheckWithoutAnAnswerWithinTheCheckTimeoutFails) {
  add_server();
  config.check.http = true;
  config.check.timeout = 300ms;
  listen_on(0);  // accepts, never answers
  Backend& b = make();
  b.start_checks();
  ASSERT_TRUE(run_until([&] { return server(0).health.consecutive_failures == 1; }));
  EXPECT_EQ(server(0).last_check, "L4TOUT check timed out");
  EXPECT_FALSE(b.load(0).up);
}

TEST_F(BackendTest, LoopWithoutChecksRoutesByTheSharedHealthAndCountsEveryLoopsRequests) {
  add_server(1, 1);
  add_server(1, 1);
  auto shared = std::make_unique<SharedServer[]>(2);
  Backend& checking = make(shared.get(), true);
  Backend other(proxy, config, shared.get(), false);
  other.start_checks();
  world.run_for(10s);  // nothing listens, but this loop checks nothing
  EXPECT_EQ(other.servers()[0].last_check, "");
  // What the checking loop publishes, every loop reads.
  shared[1].up = false;
  EXPECT_FALSE(other.load(1).up);
  // A request in the checking loop fills server 0 for the other loop too.
  checking.acquire(0);
  EXPECT_EQ(other.load(0).active, 1);
  bool all_full = false;
  EXPECT_EQ(other.choose(kClient, &all_full), std::nullopt);
  EXPECT_TRUE(all_full);
  checking.release(0);
  EXPECT_EQ(other.choose(kClient, &all_full), 0u);
}

// ------------------------------------------------------------------------------------------ shared probes

// Ten backends of one proxy over the same pod (ten Services selecting it) checking it every second for 10 s:
// with their probes shared the pod sees at most two probes a second (a verdict is taken while younger than
// half an interval), and without, one per backend and second.
std::vector<std::unique_ptr<Backend>> ten_backends(runtime::Runtime& rt, const BackendConfig& config,
                                                   ProbeCache* probes) {
  std::vector<std::unique_ptr<Backend>> backends;
  for (int i = 0; i < 10; ++i) {
    BackendConfig c = config;
    c.name = "default_svc" + std::to_string(i) + "_80";
    backends.push_back(std::make_unique<Backend>(rt, c));
    backends.back()->share_probes(probes);
    backends.back()->start_checks();
  }
  return backends;
}

TEST_F(BackendTest, BackendsThatCheckAPodTheSameWayShareOneProbeAndEachCountsItsOwnChecks) {
  add_server();
  Listener& pod = listen_on(0);
  ProbeCache probes;
  auto backends = ten_backends(proxy, config, &probes);
  world.run_for(10s);
  EXPECT_LE(pod.accepted, 22) << "at most two probes a second, not one per backend";
  EXPECT_GE(pod.accepted, 9);
  for (const auto& b : backends)
    EXPECT_EQ(b->servers()[0].last_check, "L4OK") << b->name();
  // The pod goes away: every backend sees it within its own fall (3) checks and half an interval, and
  // counts each failed check itself.
  listeners.clear();
  world.run_for(3500ms + 500ms);
  for (auto& b : backends) {
    EXPECT_FALSE(b->load(0).up) << b->name();
    EXPECT_GE(b->server_stats(0).check_failures.get(), 3u) << b->name();
  }
}

TEST_F(BackendTest, WithoutSharedProbesEachBackendProbesThePodItself) {
  add_server();
  Listener& pod = listen_on(0);
  auto backends = ten_backends(proxy, config, nullptr);
  world.run_for(10s);
  EXPECT_GE(pod.accepted, 90);
}

TEST_F(BackendTest, ChecksOfAnotherKindOrPortAreNotTheSameProbe) {
  add_server();
  Listener& pod = listen_on(0);
  ProbeCache probes;
  config.check.interval = 10s;
  Backend tcp(proxy, config);
  config.check.port = 9090;  // a readiness probe's port: refused here
  Backend other_port(proxy, config);
  for (Backend* b : {&tcp, &other_port}) {
    b->share_probes(&probes);
    b->start_checks();
  }
  world.run_for(11s);
  EXPECT_EQ(tcp.servers()[0].last_check, "L4OK");
  EXPECT_EQ(other_port.servers()[0].last_check.rfind("L4CON", 0), 0u) << other_port.servers()[0].last_check;
  EXPECT_EQ(pod.accepted, 1);
}

// A reload frees a backend whose probe is under way: the next backend to ask probes the pod itself instead of
// waiting for a verdict that will never come.
TEST_F(BackendTest, AProbeWhoseBackendWentAwayIsRunAgainByTheNextBackend) {
  add_server();
  config.check.http = true;
  Listener& pod = listen_on(0);  // accepts, never answers: the first probe stays under way
  ProbeCache probes;
  auto first = std::make_unique<Backend>(proxy, config);
  first->share_probes(&probes);
  first->start_checks();
  ASSERT_TRUE(run_until([&] { return pod.accepted == 1; }));
  Backend second(proxy, config);
  second.share_probes(&probes);
  second.start_checks();
  first.reset();
  EXPECT_TRUE(run_until([&] { return pod.accepted == 2; }, 2s));
}

// ------------------------------------------------------------------------------------------ queue, maxconn

TEST_F(BackendTest, RequestsBeyondMaxconnWaitAndGetFreedSlotsInArrivalOrder) {
  add_server(1, 1);
  config.check.enabled = false;
  Backend& b = make();
  ASSERT_EQ(b.choose(kClient, nullptr), 0u);
  b.acquire(0);
  bool all_full = false;
  EXPECT_EQ(b.choose(kClient, &all_full), std::nullopt);
  EXPECT_TRUE(all_full);
  Waiter w1(b, "w1", served), w2(b, "w2", served), w3(b, "w3", served);
  b.enqueue(&w1, kClient);
  b.enqueue(&w2, kClient);
  b.enqueue(&w3, kClient);
  EXPECT_EQ(b.queued(), 3u);
  b.release(0);
  EXPECT_EQ(served, (std::vector<std::string>{"w1"})) << "one freed slot serves one request";
  EXPECT_EQ(w1.got, 0u);
  EXPECT_EQ(b.load(0).active, 1);
  EXPECT_EQ(b.queued(), 2u);
  b.release(0);
  b.release(0);
  EXPECT_EQ(served, (std::vector<std::string>{"w1", "w2", "w3"}));
  EXPECT_EQ(b.queued(), 0u);
  EXPECT_EQ(server(0).requests, 4u);
}

TEST_F(BackendTest, RequestThatLeftTheQueueIsNeverServed) {
  add_server(1, 1);
  config.check.enabled = false;
  Backend& b = make();
  b.acquire(0);
  Waiter w1(b, "w1", served), w2(b, "w2", served);
  b.enqueue(&w1, kClient);
  b.enqueue(&w2, kClient);
  b.dequeue(&w1);  // timed out in the queue (503 sQ)
  EXPECT_EQ(b.queued(), 1u);
  b.release(0);
  EXPECT_EQ(served, (std::vector<std::string>{"w2"}));
  EXPECT_FALSE(w1.got);
}

TEST_F(BackendTest, ServerComingBackUpServesTheQueue) {
  add_server(1, 1);
  add_server(1, 1);
  config.check.rise = 2;
  listen_on(0);
  Backend& b = make();
  b.start_checks();
  ASSERT_TRUE(run_until([&] { return !b.load(1).up && server(0).last_check == "L4OK"; }));
  b.acquire(0);
  bool all_full = false;
  ASSERT_EQ(b.choose(kClient, &all_full), std::nullopt);
  ASSERT_TRUE(all_full);
  Waiter w(b, "w", served);
  b.enqueue(&w, kClient);
  listen_on(1);
  ASSERT_TRUE(run_until([&] { return w.got.has_value(); }));
  EXPECT_EQ(w.got, 1u);
  EXPECT_TRUE(b.load(1).up);
  EXPECT_EQ(changes.back(), (std::pair<std::size_t, bool>{1, true}));
  EXPECT_EQ(b.queued(), 0u);
}

TEST_F(BackendTest, UnderBalanceSourceAQueuedRequestTakesTheSlotItsServerFrees) {
  add_server(1, 1);
  add_server(1, 1);
  config.check.enabled = false;
  config.balance = Balance::kSource;
  // Which server the queue's placeholder address hashes to, and a client that hashes to the other one.
  Balancer probe(Balance::kSource);
  const std::vector<ServerLoad> idle(2);
  const std::size_t zero_home = *probe.pick(idle, net::IpAddress::v4(0));
  const std::size_t other = 1 - zero_home;
  net::IpAddress client = net::IpAddress::v4(0);
  for (std::uint8_t i = 1; probe.pick(idle, client) != other; ++i)
    client = net::IpAddress::v4(10, 0, 0, i);
  Backend& b = make();
  b.acquire(zero_home);  // a long request of some client of that server
  ASSERT_EQ(b.choose(client, nullptr), other);
  b.acquire(other);
  bool all_full = false;
  ASSERT_EQ(b.choose(client, &all_full), std::nullopt);
  ASSERT_TRUE(all_full);
  Waiter w(b, "w", served);
  b.enqueue(&w, client);
  b.release(other);  // the client's first request ends: its server has room again
  EXPECT_EQ(w.got, other);
  EXPECT_EQ(b.queued(), 0u);
}

// ------------------------------------------------------------------------------------------ routing

TEST_F(BackendTest, RetryAvoidsTheFailedServerUnlessItIsTheOnlyOneOrUnderBalanceSource) {
  add_server();
  add_server();
  config.check.enabled = false;
  Backend& b = make();
  const std::size_t kFailed = 0;
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(b.choose(kClient, nullptr, kFailed), 1u);
  b.servers()[1].load.up = false;
  EXPECT_EQ(b.choose(kClient, nullptr, kFailed), 0u) << "no alternative: the failed server again";

  config.balance = Balance::kSource;
  Backend hashing(proxy, config);
  const auto home = hashing.choose(kClient, nullptr);
  ASSERT_TRUE(home);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(hashing.choose(kClient, nullptr, *home), home) << "the hash maps the client to the same server";
}

TEST_F(BackendTest, PersistenceCookieNamesAServerOnlyWhileItIsUpWithRoom) {
  add_server(1, 1);
  add_server(1, 1);
  config.check.enabled = false;
  Backend& b = make();
  EXPECT_EQ(b.find_server("web-1"), 1u);
  EXPECT_EQ(b.find_server("web-0"), 0u);
  EXPECT_EQ(b.find_server("web-9"), std::nullopt);
  EXPECT_EQ(b.find_server(""), std::nullopt);
  b.acquire(1);
  EXPECT_EQ(b.find_server("web-1"), std::nullopt) << "full";
  b.release(1);
  b.servers()[1].load.up = false;
  EXPECT_EQ(b.find_server("web-1"), std::nullopt) << "down";
}

// ------------------------------------------------------------------------------------------ idle pool

TEST_F(BackendTest, ParkedConnectionIsReusedUnlessReuseIsOffOrItsServerIsDown) {
  add_server();
  config.check.enabled = false;
  Listener& l = listen_on(0);
  Backend& b = make();
  NoEvents events;
  auto c = b.open(0, &events, true);
  ASSERT_TRUE(run_until([&] { return events.connected; }));
  EXPECT_EQ(b.connections_opened(), 1u);
  EXPECT_EQ(b.take_idle(0), nullptr);
  ServerConnection* raw = c.get();
  b.park(std::move(c));
  auto again = b.take_idle(0);
  EXPECT_EQ(again.get(), raw);
  EXPECT_EQ(b.connections_reused(), 1u);
  EXPECT_EQ(b.take_idle(0), nullptr) << "taken once";
  EXPECT_EQ(l.accepted, 1);

  b.servers()[0].load.up = false;
  b.park(std::move(again));
  EXPECT_EQ(b.take_idle(0), nullptr) << "no reuse towards a down server";

  config.http_reuse = HttpReuse::kNever;
  Backend never(proxy, config);
  NoEvents events2;
  auto c2 = never.open(0, &events2, true);
  ASSERT_TRUE(run_until([&] { return events2.connected; }));
  never.park(std::move(c2));
  EXPECT_EQ(never.take_idle(0), nullptr) << "http-reuse never";
}

TEST_F(BackendTest, ThePoolKeepsAsManyIdleConnectionsAsRequestsAreInFlightBeyondItsFloor) {
  add_server();
  config.check.enabled = false;
  listen_on(0);
  Backend& b = make();
  const std::size_t n = 600, finished = 300;  // 600 in flight, then half of them answered
  std::vector<NoEvents> events(n);
  std::vector<ServerConnectionPtr> conns;
  for (std::size_t i = 0; i < n; ++i) {
    b.acquire(0);
    conns.push_back(b.open(0, &events[i], true));
  }
  ASSERT_TRUE(run_until([&] {
    return std::all_of(events.begin(), events.end(), [](const NoEvents& e) { return e.connected; });
  }));
  for (std::size_t i = 0; i < finished; ++i) {  // each answer parks its connection while 300+ are in flight
    b.park(std::move(conns[i]));
    b.release(0);
  }
  EXPECT_EQ(b.servers()[0].idle.size(), finished) << "more than the floor of " << Backend::kMaxIdlePerServer;
  // With nothing in flight, the floor is the bound.
  for (std::size_t i = finished; i < n; ++i)
    b.release(0);
  std::vector<ServerConnectionPtr> taken;
  while (auto c = b.take_idle(0))
    taken.push_back(std::move(c));
  for (auto& c : taken)
    b.park(std::move(c));
  EXPECT_EQ(b.servers()[0].idle.size(), Backend::kMaxIdlePerServer);
}

}  // namespace
}  // namespace metalgate::proxy
