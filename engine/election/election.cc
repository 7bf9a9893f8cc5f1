#include "engine/election/election.h"

#include <openssl/sha.h>

#include <algorithm>

namespace metalgate::election {

ElectionKey election_key(const std::string& node, const net::IpAddress& address) {
  std::string text = node + "#" + address.to_string();
  ElectionKey key{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), key.data());
  return key;
}

std::vector<std::string> election_order(const net::IpAddress& address,
                                        std::vector<std::string> eligible_nodes) {
  std::sort(eligible_nodes.begin(), eligible_nodes.end());
  eligible_nodes.erase(std::unique(eligible_nodes.begin(), eligible_nodes.end()), eligible_nodes.end());
  std::vector<std::pair<ElectionKey, std::string>> keyed;
  keyed.reserve(eligible_nodes.size());
  for (auto& n : eligible_nodes)
    keyed.emplace_back(election_key(n, address), std::move(n));
  std::sort(keyed.begin(), keyed.end());  // by hash bytes, then by name (a tie needs a SHA-256 collision)
  std::vector<std::string> out;
  out.reserve(keyed.size());
  for (auto& [k, n] : keyed)
    out.push_back(std::move(n));
  return out;
}

std::optional<std::string> elect_owner(const net::IpAddress& address,
                                       const std::vector<std::string>& eligible_nodes) {
  std::optional<std::string> best;
  ElectionKey best_key{};
  for (const auto& n : eligible_nodes) {
    auto k = election_key(n, address);
    if (!best || k < best_key) {
      best = n;
      best_key = k;
    }
  }
  return best;
}

const ElectionKey& ElectionKeys::key(const std::string& node, const net::IpAddress& address) {
  auto& per_node = keys_[address];
  auto it = per_node.find(node);
  if (it == per_node.end()) it = per_node.emplace(node, election_key(node, address)).first;
  return it->second;
}

std::optional<std::string> ElectionKeys::elect_owner(const net::IpAddress& address,
                                                     const std::vector<std::string>& eligible) {
  auto& per_node = keys_[address];
  const std::string* best = nullptr;
  const ElectionKey* best_key = nullptr;
  for (const auto& n : eligible) {
    auto it = per_node.find(n);
    if (it == per_node.end()) it = per_node.emplace(n, election_key(n, address)).first;
    if (!best || it->second < *best_key) {
      best = &n;
      best_key = &it->second;
    }
  }
  if (!best) return std::nullopt;
  return *best;
}

void IncrementalElection::set_races(std::vector<net::IpAddress> deciding_addresses) {
  races_.clear();
  races_.reserve(deciding_addresses.size());
  for (auto& a : deciding_addresses)
    races_.push_back({std::move(a), std::nullopt, {}});
}

void IncrementalElection::elect(std::size_t race, const std::vector<std::string>& view,
                                const Eligible& eligible) {
  Race& r = races_[race];
  r.node.reset();
  for (const auto& n : view) {
    if (!eligible(n, race)) continue;
    const auto& k = keys_.key(n, r.address);
    if (!r.node || k < r.key || (k == r.key && n < *r.node)) {
      r.node = n;
      r.key = k;
    }
  }
}

void IncrementalElection::elect_all(const std::vector<std::string>& view, const Eligible& eligible) {
  for (std::size_t i = 0; i < races_.size(); ++i)
    elect(i, view, eligible);
}

bool IncrementalElection::update(const std::vector<std::string>& added,
                                 const std::vector<std::string>& removed,
                                 const std::vector<std::string>& view, const Eligible& eligible) {
  bool changed = false;
  for (std::size_t i = 0; i < races_.size(); ++i) {
    Race& r = races_[i];
    std::optional<std::string> before = r.node;
    if (!r.node || std::find(removed.begin(), removed.end(), *r.node) != removed.end()) {
      elect(i, view, eligible);
    } else {
      for (const auto& n : added) {
        if (!eligible(n, i)) continue;
        const auto& k = keys_.key(n, r.address);
        if (k < r.key || (k == r.key && n < *r.node)) {
          r.node = n;
          r.key = k;
        }
      }
    }
    changed = changed || r.node != before;
  }
  return changed;
}

}  // namespace metalgate::election
