// MetalLB's allocation rules, one example each.
#include <gtest/gtest.h>

#include "engine/ipam/allocator.h"

namespace metalgate::ipam {
namespace {

net::IpAddress ip(const char* s) {
  return *net::IpAddress::parse(s);
}

config::IpAddressPool pool(std::string name, std::vector<const char*> ranges, bool auto_assign = true) {
  config::IpAddressPool p;
  p.meta.name = std::move(name);
  p.meta.namespace_ = "metallb-system";
  for (auto r : ranges)
    p.addresses.push_back(*net::AddressRange::parse(r));
  p.auto_assign = auto_assign;
  return p;
}

ServiceRequest svc(std::string key, std::vector<std::pair<config::Protocol, std::uint16_t>> ports = {
                                        {config::Protocol::kTcp, 80}}) {
  ServiceRequest s;
  s.key = key;
  s.namespace_ = key.substr(0, key.find('/'));
  s.ports = std::move(ports);
  return s;
}

TEST(Allocator, FirstFreeAddressOfTheFirstPool) {
  auto r = allocate({pool("a", {"10.0.0.1-10.0.0.2"})}, {svc("ns/x"), svc("ns/y"), svc("ns/z")});
  EXPECT_EQ(r.assigned.at("ns/x").addresses, std::vector{ip("10.0.0.1")});
  EXPECT_EQ(r.assigned.at("ns/y").addresses, std::vector{ip("10.0.0.2")});
  ASSERT_TRUE(r.pending.count("ns/z"));
  EXPECT_EQ(r.pending.at("ns/z"), "no free address: needs an IPv4 address; pools tried: a (2 of 2 in use)");
}

TEST(Allocator, AutoAssignOffPoolsServeOnlyExplicitRequests) {
  std::vector pools{pool("manual", {"10.0.0.0/30"}, false)};
  auto plain = svc("ns/plain");
  auto annotated = svc("ns/annotated");
  annotated.pool = "manual";
  auto requested = svc("ns/requested");
  requested.requested = {ip("10.0.0.3")};
  auto r = allocate(pools, {plain, annotated, requested});
  EXPECT_EQ(r.pending.at("ns/plain"), "no pool with autoAssign serves this service");
  EXPECT_EQ(r.assigned.at("ns/annotated").addresses, std::vector{ip("10.0.0.0")});
  EXPECT_EQ(r.assigned.at("ns/requested").addresses, std::vector{ip("10.0.0.3")});
}

TEST(Allocator, RequestedAddressesAreHonouredOrRefusedWithAReason) {
  std::vector pools{pool("a", {"10.0.0.0/29"}), pool("b", {"10.0.1.0/29"})};
  auto outside = svc("ns/outside");
  outside.requested = {ip("192.168.9.9")};
  auto wrong_pool = svc("ns/wrong-pool");
  wrong_pool.requested = {ip("10.0.1.1")};
  wrong_pool.pool = "a";
  auto first = svc("ns/first");
  first.requested = {ip("10.0.0.5")};
  auto second = svc("ns/second");
  second.requested = {ip("10.0.0.5")};
  auto r = allocate(pools, {outside, wrong_pool, first, second});
  EXPECT_EQ(r.pending.at("ns/outside"), "192.168.9.9 is not in any IPAddressPool");
  EXPECT_EQ(r.pending.at("ns/wrong-pool"), "10.0.1.1 is in pool b, not in the annotated pool a");
  EXPECT_EQ(r.assigned.at("ns/first").addresses, std::vector{ip("10.0.0.5")});
  EXPECT_EQ(
      r.pending.at("ns/second"),
      "10.0.0.5 is already used by ns/first (sharing needs the same metallb.io/allow-shared-ip key on both)");
}

TEST(Allocator, AvoidBuggyIpsSkipsDotZeroAndDot255) {
  auto p = pool("a", {"10.0.0.255-10.0.1.1"});
  p.avoid_buggy_ips = true;
  auto r = allocate({p}, {svc("ns/x")});
  EXPECT_EQ(r.assigned.at("ns/x").addresses, std::vector{ip("10.0.1.1")});
  auto req = svc("ns/y");
  req.requested = {ip("10.0.1.0")};
  EXPECT_NE(allocate({p}, {req}).pending.at("ns/y").find("avoidBuggyIPs"), std::string::npos);
}

TEST(Allocator, SharingNeedsTheSameKeyAndNoPortClash) {
  std::vector pools{pool("a", {"10.0.0.1-10.0.0.3"})};
  // Services are placed in key order: a-web first, then b-dns joins it, then c-clash cannot.
  auto web = svc("ns/a-web", {{config::Protocol::kTcp, 80}});
  web.sharing_key = "k";
  auto dns = svc("ns/b-dns", {{config::Protocol::kUdp, 53}});
  dns.sharing_key = "k";
  auto clash = svc("ns/c-clash", {{config::Protocol::kTcp, 80}});
  clash.sharing_key = "k";
  auto other_key = svc("ns/d-other", {{config::Protocol::kTcp, 9000}});
  other_key.sharing_key = "j";
  auto r = allocate(pools, {clash, other_key, dns, web});
  EXPECT_EQ(r.assigned.at("ns/a-web").addresses, std::vector{ip("10.0.0.1")});
  EXPECT_EQ(r.assigned.at("ns/b-dns").addresses, std::vector{ip("10.0.0.1")});
  EXPECT_TRUE(r.assigned.at("ns/b-dns").shared);
  EXPECT_EQ(r.assigned.at("ns/c-clash").addresses, std::vector{ip("10.0.0.2")});
  EXPECT_EQ(r.assigned.at("ns/d-other").addresses, std::vector{ip("10.0.0.3")});
}

TEST(Allocator, AnEmptySharingKeySharesNothing) {
  auto a = svc("ns/a", {{config::Protocol::kTcp, 80}});
  a.sharing_key = "";
  auto b = svc("ns/b", {{config::Protocol::kTcp, 443}});
  b.sharing_key = "";
  EXPECT_FALSE(can_share(a, b));
  auto r = allocate({pool("a", {"10.0.0.1-10.0.0.2"})}, {a, b});
  EXPECT_NE(r.assigned.at("ns/a").addresses, r.assigned.at("ns/b").addresses);
}

TEST(Allocator, ServiceAllocationAlsoBindsRequestedAddressesAndTheAnnotatedPool) {
  auto team_a = pool("team-a-only", {"10.0.0.10-10.0.0.12"});
  team_a.service_allocation = config::ServiceAllocation{
      .priority = std::nullopt, .namespaces = {"team-a"}, .namespace_selectors = {}, .service_selectors = {}};
  auto requested = svc("default/a");
  requested.requested = {ip("10.0.0.11")};
  auto annotated = svc("default/b");
  annotated.pool = "team-a-only";
  auto theirs = svc("team-a/c");
  theirs.requested = {ip("10.0.0.11")};
  auto r = allocate({team_a}, {requested, annotated, theirs});
  ASSERT_TRUE(r.pending.count("default/a"));
  EXPECT_NE(r.pending.at("default/a").find("serviceAllocation"), std::string::npos)
      << r.pending.at("default/a");
  ASSERT_TRUE(r.pending.count("default/b"));
  EXPECT_NE(r.pending.at("default/b").find("serviceAllocation"), std::string::npos)
      << r.pending.at("default/b");
  EXPECT_EQ(r.assigned.at("team-a/c").addresses, std::vector{ip("10.0.0.11")});
}

TEST(Allocator, LocalPolicyServicesShareOnlyWithTheSameSelector) {
  auto a = svc("ns/a", {{config::Protocol::kTcp, 80}});
  a.sharing_key = "k";
  a.local_traffic_policy = true;
  a.selector = {{"app", "x"}};
  auto b = a;
  b.key = "ns/b";
  b.ports = {{config::Protocol::kTcp, 443}};
  auto c = b;
  c.key = "ns/c";
  c.ports = {{config::Protocol::kTcp, 8443}};
  c.selector = {{"app", "y"}};
  EXPECT_TRUE(can_share(a, b));
  EXPECT_FALSE(can_share(a, c));
}

TEST(Allocator, ServiceAllocationPriorityNamespacesAndSelectors) {
  auto low = pool("low", {"10.0.2.0/30"});
  low.service_allocation = config::ServiceAllocation{
      .priority = 50, .namespaces = {}, .namespace_selectors = {}, .service_selectors = {}};
  auto high = pool("high", {"10.0.1.0/30"});
  high.service_allocation = config::ServiceAllocation{
      .priority = 10, .namespaces = {"team-a"}, .namespace_selectors = {}, .service_selectors = {}};
  auto general = pool("general", {"10.0.0.0/30"});
  auto r = allocate({general, low, high}, {svc("team-a/x"), svc("team-b/y")});
  EXPECT_EQ(r.assigned.at("team-a/x").pool, "high");
  EXPECT_EQ(r.assigned.at("team-b/y").pool,
            "low");  // high is for team-a only; low outranks unprioritized pools
}

TEST(Allocator, DualStackTakesOneAddressPerFamilyFromOnePool) {
  std::vector pools{pool("v4only", {"10.0.0.0/30"}), pool("dual", {"10.0.1.0/30", "fd00::/126"})};
  auto req = svc("ns/dual");
  req.family_policy = config::IpFamilyPolicy::kRequireDualStack;
  auto pref = svc("ns/prefer");
  pref.family_policy = config::IpFamilyPolicy::kPreferDualStack;
  auto v6 = svc("ns/v6");
  v6.families = {net::IpFamily::kV6};
  auto r = allocate(pools, {req, pref, v6});
  EXPECT_EQ(r.assigned.at("ns/dual").pool, "dual");
  EXPECT_EQ(r.assigned.at("ns/dual").addresses, (std::vector{ip("10.0.1.0"), ip("fd00::")}));
  EXPECT_EQ(r.assigned.at("ns/prefer").pool, "dual");  // the first pool that gives both families
  EXPECT_EQ(r.assigned.at("ns/v6").addresses, std::vector{ip("fd00::2")});
}

TEST(Allocator, PreviousAllocationsSurviveNewcomers) {
  std::vector pools{pool("a", {"10.0.0.1-10.0.0.9"})};
  auto first = allocate(pools, {svc("ns/m"), svc("ns/n")});
  PreviousAllocations prev;
  for (const auto& [k, a] : first.assigned)
    prev[k] = a.addresses;
  auto second = allocate(pools, {svc("ns/a-newcomer"), svc("ns/m"), svc("ns/n")}, prev);
  EXPECT_EQ(second.assigned.at("ns/m").addresses, first.assigned.at("ns/m").addresses);
  EXPECT_EQ(second.assigned.at("ns/n").addresses, first.assigned.at("ns/n").addresses);
  EXPECT_EQ(second.assigned.at("ns/a-newcomer").addresses, std::vector{ip("10.0.0.3")});
}

TEST(Allocator, PreviousAllocationOutsideTheCurrentPoolsIsReplaced) {
  PreviousAllocations prev{{"ns/x", {ip("192.168.0.1")}}};
  auto r = allocate({pool("a", {"10.0.0.1-10.0.0.9"})}, {svc("ns/x")}, prev);
  EXPECT_EQ(r.assigned.at("ns/x").addresses, std::vector{ip("10.0.0.1")});
}

TEST(Allocator, MissingPoolAnnotationIsAReason) {
  auto s = svc("ns/x");
  s.pool = "nope";
  EXPECT_EQ(allocate({pool("a", {"10.0.0.0/30"})}, {s}).pending.at("ns/x"),
            "address pool 'nope' does not exist");
  EXPECT_EQ(allocate({}, {svc("ns/y")}).pending.at("ns/y"), "no IPAddressPool is defined");
}

}  // namespace
}  // namespace metalgate::ipam
