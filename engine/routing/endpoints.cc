#include "engine/routing/endpoints.h"

namespace metalgate::routing {

const config::ServicePort* find_service_port(const config::Service& service, const config::PortRef& port) {
  for (const auto& p : service.ports) {
    if (port.number && p.port == *port.number) return &p;
    if (!port.name.empty() && p.name == port.name) return &p;
  }
  return nullptr;
}

std::vector<ResolvedEndpoint> kube_proxy_endpoints(const std::vector<ResolvedEndpoint>& candidates) {
  std::vector<ResolvedEndpoint> out;
  for (const auto& e : candidates)
    if (e.ready) out.push_back(e);
  if (!out.empty()) return out;
  for (const auto& e : candidates)
    if (e.serving && e.terminating) out.push_back(e);
  return out;
}

EndpointResolution resolve_endpoints(const config::ManifestSet& set, const config::Service& service,
                                     const config::ServicePort& port) {
  EndpointResolution out;
  // 1. Endpoints and EndpointSlices named for the Service: what a cluster would report.
  for (const auto& e : set.endpoints) {
    if (e.meta.namespace_ != service.meta.namespace_ || e.service_name != service.meta.name) continue;
    std::optional<std::uint16_t> target;
    for (const auto& ep : e.ports)
      if (ep.protocol == port.protocol &&
          (ep.name == port.name || (e.ports.size() == 1 && service.ports.size() == 1)))
        target = ep.port;
    if (!target) continue;
    out.source = std::string(e.from_slice ? "EndpointSlice " : "Endpoints ") + e.meta.key();
    for (const auto& a : e.addresses)
      out.endpoints.push_back({a.target_name.empty() ? a.ip.to_string() : a.target_name, a.ip, *target,
                               a.ready, a.node_name, "", a.serving, a.terminating});
  }
  if (!out.source.empty()) {
    if (out.endpoints.empty()) out.problem = out.source + " lists no addresses";
    return out;
  }
  if (service.selector.empty()) {
    out.problem = "the Service has no selector and no Endpoints were given";
    return out;
  }
  // 2. Pods of the Deployments the selector picks.
  config::LabelSelector selector{service.selector, {}};
  for (const auto& d : set.deployments) {
    if (d.meta.namespace_ != service.meta.namespace_ || !selector.matches(d.pod_labels)) continue;
    std::optional<std::uint16_t> target = port.target_port.number;
    if (!target) {
      for (const auto& c : d.containers)
        for (const auto& cp : c.ports)
          if (cp.name == port.target_port.name && cp.protocol == port.protocol) target = cp.container_port;
    }
    if (!target) {
      out.problem =
          "targetPort '" + port.target_port.name + "' names no container port of Deployment " + d.meta.key();
      continue;
    }
    if (!out.source.empty()) out.source += ", ";
    out.source += "Deployment " + d.meta.key();
    for (int i = 0; i < d.replicas; ++i)
      out.endpoints.push_back(
          {d.meta.name + "-" + std::to_string(i), std::nullopt, *target, true, "", d.meta.key()});
  }
  if (out.source.empty() && out.problem.empty())
    out.problem = "no Deployment in namespace " + service.meta.namespace_ + " has pods matching selector " +
                  config::LabelSelector{service.selector, {}}.to_string();
  else if (out.endpoints.empty() && out.problem.empty())
    out.problem = out.source + " has 0 replicas";
  return out;
}

}  // namespace metalgate::routing
