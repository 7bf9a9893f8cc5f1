// Who answers for a service address: MetalLB's Layer-2 rule, as a pure function. Eligible live nodes are
// ordered by sha256(node name + "#" + address text) and the first one owns the address. Every node with the
// same view computes the same owner, and removing a node moves only the addresses it owned.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/net/ip_address.h"

namespace metalgate::election {

using ElectionKey = std::array<std::uint8_t, 32>;
struct KeyRow;  // election.cc: one address's keys, by node

ElectionKey election_key(const std::string& node, const net::IpAddress& address);

// The nodes in election order (the owner first). Duplicates are removed.
std::vector<std::string> election_order(const net::IpAddress& address,
                                        std::vector<std::string> eligible_nodes);

// The owner among `eligible_nodes` (live, selected by the L2Advertisement, and for externalTrafficPolicy:
// Local holding a ready endpoint), or nullopt when there is none. For dual-stack Services pass the first
// address, so both addresses move together, as MetalLB does.
std::optional<std::string> elect_owner(const net::IpAddress& address,
                                       const std::vector<std::string>& eligible_nodes);

// The owners of many addresses, kept current as the view changes one step at a time. A member that joins
// takes an address only if its key beats the owner's; a member that goes re-elects only what it owned. That
// is exactly the full election's answer (the rule has no other inputs) for one key per address per change,
// where re-electing everything costs one per address and member: a 64-node cold start with 500 addresses sees
// thousands of view changes on every node.
//
// Keys are a pure function of node and address, so one table of them serves every election on a thread (a
// simulated LAN runs all its nodes on one): 64 nodes x 500 VIPs hash 32,000 times, not two million.
class IncrementalElection {
 public:
  // Whether `node` may own the addresses of race `race` (node selectors, ready endpoints, ...).
  using Eligible = std::function<bool(const std::string& node, std::size_t race)>;

  // One race per entry, decided by that address (the first of a dual-stack Service). Forgets the winners.
  void set_races(std::vector<net::IpAddress> deciding_addresses);
  // Elects every race from scratch (after the races or eligibility changed).
  void elect_all(const std::vector<std::string>& view, const Eligible& eligible);
  // The view changed by `added` and `removed`; `view` is the new one. Returns whether any winner changed.
  bool update(const std::vector<std::string>& added, const std::vector<std::string>& removed,
              const std::vector<std::string>& view, const Eligible& eligible);
  const std::optional<std::string>& winner(std::size_t race) const { return races_[race].node; }
  std::size_t size() const { return races_.size(); }

 private:
  struct Race {
    net::IpAddress address;
    std::optional<std::string> node;
    ElectionKey key{};
    KeyRow* keys = nullptr;  // this address's row of the key table
  };
  // Nodes by their interned id (see election.cc): one hash lookup per node per change, not per race.
  using Ids = std::vector<std::uint32_t>;
  void elect(std::size_t race, const std::vector<std::string>& view, const Ids& ids,
             const Eligible& eligible);

  std::vector<Race> races_;
};

}  // namespace metalgate::election
