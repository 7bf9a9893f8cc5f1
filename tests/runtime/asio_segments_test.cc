// The live runtime's TCP hints, checked on the wire: what the peer's kernel counted in (TCP_INFO) on
// loopback. Each case runs with and without its hint, so the test shows the hint is what makes the
// difference.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/runtime/asio/asio_runtime.h"
#include "tests/runtime/tcp_counters.h"

namespace metalgate::runtime::asio_live {
namespace {

using namespace std::chrono_literals;

struct Server : StreamHandler {
  StreamConnectionPtr connection;
  std::string data;
  std::function<void(StreamConnection&)> on_request;
  void on_data(ByteView d) override {
    data.append(as_chars(d));
    if (on_request) on_request(*connection);
  }
  void on_peer_shutdown() override {}
  void on_closed(std::error_code) override {}
};

// A plain blocking client socket (the peer whose counters we read) and the runtime's end of it.
class LiveSegments : public ::testing::Test {
 protected:
  void start(const ListenOptions& options) {
    std::error_code ec;
    listener_ = rt_.listen(
        {net::IpAddress::parse("127.0.0.1").value(), 0}, options,
        [this](StreamConnectionPtr c) {
          server_.connection = std::move(c);
          server_.connection->start(server_);
        },
        ec);
    ASSERT_FALSE(ec) << ec.message();
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd_, 0);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(listener_->local_address().port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to), 0) << std::strerror(errno);
    run_until([&] { return server_.connection != nullptr; });
    ASSERT_TRUE(server_.connection);
  }
  // Each test runs with and without its hint: one connection per round.
  void end_round() {
    ::close(fd_);
    fd_ = -1;
    server_ = Server{};
    listener_.reset();
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
  }

  void run_until(const std::function<bool()>& done) {
    const auto limit = std::chrono::steady_clock::now() + 2s;
    while (!done() && std::chrono::steady_clock::now() < limit) {
      io_.run_for(1ms);
      io_.restart();
    }
  }
  // Reads until `n` bytes or end of stream; the loop runs meanwhile (the server may still be writing).
  std::string read_client(std::size_t n, bool until_eof = false) {
    std::string got;
    const auto limit = std::chrono::steady_clock::now() + 2s;
    while ((until_eof || got.size() < n) && std::chrono::steady_clock::now() < limit) {
      io_.run_for(1ms);
      io_.restart();
      char buf[256];
      ssize_t r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (r == 0) break;
      if (r > 0) got.append(buf, static_cast<std::size_t>(r));
    }
    return got;
  }
  metalgate::testing::TcpCounters client_info() const { return metalgate::testing::tcp_counters(fd_); }
  void client_send(std::string_view bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), 0), ssize_t(bytes.size()));
  }

  boost::asio::io_context io_;
  AsioRuntime rt_{io_};
  StreamListenerPtr listener_;
  Server server_;
  int fd_ = -1;
};

TEST_F(LiveSegments, WriteMoreLetsTheRestOfABodyShareItsSegment) {
  for (bool hint : {false, true}) {
    SCOPED_TRACE(hint ? "write_more" : "write");
    start({});
    const auto before = client_info().data_segs_in;
    StreamConnection& server = *server_.connection;
    if (hint)
      server.write_more(as_bytes("HEAD|"));
    else
      server.write(as_bytes("HEAD|"));
    rt_.post([&server] { server.write(as_bytes("BODY")); });  // a later turn of the loop: a second syscall
    EXPECT_EQ(read_client(9), "HEAD|BODY");
    EXPECT_EQ(client_info().data_segs_in - before, hint ? 1u : 2u);
    end_round();
  }
}

TEST_F(LiveSegments, WriteMoreThenCloseSendsTheLastBytesWithTheFin) {
  for (bool hint : {false, true}) {
    SCOPED_TRACE(hint ? "write_more" : "write");
    start({});
    const auto before = client_info().segs_in;
    if (hint)
      server_.connection->write_more(as_bytes("bye"));
    else
      server_.connection->write(as_bytes("bye"));
    server_.connection->close();
    EXPECT_EQ(read_client(0, /*until_eof=*/true), "bye");
    // Data and FIN: one segment with the hint, two without.
    EXPECT_EQ(client_info().segs_in - before, hint ? 1u : 2u);
    end_round();
  }
}

TEST_F(LiveSegments, DelayedAckListenerAcknowledgesARequestWithItsAnswer) {
  for (bool delay : {false, true}) {
    SCOPED_TRACE(delay ? "delay_ack" : "quick ack");
    ListenOptions options;
    options.delay_ack = delay;
    start(options);
    server_.on_request = [](StreamConnection& c) { c.write(as_bytes("pong")); };
    const auto before = client_info().segs_in;
    client_send("ping");
    EXPECT_EQ(read_client(4), "pong");
    // The answer alone with the delayed ACK; a bare ACK first without it.
    EXPECT_EQ(client_info().segs_in - before, delay ? 1u : 2u);
    end_round();
  }
}

// Half a request on a delayed-ACK listener: the receiver asks for a prompt ACK, and it goes out at once, not
// when the delayed-ACK timer (40 ms or more on Linux) fires. A client holding its next bytes for that ACK
// (Nagle) is not kept waiting.
TEST_F(LiveSegments, AckPromptlyAcknowledgesAtOnceOnADelayedAckListener) {
  ListenOptions options;
  options.delay_ack = true;
  start(options);
  server_.on_request = [](StreamConnection& c) { c.ack_promptly(); };
  const auto before = client_info().segs_in;
  client_send("GET / HTTP/1.1\r\n");  // half a head
  run_until([&] { return !server_.data.empty(); });
  ASSERT_FALSE(server_.data.empty());
  const auto asked = std::chrono::steady_clock::now();
  while (client_info().segs_in == before && std::chrono::steady_clock::now() - asked < 1s)
    std::this_thread::yield();
  EXPECT_EQ(client_info().segs_in - before, 1u);  // the bare ACK
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 20ms);
}

// A plain listening socket on loopback (an origin the runtime connects to); sets `port`.
int plain_listener(std::uint16_t& port) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof at;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 ||
      ::listen(listener, 4) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&at), &len) != 0)
    return -1;
  port = ntohs(at.sin_port);
  return listener;
}

struct Client : StreamHandler {
  StreamConnection* connection = nullptr;
  void on_connected() override { connection->write(as_bytes("GET")); }
  void on_data(ByteView) override {}
  void on_peer_shutdown() override {}
  void on_closed(std::error_code) override {}
};

TEST_F(LiveSegments, DelayedAckConnectSendsTheHandshakeAckWithTheFirstBytes) {
  for (bool delay : {false, true}) {
    SCOPED_TRACE(delay ? "delay_ack" : "quick ack");
    std::uint16_t port = 0;
    int listener = plain_listener(port);
    ASSERT_GE(listener, 0);
    Client client;
    ConnectOptions options;
    options.delay_ack = delay;
    auto connection = rt_.connect({net::IpAddress::parse("127.0.0.1").value(), port}, client, options);
    client.connection = connection.get();
    std::string got;
    int peer = -1;
    const auto limit = std::chrono::steady_clock::now() + 2s;
    while (got.size() < 3 && std::chrono::steady_clock::now() < limit) {
      io_.run_for(1ms);
      io_.restart();
      if (peer < 0) peer = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
      char buf[16];
      ssize_t r = peer >= 0 ? ::recv(peer, buf, sizeof buf, 0) : -1;
      if (r > 0) got.append(buf, static_cast<std::size_t>(r));
    }
    EXPECT_EQ(got, "GET");
    // SYN and the request (carrying the handshake's ACK), or SYN, a bare ACK and the request.
    EXPECT_EQ(metalgate::testing::tcp_counters(peer).segs_in, delay ? 2u : 3u);
    if (peer >= 0) ::close(peer);
    ::close(listener);
  }
}

// The runtime's connection to an origin, forwarding to the client as a TCP service does: the origin's end of
// stream is passed on at once.
struct ForwardingOrigin : StreamHandler {
  StreamConnection* client = nullptr;
  bool connected = false;
  void on_connected() override { connected = true; }
  void on_data(ByteView) override {}
  void on_peer_shutdown() override { client->shutdown_write(); }
  void on_closed(std::error_code) override {}
};

// A server that answers and closes at once (the usual end of a short exchange through a TCP service): its
// answer and its FIN reach the client in one segment, so the client wakes once, as behind HAProxy.
TEST_F(LiveSegments, ForwardedAnswerAndTheServersCloseLeaveInOneSegment) {
  start({});
  std::uint16_t port = 0;
  int listener = plain_listener(port);
  ASSERT_GE(listener, 0);
  ForwardingOrigin origin;
  origin.client = server_.connection.get();
  auto to_origin = rt_.connect({net::IpAddress::parse("127.0.0.1").value(), port}, origin, {});
  run_until([&] { return origin.connected; });
  ASSERT_TRUE(origin.connected);
  int peer = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(peer, 0);
  to_origin->forward_to(server_.connection.get());
  const auto before = client_info().segs_in;
  // Both the answer and the FIN are in the runtime's receive queue before its loop next runs.
  ASSERT_EQ(::send(peer, "answer", 6, 0), 6);
  ::shutdown(peer, SHUT_WR);
  EXPECT_EQ(read_client(0, /*until_eof=*/true), "answer");
  EXPECT_EQ(client_info().segs_in - before, 1u);  // data and FIN together
  ::close(peer);
  ::close(listener);
}

}  // namespace
}  // namespace metalgate::runtime::asio_live
