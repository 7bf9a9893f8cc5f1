// The generators: every case they draw is valid by construction (it loads with no error and keeps within the
// base's room), and the smallest case is the simple one shrinking aims for.
#include "check/generate/generators.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>

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
  RC_LOG() << d.to_string();
  RC_ASSERT(!d.has_errors());
  RC_ASSERT(s.faults.size() == 2 * c.episodes.size());
  RC_ASSERT(s.duration.count() == case_duration_ms(c, base.recovery_within_ms));
}

RC_GTEST_PROP(Generators, OnlyAClientOfTheControllersWebFrontendsSwitchesScheme, ()) {
  const Base& base = seed_base();
  for (const auto& cc :
       gen_case(base)(rc::Random(*rc::gen::arbitrary<std::uint64_t>()), 50).value().clients) {
    const auto& client = base.scenario.clients.at(cc.base_index);
    if (cc.flips & kFlipScheme)
      RC_ASSERT(!client.udp && !client.target && client.port == (client.https ? 443 : 80));
  }
}

TEST(Generators, ASchemeSwitchIsDrawnForTheSeedsWebClients) {
  const Base& base = seed_base();
  std::set<std::string> switched;
  for (std::uint64_t seed = 1; seed <= 40; ++seed)
    for (const auto& cc : gen_case(base)(rc::Random(seed), 50).value().clients)
      if (cc.flips & kFlipScheme) switched.insert(base.scenario.clients.at(cc.base_index).name);
  EXPECT_TRUE(switched.count("plain-http"));
  EXPECT_TRUE(switched.count("browser-app"));
  EXPECT_FALSE(switched.count("psql-client")) << "a TCP service's port stays as written";
  EXPECT_FALSE(switched.count("dns-client"));
}

TEST(Generators, AtSizeZeroACaseHasThreeNodesAndAtMostOneEpisode) {
  // Size 0 is where a search starts and where shrinking heads.
  const Case c = gen_case(seed_base())(rc::Random(), 0).value();
  EXPECT_EQ(c.nodes, 3);
  EXPECT_LE(c.episodes.size(), 1u);
}

bool has(const std::vector<EpisodeKind>& kinds, EpisodeKind kind) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

TEST(Generators, AnEpisodeKindNeedsWhatItActsOn) {
  Base base = seed_base();
  for (auto pod_kind :
       {EpisodeKind::kBackendCrash, EpisodeKind::kBackendUnhealthy, EpisodeKind::kBackendSlow})
    EXPECT_TRUE(has(episode_kinds(base), pod_kind));
  base.pods.clear();
  for (auto pod_kind :
       {EpisodeKind::kBackendCrash, EpisodeKind::kBackendUnhealthy, EpisodeKind::kBackendSlow})
    EXPECT_FALSE(has(episode_kinds(base), pod_kind)) << "no pod to act on";
}

RC_GTEST_PROP(Generators, AReloadsOnlyCaseReloadsAtLeastOnceAndDoesNothingElse, ()) {
  const Case c = *gen_case(seed_base(), FaultMix::kReloadsOnly);
  RC_ASSERT(!c.episodes.empty());
  for (const auto& e : c.episodes)
    RC_ASSERT(e.kind == EpisodeKind::kReloadValid || e.kind == EpisodeKind::kReloadInvalid);
}

TEST(Generators, ReloadsNeedTheBasesReloadManifests) {
  Base base = seed_base();
  EXPECT_TRUE(has(episode_kinds(base), EpisodeKind::kReloadInvalid));
  base.reload_dir.clear();
  EXPECT_FALSE(has(episode_kinds(base), EpisodeKind::kReloadValid));
  EXPECT_TRUE(episode_kinds(base, FaultMix::kReloadsOnly).empty());
}

}  // namespace
}  // namespace metalgate::check
