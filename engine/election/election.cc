#include "engine/election/election.h"

#include <openssl/sha.h>

#include <algorithm>
#include <unordered_map>

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

struct KeyRow {
  std::vector<ElectionKey> keys;
  std::vector<bool> known;
};

namespace {

// Every key computed on this thread, by address and interned node id (see IncrementalElection). The table
// only grows with the nodes and addresses seen.
struct KeyTable {
  using Row = KeyRow;
  std::unordered_map<std::string, std::uint32_t> ids;
  std::vector<std::string> names;
  std::unordered_map<net::IpAddress, Row> rows;

  std::uint32_t id(const std::string& node) {
    auto [it, fresh] = ids.try_emplace(node, static_cast<std::uint32_t>(names.size()));
    if (fresh) names.push_back(node);
    return it->second;
  }
  // The reference is valid until the next call.
  const ElectionKey& key(Row& row, const net::IpAddress& address, std::uint32_t id) {
    if (row.keys.size() <= id) {
      row.keys.resize(names.size());
      row.known.resize(names.size());
    }
    if (!row.known[id]) {
      row.keys[id] = election_key(names[id], address);
      row.known[id] = true;
    }
    return row.keys[id];
  }
};
thread_local KeyTable key_table;

}  // namespace

void IncrementalElection::set_races(std::vector<net::IpAddress> deciding_addresses) {
  races_.clear();
  races_.reserve(deciding_addresses.size());
  for (auto& a : deciding_addresses) {
    KeyRow* row = &key_table.rows[a];
    races_.push_back({std::move(a), std::nullopt, {}, row});
  }
}

void IncrementalElection::elect(std::size_t race, const std::vector<std::string>& view, const Ids& ids,
                                const Eligible& eligible) {
  Race& r = races_[race];
  auto& row = *r.keys;
  r.node.reset();
  for (std::size_t i = 0; i < view.size(); ++i) {
    if (!eligible(view[i], race)) continue;
    const auto& k = key_table.key(row, r.address, ids[i]);
    if (!r.node || k < r.key || (k == r.key && view[i] < *r.node)) {
      r.node = view[i];
      r.key = k;
    }
  }
}

void IncrementalElection::elect_all(const std::vector<std::string>& view, const Eligible& eligible) {
  Ids ids;
  for (const auto& n : view)
    ids.push_back(key_table.id(n));
  for (std::size_t i = 0; i < races_.size(); ++i)
    elect(i, view, ids, eligible);
}

bool IncrementalElection::update(const std::vector<std::string>& added,
                                 const std::vector<std::string>& removed,
                                 const std::vector<std::string>& view, const Eligible& eligible) {
  Ids view_ids, added_ids;
  for (const auto& n : view)
    view_ids.push_back(key_table.id(n));
  for (const auto& n : added)
    added_ids.push_back(key_table.id(n));
  bool changed = false;
  for (std::size_t i = 0; i < races_.size(); ++i) {
    Race& r = races_[i];
    if (!r.node || std::find(removed.begin(), removed.end(), *r.node) != removed.end()) {
      std::optional<std::string> before = std::move(r.node);
      elect(i, view, view_ids, eligible);
      changed = changed || r.node != before;
      continue;
    }
    auto& row = *r.keys;
    for (std::size_t j = 0; j < added.size(); ++j) {
      if (!eligible(added[j], i)) continue;
      const auto& k = key_table.key(row, r.address, added_ids[j]);
      if (k < r.key || (k == r.key && added[j] < *r.node)) {
        r.node = added[j];
        r.key = k;
        changed = true;
      }
    }
  }
  return changed;
}

}  // namespace metalgate::election
