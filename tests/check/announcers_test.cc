// The reference of who may announce the controller's VIP: the L2Advertisements' node selectors over a case's
// labels, and for a Local controller the nodes running its proxy; and generated cases always leave someone
// who may.
#include "check/reference/announcers.h"

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <set>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "check/generate/generated_base.h"
#include "check/generate/generators.h"
#include "tests/check/seed_base.h"

namespace metalgate::check {
namespace {

Base generated_base(std::uint64_t seed) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("metalgate-announcers-" + std::to_string(::getpid()) + "-" + std::to_string(seed));
  config::Diagnostics d;
  auto loaded = load_base(write_generated_base(seed, dir.string()), d);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (!loaded) throw std::runtime_error(d.to_string());
  return *loaded;
}

bool local_controller(const Base& base) {
  return base.model->ingress_controller()->service->external_traffic_policy == config::TrafficPolicy::kLocal;
}

bool selects_by_expression(const Base& base) {
  const auto& ads = base.model->manifests.l2_advertisements;
  return !ads.empty() && !ads.front().node_selectors.empty() &&
         !ads.front().node_selectors.front().match_expressions.empty();
}

// The first generated base (by seed) that `wanted` says yes to.
Base first_generated(const std::function<bool(const Base&)>& wanted) {
  for (std::uint64_t seed = 1; seed < 200; ++seed)
    if (Base base = generated_base(seed); wanted(base)) return base;
  throw std::runtime_error("no generated base of the kind wanted in 200 seeds");
}

// A generated base whose L2Advertisement selects nodes labelled metalgate-check/announce: "yes" by
// matchLabels, and whose controller is Local.
const Base& selecting_base() {
  static const Base base = first_generated([](const Base& b) {
    return !b.announce_labels.empty() && !selects_by_expression(b) && local_controller(b);
  });
  return base;
}

Case with_nodes(int n, std::vector<bool> proxy, std::vector<unsigned> labels = {}) {
  Case c;
  c.nodes = n;
  c.proxy = std::move(proxy);
  c.labels = std::move(labels);
  return c;
}

TEST(Announcers, TheSeedsLocalControllerIsAnnouncedOnlyFromNodesRunningItsProxy) {
  const Base& base = seed_base();
  EXPECT_TRUE(base.announce_labels.empty()) << "the seed's L2Advertisement selects every node";
  EXPECT_EQ(may_announce_controller_vip(base, with_nodes(4, {true, false, true, false})),
            (std::vector<bool>{true, false, true, false}));
}

TEST(Announcers, ANodeSelectorLetsOnlyLabelledNodesAnnounce) {
  const Base& base = selecting_base();
  ASSERT_EQ(base.announce_labels,
            (std::vector<std::pair<std::string, std::string>>{{"metalgate-check/announce", "yes"}}));
  const Case c = with_nodes(3, {true, true, false}, {0, 1, 1});
  EXPECT_EQ(may_announce_controller_vip(base, c), (std::vector<bool>{false, true, false}))
      << "node-1 lacks the label; node-3 has it but runs no proxy (the controller is Local)";
  EXPECT_EQ(case_node_labels(base, c, 1).at("metalgate-check/announce"), "yes");
  EXPECT_FALSE(case_node_labels(base, c, 0).count("metalgate-check/announce"));
}

TEST(Announcers, AnInExpressionSelectsLikeTheLabelAndAClusterControllerNeedsNoProxy) {
  const Base base =
      first_generated([](const Base& b) { return selects_by_expression(b) && !local_controller(b); });
  ASSERT_EQ(base.announce_labels,
            (std::vector<std::pair<std::string, std::string>>{{"metalgate-check/announce", "yes"}}))
      << "the first value of the In expression is the label cases draw";
  const Case c = with_nodes(3, {true, true, false}, {0, 1, 1});
  EXPECT_EQ(may_announce_controller_vip(base, c), (std::vector<bool>{false, true, true}))
      << "node-1 lacks the label; node-3 runs no proxy, and with Cluster it may announce and forward";
}

TEST(Announcers, GeneratedBasesDrawBothPoliciesBothSelectorFormsAndInterfaceLists) {
  int local = 0, cluster = 0, labels = 0, expressions = 0;
  std::set<std::size_t> interfaces_listed;
  for (std::uint64_t seed = 1; seed <= 16; ++seed) {
    const Base b = generated_base(seed);
    (local_controller(b) ? local : cluster) += 1;
    if (!b.announce_labels.empty()) (selects_by_expression(b) ? expressions : labels) += 1;
    const auto& ad = b.model->manifests.l2_advertisements.front();
    interfaces_listed.insert(ad.interfaces.size());
    if (!ad.interfaces.empty()) {
      EXPECT_NE(std::find(ad.interfaces.begin(), ad.interfaces.end(), "eth0"), ad.interfaces.end())
          << "every simulated node's interface is listed";
    }
  }
  EXPECT_EQ(interfaces_listed, (std::set<std::size_t>{0, 1, 2}));
  EXPECT_GT(local, 0);
  EXPECT_GT(cluster, 0);
  EXPECT_GT(labels, 0);
  EXPECT_GT(expressions, 0);
}

RC_GTEST_PROP(Announcers, EveryGeneratedCaseHasANodeThatMayAnnounce, ()) {
  const Base& base = selecting_base();
  const Case c = *gen_case(base);
  const auto may = may_announce_controller_vip(base, c);
  RC_ASSERT(std::find(may.begin(), may.end(), true) != may.end());
}

}  // namespace
}  // namespace metalgate::check
