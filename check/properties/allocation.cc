#include "check/properties/allocation.h"

#include <algorithm>
#include <map>
#include <set>

#include <rapidcheck.h>

#include "check/generate/metallb.h"

namespace metalgate::check {

namespace {

using Violation = std::optional<std::string>;
using Port = std::pair<config::Protocol, std::uint16_t>;

std::string list(const std::vector<net::IpAddress>& addresses) {
  std::string out;
  for (const auto& ip : addresses)
    out += (out.empty() ? "" : ", ") + ip.to_string();
  return out.empty() ? "none" : out;
}

const config::IpAddressPool* pool_named(const std::vector<config::IpAddressPool>& pools,
                                        const std::string& name) {
  for (const auto& p : pools)
    if (p.meta.name == name) return &p;
  return nullptr;
}

bool holds(const config::IpAddressPool& pool, const net::IpAddress& ip) {
  return std::any_of(pool.addresses.begin(), pool.addresses.end(),
                     [&](const net::AddressRange& r) { return r.contains(ip); });
}

const config::IpAddressPool* pool_holding(const std::vector<config::IpAddressPool>& pools,
                                          const net::IpAddress& ip) {
  for (const auto& p : pools)
    if (holds(p, ip)) return &p;
  return nullptr;
}

// MetalLB's avoidBuggyIPs: "prevents addresses ending with .0 and .255 to be used by a pool" (IPv4 only).
bool ends_in_0_or_255(const net::IpAddress& ip) {
  return ip.is_v4() && (ip.bytes()[3] == 0 || ip.bytes()[3] == 255);
}

bool may_hand_out(const config::IpAddressPool& pool, const net::IpAddress& ip) {
  return holds(pool, ip) && !(pool.avoid_buggy_ips && ends_in_0_or_255(ip));
}

// The families a Service without a request asks for, its first (spec.ipFamilies[0], IPv4 when empty) first.
std::vector<net::IpFamily> families_of(const config::Service& s) {
  const net::IpFamily first = s.ip_families.empty() ? net::IpFamily::kV4 : s.ip_families.front();
  const net::IpFamily other = first == net::IpFamily::kV4 ? net::IpFamily::kV6 : net::IpFamily::kV4;
  if (s.ip_family_policy == config::IpFamilyPolicy::kSingleStack) return {first};
  return {first, other};
}

// MetalLB's serviceAllocation, restated from its documentation: a pool that has one serves only the Services
// it selects. When it names namespaces or namespace selectors, the Service's namespace must be named or
// selected (a namespace carries the label kubernetes.io/metadata.name: NAME; the property's sets have no
// Namespace objects); when it has Service selectors, one must select the Service's labels.
bool selected_by(const config::LabelSelector& selector, const config::Labels& labels) {
  for (const auto& [k, v] : selector.match_labels)
    if (auto it = labels.find(k); it == labels.end() || it->second != v) return false;
  return selector.match_expressions.empty() || selector.matches(labels);  // the base's own, when it has some
}

bool selects(const config::IpAddressPool& pool, const config::Service& s) {
  if (!pool.service_allocation) return true;
  const auto& a = *pool.service_allocation;
  if (!a.namespaces.empty() || !a.namespace_selectors.empty()) {
    const config::Labels ns{{"kubernetes.io/metadata.name", s.meta.namespace_}};
    const bool named =
        std::find(a.namespaces.begin(), a.namespaces.end(), s.meta.namespace_) != a.namespaces.end();
    if (!named && std::none_of(a.namespace_selectors.begin(), a.namespace_selectors.end(),
                               [&](const auto& sel) { return selected_by(sel, ns); }))
      return false;
  }
  return a.service_selectors.empty() ||
         std::any_of(a.service_selectors.begin(), a.service_selectors.end(),
                     [&](const auto& sel) { return selected_by(sel, s.meta.labels); });
}

// Whether MetalLB prefers pool `a` to pool `b` for a Service both serve: a pool with a priority comes before
// one without, and a lower priority before a higher one.
bool preferred(const config::IpAddressPool& a, const config::IpAddressPool& b) {
  const auto pa = a.service_allocation ? a.service_allocation->priority : std::nullopt;
  const auto pb = b.service_allocation ? b.service_allocation->priority : std::nullopt;
  return pa && (!pb || *pa < *pb);
}

// Why two Services may not hold one address, after MetalLB's sharing rules: the same sharing key on both (an
// empty one allows no sharing: its allocator's sharingOK), no port used by both, and the same backend key
// (k8salloc.BackendKey: the selector for Local, nothing for Cluster; the documentation's "both use the
// Cluster external traffic policy, or they both point to the exact same set of pods").
Violation why_not_shared(const config::Service& a, const config::Service& b) {
  const std::string ka = a.sharing_key.value_or(""), kb = b.sharing_key.value_or("");
  if (ka.empty() || kb.empty()) return "no allow-shared-ip key on " + (ka.empty() ? a : b).meta.key();
  if (ka != kb) return "their allow-shared-ip keys differ ('" + ka + "', '" + kb + "')";
  for (const auto& pa : a.ports)
    for (const auto& pb : b.ports)
      if (pa.protocol == pb.protocol && pa.port == pb.port)
        return "both use " + std::to_string(pa.port) + "/" + std::string(config::to_string(pa.protocol));
  auto backend = [](const config::Service& s) {
    return s.external_traffic_policy == config::TrafficPolicy::kLocal ? s.selector : config::Labels{};
  };
  if (backend(a) != backend(b))
    return std::string(
        "their backends differ (Local services must have identical selectors, and a Local "
        "service shares with no Cluster one)");
  return std::nullopt;
}

Violation check_answers(const std::vector<config::Service>& services, const ipam::AllocationResult& result) {
  std::set<std::string> keys;
  for (const auto& s : services) {
    const std::string key = s.meta.key();
    keys.insert(key);
    const bool assigned = result.assigned.count(key) != 0;
    const auto pending = result.pending.find(key);
    if (assigned == (pending != result.pending.end()))
      return "one answer per Service: " + key +
             (assigned ? " is both assigned and pending" : " has no answer");
    if (assigned && result.assigned.at(key).addresses.empty())
      return "one answer per Service: " + key + " is assigned no address";
    if (!assigned && pending->second.empty())
      return "one answer per Service: " + key + " is pending without a reason";
  }
  for (const auto& [key, allocation] : result.assigned)
    if (!keys.count(key))
      return "one answer per Service: " + key + " is assigned but is no LoadBalancer Service";
  return std::nullopt;
}

Violation check_families(const config::Service& s, const std::vector<net::IpAddress>& got) {
  const auto wanted = families_of(s);
  std::set<net::IpFamily> seen;
  for (const auto& ip : got) {
    if (!seen.insert(ip.family()).second)
      return "IP families: " + s.meta.key() + " has two " + std::string(net::to_string(ip.family())) +
             " addresses (" + list(got) + ")";
    if (std::find(wanted.begin(), wanted.end(), ip.family()) == wanted.end())
      return "IP families: " + s.meta.key() + " asks for " + std::string(net::to_string(wanted.front())) +
             " only and has " + ip.to_string();
  }
  if (s.ip_family_policy == config::IpFamilyPolicy::kRequireDualStack && got.size() != 2)
    return "IP families: " + s.meta.key() + " requires dual stack and has " + list(got);
  return std::nullopt;
}

// One Service's addresses against its pool and its own annotations.
Violation check_placement(const std::vector<config::IpAddressPool>& pools, const config::Service& s,
                          const ipam::Allocation& a) {
  const std::string key = s.meta.key();
  const auto* pool = pool_named(pools, a.pool);
  if (!pool) return "in its pool: " + key + " is given pool '" + a.pool + "', which does not exist";
  if (!selects(*pool, s))
    return "serviceAllocation: " + key + " got " + list(a.addresses) + " from pool " + a.pool +
           ", whose serviceAllocation does not select it";
  if (s.address_pool && *s.address_pool != a.pool)
    return "in its pool: " + key + " names pool " + *s.address_pool + " and got " + list(a.addresses) +
           " from " + a.pool;
  for (const auto& ip : a.addresses) {
    if (!holds(*pool, ip))
      return "in its pool: " + key + " got " + ip.to_string() + ", which pool " + a.pool + " does not hold";
    if (pool->avoid_buggy_ips && ends_in_0_or_255(ip))
      return "avoidBuggyIPs: " + key + " got " + ip.to_string() + " from pool " + a.pool +
             ", which sets avoidBuggyIPs";
  }
  if (!pool->auto_assign && !s.address_pool && s.requested_ips.empty())
    return "autoAssign: " + key + " got " + list(a.addresses) + " from pool " + a.pool +
           ", which sets autoAssign: false, without naming it or requesting an address";
  if (!s.requested_ips.empty()) {
    auto want = s.requested_ips, got = a.addresses;
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    if (want != got)
      return "requested addresses: " + key + " requested " + list(want) + " and got " + list(got);
    return std::nullopt;
  }
  return check_families(s, a.addresses);
}

Violation check_sharing(const std::vector<config::Service>& services, const ipam::AllocationResult& result) {
  std::map<net::IpAddress, std::vector<const config::Service*>> holders;
  for (const auto& s : services)
    if (auto it = result.assigned.find(s.meta.key()); it != result.assigned.end())
      for (const auto& ip : it->second.addresses)
        holders[ip].push_back(&s);
  for (const auto& [ip, list] : holders)
    for (std::size_t i = 0; i < list.size(); ++i)
      for (std::size_t j = i + 1; j < list.size(); ++j)
        if (auto why = why_not_shared(*list[i], *list[j]))
          return "sharing: " + list[i]->meta.key() + " and " + list[j]->meta.key() + " both hold " +
                 ip.to_string() + ", but " + *why;
  return std::nullopt;
}

// A request the rules let through: every address in one pool that may hand it out (the annotated pool when
// there is one) and selects the Service, and no other Service requesting any of them.
bool request_must_be_honoured(const std::vector<config::IpAddressPool>& pools,
                              const std::vector<config::Service>& services, const config::Service& s) {
  if (s.requested_ips.empty()) return false;
  const auto* pool = pool_holding(pools, s.requested_ips.front());
  if (!pool || !selects(*pool, s) || (s.address_pool && *s.address_pool != pool->meta.name)) return false;
  for (const auto& ip : s.requested_ips)
    if (!may_hand_out(*pool, ip)) return false;
  for (const auto& other : services) {
    if (other.meta.key() == s.meta.key()) continue;
    for (const auto& ip : other.requested_ips)
      if (std::find(s.requested_ips.begin(), s.requested_ips.end(), ip) != s.requested_ips.end())
        return false;
  }
  return true;
}

// An address of `family` that `pool` may hand out and nobody holds. The scan is bounded: past the held and
// the buggy addresses the next one is free.
std::optional<net::IpAddress> free_address(const config::IpAddressPool& pool, net::IpFamily family,
                                           const std::set<net::IpAddress>& held) {
  for (const auto& r : pool.addresses) {
    if (r.first.family() != family) continue;
    const std::uint64_t scan = std::min<std::uint64_t>(r.size(), held.size() + 520);
    for (std::uint64_t i = 0; i < scan; ++i) {
      const auto ip = r.first.advanced(i);
      if (ip && may_hand_out(pool, *ip) && !held.count(*ip)) return ip;
    }
  }
  return std::nullopt;
}

// The free addresses a pool offers a Service without a request: one of each family it asks for, or for
// PreferDualStack whatever the pool has. Empty when the pool cannot serve it.
std::vector<net::IpAddress> offer(const config::IpAddressPool& pool, const config::Service& s,
                                  const std::set<net::IpAddress>& held) {
  std::vector<net::IpAddress> got;
  for (auto f : families_of(s))
    if (auto ip = free_address(pool, f, held)) got.push_back(*ip);
  const bool any_will_do = s.ip_family_policy == config::IpFamilyPolicy::kPreferDualStack;
  if (!any_will_do && got.size() != families_of(s).size()) got.clear();
  return got;
}

Violation check_pending(const std::vector<config::IpAddressPool>& pools, const config::Service& s,
                        const std::string& reason, const std::set<net::IpAddress>& held) {
  std::vector<const config::IpAddressPool*> candidates;
  if (s.address_pool) {
    if (const auto* p = pool_named(pools, *s.address_pool)) candidates.push_back(p);
  } else {
    for (const auto& p : pools)
      if (p.auto_assign) candidates.push_back(&p);
  }
  for (const auto* p : candidates) {
    if (!selects(*p, s)) continue;
    if (auto got = offer(*p, s, held); !got.empty())
      return "not pending while an address is free: " + s.meta.key() + " is pending (" + reason +
             ") while pool " + p->meta.name + " has " + list(got) + " free";
  }
  return std::nullopt;
}

// A Service that neither names a pool nor requests addresses takes them from the most preferred pool that
// serves it and has them all free: no pool it prefers to the one it got may still offer every family it
// asks for at the end (addresses are only taken during a run, so that pool had them when it was served).
Violation check_preference(const std::vector<config::IpAddressPool>& pools, const config::Service& s,
                           const ipam::Allocation& a, const std::set<net::IpAddress>& held) {
  const auto* got = pool_named(pools, a.pool);
  if (!got || s.address_pool || !s.requested_ips.empty()) return std::nullopt;
  for (const auto& p : pools) {
    if (!p.auto_assign || !selects(p, s) || !preferred(p, *got)) continue;
    if (auto free = offer(p, s, held); free.size() == families_of(s).size())
      return "serviceAllocation priority: " + s.meta.key() + " got " + list(a.addresses) + " from pool " +
             a.pool + " while pool " + p.meta.name + ", which it prefers, has " + list(free) + " free";
  }
  return std::nullopt;
}

ipam::PreviousAllocations previous_of(const ipam::AllocationResult& result) {
  ipam::PreviousAllocations previous;
  for (const auto& [key, allocation] : result.assigned)
    previous[key] = allocation.addresses;
  return previous;
}

// The base's pools and MetalLB's LoadBalancer Services (those without a loadBalancerClass), then generated
// pools that overlap none of them, and generated Services (at least one when the base has none).
MetalLbSet draw_set(const Base& base) {
  MetalLbSet set;
  if (base.model) {
    set.pools = base.model->manifests.pools;
    for (const auto& s : base.model->manifests.services)
      if (s.type == config::ServiceType::kLoadBalancer && !s.load_balancer_class) set.services.push_back(s);
  }
  const auto pools = *gen_pools(set.pools);
  set.pools.insert(set.pools.end(), pools.begin(), pools.end());
  std::set<std::string> keys;
  for (const auto& s : set.services)
    keys.insert(s.meta.key());
  const auto services = *gen_load_balancer_services(set.pools, set.services.empty() ? 1 : 0, 8, keys);
  set.services.insert(set.services.end(), services.begin(), services.end());
  return set;
}

// Another order of `items`, drawn swap by swap in one draw (so that the draws after it keep their place
// when shrinking removes items); shrinks toward the order given.
template <typename T>
std::vector<T> draw_order(const std::vector<T>& items) {
  const std::size_t n = items.size();
  const auto order = *rc::gen::exec([n] {
    std::vector<std::size_t> indices(n);
    for (std::size_t i = 0; i < n; ++i)
      indices[i] = i;
    for (std::size_t i = n; i-- > 1;)
      std::swap(indices[i], indices[i - *rc::gen::inRange<std::size_t>(0, i + 1)]);
    return indices;
  });
  std::vector<T> out;
  for (auto i : order)
    out.push_back(items[i]);
  return out;
}

ipam::AllocationResult run(const AllocateFunction& allocate, const MetalLbSet& set,
                           const ipam::PreviousAllocations& previous) {
  std::vector<ipam::ServiceRequest> requests;
  for (const auto& s : set.services)
    requests.push_back(ipam::ServiceRequest::from(s));
  return allocate(set.pools, std::move(requests), previous);
}

std::string answer(const ipam::AllocationResult& result, const std::string& key) {
  if (auto it = result.assigned.find(key); it != result.assigned.end())
    return list(it->second.addresses) + " from " + it->second.pool;
  if (auto it = result.pending.find(key); it != result.pending.end()) return "pending (" + it->second + ")";
  return "no answer";
}

// The first Service whose answer differs between two results (addresses and pool, or pending), or "".
std::string first_difference(const std::vector<config::Service>& services, const ipam::AllocationResult& a,
                             const ipam::AllocationResult& b) {
  for (const auto& s : services) {
    const std::string key = s.meta.key();
    auto ia = a.assigned.find(key), ib = b.assigned.find(key);
    const bool assigned_a = ia != a.assigned.end(), assigned_b = ib != b.assigned.end();
    if (assigned_a != assigned_b) return key;
    if (assigned_a && (ia->second.addresses != ib->second.addresses || ia->second.pool != ib->second.pool))
      return key;
  }
  return "";
}

std::string state_lines(const ipam::PreviousAllocations& previous) {
  std::string out;
  for (const auto& [key, addresses] : previous) {
    out += key + " ";
    for (std::size_t i = 0; i < addresses.size(); ++i)
      out += (i ? "," : "") + addresses[i].to_string();
    out += "\n";
  }
  return out;
}

std::string failure(const std::string& what, const MetalLbSet& set) {
  return "allocation: " + what + "\nthe manifests (metalgate validate reads them):\n" +
         metallb_yaml(set.pools, set.services);
}

}  // namespace

Violation allocation_safety_violation(const std::vector<config::IpAddressPool>& pools,
                                      const std::vector<config::Service>& services,
                                      const ipam::AllocationResult& result) {
  if (auto v = check_answers(services, result)) return v;
  for (const auto& s : services)
    if (auto it = result.assigned.find(s.meta.key()); it != result.assigned.end())
      if (auto v = check_placement(pools, s, it->second)) return v;
  return check_sharing(services, result);
}

Violation allocation_liveness_violation(const std::vector<config::IpAddressPool>& pools,
                                        const std::vector<config::Service>& services,
                                        const ipam::AllocationResult& result) {
  std::set<net::IpAddress> held;
  for (const auto& [key, allocation] : result.assigned)
    held.insert(allocation.addresses.begin(), allocation.addresses.end());
  for (const auto& s : services) {
    const auto pending = result.pending.find(s.meta.key());
    if (request_must_be_honoured(pools, services, s) && pending != result.pending.end())
      return "requests honoured: " + s.meta.key() + " requested " + list(s.requested_ips) +
             ", which its pool may hand out and no other Service requests, and is pending (" +
             pending->second + ")";
    if (auto it = result.assigned.find(s.meta.key()); it != result.assigned.end())
      if (auto v = check_preference(pools, s, it->second, held)) return v;
    if (pending == result.pending.end() || !s.requested_ips.empty()) continue;
    if (auto v = check_pending(pools, s, pending->second, held)) return v;
  }
  return std::nullopt;
}

Violation allocation_violation(const std::vector<config::IpAddressPool>& pools,
                               const std::vector<config::Service>& services,
                               const ipam::AllocationResult& result) {
  if (auto v = allocation_safety_violation(pools, services, result)) return v;
  return allocation_liveness_violation(pools, services, result);
}

void allocation_property(const Base& base) {
  allocation_property(
      base, [](const std::vector<config::IpAddressPool>& pools, std::vector<ipam::ServiceRequest> services,
               const ipam::PreviousAllocations& previous) {
        return ipam::allocate(pools, std::move(services), previous);
      });
}

void allocation_property(const Base& base, const AllocateFunction& allocate) {
  const MetalLbSet set = draw_set(base);
  std::set<std::string> keys;
  for (const auto& s : set.services)
    keys.insert(s.meta.key());
  const auto added = *gen_load_balancer_services(set.pools, 1, 3, keys, "lb-new-");
  const MetalLbSet reordered{draw_order(set.pools), draw_order(set.services)};

  const auto result = run(allocate, set, {});
  if (auto v = allocation_violation(set.pools, set.services, result)) RC_FAIL(failure(*v, set));

  const auto again = run(allocate, reordered, {});
  if (auto key = first_difference(set.services, result, again); !key.empty())
    RC_FAIL(failure("independent of document order: " + key + " gets " + answer(result, key) +
                        " with the documents as ordered at the end, and " + answer(again, key) +
                        " in this order:\n" + metallb_yaml(reordered.pools, reordered.services),
                    set));

  MetalLbSet grown = set;
  grown.services.insert(grown.services.end(), added.begin(), added.end());
  const auto previous = previous_of(result);
  const auto after = run(allocate, grown, previous);
  if (auto v = allocation_safety_violation(grown.pools, grown.services, after))
    RC_FAIL(failure(*v + "\n(given the previous allocations, as a --state file:)\n" + state_lines(previous),
                    grown));
  for (const auto& entry : result.assigned) {
    const std::string& key = entry.first;
    const std::string before = answer(result, key), now = answer(after, key);
    if (now != before)
      RC_FAIL(
          failure("stable under unrelated additions: " + key + " had " + before + " and has " + now +
                      " once " + std::to_string(added.size()) +
                      " Service(s) lb-new-N are added, given the previous allocations (a --state file):\n" +
                      state_lines(previous),
                  grown));
  }
}

}  // namespace metalgate::check
