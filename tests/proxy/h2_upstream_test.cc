// server-proto h2 in the in-memory world: HTTP/1.1 clients' requests reach an HTTP/2 server as streams of
// one shared connection, answers and their trailers come back, a reset stream is a 502, a client that goes
// away cancels its stream, and a server that ends its connection gets a new one for the next request.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>

#include "engine/http2/server_session.h"
#include "tests/proxy/proxy_world.h"

namespace metalgate::proxy::testing {
namespace {

// An HTTP/2 server (h2c, prior knowledge) built on the proxy's own server session. It answers
// "h2 METHOD PATH BODY", with grpc-status trailers when the request asked for trailers; /reset is reset,
// /hold is never answered, /refuse-once is refused (REFUSED_STREAM) the first time, /refuse every time.
class TestH2Server {
 public:
  struct Seen {
    http2::Request request;
    std::string body;
    std::uint32_t closed_with = ~0u;
    std::size_t connection = 0;
  };

  // `extended_connect`: whether its SETTINGS offer RFC 8441's extended CONNECT. `speaks_first`: whether
  // it sends its SETTINGS on accepting, or only with its answer to the client's preface (SETTINGS and the
  // ACK of the client's in one segment, as an asyncio server may).
  TestH2Server(runtime::Runtime& rt, net::SocketAddress at, bool extended_connect = true,
               bool speaks_first = true)
      : extended_connect_(extended_connect), speaks_first_(speaks_first) {
    std::error_code error;
    listener_ = rt.listen(at, {}, [this](runtime::StreamConnectionPtr c) { accept(std::move(c)); }, error);
  }
  // Connections that carried a request (health checks connect too, and say nothing).
  std::size_t accepted() const {
    std::set<std::size_t> used;
    for (const auto& [key, s] : seen)
      used.insert(s.connection);
    return used.size();
  }
  std::map<std::pair<std::size_t, std::int32_t>, Seen> seen;
  std::set<std::int32_t> refused;  // streams refused for /refuse-once
  // Streams neither closed nor gone with their connection.
  std::size_t open_streams() const {
    std::size_t n = 0;
    for (const auto& [key, s] : seen)
      n += s.closed_with == ~0u && !conns_[s.connection]->closed;
    return n;
  }
  // Ends every connection (as a restarted server does).
  void close_all() {
    for (auto& c : conns_)
      if (c->conn && !c->closed) c->conn->close(), c->closed = true;
  }

 private:
  struct Conn final : runtime::StreamHandler, http2::ServerEvents {
    Conn(TestH2Server& s, std::size_t at) : server(s), index(at), session(*this, settings(s)) {}
    static http2::Settings settings(const TestH2Server& s) {
      http2::Settings out;
      out.extended_connect = s.extended_connect_;
      return out;
    }
    void on_data(runtime::ByteView d) override {
      session.receive(d);
      flush();
    }
    void on_peer_shutdown() override { closed = true; }
    void on_closed(std::error_code) override { closed = true; }
    // An extended CONNECT (a WebSocket) is a tunnel: 200 at once, then every DATA echoed, and its end ends
    // it.
    void on_request(std::int32_t id, http2::Request r) override {
      const bool body = r.has_body, tunnel = !r.protocol.empty();
      mine(id).request = std::move(r);
      if (tunnel) {
        session.respond(id, 200, {{"sec-websocket-protocol", "chat"}}, false);
        return flush();
      }
      if (!body) answer(id);
    }
    void on_request_data(std::int32_t id, runtime::ByteView d) override {
      mine(id).body.append(runtime::as_chars(d));
      session.consumed(id, d.size());
      if (!mine(id).request.protocol.empty()) {
        session.send_data(id, d);
        flush();
      }
    }
    void on_request_end(std::int32_t id) override {
      if (mine(id).request.protocol.empty()) return answer(id);
      session.finish(id);
      flush();
    }
    void on_stream_closed(std::int32_t id, std::uint32_t code) override { mine(id).closed_with = code; }
    Seen& mine(std::int32_t id) {
      Seen& s = server.seen[{index, id}];
      s.connection = index;
      return s;
    }
    void answer(std::int32_t id) {
      const Seen& s = mine(id);
      if (s.request.path == "/hold") return;
      if (s.request.path == "/reset") return session.reset(id, 2 /* INTERNAL_ERROR */);
      if (s.request.path == "/refuse" || (s.request.path == "/refuse-once" &&
                                          server.refused.insert(id).second && server.refused.size() == 1)) {
        session.reset(id, 7 /* REFUSED_STREAM */);
        return flush();
      }
      if (s.request.path == "/unwell") {
        session.respond(id, 503, {}, true);
        return flush();
      }
      bool trailers = false;
      for (const auto& f : s.request.headers)
        trailers |= f.name == "te" && f.value == "trailers";
      session.respond(id, 200, {{"content-type", "text/plain"}}, false);
      const std::string text = "h2 " + s.request.method + " " + s.request.path + " " + s.body;
      session.send_data(id, runtime::as_bytes(text));
      session.finish(id, trailers ? std::vector<http2::Field>{{"grpc-status", "0"}} : std::vector<http2::Field>{});
    }
    void flush() {
      std::string out;
      session.take_outgoing(out);
      if (!out.empty() && conn) conn->write(runtime::as_bytes(out));
    }
    TestH2Server& server;
    std::size_t index;
    bool closed = false;  // the proxy ended it, or it was ended here
    http2::ServerSession session;
    runtime::StreamConnectionPtr conn;
  };
  void accept(runtime::StreamConnectionPtr c) {
    conns_.push_back(std::make_unique<Conn>(*this, conns_.size()));
    conns_.back()->conn = std::move(c);
    conns_.back()->conn->start(*conns_.back());
    if (speaks_first_) conns_.back()->flush();
  }
  bool extended_connect_, speaks_first_;
  runtime::StreamListenerPtr listener_;
  std::vector<std::unique_ptr<Conn>> conns_;
};

// Starts `w` with an Ingress for grpc.example whose Service's one endpoint is an HTTP/2 server at
// 10.0.2.1:50051 (returned); `annotations`: the Ingress's, as a YAML flow map.
std::unique_ptr<TestH2Server> start_h2_backend(ProxyWorld& w, const std::string& annotations,
                                               bool extended_connect = true, bool speaks_first = true) {
  auto& host = w.world.add_host("grpc-1", {*net::IpAddress::parse("10.0.2.1")});
  auto server = std::make_unique<TestH2Server>(
      host, net::SocketAddress{*net::IpAddress::parse("10.0.2.1"), 50051}, extended_connect, speaks_first);
  w.start(R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: grpc
  namespace: default
  annotations: )" +
              annotations +
              R"(
spec:
  ingressClassName: haproxy
  rules:
  - host: grpc.example
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: grpc, port: {number: 50051}}}}]}
)",
          {}, R"(apiVersion: v1
kind: Service
metadata: {name: grpc, namespace: default}
spec:
  selector: {app: grpc}
  ports: [{name: grpc, port: 50051, targetPort: 50051}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: grpc, namespace: default}
subsets:
- addresses: [{ip: 10.0.2.1, targetRef: {kind: Pod, name: grpc-1}}]
  ports: [{name: grpc, port: 50051}]
)");
  return server;
}

class H2Upstream : public ::testing::Test {
 protected:
  // The Ingress's annotations.
  virtual std::string annotations() const { return R"({haproxy.org/server-proto: "h2"})"; }
  void SetUp() override { server = start_h2_backend(w, annotations()); }
  void TearDown() override {
    w.proxy.reset();
    server.reset();
  }

  // A client's WebSocket Upgrade for /chat, once the head of its answer has come (or 5 s have passed).
  TestClient& upgrade_to_websocket() {
    clients_ = w.send_on_new_clients(
        1,
        "GET /chat HTTP/1.1\r\nHost: grpc.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    TestClient& c = *clients_[0];
    w.world.run_until([&] { return c.received.find("\r\n\r\n") != std::string::npos; }, 5s);
    return c;
  }

  ProxyWorld w;
  std::unique_ptr<TestH2Server> server;
  std::vector<std::unique_ptr<TestClient>> clients_;
};

TEST_F(H2Upstream, RequestsOfManyClientsAreStreamsOfOneConnectionToTheServer) {
  auto clients = w.send_on_new_clients(20, get("grpc.example", "/hello"));
  for (auto& c : clients) {
    auto r = w.await(*c);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "h2 GET /hello ");
  }
  EXPECT_EQ(server->accepted(), 1u) << "twenty requests at once, one connection";
  ASSERT_EQ(server->seen.size(), 20u);
  const auto& first = server->seen.begin()->second;
  EXPECT_EQ(first.request.authority, "grpc.example");
  EXPECT_EQ(first.request.scheme, "http");
  bool forwarded_for = false;
  for (const auto& f : first.request.headers)
    forwarded_for |= f.name == "x-forwarded-for" && f.value == "10.0.0.100";
  EXPECT_TRUE(forwarded_for) << "the proxy's request rules apply as over HTTP/1.1";
}

TEST_F(H2Upstream, AChunkedUploadArrivesWholeAndTheAnswersTrailersComeBackInItsChunkedBody) {
  auto clients = w.send_on_new_clients(
      1, "POST /echo.Echo/Say HTTP/1.1\r\nHost: grpc.example\r\nTE: trailers\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  const std::string last_chunk = "\r\n0\r\ngrpc-status: 0\r\n\r\n";
  w.world.run_until([&] { return clients[0]->received.find(last_chunk) != std::string::npos; }, 5s);
  EXPECT_NE(clients[0]->received.find(last_chunk), std::string::npos)
      << "the server's trailers end the chunked body: " << clients[0]->received;
  auto r = clients[0]->next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get("transfer-encoding"), "chunked") << "the server gave no length: trailers may follow";
  EXPECT_EQ(r->body, "h2 POST /echo.Echo/Say hello world");
  ASSERT_EQ(server->seen.size(), 1u);
  EXPECT_EQ(server->seen.begin()->second.body, "hello world");
}

TEST_F(H2Upstream, AStreamTheServerResetsBeforeAnsweringIsA502) {
  auto r = w.request(get("grpc.example", "/reset"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  auto again = w.request(get("grpc.example", "/fine"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << "the connection serves on: only the stream was reset";
  EXPECT_EQ(server->accepted(), 1u);
}

// A refused stream was not processed (RFC 9113 §8.7): the request goes again with its body, as HAProxy's L7
// retries send one that fits their buffer; a larger body, or a server that keeps refusing, ends in an error.
std::string post(const std::string& path, const std::string& body) {
  return "POST " + path +
         " HTTP/1.1\r\nHost: grpc.example\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

TEST_F(H2Upstream, ARefusedStreamGoesAgainWithItsBody) {
  auto r = w.request(post("/refuse-once", "hello"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "h2 POST /refuse-once hello");
  ASSERT_EQ(server->seen.size(), 2u);
  for (const auto& [key, s] : server->seen)
    EXPECT_EQ(s.body, "hello") << "both streams carried the whole body";
}

TEST_F(H2Upstream, ARefusedStreamWhoseBodyOutgrewTheRetryBufferIsNotSentAgain) {
  auto r = w.request(post("/refuse-once", std::string(20000, 'x')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(server->seen.size(), 1u);
}

TEST_F(H2Upstream, AServerThatKeepsRefusingGetsTheRequestAFewTimesThenTheClientA503) {
  auto r = w.request(post("/refuse", "hello"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(server->seen.size(), 4u) << "the first send and HAProxy's three retries";
}

TEST_F(H2Upstream, AClientThatResetsItsConnectionCancelsItsStream) {
  auto clients = w.send_on_new_clients(1, get("grpc.example", "/hold"));
  w.world.run_until([&] { return !server->seen.empty(); }, 5s);
  ASSERT_EQ(server->seen.size(), 1u);
  clients[0]->conn->reset();  // RST: a FIN alone is a half-close, after which the answer is still awaited
  w.world.run_until([&] { return server->seen.begin()->second.closed_with != ~0u; }, 5s);
  EXPECT_EQ(server->seen.begin()->second.closed_with, 8u) << "RST_STREAM CANCEL";
}

TEST_F(H2Upstream, AfterTheServerEndsItsConnectionTheNextRequestOpensANewOne) {
  ASSERT_EQ(w.request(get("grpc.example", "/one"))->status, 200);
  server->close_all();
  w.world.run_for(1s);
  auto r = w.request(get("grpc.example", "/two"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server->accepted(), 2u);
}

// RFC 8441 the other way: an HTTP/1.1 client's WebSocket Upgrade reaches an HTTP/2 pod as an extended
// CONNECT on the shared connection, and the pod's 200 comes back as the 101 with the key's accept.
TEST_F(H2Upstream, AWebSocketUpgradeIsAnExtendedConnectToTheServerAndTunnelsBothWays) {
  TestClient& c = upgrade_to_websocket();
  EXPECT_THAT(c.received, ::testing::StartsWith("HTTP/1.1 101 Switching Protocols\r\n"));
  EXPECT_THAT(c.received, ::testing::HasSubstr("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  EXPECT_THAT(c.received, ::testing::HasSubstr("sec-websocket-protocol: chat\r\n"));
  ASSERT_EQ(server->seen.size(), 1u);
  const auto& seen = server->seen.begin()->second;
  EXPECT_EQ(seen.request.method, "CONNECT");
  EXPECT_EQ(seen.request.protocol, "websocket");
  EXPECT_EQ(seen.request.path, "/chat");
  for (const auto& f : seen.request.headers)
    EXPECT_NE(f.name, "sec-websocket-key") << "HTTP/2 carries no key (RFC 8441 §5)";
  c.received.clear();
  c.send("frame one");
  w.world.run_until([&] { return c.received == "frame one"; }, 5s);
  EXPECT_EQ(c.received, "frame one");
  c.conn->shutdown_write();
  w.world.run_until([&] { return c.peer_closed || c.closed; }, 5s);
  EXPECT_TRUE(c.peer_closed || c.closed)
      << "the client's FIN ends the stream, and the server's end the client's";
  EXPECT_EQ(server->seen.begin()->second.closed_with, 0u) << "closed cleanly, not reset";
}

class H2UpstreamToAServerThatAnswersThePrefaceFirst : public H2Upstream {
 protected:
  void SetUp() override { server = start_h2_backend(w, annotations(), true, false); }
};

// The extended CONNECT waits for the server's SETTINGS; when they come with nothing after them (their ACK
// of ours in the same read), it must still leave then, not with the server's next bytes, which never come.
// (Here the in-memory world's write-drained callback would flush it anyway; live, where none comes, the
// h2 pod of proxy.live_ws_h2 answers this way and showed it.)
TEST_F(H2UpstreamToAServerThatAnswersThePrefaceFirst, AWebSocketUpgradeLeavesAsSoonAsTheServersSettingsCome) {
  TestClient& c = upgrade_to_websocket();
  EXPECT_THAT(c.received, ::testing::StartsWith("HTTP/1.1 101 Switching Protocols\r\n"));
  ASSERT_EQ(server->seen.size(), 1u);
  EXPECT_EQ(server->seen.begin()->second.request.protocol, "websocket");
}

class H2UpstreamWithoutExtendedConnect : public H2Upstream {
 protected:
  void SetUp() override { server = start_h2_backend(w, annotations(), false); }
};

TEST_F(H2UpstreamWithoutExtendedConnect, AWebSocketUpgradeToAServerThatDoesNotOfferItIsA502) {
  auto r = w.request(
      "GET /chat HTTP/1.1\r\nHost: grpc.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502) << "as HAProxy (reg-tests/http-messaging/protocol_upgrade.vtc)";
  EXPECT_TRUE(server->seen.empty()) << "nothing was sent that the server could not take";
  auto plain = w.request(get("grpc.example", "/hello"));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200) << "other requests go on as before";
}

TEST(H2UpstreamConfig, AServerProtoOtherThanH2OrH1IsAnErrorAtItsLine) {
  ProxyWorld w;
  w.serve_despite_errors = true;
  w.start(R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: default
  annotations: {haproxy.org/server-proto: "h3"}
spec:
  ingressClassName: haproxy
  rules:
  - host: app.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
)");
  EXPECT_THAT(w.diagnostics.to_string(), ::testing::HasSubstr("ingress.yaml:6:"));
  EXPECT_THAT(w.diagnostics.to_string(), ::testing::HasSubstr("'h3' is not h2 (or h1, the default)"));
  ASSERT_FALSE(w.config->backends.empty());
  EXPECT_EQ(w.config->backends[0].protocol, ServerProtocol::kHttp1) << "the old way stands";
}

// HTTP checks of an h2 backend speak HTTP/2, as HAProxy's do for a `proto h2` server: a gRPC server would
// not understand an HTTP/1.1 check and would be taken down for it.
class H2UpstreamChecked : public H2Upstream {
 protected:
  std::string annotations() const override {
    return R"({haproxy.org/server-proto: "h2", haproxy.org/check-http: )" + check_path +
           R"(, haproxy.org/check-interval: 1s})";
  }
  std::string check_path = "/healthz";
};

TEST_F(H2UpstreamChecked, AnHttpCheckIsAStreamOfItsOwnAndItsStatusDecides) {
  w.world.run_for(2500ms);
  const auto& state = w.proxy->backends()[0]->servers()[0];
  EXPECT_TRUE(state.load.up);
  EXPECT_EQ(state.last_check, "L7OK 200");
  std::size_t checks = 0;
  for (const auto& [key, seen] : server->seen)
    if (seen.request.path == "/healthz") {
      ++checks;
      EXPECT_EQ(seen.request.method, "GET");
      EXPECT_EQ(seen.request.authority, "10.0.2.1:50051");
    }
  EXPECT_GE(checks, 2u) << "a check a second, each in HTTP/2";
  auto r = w.request(get("grpc.example", "/after"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

class H2UpstreamUnwell : public H2UpstreamChecked {
 protected:
  void SetUp() override {
    check_path = "/unwell";
    H2UpstreamChecked::SetUp();
  }
};

TEST_F(H2UpstreamUnwell, AServerWhoseCheckAnswers503IsTakenDown) {
  w.world.run_for(2500ms);
  const auto& state = w.proxy->backends()[0]->servers()[0];
  EXPECT_FALSE(state.load.up);
  EXPECT_EQ(state.last_check, "L7STS 503");
  auto r = w.request(get("grpc.example", "/after"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << "no server up";
}

// Any mix of HTTP/1.1 clients through an h2 backend: requests answered, reset by the server (/reset) or never
// answered (/hold), uploads, clients that go mid-way, the server ending every connection. Every client that
// stays gets an answer whose status says what happened (200, 502, or 504 at timeout-server), and once the
// clients are gone the proxy holds nothing: no session, no server slot, no stream left open at the server
// (idle connections may wait in the pool). AddressSanitizer watches every case.
enum class UpOp { kGet, kHold, kReset, kUpload, kAbort, kServerCloses, kWait };

struct UpAction {
  UpOp op;
  int client;  // which client (modulo how many there are), for kAbort
  int amount;  // milliseconds for kWait, body bytes for kUpload
};

void showValue(const UpAction& a, std::ostream& os) {
  static const char* names[] = {"GET", "HOLD", "RESET", "UPLOAD", "ABORT", "SERVER-CLOSES", "WAIT"};
  os << names[static_cast<int>(a.op)] << "(" << a.client << ", " << a.amount << ")";
}

RC_GTEST_PROP(H2UpstreamProperties, EveryClientGetsItsAnswerAndNothingIsLeftOnceTheyGo, ()) {
  const auto actions =
      *rc::gen::resize(25, rc::gen::nonEmpty(rc::gen::container<std::vector<UpAction>>(rc::gen::apply(
                               [](UpOp op, int client, int amount) {
                                 return UpAction{op, client, amount};
                               },
                               rc::gen::element(UpOp::kGet, UpOp::kHold, UpOp::kReset, UpOp::kUpload,
                                                UpOp::kAbort, UpOp::kServerCloses, UpOp::kWait),
                               rc::gen::inRange(0, 10), rc::gen::inRange(1, 40000)))));
  ProxyWorld w;
  auto server = start_h2_backend(w, R"({haproxy.org/server-proto: "h2", haproxy.org/timeout-server: "2s"})");
  struct Client {
    std::unique_ptr<TestClient> c;
    int want;  // the status its request must get
    bool aborted = false;
  };
  std::vector<Client> clients;
  auto open = [&](const std::string& raw, int want) {
    clients.push_back({std::move(w.send_on_new_clients(1, raw)[0]), want});
  };
  for (const UpAction& a : actions) {
    switch (a.op) {
      case UpOp::kGet:
        open(get("grpc.example", "/fine"), 200);
        break;
      case UpOp::kHold:
        open(get("grpc.example", "/hold"), 504);
        break;
      case UpOp::kReset:
        open(get("grpc.example", "/reset"), 502);
        break;
      case UpOp::kUpload:
        open("POST /up HTTP/1.1\r\nHost: grpc.example\r\nContent-Length: " + std::to_string(a.amount) +
                 "\r\n\r\n" + std::string(static_cast<std::size_t>(a.amount), 'u'),
             200);
        break;
      case UpOp::kAbort:
        if (!clients.empty()) {
          Client& victim = clients[static_cast<std::size_t>(a.client) % clients.size()];
          if (!victim.aborted) victim.c->conn->reset(), victim.aborted = true;
        }
        break;
      case UpOp::kServerCloses:
        server->close_all();
        break;
      case UpOp::kWait:
        w.world.run_for(std::chrono::milliseconds(a.amount % 3000));
        break;
    }
  }
  w.world.run_for(5s);  // past timeout-server (2 s) for the held ones
  for (Client& c : clients) {
    if (c.aborted) continue;
    auto r = c.c->next();
    RC_ASSERT(r.has_value());
    // A server that ends its connections under a request answers it with 502 (the stream died with it).
    RC_ASSERT(r->status == c.want || r->status == 502);
  }
  for (Client& c : clients)
    if (!c.aborted) c.c->conn->reset();
  w.world.run_for(10s);  // the pool keeps an idle h2 connection 5 s (pool-purge-delay)
  RC_ASSERT(w.proxy->idle());
  const auto& backend = w.proxy->backends()[0];
  RC_ASSERT(backend->queued() == 0u);
  RC_ASSERT(backend->load(0).active == 0);
  RC_ASSERT(server->open_streams() == 0u);  // idle connections may stay in the pool; no stream may
}

}  // namespace
}  // namespace metalgate::proxy::testing
