// The routing table against the Kubernetes Ingress documentation's path-matching examples, then host rules.
#include <gtest/gtest.h>

#include "engine/routing/route_table.h"

namespace metalgate::routing {
namespace {

using config::PathType;
constexpr PathType kExact = PathType::kExact, kPrefix = PathType::kPrefix,
                   kImpl = PathType::kImplementationSpecific;

struct PathCase {
  std::vector<std::pair<PathType, std::string>> rules;
  std::string request;
  std::optional<std::size_t>
      expected;  // index of the rule that must win; nullopt: no match (default backend)
};

// Sixteen one-element Prefix rules /p0../pf, then `more`: enough paths for a host's hashed index.
std::vector<std::pair<PathType, std::string>> many_prefixes(std::vector<std::string> more) {
  std::vector<std::pair<PathType, std::string>> rules;
  for (char c : std::string("0123456789abcdef"))
    rules.emplace_back(kPrefix, std::string("/p") + c);
  for (auto& m : more)
    rules.emplace_back(kPrefix, std::move(m));
  return rules;
}

class KubernetesPathTable : public ::testing::TestWithParam<PathCase> {};

TEST_P(KubernetesPathTable, MatchesAsTheSpecSays) {
  const auto& c = GetParam();
  RouteTable t;
  for (std::size_t i = 0; i < c.rules.size(); ++i)
    t.add({"", c.rules[i].second, c.rules[i].first, static_cast<std::uint32_t>(i), "test"});
  ASSERT_TRUE(t.build().empty());
  const Route* r = t.match("example.com", c.request);
  if (!c.expected) {
    EXPECT_EQ(r, nullptr) << "matched " << (r ? r->path : "");
  } else {
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->target, *c.expected);
  }
}

// https://kubernetes.io/docs/concepts/services-networking/ingress/#examples — row by row.
INSTANTIATE_TEST_SUITE_P(
    IngressDocs, KubernetesPathTable,
    ::testing::Values(PathCase{{{kPrefix, "/"}}, "/anything/at/all", 0},    // Prefix / : all paths
                      PathCase{{{kExact, "/foo"}}, "/foo", 0},              // Exact /foo : /foo yes
                      PathCase{{{kExact, "/foo"}}, "/bar", std::nullopt},   // Exact /foo : /bar no
                      PathCase{{{kExact, "/foo"}}, "/foo/", std::nullopt},  // Exact /foo : /foo/ no
                      PathCase{{{kExact, "/foo/"}}, "/foo", std::nullopt},  // Exact /foo/ : /foo no
                      PathCase{{{kPrefix, "/foo"}}, "/foo", 0},             // Prefix /foo : /foo, /foo/ yes
                      PathCase{{{kPrefix, "/foo"}}, "/foo/", 0},
                      PathCase{{{kPrefix, "/foo/"}}, "/foo", 0},  // Prefix /foo/ : /foo, /foo/ yes
                      PathCase{{{kPrefix, "/foo/"}}, "/foo/", 0},
                      PathCase{
                          {{kPrefix, "/aaa/bb"}}, "/aaa/bbb", std::nullopt},  // Prefix /aaa/bb : /aaa/bbb no
                      PathCase{{{kPrefix, "/aaa/bbb"}}, "/aaa/bbb", 0},      // Prefix /aaa/bbb : /aaa/bbb yes
                      PathCase{{{kPrefix, "/aaa/bbb/"}}, "/aaa/bbb", 0},     // trailing slash ignored
                      PathCase{{{kPrefix, "/aaa/bbb"}}, "/aaa/bbb/", 0},     // matches trailing slash
                      PathCase{{{kPrefix, "/aaa/bbb"}}, "/aaa/bbb/ccc", 0},  // matches subpath
                      PathCase{{{kPrefix, "/aaa/bbb"}}, "/aaa/bbbxyz", std::nullopt},  // not a string prefix
                      PathCase{{{kPrefix, "/"}, {kPrefix, "/aaa"}}, "/aaa/ccc", 1},    // matches /aaa prefix
                      PathCase{{{kPrefix, "/"}, {kPrefix, "/aaa"}, {kPrefix, "/aaa/bbb"}}, "/aaa/bbb", 2},
                      PathCase{{{kPrefix, "/"}, {kPrefix, "/aaa"}, {kPrefix, "/aaa/bbb"}}, "/ccc", 0},
                      PathCase{{{kPrefix, "/aaa"}}, "/ccc", std::nullopt},         // uses default backend
                      PathCase{{{kPrefix, "/foo"}, {kExact, "/foo"}}, "/foo", 1},  // Mixed: prefers Exact
                      // ImplementationSpecific is a plain string prefix here, as in the HAProxy controller.
                      PathCase{{{kImpl, "/aaa/bb"}}, "/aaa/bbb", 0},
                      PathCase{{{kImpl, "/api"}, {kPrefix, "/api/v1"}}, "/api/v1/x", 1},
                      PathCase{{{kPrefix, "/api"}, {kImpl, "/api/v"}}, "/api/v1", 1},
                      // The query string is not part of the path.
                      PathCase{{{kExact, "/search"}}, "/search?q=x", 0},
                      // Many prefixes take the hashed path-element route; same answers.
                      PathCase{many_prefixes({"/pf/deep", "/"}), "/pf/deep/er", 16},
                      PathCase{many_prefixes({"/pf/deep"}), "/pfx", std::nullopt}));

RouteTable host_table() {
  RouteTable t;
  t.add({"foo.bar.com", "/", kPrefix, 1, "exact"});
  t.add({"*.foo.com", "/", kPrefix, 2, "wildcard"});
  t.add({"", "/fallback", kPrefix, 3, "any host"});
  t.add({"api.foo.com", "/v1", kPrefix, 4, "exact api"});
  t.build();
  return t;
}

TEST(RouteTableHosts, ExactWildcardAndCatchAllAsTheSpecSays) {
  auto t = host_table();
  auto target = [&](std::string_view host, std::string_view path) -> int {
    const Route* r = t.match(host, path);
    return r ? static_cast<int>(r->target) : -1;
  };
  EXPECT_EQ(target("foo.bar.com", "/x"), 1);
  EXPECT_EQ(target("FOO.Bar.com:8443", "/x"), 1);        // case-insensitive, port ignored
  EXPECT_EQ(target("foo.bar.com.", "/x"), 1);            // trailing dot
  EXPECT_EQ(target("bar.foo.com", "/x"), 2);             // wildcard: one label
  EXPECT_EQ(target("baz.bar.foo.com", "/x"), -1);        // not two labels
  EXPECT_EQ(target("foo.com", "/x"), -1);                // not zero labels
  EXPECT_EQ(target("baz.bar.foo.com", "/fallback"), 3);  // host-less rules apply to every host
  EXPECT_EQ(target("api.foo.com", "/v1/users"), 4);      // exact host before wildcard
  EXPECT_EQ(target("api.foo.com", "/other"), 2);         // exact host has no such path: wildcard next
  EXPECT_EQ(target("[::1]:80", "/fallback"), 3);
}

TEST(RouteTableConflicts, TheFirstEqualRuleWinsAndTheOtherIsReported) {
  RouteTable t;
  t.add({"a.com", "/x", kPrefix, 1, "Ingress ns/first"});
  t.add({"a.com", "/x/", kPrefix, 2, "Ingress ns/second"});  // same rule: trailing slash does not count
  t.add({"a.com", "/x", kExact, 3, "Ingress ns/third"});     // a different type is a different rule
  auto conflicts = t.build();
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].kept.source, "Ingress ns/first");
  EXPECT_EQ(conflicts[0].dropped.source, "Ingress ns/second");
  EXPECT_EQ(t.routes().size(), 2u);
  EXPECT_EQ(t.match("a.com", "/x/y")->target, 1u);
  EXPECT_EQ(t.match("a.com", "/x")->target, 3u);
}

TEST(RouteTableConflicts, AConflictCarriesTheLocationOfBothRules) {
  RouteTable t;
  t.add({"app.example.com", "/", kPrefix, 1, "Ingress default/a"}, {"a.yaml", 16, 11});
  t.add({"APP.example.com", "/", kPrefix, 2, "Ingress default/b"}, {"b.yaml", 15, 11});
  auto conflicts = t.build();
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].kept_where.to_string(), "a.yaml:16:11");
  EXPECT_EQ(conflicts[0].dropped_where.to_string(), "b.yaml:15:11");
  EXPECT_EQ(t.match("app.example.com", "/x")->target, 1u);
}

TEST(RouteTableDefault, DefaultTargetIsSeparate) {
  RouteTable t;
  t.set_default_target(9);
  t.build();
  EXPECT_EQ(t.match("x", "/"), nullptr);
  EXPECT_EQ(t.default_target(), 9u);
}

}  // namespace
}  // namespace metalgate::routing
