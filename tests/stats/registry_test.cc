// The registry hands each loop its own blocks by name, the same ones again after a reload, and every loop's
// to a reader; the counters keep one writer's counts and HAProxy's sliding averages.
#include "engine/stats/registry.h"

#include <gtest/gtest.h>

namespace metalgate::stats {
namespace {

TEST(StatsRegistry, AProxyStartedAgainInTheSameLoopGetsTheSameBlocks) {
  Registry r;
  FrontendCounters& first = r.frontend(0, "http");
  first.http.requests.add(3);
  EXPECT_EQ(&r.frontend(0, "http"), &first);
  EXPECT_EQ(r.frontend(0, "http").http.requests.get(), 3u);
  EXPECT_EQ(&r.server(0, "b", "s1"), &r.server(0, "b", "s1"));
  EXPECT_NE(&r.server(0, "b", "s1"), &r.server(0, "b", "s2"));
}

TEST(StatsRegistry, EachLoopHasItsOwnBlockAndAReaderSeesThemAll) {
  Registry r;
  r.backend(0, "web").http.requests.add(2);
  r.backend(1, "web").http.requests.add(5);
  r.backend(0, "other").http.requests.add(100);
  std::uint64_t sum = 0;
  for (const BackendCounters* b : r.backends("web"))
    sum += b->http.requests.get();
  EXPECT_EQ(r.backends("web").size(), 2u);
  EXPECT_EQ(sum, 7u);
  EXPECT_TRUE(r.frontends("web").empty());  // kinds are apart
  EXPECT_TRUE(r.servers("web", "").empty());
}

TEST(StatsCounters, AGaugeRemembersItsHighestLevel) {
  Gauge g;
  g.add();
  g.add();
  g.sub();
  g.add(3);
  g.sub(4);
  EXPECT_EQ(g.get(), 0);
  EXPECT_EQ(g.max(), 4);
}

TEST(StatsCounters, ARateIsThisSecondsCountPlusTheRestOfTheLastOnes) {
  Rate r;
  for (int i = 0; i < 10; ++i)
    r.add(5000 + i);  // ten events early in second 5
  EXPECT_EQ(r.read(5500), 10u);
  EXPECT_EQ(r.read(6250), 7u);  // second 6: three quarters of the last second's ten still count
  r.add(6250);
  EXPECT_EQ(r.read(6250), 8u);
  EXPECT_EQ(r.read(8000), 0u);  // two seconds later nothing counts
  EXPECT_EQ(r.max(), 10u);
}

TEST(StatsCounters, TheSlidingAverageIsExactBelow1024SamplesAndFollowsNewOnesAfter) {
  SlidingAverage a;
  a.add(10);
  a.add(30);
  EXPECT_EQ(a.sum() / a.samples(), 20u);
  SlidingAverage b;
  for (int i = 0; i < 1024; ++i)
    b.add(10);
  EXPECT_EQ(b.sum() / SlidingAverage::kWindow, 10u);
  for (int i = 0; i < 8 * 1024; ++i)
    b.add(100);
  // After eight windows of 100 the average has all but forgotten the 10s (HAProxy's swrate decays as e^-8).
  EXPECT_GE(b.sum() / SlidingAverage::kWindow, 99u);
  EXPECT_LE(b.sum() / SlidingAverage::kWindow, 100u);
}

}  // namespace
}  // namespace metalgate::stats
