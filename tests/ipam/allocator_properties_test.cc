// Properties of the allocator over random pools and services (RapidCheck shrinks any counterexample).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <random>

#include "engine/ipam/allocator.h"

namespace metalgate::ipam {
namespace {

struct Scenario {
  std::vector<config::IpAddressPool> pools;
  std::vector<ServiceRequest> services;
};

// Pools 10.<i>.0.<first>-10.<i>.0.<last>, never overlapping; services with random ports, sharing keys,
// requests.
rc::Gen<Scenario> scenarios() {
  return rc::gen::exec([] {
    Scenario s;
    int pool_count = *rc::gen::inRange(1, 4);
    for (int i = 0; i < pool_count; ++i) {
      config::IpAddressPool p;
      p.meta.name = "pool-" + std::to_string(i);
      int first = *rc::gen::inRange(0, 250);
      int last = std::min(255, first + *rc::gen::inRange(0, 12));
      p.addresses.push_back(
          {net::IpAddress::v4(10, static_cast<std::uint8_t>(i), 0, static_cast<std::uint8_t>(first)),
           net::IpAddress::v4(10, static_cast<std::uint8_t>(i), 0, static_cast<std::uint8_t>(last))});
      p.auto_assign = *rc::gen::weightedElement<bool>({{3, true}, {1, false}});
      p.avoid_buggy_ips = *rc::gen::arbitrary<bool>();
      s.pools.push_back(std::move(p));
    }
    int service_count = *rc::gen::inRange(0, 25);
    for (int i = 0; i < service_count; ++i) {
      ServiceRequest r;
      r.namespace_ = *rc::gen::element<std::string>("default", "team-a");
      r.key = r.namespace_ + "/svc-" + std::to_string(i);
      int port_count = *rc::gen::inRange(1, 3);
      for (int k = 0; k < port_count; ++k) {
        auto proto = *rc::gen::element(config::Protocol::kTcp, config::Protocol::kUdp);
        auto port = static_cast<std::uint16_t>(*rc::gen::element(53, 80, 443, 5432));
        if (std::find(r.ports.begin(), r.ports.end(), std::pair{proto, port}) == r.ports.end())
          r.ports.emplace_back(proto, port);
      }
      int share = *rc::gen::inRange(0, 4);
      if (share == 1) r.sharing_key = "k1";
      if (share == 2) r.sharing_key = "k2";
      if (*rc::gen::weightedElement<bool>({{4, false}, {1, true}}))
        r.pool = "pool-" + std::to_string(
                               *rc::gen::inRange(0, pool_count + 1));  // sometimes a pool that does not exist
      if (*rc::gen::weightedElement<bool>({{3, false}, {1, true}}))
        r.requested = {net::IpAddress::v4(10, static_cast<std::uint8_t>(*rc::gen::inRange(0, pool_count + 1)),
                                          0, static_cast<std::uint8_t>(*rc::gen::inRange(0, 256)))};
      r.local_traffic_policy = *rc::gen::weightedElement<bool>({{4, false}, {1, true}});
      s.services.push_back(std::move(r));
    }
    return s;
  });
}

const config::IpAddressPool* pool_named(const Scenario& s, const std::string& name) {
  for (const auto& p : s.pools)
    if (p.meta.name == name) return &p;
  return nullptr;
}

PreviousAllocations as_previous(const AllocationResult& r) {
  PreviousAllocations p;
  for (const auto& [k, a] : r.assigned)
    p[k] = a.addresses;
  return p;
}

RC_GTEST_PROP(AllocatorProperties, EveryAddressLiesInTheNamedPoolAndRespectsItsRules, ()) {
  auto s = *scenarios();
  auto r = allocate(s.pools, s.services);
  for (const auto& svc : s.services) {
    RC_ASSERT(r.assigned.count(svc.key) + r.pending.count(svc.key) == 1u);
    auto it = r.assigned.find(svc.key);
    if (it == r.assigned.end()) continue;
    const auto* pool = pool_named(s, it->second.pool);
    RC_ASSERT(pool != nullptr);
    for (const auto& ip : it->second.addresses) {
      RC_ASSERT(std::any_of(pool->addresses.begin(), pool->addresses.end(),
                            [&](auto& rg) { return rg.contains(ip); }));
      RC_ASSERT(!(pool->avoid_buggy_ips && is_buggy_ip(ip)));
    }
    if (svc.pool) RC_ASSERT(*svc.pool == pool->meta.name);
    // autoAssign: false pools serve only services that asked for them.
    if (!pool->auto_assign) RC_ASSERT(svc.pool || !svc.requested.empty());
  }
}

RC_GTEST_PROP(AllocatorProperties, AnAddressIsSharedOnlyWhenSharingRulesAllow, ()) {
  auto s = *scenarios();
  auto r = allocate(s.pools, s.services);
  for (std::size_t i = 0; i < s.services.size(); ++i)
    for (std::size_t j = i + 1; j < s.services.size(); ++j) {
      auto a = r.assigned.find(s.services[i].key), b = r.assigned.find(s.services[j].key);
      if (a == r.assigned.end() || b == r.assigned.end()) continue;
      for (const auto& ip : a->second.addresses)
        if (std::find(b->second.addresses.begin(), b->second.addresses.end(), ip) !=
            b->second.addresses.end())
          RC_ASSERT(can_share(s.services[i], s.services[j]));
    }
}

RC_GTEST_PROP(AllocatorProperties, ResultDoesNotDependOnInputOrder, ()) {
  auto s = *scenarios();
  auto shuffled = s.services;
  std::mt19937 g(*rc::gen::arbitrary<unsigned>());
  std::shuffle(shuffled.begin(), shuffled.end(), g);
  auto a = allocate(s.pools, s.services), b = allocate(s.pools, shuffled);
  RC_ASSERT(a.pending == b.pending);
  RC_ASSERT(a.assigned.size() == b.assigned.size());
  for (const auto& [k, v] : a.assigned) {
    RC_ASSERT(b.assigned.at(k).addresses == v.addresses);
    RC_ASSERT(b.assigned.at(k).pool == v.pool);
  }
}

RC_GTEST_PROP(AllocatorProperties, AddressesStayPutWhenUnrelatedServicesArrive, ()) {
  auto s = *scenarios();
  auto extra = *scenarios();
  auto before = allocate(s.pools, s.services);
  std::vector<ServiceRequest> more = s.services;
  for (auto r : extra.services) {
    r.key += "-new";
    more.push_back(r);
  }
  auto after = allocate(s.pools, more, as_previous(before));
  for (const auto& [k, v] : before.assigned)
    RC_ASSERT(after.assigned.at(k).addresses == v.addresses);
}

RC_GTEST_PROP(AllocatorProperties, AnswersAreFixedPointsOfThemselves, ()) {
  // Feeding a result back as previous state changes nothing: restarts with a state file are stable.
  auto s = *scenarios();
  auto first = allocate(s.pools, s.services);
  auto again = allocate(s.pools, s.services, as_previous(first));
  for (const auto& [k, v] : first.assigned)
    RC_ASSERT(again.assigned.at(k).addresses == v.addresses);
  RC_ASSERT(again.pending.size() == first.pending.size());
}

RC_GTEST_PROP(AllocatorProperties, UniqueValidRequestsAreAllHonoured, ()) {
  auto s = *scenarios();
  // Keep services whose request is unique, inside a pool, not buggy there, and without a pool annotation.
  std::vector<ServiceRequest> kept;
  std::set<net::IpAddress> taken;
  for (auto svc : s.services) {
    if (svc.requested.empty()) continue;
    svc.pool.reset();
    const auto& ip = svc.requested[0];
    const config::IpAddressPool* in = nullptr;
    for (const auto& p : s.pools)
      if (p.addresses[0].contains(ip)) in = &p;
    if (!in || (in->avoid_buggy_ips && is_buggy_ip(ip)) || !taken.insert(ip).second) continue;
    kept.push_back(svc);
  }
  auto r = allocate(s.pools, kept);
  RC_ASSERT(r.pending.empty());
  for (const auto& svc : kept)
    RC_ASSERT(r.assigned.at(svc.key).addresses == svc.requested);
}

}  // namespace
}  // namespace metalgate::ipam
