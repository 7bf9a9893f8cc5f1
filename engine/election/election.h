// Who answers for a service address: MetalLB's Layer-2 rule, as a pure function. Eligible live nodes are
// ordered by sha256(node name + "#" + address text) and the first one owns the address. Every node with the
// same view computes the same owner, and removing a node moves only the addresses it owned.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/net/ip_address.h"

namespace metalgate::election {

using ElectionKey = std::array<std::uint8_t, 32>;

ElectionKey election_key(const std::string& node, const net::IpAddress& address);

// The nodes in election order (the owner first). Duplicates are removed.
std::vector<std::string> election_order(const net::IpAddress& address,
                                        std::vector<std::string> eligible_nodes);

// The owner among `eligible_nodes` (live, selected by the L2Advertisement, and for externalTrafficPolicy:
// Local holding a ready endpoint), or nullopt when there is none. For dual-stack Services pass the first
// address, so both addresses move together, as MetalLB does.
std::optional<std::string> elect_owner(const net::IpAddress& address,
                                       const std::vector<std::string>& eligible_nodes);

// The same election with each node's key for each address computed once: a node's view changes many times
// (every join, every failure) and each change re-elects every address, so with hundreds of VIPs and dozens of
// nodes hashing dominates. Keys never change; the cache only grows with the nodes and addresses seen.
class ElectionKeys {
 public:
  const ElectionKey& key(const std::string& node, const net::IpAddress& address);
  std::optional<std::string> elect_owner(const net::IpAddress& address,
                                         const std::vector<std::string>& eligible);

 private:
  std::map<net::IpAddress, std::map<std::string, ElectionKey, std::less<>>> keys_;
};

}  // namespace metalgate::election
