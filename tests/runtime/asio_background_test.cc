// The live loop's background lane: heavy work (TLS key exchanges) waits while other work is ready, and is
// never starved by it.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>
#include <vector>

#include "engine/runtime/asio/asio_runtime.h"

namespace metalgate::runtime::asio_live {
namespace {

TEST(AsioBackgroundLane, ReadyWorkGoesFirst) {
  boost::asio::io_context io;
  AsioRuntime rt(io);
  std::vector<std::string> order;
  rt.post([&] {
    order.push_back("first");
    rt.post_background([&] {
      order.push_back("background");
      io.stop();
    });
    for (int i = 0; i < 3; ++i)
      rt.post([&] { order.push_back("ready"); });
  });
  rt.run();
  EXPECT_EQ(order, (std::vector<std::string>{"first", "ready", "ready", "ready", "background"}));
}

TEST(AsioBackgroundLane, AnEndlessStreamOfReadyWorkDoesNotStarveIt) {
  boost::asio::io_context io;
  AsioRuntime rt(io);
  int steps = 0, background_at = -1;
  std::function<void()> step = [&] {
    if (++steps < 1000)
      rt.post(step);
    else
      io.stop();
  };
  rt.post([&] {
    rt.post_background([&] { background_at = steps; });
    step();
  });
  rt.run();
  EXPECT_EQ(steps, 1000);
  ASSERT_GE(background_at, 0);
  EXPECT_LE(background_at, 70);  // after one bounded pass over ready work
}

}  // namespace
}  // namespace metalgate::runtime::asio_live
