// HTTP/2 through the proxy in the in-memory world: a TLS client that agreed on h2 sends raw frames, and each
// stream is routed, answered and logged as an HTTP/1.1 request would be; request bodies move under HTTP/2 flow
// control; a draining proxy says GOAWAY and still answers the stream under way.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "engine/http/websocket.h"
#include "engine/tls/tls_stream.h"
#include "tests/http2/frames.h"
#include "tests/proxy/proxy_world.h"
#include "tests/proxy/tls_ingress.h"
#include "tests/tls/test_certificates.h"
#include "tests/tls/tls_pod.h"

namespace metalgate::proxy::testing {
namespace {

using namespace http2::testing;  // NOLINT: the frame vocabulary
using ::testing::HasSubstr;

struct Answer {
  std::string status, body;
  bool ended = false, reset = false;
};

class H2Proxy : public ::testing::Test {
 protected:
  // Starts the proxy (the seed's TLS Ingress) and returns its certificate.
  virtual tls::testing::TestCertificate start_proxy() { return start_tls_ingress(w); }
  void SetUp() override {
    cert = start_proxy();
    for (auto& [name, s] : w.servers)
      s->options.record = true;
    tls::ClientSettings s;
    s.server_name = "app.example.com";
    s.ca_pem = cert.certificate_pem;
    s.alpn = {"h2"};
    client = std::make_unique<tls::testing::TlsClient>(w.client_host, w.https_address(), s);
    send(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + frame(kSettings, 0, 0, ""));
  }
  void send(const std::string& bytes) { client->conn->write(runtime::as_bytes(bytes)); }
  // Runs until `done` holds over the answers so far (or 10 s of world time).
  void run_until(const std::function<bool()>& done) {
    w.world.run_until([&] { return read(), done() || client->closed; }, 10s);
    read();
  }
  // Reads the frames received so far into answers (by stream), window updates and GOAWAY.
  void read() {
    auto frames = parse(client->received);
    std::size_t used = 0;
    for (const Frame& f : frames) {
      used += 9 + f.payload.size();
      Answer& a = answers[f.stream];
      if (f.type == kHeaders) {
        for (auto& [name, value] : inflater.fields(f.payload))
          if (name == ":status") a.status = value;
      } else if (f.type == kData) {
        a.body += f.payload;
      } else if (f.type == kRstStream) {
        a.reset = true;
      } else if (f.type == kWindowUpdate) {
        auto b = [&](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(f.payload[i])); };
        window_updates[f.stream] += (b(0) & 0x7f) << 24 | b(1) << 16 | b(2) << 8 | b(3);
      } else if (f.type == kGoaway) {
        goaway = true;
      } else if (f.type == kSettings && !(f.flags & kAck)) {
        settings_seen += f.payload;
        send(frame(kSettings, kAck, 0, ""));
      }
      if (f.flags & kEndStream) a.ended = true;
    }
    client->received.erase(0, used);
  }

  ProxyWorld w;
  tls::testing::TestCertificate cert;
  std::unique_ptr<tls::testing::TlsClient> client;
  Inflater inflater;
  std::map<std::uint32_t, Answer> answers;
  std::map<std::uint32_t, std::uint64_t> window_updates;
  bool goaway = false;
  std::string settings_seen;  // the server's SETTINGS payloads
};

std::vector<std::pair<std::string, std::string>> request(std::string method, std::string path,
                                                         std::string authority = "app.example.com") {
  return {{":method", std::move(method)}, {":scheme", "https"}, {":path", std::move(path)}, {":authority", std::move(authority)}};
}

TEST_F(H2Proxy, EachStreamOfOneConnectionIsRoutedAnsweredAndLoggedLikeAnHttp11Request) {
  send(frame(kHeaders, kEndHeaders | kEndStream, 1, block(request("GET", "/a"))) +
       frame(kHeaders, kEndHeaders | kEndStream, 3, block(request("GET", "/b"))) +
       frame(kHeaders, kEndHeaders | kEndStream, 5, block(request("GET", "/", "nowhere.example"))));
  run_until([&] { return answers[1].ended && answers[3].ended && answers[5].ended; });
  EXPECT_EQ(answers[1].status, "200");
  EXPECT_THAT(answers[1].body, HasSubstr(" GET /a"));
  EXPECT_EQ(answers[3].status, "200");
  EXPECT_THAT(answers[3].body, HasSubstr(" GET /b"));
  EXPECT_EQ(answers[5].status, "404") << "no rule names the host: the proxy's own answer, on its stream";
  EXPECT_FALSE(client->closed) << "the connection stays open for more streams";
  std::size_t h2_lines = 0;
  for (const auto& line : w.access_log)
    if (line.find("HTTP/2.0\"") != std::string::npos) ++h2_lines;
  EXPECT_EQ(h2_lines, 3u);
  // The servers saw HTTP/1.1 with the authority as Host and X-Forwarded-Proto.
  std::string heads;
  for (auto& [name, s] : w.servers)
    for (auto& h : s->heads)
      heads += h;
  EXPECT_THAT(heads, HasSubstr("GET /a HTTP/1.1\r\n"));
  EXPECT_THAT(heads, HasSubstr("host: app.example.com\r\n"));
  EXPECT_THAT(heads, HasSubstr("X-Forwarded-Proto: https\r\n"));
}

TEST_F(H2Proxy, ARequestBodyLargerThanTheWindowMovesAsTheServerTakesIt) {
  const std::size_t size = 300 * 1024;  // more than four initial windows
  auto fields = request("POST", "/upload");
  fields.push_back({"content-length", std::to_string(size)});
  send(frame(kHeaders, kEndHeaders, 1, block(fields)));
  std::size_t sent = 0;
  std::uint64_t window = 65535;  // the connection's and the stream's; the server grants both alike here
  while (sent < size) {
    while (sent < size && window >= 16384) {
      const std::size_t n = std::min<std::size_t>(16384, size - sent);
      send(frame(kData, sent + n == size ? kEndStream : 0, 1, std::string(n, 'u')));
      sent += n;
      window -= n;
    }
    if (sent == size) break;
    const std::uint64_t before = window_updates[0];
    run_until([&] { return window_updates[0] > before; });
    ASSERT_GT(window_updates[0], before) << "no WINDOW_UPDATE after " << sent << " bytes";
    window += window_updates[0] - before;
  }
  run_until([&] { return answers[1].ended; });
  EXPECT_EQ(answers[1].status, "200");
  std::size_t got = 0;
  for (auto& [name, s] : w.servers)
    for (auto& b : s->bodies)
      got += b.size();
  EXPECT_EQ(got, size);
}

// gRPC clients send no content-length: the body goes to the server chunked, and the head as it is.
TEST_F(H2Proxy, ABodyWithoutContentLengthReachesTheServerChunkedBehindAnUnframedHead) {
  send(frame(kHeaders, kEndHeaders, 1, block(request("POST", "/echo.Echo/Say"))) +
       frame(kData, 0, 1, "hello ") + frame(kData, kEndStream, 1, "world"));
  run_until([&] { return answers[1].ended; });
  EXPECT_EQ(answers[1].status, "200");
  std::string heads, bodies;
  for (auto& [name, s] : w.servers) {
    for (auto& h : s->heads)
      heads += h;
    for (auto& b : s->bodies)
      bodies += b;
  }
  EXPECT_THAT(heads, HasSubstr("POST /echo.Echo/Say HTTP/1.1\r\n"));
  EXPECT_THAT(heads, HasSubstr("Transfer-Encoding: chunked"));
  EXPECT_EQ(bodies, "hello world");
}

// A request waiting in the queue for a server holds its body: the session takes one buffer's worth (16 KiB,
// tune.bufsize) and the stream keeps the rest. Cancelled there, the stream ends with those bytes unread; they
// count against the window every stream of the connection shares, so they are given back. Without that, a
// few such streams would leave the client no window to send any body at all.
TEST(H2ProxyQueue, BodyBytesOfAStreamCancelledInTheQueueAreGivenBackToTheConnectionWindow) {
  ProxyWorld w;
  auto cert = start_tls_ingress(w, "    haproxy.org/pod-maxconn: \"1\"\n");
  for (auto& [name, s] : w.servers)
    s->options.silent = true;  // each takes one request and keeps it
  tls::ClientSettings settings;
  settings.server_name = "app.example.com";
  settings.ca_pem = cert.certificate_pem;
  settings.alpn = {"h2"};
  tls::testing::TlsClient client(w.client_host, w.https_address(), settings);
  std::uint64_t window_updates = 0;  // on the connection (stream 0)
  auto read = [&] {
    std::size_t used = 0;
    for (const Frame& f : parse(client.received)) {
      used += 9 + f.payload.size();
      if (f.type == kWindowUpdate && f.stream == 0) {
        auto b = [&](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(f.payload[i])); };
        window_updates += (b(0) & 0x7f) << 24 | b(1) << 16 | b(2) << 8 | b(3);
      }
    }
    client.received.erase(0, used);
  };
  std::string opening = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + frame(kSettings, 0, 0, "");
  for (std::uint32_t id : {1u, 3u, 5u})  // one for each of the three servers
    opening += frame(kHeaders, kEndHeaders | kEndStream, id, block(request("GET", "/busy")));
  client.conn->write(runtime::as_bytes(opening));
  w.world.run_for(100ms);
  const std::size_t size = 60000;  // within the initial 65,535 bytes
  auto fields = request("POST", "/upload");
  fields.push_back({"content-length", std::to_string(size)});
  std::string upload = frame(kHeaders, kEndHeaders, 7, block(fields));
  for (std::size_t sent = 0; sent < size; sent += 15000)  // frames within the 16,384-byte maximum
    upload += frame(kData, sent + 15000 == size ? kEndStream : 0, 7, std::string(15000, 'u'));
  client.conn->write(runtime::as_bytes(upload));
  w.world.run_for(100ms);
  read();
  EXPECT_EQ(window_updates, 0u) << "the queued request's session has taken less than half the window";
  client.conn->write(runtime::as_bytes(frame(kRstStream, 0, 7, std::string("\0\0\0\x08", 4))));  // CANCEL
  w.world.run_for(100ms);
  read();
  EXPECT_EQ(window_updates, size) << "the whole body is given back, the bytes the session never read with it";
}

// A client that shuts its sending side can send no more frames: a request still without its END_STREAM is
// cancelled (its session hears a client gone mid-request), while a complete one still gets its answer.
// Found by the stream properties (h2_stream_properties_test.cc): the unfinished stream used to wait for the
// client timeout and keep the connection open.
TEST_F(H2Proxy, AClientThatShutsItsSideCancelsItsUnfinishedRequestsAndStillGetsItsAnswers) {
  for (auto& [name, s] : w.servers)
    s->set_latency(500ms);
  send(frame(kHeaders, kEndHeaders | kEndStream, 1, block(request("GET", "/whole"))) +
       frame(kHeaders, kEndHeaders, 3, block(request("POST", "/half"))) +
       frame(kData, 0, 3, "part of a body"));
  w.world.run_for(100ms);
  client->conn->shutdown_write();
  run_until([&] { return answers[1].ended && answers[3].reset; });
  EXPECT_EQ(answers[1].status, "200") << "the complete request is answered on the open half";
  EXPECT_TRUE(answers[3].reset) << "the request that can never end is cancelled";
  w.world.run_for(1s);
  EXPECT_TRUE(client->closed || client->peer_closed) << "the connection closes once its streams are done";
  EXPECT_TRUE(w.proxy->idle());
}

TEST_F(H2Proxy, DrainingSaysGoawayAndStillAnswersTheStreamUnderWay) {
  for (auto& [name, s] : w.servers)
    s->set_latency(500ms);
  send(frame(kHeaders, kEndHeaders | kEndStream, 1, block(request("GET", "/slow"))));
  w.world.run_for(100ms);
  w.proxy->drain();
  run_until([&] { return answers[1].ended; });
  EXPECT_TRUE(goaway);
  EXPECT_EQ(answers[1].status, "200") << "reset " << answers[1].reset << " closed " << client->closed << " peer_closed "
                                      << client->peer_closed << " log " << (w.access_log.empty() ? "" : w.access_log.back());
  w.world.run_for(1s);
  EXPECT_TRUE(client->closed || client->peer_closed) << "the connection closes once its streams are done";
}

TEST_F(H2Proxy, AConnectionWithoutARequestEndsAtTimeoutHttpRequestAndAnIdleOneAtKeepAlive) {
  w.world.run_for(4s);
  read();
  EXPECT_FALSE(goaway) << "timeout-http-request is 5 s";
  w.world.run_for(2s);
  read();
  EXPECT_TRUE(goaway);
  EXPECT_TRUE(client->closed || client->peer_closed);
}

TEST_F(H2Proxy, AfterAnswersTheConnectionWaitsTimeoutHttpKeepAlive) {
  send(frame(kHeaders, kEndHeaders | kEndStream, 1, block(request("GET", "/a"))));
  run_until([&] { return answers[1].ended; });
  w.world.run_for(30s);
  read();
  EXPECT_FALSE(goaway) << "timeout-http-keep-alive is 1 minute";
  w.world.run_for(31s);
  read();
  EXPECT_TRUE(goaway);
}

// The idle deadline's queue entry stays where the first idle period put it; when it comes due after a later
// stream, it finds the deadline moved and waits again, so the keep-alive time counts from the last answer.
TEST_F(H2Proxy, TheKeepAliveTimeCountsFromTheLastAnswer) {
  send(frame(kHeaders, kEndHeaders | kEndStream, 1, block(request("GET", "/a"))));
  run_until([&] { return answers[1].ended; });
  w.world.run_for(40s);
  send(frame(kHeaders, kEndHeaders | kEndStream, 3, block(request("GET", "/b"))));
  run_until([&] { return answers[3].ended; });
  w.world.run_for(40s);  // 80 s after the first answer, 40 s after the second
  read();
  EXPECT_FALSE(goaway) << "a minute from the second answer, not from the first";
  w.world.run_for(21s);
  read();
  EXPECT_TRUE(goaway);
}

// ------------------------------------------------------------------------------------------ WebSockets

// A WebSocket server over HTTP/1.1 (RFC 6455's handshake, then an echo of every byte), as the pods behind a
// chat Ingress are. It switches only when the key is there, and answers the key's accept (or a wrong one when
// told to, as a broken server would).
class WsEchoServer final : public runtime::StreamHandler {
 public:
  WsEchoServer(runtime::Runtime& rt, net::SocketAddress at) {
    std::error_code error;
    listener_ = rt.listen(
        at, {},
        [this](runtime::StreamConnectionPtr c) {
          conn_ = std::move(c);
          conn_->start(*this);
        },
        error);
  }
  void on_data(runtime::ByteView d) override {
    if (switched) return conn_->write(d);
    head.append(runtime::as_chars(d));
    const std::size_t end = head.find("\r\n\r\n");
    if (end == std::string::npos) return;
    const std::size_t at = head.find("sec-websocket-key: ");
    if (at == std::string::npos) {
      conn_->write(runtime::as_bytes("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"));
      return;
    }
    const std::string key = head.substr(at + 19, head.find("\r\n", at) - at - 19);
    switched = true;
    conn_->write(
        runtime::as_bytes("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                          "Sec-WebSocket-Accept: " +
                          (wrong_accept ? std::string("bm90IHRoZSBrZXk=") : http::websocket_accept(key)) +
                          "\r\nSec-WebSocket-Protocol: chat\r\n\r\n"));
    if (head.size() > end + 4) conn_->write(runtime::as_bytes(head.substr(end + 4)));
  }
  void on_peer_shutdown() override {
    peer_shut = true;
    conn_->shutdown_write();
  }
  void on_closed(std::error_code) override { closed = true; }

  std::string head;
  bool switched = false, wrong_accept = false, peer_shut = false, closed = false;

 private:
  runtime::StreamListenerPtr listener_;
  runtime::StreamConnectionPtr conn_;
};

// An HTTP/2 client opens a WebSocket as an extended CONNECT (RFC 8441), which Chromium and Firefox do once
// the server says SETTINGS_ENABLE_CONNECT_PROTOCOL; the pod behind the proxy speaks HTTP/1.1.
class H2WebSocket : public H2Proxy {
 protected:
  tls::testing::TestCertificate start_proxy() override {
    auto& host = w.world.add_host("chat-1", {*net::IpAddress::parse("10.0.3.1")});
    ws = std::make_unique<WsEchoServer>(host, net::SocketAddress{*net::IpAddress::parse("10.0.3.1"), 7000});
    auto c = tls::testing::make_certificate({"app.example.com"});
    w.start(R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: chat
  namespace: default
  annotations: {haproxy.org/check: "false", haproxy.org/timeout-tunnel: 5s}
spec:
  ingressClassName: haproxy
  tls: [{hosts: [app.example.com], secretName: app-tls}]
  rules:
  - host: app.example.com
    http: {paths: [{path: /chat, pathType: Prefix, backend: {service: {name: chat, port: {number: 80}}}}]}
)",
            {}, tls::testing::secret_yaml("app-tls", c, true, "kubernetes.io/tls") + R"(---
apiVersion: v1
kind: Service
metadata: {name: chat, namespace: default}
spec:
  ports: [{port: 80, targetPort: 7000}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: chat, namespace: default}
subsets:
- addresses: [{ip: 10.0.3.1}]
  ports: [{port: 7000}]
)");
    return c;
  }
  std::vector<std::pair<std::string, std::string>> connect_websocket() {
    return {{":method", "CONNECT"}, {":protocol", "websocket"},        {":scheme", "https"},
            {":path", "/chat"},     {":authority", "app.example.com"}, {"sec-websocket-version", "13"}};
  }
  std::unique_ptr<WsEchoServer> ws;
};

TEST_F(H2WebSocket, TheServerOffersExtendedConnectInItsSettings) {
  run_until([&] { return false; });
  // SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8) = 1 in the server's first SETTINGS.
  EXPECT_TRUE(settings_seen.find(std::string("\x00\x08\x00\x00\x00\x01", 6)) != std::string::npos);
}

TEST_F(H2WebSocket, AnExtendedConnectReachesAnHttp11PodAsAnUpgradeWithAKeyAndTunnelsBothWays) {
  send(frame(kHeaders, kEndHeaders, 1, block(connect_websocket())));
  run_until([&] { return !answers[1].status.empty(); });
  EXPECT_EQ(answers[1].status, "200") << "the pod's 101 is the stream's 200 (RFC 8441 §5)";
  EXPECT_FALSE(answers[1].ended);
  EXPECT_THAT(ws->head, HasSubstr("GET /chat HTTP/1.1\r\n"));
  EXPECT_THAT(ws->head, ::testing::ContainsRegex("[Uu]pgrade: websocket\r\n"));
  EXPECT_THAT(ws->head, HasSubstr("sec-websocket-key: ")) << "made by the proxy: HTTP/2 has none";
  send(frame(kData, 0, 1, "hello over h2"));
  run_until([&] { return answers[1].body == "hello over h2"; });
  EXPECT_EQ(answers[1].body, "hello over h2");
  send(frame(kData, kEndStream, 1, ""));
  run_until([&] { return answers[1].ended; });
  EXPECT_TRUE(ws->peer_shut) << "the client's END_STREAM is the pod's FIN";
  EXPECT_TRUE(answers[1].ended) << "and the pod's FIN the client's END_STREAM";
  EXPECT_FALSE(answers[1].reset);
  EXPECT_FALSE(client->closed) << "the connection carries on";
}

TEST_F(H2WebSocket, APodWhoseAcceptIsNotTheKeysGivesTheStreamA502) {
  ws->wrong_accept = true;
  send(frame(kHeaders, kEndHeaders, 1, block(connect_websocket())));
  run_until([&] { return !answers[1].status.empty(); });
  EXPECT_EQ(answers[1].status, "502") << "as HAProxy: a switch that is no WebSocket handshake";
}

TEST_F(H2WebSocket, AnIdleTunnelEndsAtTimeoutTunnel) {
  send(frame(kHeaders, kEndHeaders, 1, block(connect_websocket())));
  run_until([&] { return !answers[1].status.empty(); });
  ASSERT_EQ(answers[1].status, "200");
  w.world.run_for(4s);
  read();
  EXPECT_FALSE(answers[1].ended || answers[1].reset);
  w.world.run_for(2s);
  read();
  EXPECT_TRUE(answers[1].ended || answers[1].reset) << "timeout-tunnel 5s";
}

// A TLS client of the seed's ingress, connecting when the test starts; it says nothing of its own.
class H2ProxyChoice : public ::testing::Test {
 protected:
  H2ProxyChoice() {
    start_tls_ingress(w);
    tls::ClientSettings s;
    s.server_name = "app.example.com";
    client = std::make_unique<tls::testing::TlsClient>(w.client_host, w.https_address(), s);
  }
  ProxyWorld w;
  std::unique_ptr<tls::testing::TlsClient> client;
};

// A TLS client that agreed on nothing and sends nothing: the session chosen at the deadline times it out,
// as it did before the protocol was chosen by ALPN.
TEST_F(H2ProxyChoice, ASilentTlsConnectionIsTimedOutFromItsAccept) {
  w.world.run_for(4s);
  EXPECT_TRUE(client->connected);
  EXPECT_FALSE(client->closed || client->peer_closed);
  w.world.run_for(2s);
  EXPECT_TRUE(client->closed || client->peer_closed) << "timeout-http-request (5 s) from the accept";
  EXPECT_TRUE(w.proxy->idle());
}

// A TLS client that says close_notify before its first request: the proxy closes its side, and nothing of
// the connection is left (the handler that waited for its protocol included).
TEST_F(H2ProxyChoice, ATlsClientThatLeavesBeforeItsFirstRequestLeavesNothingBehind) {
  ASSERT_TRUE(w.world.run_until([&] { return client->connected; }, 5s));
  client->conn->shutdown_write();
  w.world.run_for(1s);
  EXPECT_TRUE(client->peer_closed || client->closed) << "the proxy closed its side too";
  EXPECT_TRUE(w.proxy->idle());
  EXPECT_EQ(w.proxy->client_connections(), 0u);
}

}  // namespace
}  // namespace metalgate::proxy::testing
