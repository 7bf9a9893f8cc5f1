// TCP and UDP services end to end in the in-memory world, configured as users write it: Helm values naming
// the TCP/UDP services ConfigMaps, the ConfigMaps, the Services and their Endpoints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/l4/tcp_service.h"
#include "engine/l4/udp_service.h"
#include "scenario/apps/udp_responder.h"
#include "tests/proxy/proxy_world.h"

namespace metalgate::proxy::testing {
namespace {

using ::testing::HasSubstr;

// A TCP backend: echoes with its name in front ("db-1:" + bytes), answers FIN with FIN after its echo, and
// can be told to reset or stop reading.
class EchoServer {
 public:
  struct Conn final : runtime::StreamHandler {
    EchoServer& server;
    runtime::StreamConnectionPtr c;
    bool fin_seen = false;
    bool got_data = false;  // health checks connect and leave without a byte: they do not count
    Conn(EchoServer& s, runtime::StreamConnectionPtr conn) : server(s), c(std::move(conn)) {}
    void on_data(runtime::ByteView d) override {
      got_data = true;
      server.received += runtime::as_chars(d);
      if (server.reset_on_data) return c->reset();
      std::string reply = server.name + ":" + std::string(runtime::as_chars(d));
      server.sent += reply.size();
      c->write(runtime::as_bytes(reply));
    }
    void on_peer_shutdown() override {
      fin_seen = got_data;
      if (got_data) ++server.fins;
      if (!server.keep_open_after_fin) c->shutdown_write();
    }
    void on_closed(std::error_code) override {
      if (got_data) ++server.resets_seen;
    }
  };
  EchoServer(runtime::Runtime& rt, net::SocketAddress at, std::string n) : name(std::move(n)) {
    std::error_code ec;
    listener = rt.listen(
        at, {},
        [this](runtime::StreamConnectionPtr c) {
          ++accepted;
          conns.push_back(std::make_unique<Conn>(*this, std::move(c)));
          conns.back()->c->start(*conns.back());
        },
        ec);
  }
  std::string name, received;
  int accepted = 0, fins = 0, resets_seen = 0;
  std::size_t sent = 0;
  bool reset_on_data = false, keep_open_after_fin = false;
  runtime::StreamListenerPtr listener;
  std::vector<std::unique_ptr<Conn>> conns;
};

const char* kL4Manifests = R"(
controller:
  service:
    tcpPorts: [{name: db, port: 5432, targetPort: 5432}]
    udpPorts: [{name: dns, port: 53, targetPort: 53}]
  tcpServices: {configMapName: tcp-services}
  udpServices: {configMapName: udp-services}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tcp-services, namespace: haproxy-ingress}
data: {"5432": "default/db:5432"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: udp-services, namespace: haproxy-ingress}
data: {"53": "default/dns:53"}
---
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: default
  annotations: {haproxy.org/check-interval: 500ms}
spec: {ports: [{port: 5432, targetPort: 5432}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: db, namespace: default}
subsets: [{addresses: [{ip: 10.0.5.1, targetRef: {kind: Pod, name: db-1}}, {ip: 10.0.5.2, targetRef: {kind: Pod, name: db-2}}], ports: [{port: 5432}]}]
---
apiVersion: v1
kind: Service
metadata:
  name: dns
  namespace: default
  annotations: {haproxy.org/udp-idle-timeout: 5s, haproxy.org/udp-check: "send ping expect dns", haproxy.org/check-interval: 500ms}
spec: {ports: [{port: 53, targetPort: 53, protocol: UDP}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: dns, namespace: default}
subsets: [{addresses: [{ip: 10.0.6.1, targetRef: {kind: Pod, name: dns-1}}, {ip: 10.0.6.2, targetRef: {kind: Pod, name: dns-2}}], ports: [{port: 53, protocol: UDP}]}]
)";

class L4 : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= 2; ++i) {
      auto ip = *net::IpAddress::parse("10.0.5." + std::to_string(i));
      auto& h = w.world.add_host("db-" + std::to_string(i), {ip});
      db.push_back(std::make_unique<EchoServer>(h, net::SocketAddress{ip, 5432}, "db-" + std::to_string(i)));
      auto uip = *net::IpAddress::parse("10.0.6." + std::to_string(i));
      auto& uh = w.world.add_host("dns-" + std::to_string(i), {uip});
      dns.push_back(
          std::make_unique<apps::UdpResponder>(uh, net::SocketAddress{uip, 53}, "dns-" + std::to_string(i)));
    }
    w.start("", controller_config_, kL4Manifests);
    ASSERT_EQ(w.proxy->tcp_services().size(), 1u)
        << w.diagnostics.to_string() << " model tcp=" << w.model->tcp_services.size()
        << " cfg l4=" << w.config->l4_services.size();
    ASSERT_EQ(w.proxy->udp_services().size(), 1u);
  }
  l4::TcpService& tcp() { return *w.proxy->tcp_services()[0]; }
  l4::UdpService& udp() { return *w.proxy->udp_services()[0]; }
  net::SocketAddress vip(std::uint16_t port) { return {*net::IpAddress::parse("10.0.0.1"), port}; }

  std::map<std::string, std::string> controller_config_;
  ProxyWorld w;
  std::vector<std::unique_ptr<EchoServer>> db;
  std::vector<std::unique_ptr<apps::UdpResponder>> dns;  // answer "<name>:<payload>"
};

TEST_F(L4, TcpConnectionsAreBalancedAndBytesFlowBothWays) {
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    TestClient c(w.client_host, vip(5432));
    c.send("select 1");
    w.world.run_for(200ms);
    ASSERT_THAT(c.received, ::testing::MatchesRegex("db-[12]:select 1"));
    seen.insert(c.received.substr(0, 4));
  }
  EXPECT_EQ(seen.size(), 2u) << "roundrobin over both endpoints";
}

TEST_F(L4, HalfCloseIsPassedOnInEachDirection) {
  db[0]->keep_open_after_fin = true;
  db[1]->keep_open_after_fin = true;
  TestClient c(w.client_host, vip(5432));
  c.send("last words");
  c.conn->shutdown_write();  // the client is done sending but still reads
  w.world.run_for(300ms);
  EXPECT_EQ(db[0]->fins + db[1]->fins, 1) << "the server saw the client's FIN";
  EXPECT_THAT(c.received, HasSubstr(":last words")) << "and the client still got the answer";
  EXPECT_FALSE(c.peer_closed) << "the server has not closed its side yet";
  for (auto& d : db)
    for (auto& conn : d->conns)
      if (conn->fin_seen) {
        conn->c->write(runtime::as_bytes(" and more"));
        conn->c->shutdown_write();
      }
  w.world.run_for(300ms);
  EXPECT_THAT(c.received, HasSubstr(" and more"));
  EXPECT_TRUE(c.peer_closed) << "the server's FIN reached the client";
  EXPECT_FALSE(c.closed) << "a FIN, not a reset";
  ASSERT_FALSE(w.access_log.empty());
  EXPECT_THAT(
      w.access_log.back(),
      ::testing::MatchesRegex(
          R"(10\.0\.0\.100:[0-9]+ \[.*\] tcp-5432 default_db_5432/db-[12] 0/[0-9]+/[0-9]+ [0-9]+ -- .*)"));
}

TEST_F(L4, AServerResetReachesTheClientAsAReset) {
  db[0]->reset_on_data = db[1]->reset_on_data = true;
  TestClient c(w.client_host, vip(5432));
  c.send("boom");
  w.world.run_for(300ms);
  EXPECT_TRUE(c.closed) << "reset, not FIN";
  EXPECT_FALSE(c.peer_closed);
  EXPECT_THAT(w.access_log.back(), HasSubstr(" SD "));
}

TEST_F(L4, AClientResetReachesTheServerAsAReset) {
  TestClient c(w.client_host, vip(5432));
  c.send("hello");
  w.world.run_for(200ms);
  c.conn->reset();
  w.world.run_for(200ms);
  EXPECT_EQ(db[0]->resets_seen + db[1]->resets_seen, 1);
  EXPECT_THAT(w.access_log.back(), HasSubstr(" CD "));
}

TEST_F(L4, ASlowReaderHoldsTheServerBackInsteadOfFillingMemory) {
  TestClient c(w.client_host, vip(5432));
  c.conn->set_reading(false);  // the client stops reading
  std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 64; ++i)
    c.send(chunk);  // 4 MiB echoed back at it
  w.world.run_for(2s);
  // The client's window filled, the proxy's queue towards it passed its bound, so the proxy stopped reading
  // from the server: it holds a bounded amount, not the 4 MiB.
  auto& s = tcp();
  EXPECT_LT(s.counters().bytes_out, 2u * 1024 * 1024);
  EXPECT_TRUE(c.received.empty());
  c.conn->set_reading(true);
  w.world.run_for(5s);
  std::size_t sent = db[0]->sent + db[1]->sent;
  EXPECT_EQ(c.received.size(), sent) << "nothing lost once the client reads again";
  EXPECT_GT(sent, 4u * 1024 * 1024);
}

TEST_F(L4, TcpHealthChecksTakeADeadServerOutOfRotation) {
  db[0]->listener.reset();  // db-1 refuses connections
  w.world.run_for(2s);
  EXPECT_FALSE(tcp().backend().servers()[0].load.up);
  for (int i = 0; i < 4; ++i) {
    TestClient c(w.client_host, vip(5432));
    c.send("q");
    w.world.run_for(200ms);
    EXPECT_EQ(c.received, "db-2:q");
  }
}

TEST_F(L4, UdpFlowsStickToOneServerAndRepliesComeFromTheVip) {
  std::vector<std::string> answers;
  net::SocketAddress reply_from;
  std::error_code ec;
  auto sock = w.client_host.open_datagram(
      {*net::IpAddress::parse("10.0.0.100"), 40000},
      [&](const net::SocketAddress& from, const net::SocketAddress&, runtime::ByteView p) {
        answers.emplace_back(runtime::as_chars(p));
        reply_from = from;
      },
      ec);
  ASSERT_FALSE(ec);
  for (int i = 0; i < 5; ++i) {
    sock->send_to(vip(53), runtime::as_bytes("q" + std::to_string(i)));
    w.world.run_for(50ms);
  }
  ASSERT_EQ(answers.size(), 5u);
  std::string server = answers[0].substr(0, 5);
  for (auto& a : answers)
    EXPECT_EQ(a.substr(0, 5), server) << "one flow, one server";
  EXPECT_EQ(reply_from, vip(53));
  EXPECT_EQ(udp().flows(), 1u);
  // Another client port is another flow (round robin puts it on the other server).
  std::string other;
  auto sock2 = w.client_host.open_datagram(
      {*net::IpAddress::parse("10.0.0.100"), 40001},
      [&](const net::SocketAddress&, const net::SocketAddress&, runtime::ByteView p) {
        other = std::string(runtime::as_chars(p));
      },
      ec);
  sock2->send_to(vip(53), runtime::as_bytes("x"));
  w.world.run_for(50ms);
  EXPECT_NE(other.substr(0, 5), server);
  // Idle flows expire.
  w.world.run_for(7s);
  EXPECT_EQ(udp().flows(), 0u);
  EXPECT_EQ(udp().counters().flows_expired, 2u);
}

TEST_F(L4, UdpFlowsMoveWhenTheirServerGoesDown) {
  std::vector<std::string> answers;
  std::error_code ec;
  auto sock = w.client_host.open_datagram(
      {*net::IpAddress::parse("10.0.0.100"), 40000},
      [&](const net::SocketAddress&, const net::SocketAddress&, runtime::ByteView p) {
        answers.emplace_back(runtime::as_chars(p));
      },
      ec);
  sock->send_to(vip(53), runtime::as_bytes("a"));
  w.world.run_for(100ms);
  ASSERT_EQ(answers.size(), 1u);
  std::string first = answers[0].substr(0, 5);
  int idx = first == "dns-1" ? 0 : 1;
  dns[idx]->set_silent(true);  // the probe ("send ping expect dns") now fails on it
  w.world.run_for(2s);
  EXPECT_FALSE(udp().backend().servers()[idx].load.up);
  sock->send_to(vip(53), runtime::as_bytes("b"));
  w.world.run_for(100ms);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_NE(answers[1].substr(0, 5), first);
  EXPECT_EQ(udp().counters().flows_moved, 1u);
}

class L4SmallFlowTable : public L4 {
 protected:
  L4SmallFlowTable() { controller_config_ = {{"udp-max-flows", "100"}}; }
};

TEST_F(L4SmallFlowTable, TheFlowTableIsBoundedAndSaysSo) {
  std::error_code ec;
  std::vector<runtime::DatagramSocketPtr> socks;
  int answered = 0;
  for (int i = 0; i < 150; ++i) {
    socks.push_back(w.client_host.open_datagram(
        {*net::IpAddress::parse("10.0.0.100"), static_cast<std::uint16_t>(41000 + i)},
        [&](const net::SocketAddress&, const net::SocketAddress&, runtime::ByteView) { ++answered; }, ec));
  }
  for (auto& s : socks)
    s->send_to(vip(53), runtime::as_bytes("x"));
  w.world.run_for(100ms);
  EXPECT_EQ(udp().flows(), 100u);
  EXPECT_EQ(answered, 100);
  EXPECT_EQ(udp().counters().dropped_table_full, 50u);
  // Existing flows keep working while the table is full; room comes back as flows expire.
  socks[0]->send_to(vip(53), runtime::as_bytes("again"));
  w.world.run_for(100ms);
  EXPECT_EQ(answered, 101);
  w.world.run_for(7s);
  socks[149]->send_to(vip(53), runtime::as_bytes("late"));
  w.world.run_for(100ms);
  EXPECT_EQ(answered, 102);
}

}  // namespace
}  // namespace metalgate::proxy::testing
