// The TLS stream on its own, in the in-memory world: connections of one thread share OpenSSL's error queue,
// and what fails on one must not end another.
#include "engine/tls/tls_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <utility>

#include "engine/runtime/memory/memory_world.h"
#include "tests/tls/test_certificates.h"
#include "tests/tls/tls_pod.h"

namespace metalgate::tls::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// OpenSSL's SSL_get_error reads the thread's error queue: an error left there by one connection (here a
// write after its own close_notify, which OpenSSL refuses) was read by the next connection to wait for
// bytes as its own, and that connection was ended ("protocol is shutdown"). Every loop of a live proxy is
// one thread for all its connections.
TEST(TlsStream, AWriteRefusedOnOneConnectionDoesNotEndAnotherOfTheSameThread) {
  runtime::memory::MemoryWorld world;
  const auto pod_ip = *net::IpAddress::parse("10.0.1.1");
  auto& pod_host = world.add_host("pod", {pod_ip});
  auto& client_host = world.add_host("client", {*net::IpAddress::parse("10.0.0.100")});
  auto cert = make_certificate({"pod.example"});
  TlsPod pod(pod_host, {pod_ip, 8443}, "pod", cert);
  ClientSettings settings;
  settings.server_name = "pod.example";
  settings.ca_pem = cert.certificate_pem;
  TlsClient a(client_host, {pod_ip, 8443}, settings);
  TlsClient b(client_host, {pod_ip, 8443}, settings);
  ASSERT_TRUE(world.run_until([&] { return a.connected && b.connected; }, 5s));
  a.conn->shutdown_write();  // close_notify, which the pod takes as the end of a's requests
  world.run_for(100ms);
  a.conn->write(runtime::as_bytes("too late"));  // refused by OpenSSL
  // Half a request: the pod reads it and waits for more (asking OpenSSL why it stopped), then the rest.
  b.conn->write(runtime::as_bytes("GET /b HTTP/1.1\r\n"));
  world.run_for(100ms);
  b.conn->write(runtime::as_bytes("Host: pod.example\r\n\r\n"));
  world.run_until([&] { return b.received.find('\n') != std::string::npos || b.closed; }, 5s);
  EXPECT_THAT(b.received, HasSubstr("tls pod GET /b HTTP/1.1")) << "b closed: " << b.closed;
  EXPECT_EQ(pod.handshakes_failed, 0) << "no connection of the pod failed";
  EXPECT_EQ(b.failure, "");
}

// The proxy chooses a TLS connection's session by ALPN when the first plaintext arrives: the chooser, its
// first handler, starts the stream again with the session from inside on_data and hands it that chunk.
// Everything after goes to the session alone, straight from the stream.
TEST(TlsStream, StartedAgainFromItsHandlerItHandsWhatFollowsToTheNewHandler) {
  struct Recorder final : runtime::StreamHandler {
    std::string got;
    int calls = 0;
    std::function<void(runtime::ByteView)> first;  // the chooser's part
    void on_data(runtime::ByteView d) override {
      ++calls;
      if (first) return std::exchange(first, nullptr)(d);
      got.append(runtime::as_chars(d));
    }
    void on_peer_shutdown() override {}
    void on_closed(std::error_code) override {}
  };
  runtime::memory::MemoryWorld world;
  const auto pod_ip = *net::IpAddress::parse("10.0.1.1");
  auto& pod_host = world.add_host("pod", {pod_ip});
  auto& client_host = world.add_host("client", {*net::IpAddress::parse("10.0.0.100")});
  auto cert = make_certificate({"pod.example"});
  ServerSettings server;
  server.certificates.push_back({{}, cert.certificate_pem, cert.private_key_pem, "pod"});
  auto ctx = ServerContext::create(server);
  ASSERT_TRUE(ctx) << ctx.error();
  Recorder chooser, session;
  runtime::StreamConnectionPtr tls;
  std::error_code ec;
  auto listener = pod_host.listen(
      {pod_ip, 8443}, {},
      [&](runtime::StreamConnectionPtr raw) {
        tls = (*ctx)->wrap(pod_host, std::move(raw), nullptr);
        tls->start(chooser);
      },
      ec);
  ASSERT_FALSE(ec);
  chooser.first = [&](runtime::ByteView d) {
    tls->start(session);
    session.on_data(d);
  };
  ClientSettings settings;
  settings.server_name = "pod.example";
  settings.ca_pem = cert.certificate_pem;
  TlsClient client(client_host, {pod_ip, 8443}, settings);
  ASSERT_TRUE(world.run_until([&] { return client.connected; }, 5s));
  client.conn->write(runtime::as_bytes("first"));
  world.run_for(100ms);
  client.conn->write(runtime::as_bytes(" then more"));
  world.run_for(100ms);
  EXPECT_EQ(chooser.calls, 1);
  EXPECT_EQ(session.got, "first then more");
  EXPECT_EQ(session.calls, 2);
}

}  // namespace
}  // namespace metalgate::tls::testing
