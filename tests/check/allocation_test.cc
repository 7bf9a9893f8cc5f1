// Property 3, allocation: the engine keeps MetalLB's rules on drawn manifest sets, an allocator broken as a
// mutant would be (engine/mutants/) is caught within 100 cases, and the checkers report hand-made wrong
// results.
#include "check/properties/allocation.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <memory>

#include "check/generate/metallb.h"
#include "engine/config/manifest_loader.h"
#include "engine/model/model-t.h"
#include "tests/check/run_quietly.h"

namespace metalgate::check {
namespace {

using config::Protocol;
using net::IpAddress;

rc::detail::TestResult run_property(const Base& base, const AllocateFunction& allocate, int cases,
                                    std::uint64_t seed) {
  return run_quietly(
      "allocation", [&] { allocation_property(base, allocate); }, cases, seed);
}

ipam::AllocationResult engine(const std::vector<config::IpAddressPool>& pools,
                              std::vector<ipam::ServiceRequest> services,
                              const ipam::PreviousAllocations& previous) {
  return ipam::allocate(pools, std::move(services), previous);
}

// The mutant "avoidBuggyIPs ignored": the engine's allocator on pools that no longer avoid anything.
ipam::AllocationResult ignoring_avoid_buggy_ips(std::vector<config::IpAddressPool> pools,
                                                std::vector<ipam::ServiceRequest> services,
                                                const ipam::PreviousAllocations& previous) {
  for (auto& p : pools)
    p.avoid_buggy_ips = false;
  return ipam::allocate(pools, std::move(services), previous);
}

// The mutant "sharing ignores a port clash": the engine's allocator deciding sharing without the ports of
// Services that carry a sharing key (ports count nowhere else in it).
ipam::AllocationResult sharing_ignoring_ports(const std::vector<config::IpAddressPool>& pools,
                                              std::vector<ipam::ServiceRequest> services,
                                              const ipam::PreviousAllocations& previous) {
  for (auto& s : services)
    if (s.sharing_key) s.ports.clear();
  return ipam::allocate(pools, std::move(services), previous);
}

// An allocator that serves every Service from pools whose serviceAllocation selects only some.
ipam::AllocationResult ignoring_service_selection(std::vector<config::IpAddressPool> pools,
                                                  std::vector<ipam::ServiceRequest> services,
                                                  const ipam::PreviousAllocations& previous) {
  for (auto& p : pools)
    if (p.service_allocation) {
      p.service_allocation->namespaces.clear();
      p.service_allocation->namespace_selectors.clear();
      p.service_allocation->service_selectors.clear();
    }
  return ipam::allocate(pools, std::move(services), previous);
}

// An allocator that ranks pools by name alone, as if none had a priority.
ipam::AllocationResult ignoring_priority(std::vector<config::IpAddressPool> pools,
                                         std::vector<ipam::ServiceRequest> services,
                                         const ipam::PreviousAllocations& previous) {
  for (auto& p : pools)
    if (p.service_allocation) p.service_allocation->priority.reset();
  return ipam::allocate(pools, std::move(services), previous);
}

config::ManifestSet load(const std::string& yaml, config::Diagnostics& d) {
  config::ManifestSet set;
  config::load_manifest_text(yaml, "manifests.yaml", set, d);
  config::finish_manifest_set(set, d);
  return set;
}

config::IpAddressPool pool(const std::string& name, const std::string& range, bool avoid_buggy_ips = false,
                           bool auto_assign = true) {
  config::IpAddressPool p;
  p.meta.name = name;
  p.meta.namespace_ = "metallb-system";
  p.addresses = {*net::AddressRange::parse(range)};
  p.avoid_buggy_ips = avoid_buggy_ips;
  p.auto_assign = auto_assign;
  return p;
}

config::Service service(const std::string& name, std::vector<std::pair<Protocol, std::uint16_t>> ports,
                        std::optional<std::string> sharing_key = std::nullopt) {
  config::Service s;
  s.type = config::ServiceType::kLoadBalancer;
  s.meta.name = name;
  s.meta.namespace_ = "default";
  s.selector = {{"app", name}};
  for (const auto& [protocol, port] : ports) {
    config::ServicePort p;
    p.name = "p" + std::to_string(s.ports.size());
    p.protocol = protocol;
    p.port = port;
    s.ports.push_back(p);
  }
  s.sharing_key = std::move(sharing_key);
  return s;
}

void give(ipam::AllocationResult& r, const config::Service& s, const std::string& address,
          const std::string& pool_name) {
  r.assigned[s.meta.key()] = ipam::Allocation{{*IpAddress::parse(address)}, pool_name, false};
}

std::string violation(const std::vector<config::IpAddressPool>& pools,
                      const std::vector<config::Service>& services, const ipam::AllocationResult& r) {
  return allocation_violation(pools, services, r).value_or("");
}

// The failure, or null when the property held.
const rc::detail::FailureResult* failure_of(const rc::detail::TestResult& result) {
  return result.is<rc::detail::FailureResult>() ? &result.get<rc::detail::FailureResult>() : nullptr;
}

// -------------------------------------------------------------------------------- the engine holds the rules

TEST(Allocation, TheEngineKeepsMetalLbsRulesOnTwoHundredGeneratedManifestSets) {
  const auto result = run_property(Base{}, engine, 200, 20261202);
  const auto* failure = failure_of(result);
  ASSERT_EQ(failure, nullptr) << failure->description;
  EXPECT_TRUE(result.is<rc::detail::SuccessResult>());
}

TEST(Allocation, TheEngineKeepsTheRulesAroundTheSeedScenariosOwnPoolsAndServices) {
  config::Diagnostics d;
  auto model = std::make_shared<model::Model>();
  model->manifests = config::load_manifest_paths({METALGATE_SOURCE_DIR "/scenarios/seed"}, d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_FALSE(model->manifests.pools.empty());
  Base base;
  base.model = model;
  const auto result = run_property(base, engine, 100, 7);
  const auto* failure = failure_of(result);
  ASSERT_EQ(failure, nullptr) << failure->description;
}

// -------------------------------------------------------------------------------- the generators

RC_GTEST_PROP(Allocation, GeneratedManifestsLoadWithoutAnErrorAndReadBackAsDrawn, ()) {
  const auto set = *gen_metallb_set();
  config::Diagnostics d;
  const auto loaded = load(metallb_yaml(set.pools, set.services), d);
  RC_ASSERT(!d.has_errors());
  RC_ASSERT(loaded.pools.size() == set.pools.size());
  for (std::size_t i = 0; i < set.pools.size(); ++i) {
    RC_ASSERT(loaded.pools[i].meta.name == set.pools[i].meta.name);
    RC_ASSERT(loaded.pools[i].addresses == set.pools[i].addresses);
    RC_ASSERT(loaded.pools[i].auto_assign == set.pools[i].auto_assign);
    RC_ASSERT(loaded.pools[i].avoid_buggy_ips == set.pools[i].avoid_buggy_ips);
  }
  RC_ASSERT(loaded.services.size() == set.services.size());
  for (std::size_t i = 0; i < set.services.size(); ++i) {
    const auto &a = loaded.services[i], &b = set.services[i];
    RC_ASSERT(a.meta.key() == b.meta.key());
    RC_ASSERT(a.type == config::ServiceType::kLoadBalancer);
    RC_ASSERT(a.ports.size() == b.ports.size());
    for (std::size_t k = 0; k < a.ports.size(); ++k)
      RC_ASSERT(a.ports[k].protocol == b.ports[k].protocol && a.ports[k].port == b.ports[k].port);
    RC_ASSERT(a.selector == b.selector);
    RC_ASSERT(a.external_traffic_policy == b.external_traffic_policy);
    RC_ASSERT(a.ip_families == b.ip_families);
    RC_ASSERT(a.ip_family_policy == b.ip_family_policy);
    RC_ASSERT(a.requested_ips == b.requested_ips);
    RC_ASSERT(a.address_pool == b.address_pool);
    RC_ASSERT(a.sharing_key == b.sharing_key);
  }
}

// -------------------------------------------------------------------------------- the rules, on wrong
// answers

TEST(Allocation, APoolThatAvoidsBuggyIpsNeverHandsOutDotZeroOrDot255) {
  const std::vector pools = {pool("p", "192.168.0.254-192.168.1.1", true)};
  const std::vector services = {service("a", {{Protocol::kTcp, 80}})};
  for (const char* address : {"192.168.0.255", "192.168.1.0"}) {
    ipam::AllocationResult r;
    give(r, services[0], address, "p");
    EXPECT_EQ(violation(pools, services, r), std::string("avoidBuggyIPs: default/a got ") + address +
                                                 " from pool p, which sets avoidBuggyIPs");
  }
  ipam::AllocationResult fine;
  give(fine, services[0], "192.168.0.254", "p");
  EXPECT_EQ(violation(pools, services, fine), "");
}

TEST(Allocation, ServicesWithOneSharingKeyNeverShareAnAddressOnTheSameProtocolAndPort) {
  const std::vector pools = {pool("p", "192.168.0.10-192.168.0.12")};
  const std::vector services = {service("a", {{Protocol::kTcp, 80}, {Protocol::kUdp, 53}}, "k1"),
                                service("b", {{Protocol::kTcp, 443}, {Protocol::kUdp, 53}}, "k1")};
  ipam::AllocationResult r;
  give(r, services[0], "192.168.0.10", "p");
  give(r, services[1], "192.168.0.10", "p");
  EXPECT_EQ(violation(pools, services, r),
            "sharing: default/a and default/b both hold 192.168.0.10, but both use 53/UDP");
  // The same port over another protocol does not clash.
  const std::vector apart = {service("a", {{Protocol::kTcp, 53}}, "k1"),
                             service("b", {{Protocol::kUdp, 53}}, "k1")};
  EXPECT_EQ(violation(pools, apart, r), "");
}

TEST(Allocation, AnAddressOutsideItsPoolIsReported) {
  const std::vector pools = {pool("p", "192.168.0.10-192.168.0.12"), pool("q", "192.168.0.20/30")};
  const std::vector services = {service("a", {{Protocol::kTcp, 80}})};
  ipam::AllocationResult r;
  give(r, services[0], "192.168.0.21", "p");
  EXPECT_EQ(violation(pools, services, r),
            "in its pool: default/a got 192.168.0.21, which pool p does not hold");
  give(r, services[0], "192.168.0.10", "missing");
  EXPECT_EQ(violation(pools, services, r),
            "in its pool: default/a is given pool 'missing', which does not exist");
}

TEST(Allocation, TwoServicesWithoutTheSameNonEmptySharingKeyNeverHoldOneAddress) {
  const std::vector pools = {pool("p", "192.168.0.10-192.168.0.12")};
  ipam::AllocationResult r;
  const std::vector none = {service("a", {{Protocol::kTcp, 80}}), service("b", {{Protocol::kTcp, 443}})};
  give(r, none[0], "192.168.0.11", "p");
  give(r, none[1], "192.168.0.11", "p");
  EXPECT_EQ(
      violation(pools, none, r),
      "sharing: default/a and default/b both hold 192.168.0.11, but no allow-shared-ip key on default/a");
  const std::vector differ = {service("a", {{Protocol::kTcp, 80}}, "k1"),
                              service("b", {{Protocol::kTcp, 443}}, "k2")};
  EXPECT_EQ(
      violation(pools, differ, r),
      "sharing: default/a and default/b both hold 192.168.0.11, but their allow-shared-ip keys differ ('k1', "
      "'k2')");
  // MetalLB's sharingOK: an empty key allows no sharing.
  const std::vector empty = {service("a", {{Protocol::kTcp, 80}}, ""),
                             service("b", {{Protocol::kTcp, 443}}, "")};
  EXPECT_EQ(
      violation(pools, empty, r),
      "sharing: default/a and default/b both hold 192.168.0.11, but no allow-shared-ip key on default/a");
}

TEST(Allocation, LocalServicesShareOnlyWithLocalServicesOfIdenticalSelectors) {
  const std::vector pools = {pool("p", "192.168.0.10-192.168.0.12")};
  auto a = service("a", {{Protocol::kTcp, 80}}, "k1"), b = service("b", {{Protocol::kTcp, 443}}, "k1");
  a.external_traffic_policy = config::TrafficPolicy::kLocal;
  ipam::AllocationResult r;
  give(r, a, "192.168.0.10", "p");
  give(r, b, "192.168.0.10", "p");
  EXPECT_NE(violation(pools, {a, b}, r).find("their backends differ"), std::string::npos);
  b.external_traffic_policy = config::TrafficPolicy::kLocal;
  EXPECT_NE(violation(pools, {a, b}, r).find("their backends differ"), std::string::npos);
  b.selector = a.selector;
  EXPECT_EQ(violation(pools, {a, b}, r), "");
}

TEST(Allocation, AnAutoAssignFalsePoolServesOnlyServicesThatNameItOrRequestAnAddress) {
  const std::vector pools = {pool("manual", "192.168.0.10-192.168.0.12", false, false)};
  auto a = service("a", {{Protocol::kTcp, 80}});
  ipam::AllocationResult r;
  give(r, a, "192.168.0.10", "manual");
  EXPECT_EQ(violation(pools, {a}, r),
            "autoAssign: default/a got 192.168.0.10 from pool manual, which sets autoAssign: false, without "
            "naming it "
            "or requesting an address");
  a.address_pool = "manual";
  EXPECT_EQ(violation(pools, {a}, r), "");
}

TEST(Allocation, AServiceIsNotLeftPendingWhileAPoolItMayUseHasAFreeAddress) {
  const std::vector pools = {pool("p", "192.168.0.255-192.168.1.1", true)};
  const std::vector services = {service("a", {{Protocol::kTcp, 80}}), service("b", {{Protocol::kTcp, 80}})};
  ipam::AllocationResult r;
  give(r, services[0], "192.168.1.1", "p");
  r.pending["default/b"] = "no free address";
  EXPECT_EQ(violation(pools, services, r), "");  // .255 and .0 are not to be handed out
  r.assigned.clear();
  r.pending["default/a"] = "no free address";
  EXPECT_EQ(violation(pools, services, r),
            "not pending while an address is free: default/a is pending (no free address) while pool p has "
            "192.168.1.1 free");
}

TEST(Allocation, AFreeRequestedAddressThatNoOtherServiceRequestsIsHonoured) {
  const std::vector pools = {pool("p", "192.168.0.10-192.168.0.12")};
  auto a = service("a", {{Protocol::kTcp, 80}}), b = service("b", {{Protocol::kTcp, 80}});
  a.requested_ips = {*IpAddress::parse("192.168.0.12")};
  ipam::AllocationResult r;
  give(r, b, "192.168.0.10", "p");
  r.pending["default/a"] = "refused";
  EXPECT_EQ(
      violation(pools, {a, b}, r),
      "requests honoured: default/a requested 192.168.0.12, which its pool may hand out and no other Service "
      "requests, and is pending (refused)");
  give(r, a, "192.168.0.11", "p");
  r.pending.clear();
  EXPECT_EQ(violation(pools, {a, b}, r),
            "requested addresses: default/a requested 192.168.0.12 and got 192.168.0.11");
  b.requested_ips = a.requested_ips;  // both want it: either may be refused
  r.pending["default/a"] = "taken";
  r.assigned.erase("default/a");
  give(r, b, "192.168.0.12", "p");
  EXPECT_EQ(violation(pools, {a, b}, r), "");
}

TEST(Allocation, EveryServiceGetsExactlyOneAnswer) {
  const std::vector pools = {pool("p", "192.168.0.10-192.168.0.12")};
  const std::vector services = {service("a", {{Protocol::kTcp, 80}})};
  ipam::AllocationResult r;
  EXPECT_EQ(violation(pools, services, r), "one answer per Service: default/a has no answer");
  r.pending["default/a"] = "";
  EXPECT_EQ(violation(pools, services, r), "one answer per Service: default/a is pending without a reason");
}

// -------------------------------------------------------------------------------- the mutants are caught

// The shrunk counterexample holds at most `most_services` Services (one added Service more when the run given
// the previous allocations is the one that failed).
void expect_caught_within_100_cases(const AllocateFunction& mutant, const std::string& rule,
                                    std::size_t most_services = 2) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const auto result = run_property(Base{}, mutant, 100, seed);
    const auto* failure = failure_of(result);
    ASSERT_NE(failure, nullptr) << "seed " << seed << ": not caught in 100 cases";
    EXPECT_NE(failure->description.find("allocation: " + rule + ": "), std::string::npos)
        << failure->description;
    // The shrunk counterexample is a manifest set that loads as it is.
    const auto at = failure->description.find("---\n");
    ASSERT_NE(at, std::string::npos);
    config::Diagnostics d;
    const auto set = load(failure->description.substr(at), d);
    EXPECT_FALSE(d.has_errors()) << d.to_string();
    EXPECT_LE(set.services.size(), most_services) << failure->description;
  }
}

TEST(Allocation, AnAllocatorIgnoringAvoidBuggyIpsIsCaughtWithinAHundredCases) {
  expect_caught_within_100_cases(ignoring_avoid_buggy_ips, "avoidBuggyIPs");
}

TEST(Allocation, AnAllocatorLettingSharersClashOnAPortIsCaughtWithinAHundredCases) {
  expect_caught_within_100_cases(sharing_ignoring_ports, "sharing");
}

TEST(Allocation, AnAllocatorIgnoringServiceAllocationsSelectionIsCaughtWithinAHundredCases) {
  expect_caught_within_100_cases(ignoring_service_selection, "serviceAllocation", 3);
}

TEST(Allocation, AnAllocatorIgnoringServiceAllocationsPriorityIsCaughtWithinAHundredCases) {
  expect_caught_within_100_cases(ignoring_priority, "serviceAllocation priority");
}

}  // namespace
}  // namespace metalgate::check
