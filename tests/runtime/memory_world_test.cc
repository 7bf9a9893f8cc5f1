// What the in-memory world promises beyond the shared contract: faults and determinism.
#include <gtest/gtest.h>

#include "engine/runtime/memory/memory_world.h"

namespace metalgate::runtime::memory {
namespace {

using namespace std::chrono_literals;
net::IpAddress ip(const char* s) {
  return *net::IpAddress::parse(s);
}

struct Sink : StreamHandler {
  std::string data;
  bool connected = false, closed = false;
  std::error_code reason;
  void on_connected() override { connected = true; }
  void on_data(ByteView d) override { data.append(as_chars(d)); }
  void on_peer_shutdown() override {}
  void on_closed(std::error_code r) override {
    closed = true;
    reason = r;
  }
};

class MemoryWorldTest : public ::testing::Test {
 protected:
  MemoryWorld world{3};
  MemoryHost& a = world.add_host("a", {ip("10.0.0.1")});
  MemoryHost& b = world.add_host("b", {ip("10.0.0.2")});
};

TEST_F(MemoryWorldTest, StreamBytesWrittenDuringAPartitionArriveAfterItHeals) {
  StreamConnectionPtr server;
  Sink server_sink, client_sink;
  std::error_code ec;
  auto l = b.listen(
      {ip("10.0.0.2"), 80}, {},
      [&](StreamConnectionPtr c) {
        server = std::move(c);
        server->start(server_sink);
      },
      ec);
  auto c = a.connect({ip("10.0.0.2"), 80}, client_sink);
  ASSERT_TRUE(world.run_until([&] { return client_sink.connected; }, 1s));
  world.partition({{"a"}, {"b"}});
  c->write(as_bytes("queued"));
  world.run_for(2s);
  EXPECT_EQ(server_sink.data, "");
  world.heal();
  ASSERT_TRUE(world.run_until([&] { return server_sink.data == "queued"; }, 1s));
}

TEST_F(MemoryWorldTest, ConnectAcrossAPartitionTimesOutLikeLinux) {
  std::error_code ec;
  auto l = b.listen(
      {ip("10.0.0.2"), 80}, {}, [](StreamConnectionPtr) {}, ec);
  world.partition({{"a"}, {"b"}});
  Sink s;
  Instant start = world.now();
  auto c = a.connect({ip("10.0.0.2"), 80}, s);
  ASSERT_TRUE(world.run_until([&] { return s.closed; }, 120s));
  EXPECT_EQ(s.reason, std::errc::timed_out);
  EXPECT_GE(world.now() - start, 31s);  // retries after 1, 2, 4, 8, 16 s
}

TEST_F(MemoryWorldTest, DatagramsAcrossAPartitionAreDropped) {
  int got = 0;
  std::error_code ec;
  auto sb = b.open_datagram(
      {ip("10.0.0.2"), 53}, [&](auto&, auto&, ByteView) { ++got; }, ec);
  auto sa = a.open_datagram(
      {ip("10.0.0.1"), 0}, [](auto&, auto&, ByteView) {}, ec);
  world.partition({{"a"}, {"b"}});
  sa->send_to({ip("10.0.0.2"), 53}, as_bytes("x"));
  world.run_for(1s);
  EXPECT_EQ(got, 0);
  world.heal();
  sa->send_to({ip("10.0.0.2"), 53}, as_bytes("x"));
  world.run_for(1s);
  EXPECT_EQ(got, 1);
}

TEST_F(MemoryWorldTest, PathLatencyDelaysDelivery) {
  world.set_conditions("a", "b", {.latency = 10ms, .loss = 0});
  Instant sent{}, received{};
  std::error_code ec;
  auto sb = b.open_datagram(
      {ip("10.0.0.2"), 53}, [&](auto&, auto&, ByteView) { received = world.now(); }, ec);
  auto sa = a.open_datagram(
      {ip("10.0.0.1"), 0}, [](auto&, auto&, ByteView) {}, ec);
  sent = world.now();
  sa->send_to({ip("10.0.0.2"), 53}, as_bytes("x"));
  world.run_for(1s);
  EXPECT_EQ(received - sent, 10ms);
}

// Loss draws from the world's seed: the same seed loses the same datagrams.
std::vector<int> delivered_pattern(std::uint64_t seed) {
  MemoryWorld w(seed);
  auto& a = w.add_host("a", {ip("10.0.0.1")});
  auto& b = w.add_host("b", {ip("10.0.0.2")});
  w.set_default_conditions({.latency = 1ms, .loss = 0.3});
  std::vector<int> got;
  std::error_code ec;
  auto sb = b.open_datagram(
      {ip("10.0.0.2"), 53}, [&](auto&, auto&, ByteView p) { got.push_back(p[0]); }, ec);
  auto sa = a.open_datagram(
      {ip("10.0.0.1"), 0}, [](auto&, auto&, ByteView) {}, ec);
  for (int i = 0; i < 100; ++i) {
    std::uint8_t v = static_cast<std::uint8_t>(i);
    sa->send_to({ip("10.0.0.2"), 53}, ByteView(&v, 1));
  }
  w.run_for(1s);
  return got;
}

TEST(MemoryWorldDeterminism, TheSameSeedLosesTheSameDatagrams) {
  auto first = delivered_pattern(11), again = delivered_pattern(11), other = delivered_pattern(12);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
  EXPECT_GT(first.size(), 50u);
  EXPECT_LT(first.size(), 90u);
}

TEST_F(MemoryWorldTest, SharedAddressGoesToTheSteeredHolder) {
  auto vip = ip("10.0.0.100");
  ASSERT_FALSE(a.add_local_address(vip));
  ASSERT_FALSE(b.add_local_address(vip));
  auto& c = world.add_host("c", {ip("10.0.0.3")});
  std::string at;
  std::error_code ec;
  auto sa = a.open_datagram(
      {vip, 53}, [&](auto&, auto&, ByteView) { at = "a"; }, ec);
  auto sb = b.open_datagram(
      {vip, 53}, [&](auto&, auto&, ByteView) { at = "b"; }, ec);
  auto sc = c.open_datagram(
      {ip("10.0.0.3"), 0}, [](auto&, auto&, ByteView) {}, ec);
  sc->send_to({vip, 53}, as_bytes("q"));
  world.run_for(10ms);
  EXPECT_EQ(at, "a");  // first holder by default
  world.steer(vip, "b");
  sc->send_to({vip, 53}, as_bytes("q"));
  world.run_for(10ms);
  EXPECT_EQ(at, "b");
}

TEST_F(MemoryWorldTest, FramesDoNotCrossALinkThatIsDown) {
  struct F : FrameHandler {
    int frames = 0;
    void on_frame(const ReceivedFrame&) override { ++frames; }
    void on_link_change(bool) override {}
  } fa, fb;
  std::error_code ec;
  auto pa = a.open_frame_port("eth0", {0x0806}, fa, ec);
  auto pb = b.open_frame_port("eth0", {0x0806}, fb, ec);
  world.set_link_up("b", "eth0", false);
  pa->send(net::MacAddress::broadcast(), 0x0806, Bytes(28, 0));
  world.run_for(10ms);
  EXPECT_EQ(fb.frames, 0);
  world.set_link_up("b", "eth0", true);
  pa->send(net::MacAddress::broadcast(), 0x0806, Bytes(28, 0));
  world.run_for(10ms);
  EXPECT_EQ(fb.frames, 1);
  EXPECT_EQ(fa.frames, 0);
}

TEST_F(MemoryWorldTest, FramesOnAnotherSegmentAreNotHeard) {
  auto& other = world.add_host("other", {ip("10.1.0.1")}, "other-lan");
  struct F : FrameHandler {
    int frames = 0;
    void on_frame(const ReceivedFrame&) override { ++frames; }
    void on_link_change(bool) override {}
  } fa, fo;
  std::error_code ec;
  auto pa = a.open_frame_port("eth0", {0x0806}, fa, ec);
  auto po = other.open_frame_port("eth0", {0x0806}, fo, ec);
  pa->send(net::MacAddress::broadcast(), 0x0806, Bytes(28, 0));
  world.run_for(10ms);
  EXPECT_EQ(fo.frames, 0);
}

TEST_F(MemoryWorldTest, UnknownInterfaceIsAnError) {
  struct F : FrameHandler {
    void on_frame(const ReceivedFrame&) override {}
    void on_link_change(bool) override {}
  } f;
  std::error_code ec;
  auto p = a.open_frame_port("eth9", {0x0806}, f, ec);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(ec, std::errc::no_such_device);
}

}  // namespace
}  // namespace metalgate::runtime::memory
