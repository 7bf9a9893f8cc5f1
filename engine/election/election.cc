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

}  // namespace metalgate::election
