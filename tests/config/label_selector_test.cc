// Label selectors: matching as Kubernetes does, and the canonical form MetalLB's duplicate checks compare.
#include "engine/config/label_selector.h"

#include <gtest/gtest.h>

namespace metalgate::config {
namespace {

LabelSelector zone_in(std::vector<std::string> values) {
  LabelSelector s;
  s.match_expressions.push_back({"zone", LabelRequirement::Operator::kIn, std::move(values)});
  return s;
}

TEST(LabelSelector, AnEmptySelectorMatchesEverything) {
  EXPECT_TRUE(LabelSelector{}.matches({}));
  EXPECT_TRUE(LabelSelector{}.matches({{"a", "b"}}));
}

TEST(LabelSelector, EveryLabelAndExpressionMustHold) {
  LabelSelector s = zone_in({"a", "b"});
  s.match_labels = {{"app", "web"}};
  EXPECT_TRUE(s.matches({{"app", "web"}, {"zone", "b"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}, {"zone", "c"}}));
  EXPECT_FALSE(s.matches({{"zone", "a"}}));
}

TEST(LabelSelector, TheCanonicalFormIgnoresTheOrderOfValues) {
  EXPECT_EQ(zone_in({"b", "a"}).canonical(), zone_in({"a", "b"}).canonical());
  EXPECT_EQ(canonical(zone_in({"b", "a"}).match_expressions[0]), "zone in (a,b)");
  EXPECT_NE(zone_in({"a"}).canonical(), zone_in({"a", "b"}).canonical());
  EXPECT_EQ(zone_in({"b", "a"}).to_string(), "zone in (b,a)");
}

}  // namespace
}  // namespace metalgate::config
