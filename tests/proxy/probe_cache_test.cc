// The shared probes' bookkeeping alone: who probes, who waits, which verdicts are fresh enough to take.
#include "engine/proxy/probe_cache.h"

#include <gtest/gtest.h>

namespace metalgate::proxy {
namespace {

using namespace std::chrono_literals;
using Ask = ProbeCache::Ask;

runtime::Instant at(runtime::Duration d) {
  return runtime::Instant{} + d;
}

TEST(ProbeCache, TheFirstAskerProbesAndTheOthersWaitForItsVerdict) {
  ProbeCache cache;
  const ProbeCache::Verdict* v = nullptr;
  EXPECT_EQ(cache.ask("tcp 10.0.1.1:80", at(1s), 1s, &v), Ask::kRun);
  EXPECT_EQ(cache.ask("tcp 10.0.1.1:80", at(1s), 1s, &v), Ask::kWait);
  EXPECT_EQ(cache.ask("tcp 10.0.1.2:80", at(1s), 1s, &v), Ask::kRun) << "another server is another probe";
  cache.finished("tcp 10.0.1.1:80", {false, "L4CON refused", at(1100ms)});
  ASSERT_EQ(cache.ask("tcp 10.0.1.1:80", at(1200ms), 1s, &v), Ask::kUse);
  EXPECT_FALSE(v->passed);
  EXPECT_EQ(v->what, "L4CON refused");
}

TEST(ProbeCache, AVerdictOlderThanTheAskerAllowsIsProbedAgainOnce) {
  ProbeCache cache;
  const ProbeCache::Verdict* v = nullptr;
  ASSERT_EQ(cache.ask("k", at(0s), 1s, &v), Ask::kRun);
  cache.finished("k", {true, "L4OK", at(0s)});
  EXPECT_EQ(cache.ask("k", at(1s), 1s, &v), Ask::kUse) << "exactly as old as allowed";
  EXPECT_EQ(cache.ask("k", at(1s), 500ms, &v), Ask::kRun) << "a stricter asker probes";
  EXPECT_EQ(cache.ask("k", at(1s), 500ms, &v), Ask::kWait);
  EXPECT_EQ(cache.ask("k", at(1s), 2s, &v), Ask::kUse) << "a more lenient one takes the older verdict";
}

TEST(ProbeCache, AnAbandonedProbeIsRunByTheNextAsker) {
  ProbeCache cache;
  const ProbeCache::Verdict* v = nullptr;
  ASSERT_EQ(cache.ask("k", at(0s), 1s, &v), Ask::kRun);
  cache.abandoned("k");
  EXPECT_EQ(cache.ask("k", at(0s), 1s, &v), Ask::kRun);
  cache.abandoned("unknown");  // nothing to forget
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace metalgate::proxy
