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

TEST(Properties, RoutingAsksForTheReferencesPodsPerHostAndPathAndPerTcpServicePort) {
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
  EXPECT_THAT(expectations, Not(Contains(HasSubstr("coredns")))) << "datagrams carry no Host";
}

}  // namespace
}  // namespace metalgate::check
