// The live world's stream reactor: readiness reaches the descriptor's owner from Asio's loop, edge by edge,
// and never reaches an owner that has forgotten its descriptor, even when the number is reused at once.
#include "engine/runtime/asio/stream_reactor.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <chrono>
#include <cstdint>
#include <vector>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace metalgate::runtime::asio_live {
namespace {

struct Owner {
  std::vector<std::uint32_t> events;
};

void record(void* owner, std::uint32_t events) {
  static_cast<Owner*>(owner)->events.push_back(events);
}

struct SocketPair {
  int a = -1, b = -1;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    a = fds[0];
    b = fds[1];
  }
  ~SocketPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
};

class LiveStreamReactor : public ::testing::Test {
 protected:
  void TearDown() override { reactor->stop(); }
  void run_briefly() {
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
  }
  boost::asio::io_context io;
  boost::intrusive_ptr<StreamReactor> reactor{new StreamReactor(io, &record)};
};

TEST_F(LiveStreamReactor, ReportsReadinessOnceAtFirstThenAtEachNewEdge) {
  SocketPair pair;
  Owner owner;
  ASSERT_FALSE(reactor->watch(pair.a, &owner));
  run_briefly();
  ASSERT_EQ(owner.events.size(), 1u);  // writable from the start
  EXPECT_TRUE(owner.events[0] & EPOLLOUT);
  EXPECT_FALSE(owner.events[0] & EPOLLIN);
  run_briefly();
  EXPECT_EQ(owner.events.size(), 1u);  // edge-triggered: nothing new, nothing reported
  ASSERT_EQ(::write(pair.b, "x", 1), 1);
  run_briefly();
  ASSERT_EQ(owner.events.size(), 2u);
  EXPECT_TRUE(owner.events[1] & EPOLLIN);
  ::shutdown(pair.b, SHUT_WR);
  run_briefly();
  ASSERT_EQ(owner.events.size(), 3u);
  EXPECT_TRUE(owner.events[2] & EPOLLRDHUP);
}

TEST_F(LiveStreamReactor, AForgottenDescriptorIsNotReportedEvenWhenItsNumberIsReusedAtOnce) {
  SocketPair first;
  Owner gone, next;
  ASSERT_FALSE(reactor->watch(first.a, &gone));
  run_briefly();
  gone.events.clear();
  // Readable now; forgotten and closed before the loop gathers it, and its number given to a new socket
  // that has nothing to read.
  ASSERT_EQ(::write(first.b, "x", 1), 1);
  const int number = first.a;
  reactor->forget(first.a);
  ::close(first.a);
  first.a = -1;
  SocketPair second;
  ASSERT_EQ(second.a, number);
  ASSERT_FALSE(reactor->watch(second.a, &next));
  run_briefly();
  EXPECT_TRUE(gone.events.empty());
  ASSERT_EQ(next.events.size(), 1u);
  EXPECT_FALSE(next.events[0] & EPOLLIN);
}

TEST_F(LiveStreamReactor, NothingIsReportedAfterStop) {
  SocketPair pair;
  Owner owner;
  ASSERT_FALSE(reactor->watch(pair.a, &owner));
  reactor->stop();
  ASSERT_EQ(::write(pair.b, "x", 1), 1);
  run_briefly();
  EXPECT_TRUE(owner.events.empty());
  EXPECT_TRUE(reactor->watch(pair.b, &owner));  // refused
}

TEST_F(LiveStreamReactor, ManyReadyAtOnceAreAllReported) {
  std::vector<SocketPair> pairs(300);  // more than the four batches of 64 one pass gathers
  std::vector<Owner> owners(pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i)
    ASSERT_FALSE(reactor->watch(pairs[i].a, &owners[i]));
  run_briefly();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    ASSERT_EQ(owners[i].events.size(), 1u) << i;
    EXPECT_TRUE(owners[i].events[0] & EPOLLOUT);
  }
}

}  // namespace
}  // namespace metalgate::runtime::asio_live
