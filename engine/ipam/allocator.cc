#include "engine/ipam/allocator.h"

#include <algorithm>
#include <set>

#include "engine/mutants/mutants.h"

namespace metalgate::ipam {

namespace {

using Holders = std::map<net::IpAddress, std::vector<const ServiceRequest*>>;

const config::IpAddressPool* find_pool(const std::vector<config::IpAddressPool>& pools,
                                       const std::string& name) {
  for (const auto& p : pools)
    if (p.meta.name == name) return &p;
  return nullptr;
}

const config::IpAddressPool* pool_of(const std::vector<config::IpAddressPool>& pools,
                                     const net::IpAddress& ip) {
  for (const auto& p : pools)
    for (const auto& r : p.addresses)
      if (r.contains(ip)) return &p;
  return nullptr;
}

bool allocation_matches(const config::IpAddressPool& pool, const ServiceRequest& s,
                        const std::map<std::string, config::Labels>& namespace_labels) {
  if (!pool.service_allocation) return true;
  const auto& a = *pool.service_allocation;
  if (!a.namespaces.empty() || !a.namespace_selectors.empty()) {
    bool ok = std::find(a.namespaces.begin(), a.namespaces.end(), s.namespace_) != a.namespaces.end();
    config::Labels ns_labels{{"kubernetes.io/metadata.name", s.namespace_}};
    if (auto it = namespace_labels.find(s.namespace_); it != namespace_labels.end())
      ns_labels.insert(it->second.begin(), it->second.end());
    for (const auto& sel : a.namespace_selectors)
      ok = ok || sel.matches(ns_labels);
    if (!ok) return false;
  }
  if (!a.service_selectors.empty()) {
    bool ok = false;
    for (const auto& sel : a.service_selectors)
      ok = ok || sel.matches(s.labels);
    if (!ok) return false;
  }
  return true;
}

// Pools a service without a pool annotation or requested address may draw from, in MetalLB's order of
// preference.
std::vector<const config::IpAddressPool*> candidate_pools(
    const std::vector<config::IpAddressPool>& pools, const ServiceRequest& s,
    const std::map<std::string, config::Labels>& ns_labels) {
  std::vector<const config::IpAddressPool*> out;
  for (const auto& p : pools)
    if (p.auto_assign && allocation_matches(p, s, ns_labels)) out.push_back(&p);
  auto rank = [](const config::IpAddressPool* p) {
    bool prioritized = p->service_allocation && p->service_allocation->priority;
    return std::make_tuple(prioritized ? 0 : 1, prioritized ? *p->service_allocation->priority : 0,
                           p->meta.name);
  };
  std::sort(out.begin(), out.end(), [&](auto* a, auto* b) { return rank(a) < rank(b); });
  return out;
}

bool fits_holders(const Holders& holders, const net::IpAddress& ip, const ServiceRequest& s,
                  const ServiceRequest** clash = nullptr) {
  auto it = holders.find(ip);
  if (it == holders.end()) return true;
  for (const auto* other : it->second) {
    if (!can_share(s, *other)) {
      if (clash) *clash = other;
      return false;
    }
  }
  return true;
}

std::vector<net::IpFamily> wanted_families(const ServiceRequest& s, bool& all_required) {
  const net::IpFamily first = s.families.empty() ? net::IpFamily::kV4 : s.families.front();
  const net::IpFamily other = first == net::IpFamily::kV4 ? net::IpFamily::kV6 : net::IpFamily::kV4;
  all_required = s.family_policy != config::IpFamilyPolicy::kPreferDualStack;
  if (s.family_policy == config::IpFamilyPolicy::kSingleStack) return {first};
  return {first, other};
}

// The address a service takes from a pool: one already shared under its key, else the first free one.
std::optional<net::IpAddress> pick_in_pool(const config::IpAddressPool& pool, net::IpFamily family,
                                           const ServiceRequest& s, const Holders& holders) {
  if (s.sharing_key) {
    for (const auto& [ip, list] : holders) {
      if (ip.family() != family || list.empty() || !list.front()->sharing_key) continue;
      if (*list.front()->sharing_key != *s.sharing_key) continue;
      bool in_pool = std::any_of(pool.addresses.begin(), pool.addresses.end(),
                                 [&ip = ip](const net::AddressRange& r) { return r.contains(ip); });
      if (in_pool && fits_holders(holders, ip, s)) return ip;
    }
  }
  for (const auto& range : pool.addresses) {
    if (range.first.family() != family) continue;
    // Scanning stops at the first free address, so the cost is bounded by the addresses already in use.
    std::optional<net::IpAddress> ip = range.first;
    while (ip && *ip <= range.last) {
      if (!(pool.avoid_buggy_ips && is_buggy_ip(*ip)) && !holders.count(*ip)) return ip;
      ip = ip->advanced(1);
    }
  }
  return std::nullopt;
}

std::string describe_pools(const std::vector<const config::IpAddressPool*>& pools, const Holders& holders) {
  std::string s;
  for (const auto* p : pools) {
    std::uint64_t size = 0, used = 0;
    for (const auto& r : p->addresses) {
      std::uint64_t n = r.size();
      size = size > UINT64_MAX - n ? UINT64_MAX : size + n;
      for (const auto& [ip, list] : holders)
        if (r.contains(ip)) ++used;
    }
    if (!s.empty()) s += ", ";
    s += p->meta.name + " (" + std::to_string(used) + " of " + std::to_string(size) + " in use)";
  }
  return s;
}

}  // namespace

bool is_buggy_ip(const net::IpAddress& address) {
  if (METALGATE_MUTANT(kAvoidBuggyIpsIgnored)) return false;
  if (!address.is_v4()) return false;
  auto last = address.bytes()[3];
  return last == 0 || last == 255;
}

bool can_share(const ServiceRequest& a, const ServiceRequest& b) {
  if (a.key == b.key) return true;
  // An empty key shares nothing (MetalLB's sharingOK refuses it): `allow-shared-ip: ""` is no key.
  if (!a.sharing_key || !b.sharing_key || a.sharing_key->empty() || *a.sharing_key != *b.sharing_key)
    return false;
  for (const auto& pa : a.ports)
    for (const auto& pb : b.ports)
      if (pa == pb && !METALGATE_MUTANT(kSharingIgnoresPortClash)) return false;
  if (a.local_traffic_policy || b.local_traffic_policy)
    return a.local_traffic_policy && b.local_traffic_policy && a.selector == b.selector;
  return true;
}

ServiceRequest ServiceRequest::from(const config::Service& service) {
  ServiceRequest r;
  r.key = service.meta.key();
  r.namespace_ = service.meta.namespace_;
  r.labels = service.meta.labels;
  r.pool = service.address_pool;
  r.requested = service.requested_ips;
  r.sharing_key = service.sharing_key;
  for (const auto& p : service.ports)
    r.ports.emplace_back(p.protocol, p.port);
  r.families = service.ip_families;
  r.family_policy = service.ip_family_policy;
  r.local_traffic_policy = service.external_traffic_policy == config::TrafficPolicy::kLocal;
  r.selector = service.selector;
  return r;
}

AllocationResult allocate(const std::vector<config::IpAddressPool>& pools,
                          std::vector<ServiceRequest> services, const PreviousAllocations& previous,
                          const std::map<std::string, config::Labels>& namespace_labels) {
  std::sort(services.begin(), services.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  AllocationResult result;
  Holders holders;
  std::set<std::string> done;

  auto assign = [&](const ServiceRequest& s, std::vector<net::IpAddress> ips, const std::string& pool) {
    std::sort(ips.begin(), ips.end());  // IPv4 sorts before IPv6
    bool shared = false;
    for (const auto& ip : ips) {
      shared = shared || holders.count(ip);
      holders[ip].push_back(&s);
    }
    result.assigned[s.key] = Allocation{std::move(ips), pool, shared};
    done.insert(s.key);
  };

  // Where a service's addresses may come from, or why none can.
  auto pools_for = [&](const ServiceRequest& s,
                       std::string& why) -> std::vector<const config::IpAddressPool*> {
    if (s.pool) {
      auto* p = find_pool(pools, *s.pool);
      if (p && allocation_matches(*p, s, namespace_labels)) return {p};
      why = p ? "address pool '" + *s.pool + "' serves other Services (its serviceAllocation)"
              : "address pool '" + *s.pool + "' does not exist";
      return {};
    }
    auto c = candidate_pools(pools, s, namespace_labels);
    if (c.empty())
      why = pools.empty() ? "no IPAddressPool is defined" : "no pool with autoAssign serves this service";
    return c;
  };

  // 1. Keep what each service had, while it is still valid under the current pools and neighbours.
  for (const auto& s : services) {
    auto it = previous.find(s.key);
    if (it == previous.end() || it->second.empty()) continue;
    if (!s.requested.empty()) {
      auto want = s.requested, had = it->second;
      std::sort(want.begin(), want.end());
      std::sort(had.begin(), had.end());
      if (want != had) continue;  // the request changed: honour the new one below
    }
    std::string why;
    auto allowed = s.requested.empty() ? pools_for(s, why) : std::vector<const config::IpAddressPool*>{};
    const config::IpAddressPool* pool = nullptr;
    bool ok = true;
    std::set<net::IpFamily> families;
    for (const auto& ip : it->second) {
      const auto* p = pool_of(pools, ip);
      ok = ok && p && (!pool || p == pool) && families.insert(ip.family()).second;
      ok = ok && (s.requested.empty()
                      ? std::find(allowed.begin(), allowed.end(), p) != allowed.end()
                      : (!s.pool || p->meta.name == *s.pool) && allocation_matches(*p, s, namespace_labels));
      ok = ok && !(p->avoid_buggy_ips && is_buggy_ip(ip)) && fits_holders(holders, ip, s);
      pool = p;
    }
    bool all_required = true;
    auto wanted = wanted_families(s, all_required);
    if (s.requested.empty())
      for (auto f : families)
        ok = ok && std::find(wanted.begin(), wanted.end(), f) != wanted.end();
    if (ok && pool) assign(s, it->second, pool->meta.name);
  }

  // 2. Requested addresses, then 3. everything else, each in key order.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& s : services) {
      if (done.count(s.key) || (pass == 0) == s.requested.empty()) continue;
      if (pass == 0) {
        std::string why;
        const config::IpAddressPool* pool = nullptr;
        for (const auto& ip : s.requested) {
          const auto* p = pool_of(pools, ip);
          const ServiceRequest* clash = nullptr;
          if (!p)
            why = ip.to_string() + " is not in any IPAddressPool";
          else if (s.pool && p->meta.name != *s.pool)
            why = ip.to_string() + " is in pool " + p->meta.name + ", not in the annotated pool " + *s.pool;
          else if (!allocation_matches(*p, s, namespace_labels))
            why = ip.to_string() + " is in pool " + p->meta.name +
                  ", whose serviceAllocation serves other Services (MetalLB refuses it too)";
          else if (p->avoid_buggy_ips && is_buggy_ip(ip))
            why = ip.to_string() + " ends in .0 or .255 and pool " + p->meta.name + " sets avoidBuggyIPs";
          else if (!fits_holders(holders, ip, s, &clash))
            why = ip.to_string() + " is already used by " + clash->key +
                  (s.sharing_key && clash->sharing_key && *s.sharing_key == *clash->sharing_key
                       ? " and their ports clash or their traffic policies differ"
                       : " (sharing needs the same metallb.io/allow-shared-ip key on both)");
          else if (pool && pool != p)
            why = "requested addresses lie in two pools (" + pool->meta.name + ", " + p->meta.name + ")";
          if (!why.empty()) break;
          pool = p;
        }
        if (why.empty() && pool)
          assign(s, s.requested, pool->meta.name);
        else
          result.pending[s.key] = why;
        continue;
      }
      std::string why;
      auto candidates = pools_for(s, why);
      if (candidates.empty()) {
        result.pending[s.key] = why;
        continue;
      }
      bool all_required = true;
      auto families = wanted_families(s, all_required);
      // All addresses of a service come from one pool: the first pool that can give every wanted family
      // (or, for PreferDualStack, the first that can give any).
      std::vector<net::IpAddress> best;
      const config::IpAddressPool* best_pool = nullptr;
      for (const auto* p : candidates) {
        std::vector<net::IpAddress> got;
        for (auto f : families)
          if (auto ip = pick_in_pool(*p, f, s, holders)) got.push_back(*ip);
        if (got.size() == families.size()) {
          best = got;
          best_pool = p;
          break;
        }
        if (!all_required && !got.empty() && !best_pool) {
          best = got;
          best_pool = p;
        }
      }
      if (best_pool) {
        assign(s, best, best_pool->meta.name);
      } else {
        std::string need = families.size() == 2
                               ? "an IPv4 and an IPv6 address"
                               : std::string("an ") + std::string(net::to_string(families[0])) + " address";
        result.pending[s.key] =
            "no free address: needs " + need + "; pools tried: " + describe_pools(candidates, holders);
      }
    }
  }
  return result;
}

}  // namespace metalgate::ipam
