// Service addresses from MetalLB IPAddressPools, with MetalLB's rules: pool choice by annotation or by
// serviceAllocation (priority, namespaces, selectors) among autoAssign pools; requested addresses honoured or
// refused with a reason; avoidBuggyIPs; sharing by allow-shared-ip key only without port clashes; IPv4, IPv6,
// dual-stack. A pure function of its inputs: the same pools, services and previous allocations give the same
// result whatever order the manifests came in, and previous allocations are kept while still valid, so an
// address does not move when unrelated services come and go.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/manifest-t.h"

namespace metalgate::ipam {

struct ServiceRequest {
  std::string key;  // "namespace/name"
  std::string namespace_;
  config::Labels labels;
  std::optional<std::string> pool;
  std::vector<net::IpAddress> requested;
  std::optional<std::string> sharing_key;
  std::vector<std::pair<config::Protocol, std::uint16_t>> ports;
  std::vector<net::IpFamily> families;  // from spec.ipFamilies; empty means IPv4
  config::IpFamilyPolicy family_policy = config::IpFamilyPolicy::kSingleStack;
  bool local_traffic_policy = false;
  config::Labels selector;

  static ServiceRequest from(const config::Service& service);
};

struct Allocation {
  std::vector<net::IpAddress> addresses;  // IPv4 first when dual-stack
  std::string pool;
  bool shared = false;
};

struct AllocationResult {
  std::map<std::string, Allocation> assigned;  // by service key
  std::map<std::string, std::string> pending;  // service key -> why it has no address
};

using PreviousAllocations = std::map<std::string, std::vector<net::IpAddress>>;

AllocationResult allocate(const std::vector<config::IpAddressPool>& pools,
                          std::vector<ServiceRequest> services, const PreviousAllocations& previous = {},
                          const std::map<std::string, config::Labels>& namespace_labels = {});

// MetalLB's avoidBuggyIPs: IPv4 addresses ending in .0 or .255 confuse some old firmware.
bool is_buggy_ip(const net::IpAddress& address);

// Two services may hold one address only when this holds (MetalLB's sharing rules).
bool can_share(const ServiceRequest& a, const ServiceRequest& b);

}  // namespace metalgate::ipam
