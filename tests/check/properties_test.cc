// The property table: names are unique, the default set leaves out the deliberately failing property, and
// routing writes, per Host and path of the case's clients, the pods the reference allows.
#include "check/properties/properties.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "tests/check/seed_base.h"

namespace metalgate::check {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(Properties, NamesAreUniqueAndFoundAndOnlyTheTestOneFailsOnPurpose) {
  std::set<std::string_view> names;
  for (const auto& p : properties()) {
    EXPECT_TRUE(names.insert(p.name).second) << p.name;
    EXPECT_EQ(find_property(p.name), &p);
    EXPECT_EQ(p.deliberately_failing, p.name.rfind("test_", 0) == 0) << p.name;
  }
  EXPECT_EQ(find_property("nonsense"), nullptr);
}

TEST(Properties, RoutingAsksForTheReferencesPodsPerHostAndPathAndPerTcpAndUdpServicePort) {
  const Base& base = seed_base();
  Case c;
  for (int i = 0; i < static_cast<int>(base.scenario.clients.size()); ++i)
    c.clients.push_back({i, 1});
  const auto expectations = find_property("routing")->expectations(base, c);
  EXPECT_THAT(expectations, Contains(R"(answered_by: {"host":"app.example.com","min_answers":0,"path":"/",)"
                                     R"("pods":["web-app-0","web-app-1","web-app-2"]})"));
  EXPECT_THAT(expectations,
              Contains(HasSubstr(R"("host":"advanced.example.com","min_answers":0,"path":"/cart")")));
  EXPECT_THAT(expectations, Contains(R"(answered_by: {"host":"postgresql","min_answers":0,"path":"/query",)"
                                     R"("pods":["postgresql-0"]})"))
      << "port 5432 through the tcp-services ConfigMap";
  EXPECT_THAT(expectations, Contains(HasSubstr(R"("pods":["redis-0"])")));
  EXPECT_THAT(expectations, Contains(R"(answered_by: {"host":"","min_answers":0,"path":"",)"
                                     R"("pods":["coredns-custom-0"]})"))
      << "port 53 through the udp-services ConfigMap; a datagram carries no Host or path";
}

TEST(Properties, ReloadCountsTheReloadsItsEpisodesMakeAndKeepsTheBasesRoutes) {
  const Base& base = seed_base();
  const Property* reload = find_property("reload");
  ASSERT_NE(reload, nullptr);
  EXPECT_EQ(reload->faults, FaultMix::kReloadsOnly);
  Case c;
  c.clients = {{0, 1}};
  c.episodes = {{EpisodeKind::kReloadValid, 0, 1, 0, 500},
                {EpisodeKind::kReloadInvalid, 0, 1, 0, 500},
                {EpisodeKind::kReloadInvalid, 0, 1, 0, 500}};
  const auto expectations = reload->expectations(base, c);
  ASSERT_FALSE(expectations.empty());
  EXPECT_EQ(expectations[0], R"(reloads: {"accepted":4,"refused":2})")
      << "a valid episode reloads twice; an invalid one is refused, then the base's manifests reload";
  const auto routes = find_property("routing")->expectations(base, c);
  EXPECT_EQ(std::vector<std::string>(expectations.begin() + 1, expectations.end()), routes);
}

TEST(Properties, VipSafetyListsTheNodesThatMayAnnounceTheControllersVip) {
  Case c;
  c.nodes = 4;
  c.proxy = {false, true, true, false};
  EXPECT_EQ(find_property("vip_safety")->expectations(seed_base(), c),
            (std::vector<std::string>{"single_owner: {}", R"(announced_by: {"nodes":["node-2","node-3"]})"}))
      << "the seed's controller is Local: the nodes running its proxy";
}

}  // namespace
}  // namespace metalgate::check
