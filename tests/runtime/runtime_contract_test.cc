// One contract, every world: the same tests run against the in-memory runtime and the live Asio runtime.
// (The ns-3 runtime joins this suite when the simulator lands.)
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/runtime/runtime_worlds.h"

namespace metalgate::runtime {
namespace {

using namespace std::chrono_literals;
using testing_worlds::ContractWorld;

// Records what a connection reports.
struct Recorder : StreamHandler {
  bool connected = false, peer_shutdown = false, closed = false, drained = false;
  std::error_code reason;
  std::string data;
  std::function<void(ByteView)> on_bytes;
  void on_connected() override { connected = true; }
  void on_data(ByteView d) override {
    data.append(as_chars(d));
    if (on_bytes) on_bytes(d);
  }
  void on_peer_shutdown() override { peer_shutdown = true; }
  void on_closed(std::error_code r) override {
    closed = true;
    reason = r;
  }
  void on_write_drained() override { drained = true; }
};

struct FrameRecorder : FrameHandler {
  std::vector<ReceivedFrame> frames;
  std::vector<Bytes> payloads;
  std::vector<bool> link_changes;
  void on_frame(const ReceivedFrame& f) override {
    frames.push_back(f);
    payloads.emplace_back(f.payload.begin(), f.payload.end());
  }
  void on_link_change(bool up) override { link_changes.push_back(up); }
};

class RuntimeContract : public ::testing::TestWithParam<testing_worlds::WorldFactory> {
 protected:
  void SetUp() override {
    world_ = GetParam().make();
    if (!world_)
      GTEST_SKIP() << GetParam().unavailable_reason();  // Asio world needs CAP_SYS_ADMIN for its netns
  }
  ContractWorld& w() { return *world_; }

  // A listener on b at `at` (port 0: any), a connection from a to it, and both ends' recorders.
  struct StreamPair {
    StreamListenerPtr listener;
    StreamConnectionPtr server, client;
    Recorder server_rec, client_rec;
    bool echo = false;
  };
  std::unique_ptr<StreamPair> open_pair(net::SocketAddress at, const ConnectOptions& options = {},
                                        bool echo = false) {
    auto p = std::make_unique<StreamPair>();
    p->echo = echo;
    std::error_code ec;
    StreamPair* raw = p.get();
    p->listener = w().b().listen(
        at, {},
        [raw](StreamConnectionPtr c) {
          raw->server = std::move(c);
          if (raw->echo) raw->server_rec.on_bytes = [raw](ByteView d) { raw->server->write(d); };
          raw->server->start(raw->server_rec);
        },
        ec);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) return nullptr;
    p->client = w().a().connect({at.ip, p->listener->local_address().port}, p->client_rec, options);
    bool up = w().run_until([raw] { return raw->client_rec.connected && raw->server; }, 2s);
    EXPECT_TRUE(up);
    return up ? std::move(p) : nullptr;
  }

  std::unique_ptr<ContractWorld> world_;
};

TEST_P(RuntimeContract, OneShotTimerFiresOnceNoEarlierThanAsked) {
  int fired = 0;
  Instant start = w().a().now(), at{};
  auto t = w().a().create_timer([&] {
    ++fired;
    at = w().a().now();
  });
  t->arm(30ms);
  EXPECT_TRUE(t->armed());
  ASSERT_TRUE(w().run_until([&] { return fired > 0; }, 2s));
  w().run_for(60ms);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(t->armed());
  EXPECT_GE(at - start, 30ms);
}

TEST_P(RuntimeContract, PeriodicTimerRepeatsUntilCancelled) {
  int fired = 0;
  std::unique_ptr<Timer> t;
  t = w().a().create_timer([&] {
    if (++fired == 4) t->cancel();
  });
  t->arm_periodic(10ms);
  ASSERT_TRUE(w().run_until([&] { return fired >= 4; }, 2s));
  w().run_for(50ms);
  EXPECT_EQ(fired, 4);
}

TEST_P(RuntimeContract, DestroyedOrRearmedTimerDoesNotFireItsOldSchedule) {
  int fired_a = 0, fired_b = 0;
  auto a = w().a().create_timer([&] { ++fired_a; });
  a->arm(10ms);
  a.reset();
  Instant start = w().a().now(), at{};
  auto b = w().a().create_timer([&] {
    ++fired_b;
    at = w().a().now();
  });
  b->arm(10ms);
  b->arm(40ms);  // replaces the 10 ms schedule
  ASSERT_TRUE(w().run_until([&] { return fired_b > 0; }, 2s));
  w().run_for(30ms);
  EXPECT_EQ(fired_a, 0);
  EXPECT_EQ(fired_b, 1);
  EXPECT_GE(at - start, 40ms);
}

TEST_P(RuntimeContract, PostedTaskRunsAfterTheCurrentCallback) {
  std::vector<int> order;
  auto t = w().a().create_timer([&] {
    w().a().post([&] { order.push_back(2); });
    order.push_back(1);
  });
  t->arm(1ms);
  ASSERT_TRUE(w().run_until([&] { return order.size() == 2; }, 2s));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST_P(RuntimeContract, BackgroundTaskRunsLaterAndSurely) {
  std::vector<std::string> order;
  w().b().post([&] {
    order.push_back("first");
    w().b().post_background([&] { order.push_back("background"); });
    w().b().post([&] { order.push_back("ready"); });
    order.push_back("first ends");
  });
  ASSERT_TRUE(w().run_until([&] { return order.size() == 4; }, 2s));
  EXPECT_EQ(order[0], "first");
  EXPECT_EQ(order[1], "first ends");  // never inside the callback that posted it
  EXPECT_NE(std::find(order.begin(), order.end(), "background"), order.end());
}

TEST_P(RuntimeContract, StreamRoundTripWithAddresses) {
  auto p = open_pair({w().addr_b(), 0}, {.source = w().addr_a()}, /*echo=*/true);
  ASSERT_TRUE(p);
  auto port = p->listener->local_address().port;
  ASSERT_NE(port, 0);
  p->client->write(as_bytes("hello"));
  ASSERT_TRUE(w().run_until([&] { return p->client_rec.data == "hello"; }, 2s));
  EXPECT_EQ(p->client->peer_address(), (net::SocketAddress{w().addr_b(), port}));
  EXPECT_EQ(p->client->local_address().ip, w().addr_a());
  EXPECT_EQ(p->server->peer_address(), p->client->local_address());
  EXPECT_EQ(p->server->local_address(), (net::SocketAddress{w().addr_b(), port}));
  EXPECT_FALSE(p->client_rec.closed);
}

TEST_P(RuntimeContract, ConnectWithoutListenerIsRefused) {
  Recorder rec;
  std::error_code ec;
  // Find a free port by binding and releasing it.
  auto probe = w().b().listen(
      {w().addr_b(), 0}, {}, [](StreamConnectionPtr) {}, ec);
  ASSERT_FALSE(ec);
  auto port = probe->local_address().port;
  probe.reset();
  auto client = w().a().connect({w().addr_b(), port}, rec);
  ASSERT_TRUE(w().run_until([&] { return rec.closed; }, 2s));
  EXPECT_FALSE(rec.connected);
  EXPECT_EQ(rec.reason, std::errc::connection_refused);
}

TEST_P(RuntimeContract, HalfCloseKeepsTheOtherDirectionOpen) {
  auto p = open_pair({w().addr_b(), 0});
  ASSERT_TRUE(p);
  p->client->write(as_bytes("request"));
  p->client->shutdown_write();
  ASSERT_TRUE(w().run_until([&] { return p->server_rec.peer_shutdown; }, 2s));
  EXPECT_EQ(p->server_rec.data, "request");
  p->server->write(as_bytes("response"));
  p->server->close();
  ASSERT_TRUE(w().run_until([&] { return p->client_rec.peer_shutdown; }, 2s));
  EXPECT_EQ(p->client_rec.data, "response");
  EXPECT_FALSE(p->client_rec.closed);
}

TEST_P(RuntimeContract, ResetReachesThePeerAsConnectionReset) {
  auto p = open_pair({w().addr_b(), 0});
  ASSERT_TRUE(p);
  p->client->reset();
  ASSERT_TRUE(w().run_until([&] { return p->server_rec.closed || p->server_rec.peer_shutdown; }, 2s));
  EXPECT_TRUE(p->server_rec.closed);
  EXPECT_EQ(p->server_rec.reason, std::errc::connection_reset);
}

TEST_P(RuntimeContract, LargeTransferArrivesWholeAndInOrder) {
  auto p = open_pair({w().addr_b(), 0});
  ASSERT_TRUE(p);
  std::string payload;
  for (int i = 0; i < 200000; ++i)
    payload += static_cast<char>('a' + (i * 7) % 26);
  for (std::size_t off = 0; off < payload.size(); off += 4096)
    p->client->write(as_bytes(std::string_view(payload).substr(off, 4096)));
  p->client->shutdown_write();
  ASSERT_TRUE(w().run_until([&] { return p->server_rec.peer_shutdown; }, 5s));
  EXPECT_EQ(p->server_rec.data.size(), payload.size());
  EXPECT_TRUE(p->server_rec.data == payload);
  EXPECT_EQ(p->client->write_backlog(), 0u);
}

// Flow control's promise (stream.h): a write that leaves bytes queued is followed by on_write_drained once
// they have all left, so a writer that stopped at its high-water mark is woken.
TEST_P(RuntimeContract, AWriteThatQueuedIsFollowedByDrainedOnceTheQueueIsEmpty) {
  auto p = open_pair({w().addr_b(), 0});
  ASSERT_TRUE(p);
  const std::string big(8 << 20, 'q');  // more than any kernel's or ns-3's socket buffer takes at once
  p->client_rec.drained = false;
  p->client->write(as_bytes(big));
  ASSERT_GT(p->client->write_backlog(), 0u) << "the write must queue for this test to say anything";
  ASSERT_TRUE(w().run_until([&] { return p->client_rec.drained; }, 20s));
  EXPECT_EQ(p->client->write_backlog(), 0u) << "drained means nothing is left queued";
  ASSERT_TRUE(w().run_until([&] { return p->server_rec.data.size() == big.size(); }, 20s));
}

// close() flushes: an owner that closes while its writes are queued (here from inside on_data, while the
// peer is reading, so readiness to read and to write come together) still gets every byte out, then the FIN.
TEST_P(RuntimeContract, ACloseWhileWritesAreQueuedStillSendsThemAllThenTheFin) {
  auto p = open_pair({w().addr_b(), 0});
  ASSERT_TRUE(p);
  const std::string big(8 << 20, 'q');
  p->server->write(as_bytes(big));
  ASSERT_GT(p->server->write_backlog(), 0u) << "the write must queue for this test to say anything";
  p->client_rec.on_bytes = [&, said = false](ByteView) mutable {
    if (!said) p->client->write(as_bytes("bye"));
    said = true;
  };
  p->server_rec.on_bytes = [&](ByteView) { p->server->close(); };
  ASSERT_TRUE(w().run_until([&] { return p->client_rec.peer_shutdown || p->client_rec.closed; }, 20s));
  EXPECT_EQ(p->client_rec.data.size(), big.size());
  EXPECT_TRUE(p->client_rec.peer_shutdown) << "a FIN after the bytes, not a reset";
}

TEST_P(RuntimeContract, SecondListenerOnTheSameAddressIsRefused) {
  std::error_code ec;
  auto first = w().b().listen(
      {w().addr_b(), 0}, {}, [](StreamConnectionPtr) {}, ec);
  ASSERT_FALSE(ec);
  auto second = w().b().listen(
      first->local_address(), {}, [](StreamConnectionPtr) {}, ec);
  EXPECT_EQ(second, nullptr);
  EXPECT_EQ(ec, std::errc::address_in_use);
}

TEST_P(RuntimeContract, DatagramsCarrySourceAndAllowAReply) {
  std::error_code ec;
  std::string got_at_b, got_at_a;
  net::SocketAddress from_seen;
  DatagramSocketPtr b_sock;
  b_sock = w().b().open_datagram(
      {w().addr_b(), 0},
      [&](const net::SocketAddress& from, const net::SocketAddress&, ByteView p) {
        got_at_b = std::string(as_chars(p));
        from_seen = from;
        b_sock->send_to(from, as_bytes("pong"));
      },
      ec);
  ASSERT_FALSE(ec);
  auto a_sock = w().a().open_datagram(
      {w().addr_a(), 0},
      [&](const net::SocketAddress&, const net::SocketAddress&, ByteView p) {
        got_at_a = std::string(as_chars(p));
      },
      ec);
  ASSERT_FALSE(ec);
  a_sock->send_to(b_sock->local_address(), as_bytes("ping"));
  ASSERT_TRUE(w().run_until([&] { return !got_at_a.empty(); }, 2s));
  EXPECT_EQ(got_at_b, "ping");
  EXPECT_EQ(got_at_a, "pong");
  EXPECT_EQ(from_seen, a_sock->local_address());
}

constexpr std::uint16_t kTestEtherType = 0x88b5;  // IEEE 802 local experimental

TEST_P(RuntimeContract, FramesReachTheSegmentWithSourceAndAddressing) {
  if (!w().frames_supported()) GTEST_SKIP() << "frame ports need CAP_NET_RAW in this world";
  FrameRecorder ra, rb;
  std::error_code ec;
  auto pa = w().a().open_frame_port(w().interface_a(), {kTestEtherType}, ra, ec);
  ASSERT_FALSE(ec) << ec.message();
  auto pb = w().b().open_frame_port(w().interface_b(), {kTestEtherType}, rb, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(pa->link_up());
  EXPECT_FALSE(pa->mac().is_zero());
  EXPECT_NE(pa->mac(), pb->mac());

  Bytes hello{'h', 'e', 'l', 'l', 'o'};
  pa->send(net::MacAddress::broadcast(), kTestEtherType, hello);
  ASSERT_TRUE(w().run_until([&] { return !rb.frames.empty(); }, 2s));
  EXPECT_EQ(rb.frames[0].source, pa->mac());
  EXPECT_EQ(rb.frames[0].ethertype, kTestEtherType);
  EXPECT_EQ(rb.frames[0].addressing, FrameAddressing::kBroadcast);
  EXPECT_EQ(rb.frames[0].ifindex, pb->ifindex());
  ASSERT_GE(rb.payloads[0].size(), hello.size());  // Ethernet may pad short payloads
  EXPECT_TRUE(std::equal(hello.begin(), hello.end(), rb.payloads[0].begin()));

  pa->send(pb->mac(), kTestEtherType, hello);
  ASSERT_TRUE(w().run_until([&] { return rb.frames.size() >= 2; }, 2s));
  EXPECT_EQ(rb.frames[1].addressing, FrameAddressing::kToUs);
  w().run_for(20ms);
  EXPECT_TRUE(ra.frames.empty()) << "a port must not hear its own frames";
}

TEST_P(RuntimeContract, FramesOfOtherEtherTypesAreNotDelivered) {
  if (!w().frames_supported()) GTEST_SKIP() << "frame ports need CAP_NET_RAW in this world";
  FrameRecorder ra, rb;
  std::error_code ec;
  auto pa = w().a().open_frame_port(w().interface_a(), {kTestEtherType}, ra, ec);
  ASSERT_FALSE(ec);
  auto pb = w().b().open_frame_port(w().interface_b(), {kTestEtherType}, rb, ec);
  ASSERT_FALSE(ec);
  pa->send(net::MacAddress::broadcast(), 0x88b6, Bytes{1, 2, 3});
  pa->send(net::MacAddress::broadcast(), kTestEtherType, Bytes{4, 5, 6});
  ASSERT_TRUE(w().run_until([&] { return !rb.frames.empty(); }, 2s));
  w().run_for(20ms);
  ASSERT_EQ(rb.frames.size(), 1u);
  EXPECT_EQ(rb.payloads[0][0], 4);
}

TEST_P(RuntimeContract, LinkDownAndUpAreReported) {
  if (!w().frames_supported()) GTEST_SKIP() << "frame ports need CAP_NET_RAW in this world";
  if (!w().link_changes_supported()) GTEST_SKIP() << "this world's links have no up/down state";
  FrameRecorder rb;
  std::error_code ec;
  auto pb = w().b().open_frame_port(w().interface_b(), {kTestEtherType}, rb, ec);
  ASSERT_FALSE(ec);
  w().set_link_b(false);
  ASSERT_TRUE(w().run_until([&] { return !rb.link_changes.empty(); }, 2s));
  EXPECT_FALSE(rb.link_changes.back());
  EXPECT_FALSE(pb->link_up());
  w().set_link_b(true);
  ASSERT_TRUE(w().run_until([&] { return rb.link_changes.size() >= 2 && rb.link_changes.back(); }, 5s));
  EXPECT_TRUE(pb->link_up());
}

TEST_P(RuntimeContract, LocalServiceAddressAcceptsConnectionsUntilRemoved) {
  if (!w().local_addresses_supported()) GTEST_SKIP() << "service addresses need CAP_NET_ADMIN in this world";
  auto vip = w().service_address();
  ASSERT_FALSE(w().b().add_local_address(vip));
  EXPECT_TRUE(w().b().add_local_address(vip)) << "adding twice must fail";
  auto p = open_pair({vip, 0});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->server->local_address().ip, vip);
  p.reset();
  EXPECT_FALSE(w().b().remove_local_address(vip));
  EXPECT_TRUE(w().b().remove_local_address(vip)) << "removing twice must fail";
}

TEST_P(RuntimeContract, RandomnessIsReproducibleFromTheSeed) {
  SeededRandom a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    (void)c;
  }
  EXPECT_NE(SeededRandom(42).next_u64(), SeededRandom(43).next_u64());
  auto& r = w().a().random();
  for (int i = 0; i < 1000; ++i)
    EXPECT_LT(r.below(7), 7u);
}

TEST_P(RuntimeContract, LogLinesCarryTheRuntimeClock) {
  std::vector<std::string> lines;
  w().a().logger().set_sink([&](const LogRecord& r) { lines.push_back(format_log_line(r)); });
  w().a().logger().log(LogLevel::kInfo, "test", "hello", {{"k", "v w"}});
  w().a().logger().log(LogLevel::kDebug, "test", "hidden");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("info test hello"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("k=\"v w\""), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].rfind(format_instant(w().a().now()).substr(0, 3), 0), 0u) << lines[0];
}

INSTANTIATE_TEST_SUITE_P(InMemory, RuntimeContract, ::testing::Values(testing_worlds::memory_world_factory()),
                         [](const auto&) { return "InMemory"; });
INSTANTIATE_TEST_SUITE_P(LiveAsio, RuntimeContract, ::testing::Values(testing_worlds::asio_world_factory()),
                         [](const auto&) { return "LiveAsio"; });
#ifdef METALGATE_HAVE_NS3
INSTANTIATE_TEST_SUITE_P(Ns3, RuntimeContract, ::testing::Values(testing_worlds::ns3_world_factory()),
                         [](const auto&) { return "Ns3"; });
#endif

}  // namespace
}  // namespace metalgate::runtime
