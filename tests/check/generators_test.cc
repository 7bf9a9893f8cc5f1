// The generators: every case they draw is valid by construction (it loads with no error and keeps within the
// base's room), and the smallest case is the simple one shrinking aims for.
#include "check/generate/generators.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "check/case/emit.h"
#include "scenario/schema/loader.h"
#include "tests/check/seed_base.h"

namespace metalgate::check {
namespace {

RC_GTEST_PROP(Generators, EveryCaseLoadsWithoutAnErrorAndKeepsWithinTheBase, ()) {
  const Base& base = seed_base();
  const Case c = *gen_case(base);
  RC_ASSERT(c.nodes >= 3 && c.nodes <= base.max_nodes);
  RC_ASSERT(static_cast<int>(c.proxy.size()) == c.nodes);
  RC_ASSERT(std::count(c.proxy.begin(), c.proxy.end(), true) >= 1);
  RC_ASSERT(!c.clients.empty());
  config::Diagnostics d;
  const auto s = scenario::load_scenario_text(emit_case(base, c, {"case", "", {"single_owner: {}"}}),
                                              "/tmp/case.yaml", d);
  RC_ASSERT(!d.has_errors());
  RC_ASSERT(s.faults.size() == 2 * c.episodes.size());
  RC_ASSERT(s.duration.count() == case_duration_ms(c, base.recovery_within_ms));
}

TEST(Generators, AtSizeZeroACaseHasThreeNodesAndAtMostOneEpisode) {
  // Size 0 is where a search starts and where shrinking heads.
  const Case c = gen_case(seed_base())(rc::Random(), 0).value();
  EXPECT_EQ(c.nodes, 3);
  EXPECT_LE(c.episodes.size(), 1u);
}

TEST(Generators, AnEpisodeKindNeedsWhatItActsOn) {
  Base base = seed_base();
  auto kinds = episode_kinds(base);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), EpisodeKind::kBackendCrash), kinds.end());
  base.pods.clear();
  kinds = episode_kinds(base);
  EXPECT_EQ(std::find(kinds.begin(), kinds.end(), EpisodeKind::kBackendCrash), kinds.end());
}

RC_GTEST_PROP(Generators, AReloadsOnlyCaseReloadsAtLeastOnceAndDoesNothingElse, ()) {
  const Case c = *gen_case(seed_base(), FaultMix::kReloadsOnly);
  RC_ASSERT(!c.episodes.empty());
  for (const auto& e : c.episodes)
    RC_ASSERT(e.kind == EpisodeKind::kReloadValid || e.kind == EpisodeKind::kReloadInvalid);
}

TEST(Generators, ReloadsNeedTheBasesReloadManifests) {
  Base base = seed_base();
  auto kinds = episode_kinds(base);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), EpisodeKind::kReloadInvalid), kinds.end());
  base.reload_dir.clear();
  kinds = episode_kinds(base);
  EXPECT_EQ(std::find(kinds.begin(), kinds.end(), EpisodeKind::kReloadValid), kinds.end());
  EXPECT_TRUE(episode_kinds(base, FaultMix::kReloadsOnly).empty());
}

}  // namespace
}  // namespace metalgate::check
