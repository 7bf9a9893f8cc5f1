// Per-source request rates as HAProxy's stick tables count http_req_rate(period): this period's count plus
// the previous period's weighted by how much of it the sliding window still covers. Time is passed in.
#include "engine/proxy/rate_limiter.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

namespace metalgate::proxy {
namespace {

using namespace std::chrono_literals;
using runtime::Instant;

const Instant t0 = Instant{} + 100s;
const net::IpAddress kAlice = net::IpAddress::v4(198, 51, 100, 1);
const net::IpAddress kBob = net::IpAddress::v4(198, 51, 100, 2);

net::IpAddress source(int i) {
  return net::IpAddress::v4(10, 9, static_cast<std::uint8_t>(i / 256), static_cast<std::uint8_t>(i % 256));
}

TEST(RateTable, FreshSourceCountsOneMorePerRequestSoTheRequestAfterTheLimitIsTheFirstOver) {
  RateTable table(1s);
  const std::uint32_t limit = 5;
  for (std::uint32_t i = 1; i <= limit; ++i)
    EXPECT_EQ(table.count(kAlice, t0 + i * 10ms), i);
  EXPECT_GT(table.count(kAlice, t0 + 60ms), limit) << "the N+1th request within one period is over the limit";
}

TEST(RateTable, PreviousPeriodCountsInProportionToItsOverlapWithTheWindow) {
  RateTable table(1000ms);
  for (int i = 0; i < 10; ++i)
    table.count(kAlice, t0);
  EXPECT_EQ(table.rate(kAlice, t0 + 999ms), 10u) << "still the first period";
  EXPECT_EQ(table.rate(kAlice, t0 + 1000ms), 10u) << "the window still covers the whole previous period";
  EXPECT_EQ(table.rate(kAlice, t0 + 1250ms), 8u) << "10 x 3/4 = 7.5, rounded up";
  EXPECT_EQ(table.rate(kAlice, t0 + 1500ms), 5u);
  EXPECT_EQ(table.rate(kAlice, t0 + 1999ms), 1u) << "a sliver of the previous period still counts";
  // A request in the new period adds to what is carried.
  EXPECT_EQ(table.count(kAlice, t0 + 1500ms), 6u);
}

TEST(RateTable, SourceQuietForTwoPeriodsStartsAgainFromZero) {
  RateTable table(1s);
  for (int i = 0; i < 50; ++i)
    table.count(kAlice, t0);
  EXPECT_EQ(table.rate(kAlice, t0 + 2s), 0u);
  EXPECT_EQ(table.rate(kAlice, t0 + 1h), 0u);
  EXPECT_EQ(table.count(kAlice, t0 + 2s + 1ms), 1u);
}

TEST(RateTable, ReadingTheRateCountsNothing) {
  RateTable table(1s);
  EXPECT_EQ(table.rate(kAlice, t0), 0u);
  EXPECT_EQ(table.size(), 0u) << "an unknown source is not added by a read";
  table.count(kAlice, t0);
  table.count(kAlice, t0);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(table.rate(kAlice, t0 + 100ms), 2u);
  EXPECT_EQ(table.count(kAlice, t0 + 200ms), 3u);
}

TEST(RateTable, SourcesAreCountedApart) {
  RateTable table(1s);
  for (int i = 0; i < 7; ++i)
    table.count(kAlice, t0);
  EXPECT_EQ(table.count(kBob, t0), 1u);
  EXPECT_EQ(table.rate(kAlice, t0), 7u);
  EXPECT_EQ(table.count(net::IpAddress::v4(198, 51, 100, 1), t0), 8u) << "same address, same entry";
  EXPECT_EQ(table.size(), 2u);
}

TEST(RateTable, RefusedRequestsCountSoAClientThatKeepsHammeringStaysLimited) {
  // As http_req_rate, every request is counted, refused or not: a client sending 10x its limit of 2 is still
  // over the limit halfway through the next period.
  RateTable table(1s);
  for (int i = 0; i < 20; ++i)
    table.count(kAlice, t0 + i * 10ms);
  EXPECT_EQ(table.count(kAlice, t0 + 1500ms), 11u);  // 1 + 20 x 1/2
}

TEST(RateTable, AnotherLoopsClockSlightlyBehindCountsNormally) {
  // The event loops share the table; one loop's `now` may be a hair behind the one that opened the period.
  RateTable table(1s);
  table.count(kAlice, t0);
  EXPECT_EQ(table.count(kAlice, t0 - 1ms), 2u);
  table.count(kAlice, t0 + 1s);  // opens the next period at t0 + 1s, 2 carried
  EXPECT_EQ(table.count(kAlice, t0 + 1s - 1ms), 4u) << "2 carried in full, 2 in this period";
  EXPECT_EQ(table.rate(kAlice, t0 + 1s - 1ms), 4u);
}

TEST(RateTable, FullTableForgetsQuietSourcesBeforeEvictingLiveOnes) {
  RateTable table(1s, 3);
  table.count(source(1), t0);
  table.count(source(2), t0 + 1500ms);
  table.count(source(3), t0 + 1500ms);
  // At t0 + 2s source 1 has been quiet for two periods: it goes, the live ones stay.
  EXPECT_EQ(table.count(source(4), t0 + 2s), 1u);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.evicted(), 0u);
  EXPECT_EQ(table.rate(source(2), t0 + 2s), 1u);
  EXPECT_EQ(table.rate(source(3), t0 + 2s), 1u);
  EXPECT_EQ(table.rate(source(1), t0 + 2s), 0u);
  // Full of live sources: one is evicted to make room, and counted.
  EXPECT_EQ(table.count(source(5), t0 + 2s), 1u);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.evicted(), 1u);
}

TEST(RateTable, TableNeverHoldsMoreSourcesThanItsCapacity) {
  RateTable table(1s, 16);
  for (int i = 0; i < 100; ++i) {
    table.count(source(i), t0 + i * 1ms);
    ASSERT_LE(table.size(), 16u);
  }
  EXPECT_EQ(table.evicted(), 100u - 16u);
}

// The periods of a source are aligned on its first request. Whatever the request times, no period admits
// more than `limit` requests (a request is admitted when the rate including it is at most the limit), and
// reading the rate right after counting gives what count() returned.
RC_GTEST_PROP(RateTable, NoPeriodAdmitsMoreThanTheLimit, ()) {
  const auto limit = static_cast<std::uint32_t>(*rc::gen::inRange(1, 12));
  const auto period = std::chrono::milliseconds(*rc::gen::element(100, 1000, 3000));
  auto offsets = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 5 * static_cast<int>(period.count())));
  offsets.push_back(0);
  std::sort(offsets.begin(), offsets.end());
  RateTable table(period);
  std::map<long, std::uint32_t> admitted;  // aligned period -> admitted requests
  for (int ms : offsets) {
    const Instant now = t0 + std::chrono::milliseconds(ms);
    const std::uint32_t rate = table.count(kAlice, now);
    RC_ASSERT(table.rate(kAlice, now) == rate);
    if (rate <= limit) ++admitted[ms / period.count()];
  }
  for (const auto& [p, n] : admitted)
    RC_ASSERT(n <= limit);
}

// A source that sends at most half its limit in every period is never refused, however its requests fall
// within the periods.
RC_GTEST_PROP(RateTable, SourceWithinHalfTheLimitPerPeriodIsNeverRefused, ()) {
  const auto limit = static_cast<std::uint32_t>(*rc::gen::inRange(2, 20));
  const int period_ms = 1000;
  std::vector<int> offsets{0};
  const int periods = *rc::gen::inRange(1, 6);
  for (int k = 0; k < periods; ++k) {
    const int n = *rc::gen::inRange(0, static_cast<int>(limit / 2) + 1) - (k == 0 ? 1 : 0);
    for (int i = 0; i < n; ++i)
      offsets.push_back(k * period_ms + *rc::gen::inRange(0, period_ms));
  }
  std::sort(offsets.begin(), offsets.end());
  RateTable table{std::chrono::milliseconds(period_ms)};
  for (int ms : offsets)
    RC_ASSERT(table.count(kAlice, t0 + std::chrono::milliseconds(ms)) <= limit);
}

}  // namespace
}  // namespace metalgate::proxy
