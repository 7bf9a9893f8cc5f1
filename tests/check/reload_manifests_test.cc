// The reload additions: with the base's manifests the valid one loads and adds a route no client asks for;
// the invalid one is refused at its field, and the rule before that field would change an asked route.
#include "check/case/reload_manifests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/node/node.h"
#include "tests/check/seed_base.h"

namespace metalgate::check {
namespace {

using ::testing::HasSubstr;

// The base's manifests and DIR/ADDITION, as a reload reads them.
Result<std::shared_ptr<const node::Configuration>> load_with(const Base& base, const std::string& addition,
                                                             config::Diagnostics& d) {
  std::vector<std::string> paths = base.scenario.manifests;
  paths.push_back(base.reload_dir + "/" + addition);
  node::NodeSpec spec;
  spec.proxy = true;
  return node::load_configuration(spec, paths, {}, d);
}

TEST(ReloadManifests, TheValidAdditionLoadsAndRoutesAHostNoClientAsks) {
  const Base& base = seed_base();
  config::Diagnostics d;
  const auto loaded = load_with(base, "valid.yaml", d);
  ASSERT_TRUE(loaded) << d.to_string();
  EXPECT_FALSE(d.has_errors());
  const auto& ingresses = (*loaded)->model->ingresses;
  EXPECT_NE(std::find(ingresses.begin(), ingresses.end(), "default/metalgate-check-reload"), ingresses.end())
      << "of the controller's class: the reload replaces its proxies";
  for (const auto& c : base.scenario.clients)
    EXPECT_NE(c.host, "reload.metalgate-check.example");
}

TEST(ReloadManifests, TheInvalidAdditionIsRefusedAtItsPathType) {
  const Base& base = seed_base();
  config::Diagnostics d;
  EXPECT_FALSE(load_with(base, "invalid.yaml", d));
  EXPECT_THAT(d.to_string(), HasSubstr("invalid.yaml:"));
  EXPECT_THAT(d.to_string(), HasSubstr("pathType"));
  EXPECT_THAT(d.to_string(), HasSubstr("Sideways"));
}

TEST(ReloadManifests, TheInvalidAdditionWouldSendTheFirstAskedRouteNowhere) {
  const Base& base = seed_base();
  const std::string text = reload_addition(base, false);
  const auto& first = base.scenario.clients.front();
  const std::string host = first.mix.empty() ? first.host : first.mix.front().host;
  EXPECT_THAT(text, HasSubstr("host: " + host));
  EXPECT_THAT(text, HasSubstr("pathType: Exact"));
  EXPECT_THAT(text, HasSubstr("name: metalgate-check-nowhere"));
}

TEST(ReloadManifests, WithoutAServedIngressTheAdditionsAreAConfigMapAndABrokenOne) {
  Base base = seed_base();
  base.model = std::make_shared<model::Model>();  // serves no Ingress
  EXPECT_THAT(reload_addition(base, true), HasSubstr("kind: ConfigMap"));
  EXPECT_THAT(reload_addition(base, false), HasSubstr("data: not a map"));
}

}  // namespace
}  // namespace metalgate::check
