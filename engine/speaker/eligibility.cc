#include "engine/speaker/eligibility.h"

#include "engine/mutants/mutants.h"

namespace metalgate::speaker {
namespace {

// The nodes holding a ready endpoint of `service` on any of its ports.
std::set<std::string> ready_endpoint_nodes(const model::Model& model, const config::Service& service,
                                           const EndpointNode& endpoint_node) {
  std::set<std::string> nodes;
  for (const auto& port : service.ports)
    for (const auto& ep : routing::resolve_endpoints(model.manifests, service, port).endpoints) {
      if (!ep.ready) continue;
      std::string node = ep.node.empty() && endpoint_node ? endpoint_node(ep) : ep.node;
      if (!node.empty()) nodes.insert(std::move(node));
    }
  return nodes;
}

}  // namespace

std::vector<Layer2Assignment> layer2_assignments(const model::Model& model,
                                                 const EndpointNode& endpoint_node) {
  std::vector<Layer2Assignment> out;
  for (const auto& s : model.services) {
    if (s.addresses.empty() || s.announcements.empty()) continue;
    Layer2Assignment a;
    a.service = s.key;
    a.addresses = s.addresses;
    a.local_traffic_policy = s.service->external_traffic_policy == config::TrafficPolicy::kLocal;
    if (a.local_traffic_policy && s.is_ingress_controller) a.endpoints_are_proxies = true;
    if (a.local_traffic_policy && !s.is_ingress_controller)
      a.nodes_with_ready_endpoints = ready_endpoint_nodes(model, *s.service, endpoint_node);
    bool all_interfaces = false, all_nodes = false;
    for (const auto& ann : s.announcements) {
      all_interfaces = all_interfaces || ann.interfaces.empty();
      a.interfaces.insert(a.interfaces.end(), ann.interfaces.begin(), ann.interfaces.end());
      all_nodes = all_nodes || ann.node_selectors.empty();
      a.node_selectors.insert(a.node_selectors.end(), ann.node_selectors.begin(), ann.node_selectors.end());
    }
    if (all_interfaces) a.interfaces.clear();
    if (all_nodes) a.node_selectors.clear();
    out.push_back(std::move(a));
  }
  return out;
}

bool may_announce(const Layer2Assignment& a, const CandidateNode& node) {
  if (a.local_traffic_policy) {
    const bool holds_endpoint =
        a.endpoints_are_proxies ? node.runs_proxy : a.nodes_with_ready_endpoints.count(node.name) > 0;
    if (!holds_endpoint) return false;
  }
  if (a.node_selectors.empty() || METALGATE_MUTANT(kNodeSelectorsIgnored)) return true;
  for (const auto& s : a.node_selectors)
    if (s.matches(node.labels)) return true;
  return false;
}

}  // namespace metalgate::speaker
