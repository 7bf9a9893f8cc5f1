// RapidCheck generators of MetalLB's inputs, for the allocation property: IPAddressPools (IPv4 and IPv6,
// ranges and CIDRs small enough to run out, many holding a .0 or .255 address; autoAssign; avoidBuggyIPs;
// serviceAllocation with a priority, a namespace or a Service label) and LoadBalancer Services (1-3 ports
// from a small set, so that they clash; the pool annotation, requested addresses in and out of the pools,
// sharing keys from a small set; Local or Cluster traffic policy with a selector; IP families and family
// policy; a tier label). Valid by construction: their YAML loads without an error and reads back as drawn.
// They shrink toward fewer pools and Services, one IPv4 range starting at .255 (where a single Service meets
// a buggy address), one TCP port, no annotation.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <rapidcheck.h>

#include "engine/config/manifest-t.h"

namespace metalgate::check {

struct MetalLbSet {
  std::vector<config::IpAddressPool> pools;
  std::vector<config::Service> services;  // LoadBalancer Services only
};

// 1-4 pools named pool-0, pool-1, … (a name in `taken_names` is skipped), in metallb-system. Each pool's
// addresses lie in a block of its own (IPv4 192.168.16i.0/20, IPv6 fd00:0:0:4i::/62), and a pool that would
// overlap one of `avoid` is left out, so no two pools overlap.
rc::Gen<std::vector<config::IpAddressPool>> gen_pools(std::vector<config::IpAddressPool> avoid = {});

// One LoadBalancer Service named `namespace_/name`, whose pool annotation and requested addresses are drawn
// from `pools` (and sometimes name no pool, or an address outside every pool).
rc::Gen<config::Service> gen_load_balancer_service(std::vector<config::IpAddressPool> pools,
                                                   std::string name);

// `least` to `most` Services named lb-0, lb-1, … (lb-new-0, … with `prefix` "lb-new-"), in the namespaces
// default and team-a, none with a key in `taken_keys`.
rc::Gen<std::vector<config::Service>> gen_load_balancer_services(std::vector<config::IpAddressPool> pools,
                                                                 int least, int most,
                                                                 std::set<std::string> taken_keys = {},
                                                                 std::string prefix = "lb-");

// Pools and 1-8 Services drawing on them.
rc::Gen<MetalLbSet> gen_metallb_set();

// The pool and the Service as one YAML document each, without the "---" separator. A Service is written
// with its MetalLB fields only (ports, selector, traffic policy, families, the metallb.io annotations).
std::string pool_yaml(const config::IpAddressPool& pool);
std::string service_yaml(const config::Service& service);
// Every pool, then every Service, as a multi-document text that `metalgate validate` reads.
std::string metallb_yaml(const std::vector<config::IpAddressPool>& pools,
                         const std::vector<config::Service>& services);

}  // namespace metalgate::check
