// Property 3, allocation: MetalLB's invariants on generated pools and Services, checked in memory against
// engine/ipam (no simulation: an allocation needs none).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "check/case/base.h"
#include "engine/config/manifest-t.h"
#include "engine/ipam/allocator.h"

namespace metalgate::check {

// Called inside a RapidCheck property: draws a manifest set (around the base's own pools and Services) with
// `*gen`, allocates, and fails with RC_FAIL naming the invariant broken and the manifests (YAML, which
// `metalgate validate` reads) that break it.
void allocation_property(const Base& base);

// The allocator under test: engine/ipam's allocate, or in the tests a deliberately broken one.
using AllocateFunction = std::function<ipam::AllocationResult(const std::vector<config::IpAddressPool>&,
                                                              std::vector<ipam::ServiceRequest>,
                                                              const ipam::PreviousAllocations&)>;

// The same with the allocator given. Besides the rules below on every drawn set, the set's documents in
// another order get the same addresses and pending Services, and Services added later (given the first result
// as the previous allocations) move no address that was assigned.
void allocation_property(const Base& base, const AllocateFunction& allocate);

// MetalLB's rules, written from its documentation and its allocator's behaviour and sharing no code with
// engine/ipam. `services` are the LoadBalancer Services the result answers. Each returns the first rule
// broken as "RULE: what happened", naming the Service(s), or nullopt.
//
// What every result must satisfy, whatever was allocated before: one answer per Service (addresses, or
// pending with a reason); addresses in the pool the answer names, which is the annotated one when there is
// one and may have autoAssign false only when the Service named it or requested addresses; no .0 or .255 IPv4
// address from an avoidBuggyIPs pool; a request answered with exactly the requested addresses; families as
// spec.ipFamilies and ipFamilyPolicy ask; an address held by two Services only when both carry the same
// non-empty allow-shared-ip key, use no (protocol, port) in common, and have the same backend (both Cluster,
// or both Local with identical selectors).
std::optional<std::string> allocation_safety_violation(const std::vector<config::IpAddressPool>& pools,
                                                       const std::vector<config::Service>& services,
                                                       const ipam::AllocationResult& result);
// What a fresh allocation (no previous one) must also do: a Service requesting addresses of one pool, which
// that pool may hand out and no other Service requests, gets them; and a Service without a request is not
// pending while a pool it may draw from (its annotated pool, else every autoAssign pool) has an address of
// its families that nobody holds. Pools with a serviceAllocation are left out of both rules.
std::optional<std::string> allocation_liveness_violation(const std::vector<config::IpAddressPool>& pools,
                                                         const std::vector<config::Service>& services,
                                                         const ipam::AllocationResult& result);
// Safety, then liveness.
std::optional<std::string> allocation_violation(const std::vector<config::IpAddressPool>& pools,
                                                const std::vector<config::Service>& services,
                                                const ipam::AllocationResult& result);

}  // namespace metalgate::check
