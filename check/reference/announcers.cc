#include "check/reference/announcers.h"

#include <algorithm>

namespace metalgate::check {

namespace {

// Kubernetes' selector rules restated, apart from config::LabelSelector: every matchLabels pair and every
// expression must hold (NotIn holds for a node without the key).
bool holds(const config::LabelRequirement& r, const std::map<std::string, std::string>& labels) {
  using Op = config::LabelRequirement::Operator;
  const auto it = labels.find(r.key);
  const bool has = it != labels.end();
  const bool listed = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
  switch (r.op) {
    case Op::kIn:
      return listed;
    case Op::kNotIn:
      return !listed;
    case Op::kExists:
      return has;
    case Op::kDoesNotExist:
      return !has;
  }
  return false;
}

bool matches(const config::LabelSelector& selector, const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : selector.match_labels)
    if (auto it = labels.find(k); it == labels.end() || it->second != v) return false;
  return std::all_of(selector.match_expressions.begin(), selector.match_expressions.end(),
                     [&](const auto& r) { return holds(r, labels); });
}

bool advertises(const config::L2Advertisement& a, const config::IpAddressPool& pool) {
  if (a.ip_address_pools.empty() && a.ip_address_pool_selectors.empty()) return true;
  if (std::find(a.ip_address_pools.begin(), a.ip_address_pools.end(), pool.meta.name) !=
      a.ip_address_pools.end())
    return true;
  return std::any_of(a.ip_address_pool_selectors.begin(), a.ip_address_pool_selectors.end(),
                     [&](const auto& s) { return matches(s, pool.meta.labels); });
}

// The pool holding `ip`, or none.
const config::IpAddressPool* pool_holding(const config::ManifestSet& m, const net::IpAddress& ip) {
  for (const auto& p : m.pools)
    for (const auto& r : p.addresses)
      if (r.contains(ip)) return &p;
  return nullptr;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> announce_labels(const config::ManifestSet& manifests) {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const std::string& key, const std::string& value) {
    if (std::find(out.begin(), out.end(), std::make_pair(key, value)) == out.end())
      out.emplace_back(key, value);
  };
  for (const auto& a : manifests.l2_advertisements)
    for (const auto& s : a.node_selectors) {
      for (const auto& [key, value] : s.match_labels)
        add(key, value);
      for (const auto& r : s.match_expressions)
        if (r.op == config::LabelRequirement::Operator::kIn && !r.values.empty())
          add(r.key, r.values.front());
    }
  return out;
}

std::map<std::string, std::string> case_node_labels(const Base& base, const Case& c, int i) {
  const auto& nodes = base.scenario.nodes;
  std::map<std::string, std::string> labels = nodes[i % nodes.size()].labels;
  const unsigned drawn = i < static_cast<int>(c.labels.size()) ? c.labels[i] : 0;
  for (std::size_t k = 0; k < base.announce_labels.size(); ++k)
    if (drawn & (1u << k)) labels[base.announce_labels[k].first] = base.announce_labels[k].second;
  return labels;
}

std::vector<bool> may_announce_controller_vip(const Base& base, const Case& c) {
  std::vector<bool> out(c.nodes, true);
  const auto* controller = base.model ? base.model->ingress_controller() : nullptr;
  if (!controller || !controller->service || controller->addresses.empty()) return out;
  const auto& m = base.model->manifests;
  const auto* pool = pool_holding(m, controller->addresses.front());
  const bool local = controller->service->external_traffic_policy == config::TrafficPolicy::kLocal;
  std::vector<const config::L2Advertisement*> ads;
  for (const auto& a : m.l2_advertisements)
    if (pool && advertises(a, *pool)) ads.push_back(&a);
  for (int i = 0; i < c.nodes; ++i) {
    const auto labels = case_node_labels(base, c, i);
    // Interfaces do not count: MetalLB elects without them, and a node it elects without a listed
    // interface owns the address and stays silent (nobody else announces it): `vip_liveness` then fails,
    // rightly, on a base that lets that happen.
    const bool selected = std::any_of(ads.begin(), ads.end(), [&](const config::L2Advertisement* a) {
      return a->node_selectors.empty() || std::any_of(a->node_selectors.begin(), a->node_selectors.end(),
                                                      [&](const auto& s) { return matches(s, labels); });
    });
    out[i] = selected && (!local || c.proxy.at(i));
  }
  return out;
}

}  // namespace metalgate::check
