// Where a Service port's traffic goes: the addresses of its Endpoints/EndpointSlices when the manifests carry
// them, otherwise the pods of the Deployments its selector picks (named <deployment>-<n>; their addresses are
// given by the world they run in: the simulator or the live harness).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/config/manifest-t.h"

namespace metalgate::routing {

struct ResolvedEndpoint {
  std::string name;                  // pod name, or the address when the Endpoints name no pod
  std::optional<net::IpAddress> ip;  // unknown for pods of a Deployment until a world places them
  std::uint16_t port = 0;
  bool ready = true;
  std::string node;
  std::string deployment;  // "namespace/name" when it comes from a Deployment
  bool serving = true;      // EndpointSlice conditions; Endpoints and pods: serving = ready
  bool terminating = false;
};

struct EndpointResolution {
  std::vector<ResolvedEndpoint> endpoints;
  std::string source;   // "Deployment default/web-app", "Endpoints default/x", …
  std::string problem;  // why there are none, when there are none
};

const config::ServicePort* find_service_port(const config::Service& service, const config::PortRef& port);
// The endpoints that take a LoadBalancer Service's new connections, as kube-proxy picks them: the ready ones;
// when none is, those still serving while they terminate (kube-proxy's ProxyTerminatingEndpoints), so that
// replacing the last pods does not drop traffic. With externalTrafficPolicy: Local, apply it to the node's own.
std::vector<ResolvedEndpoint> kube_proxy_endpoints(const std::vector<ResolvedEndpoint>& candidates);

EndpointResolution resolve_endpoints(const config::ManifestSet& set, const config::Service& service,
                                     const config::ServicePort& port);

}  // namespace metalgate::routing
