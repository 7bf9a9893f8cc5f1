// Builds the proxy's configuration from the resolved Model: one backend per Service port that routes lead to,
// a policy per Ingress, TLS certificates from kubernetes.io/tls Secrets, and every HAProxy annotation and
// ConfigMap key looked up in the controller's order: default, then the controller ConfigMap, then the
// Ingress, then the Service (the most specific wins). Bad values are diagnostics naming the object and
// annotation; the default then stands.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "engine/config/diagnostics.h"
#include "engine/model/model-t.h"
#include "engine/proxy/proxy_config-t.h"

namespace metalgate::proxy {

struct BuildOptions {
  // Where an endpoint lives when the manifests do not say (pods of a Deployment): the simulator and the live
  // harness place pods; nullopt leaves the endpoint out.
  std::function<std::optional<net::IpAddress>(const routing::ResolvedEndpoint&)> place_endpoint;
  // Where a Deployment's pod runs ("" when unknown): with externalTrafficPolicy: Local a node forwards only to
  // its own endpoints. Endpoints and EndpointSlices name their node themselves.
  std::function<std::string(const routing::ResolvedEndpoint&)> endpoint_node;
  // Frontends and the ConfigMap's TCP/UDP services listen on the ingress controller's Service addresses and on
  // this one when set (serve --listen). The unspecified address (0.0.0.0) listens on every address instead,
  // and only there: in-process tests do, and then other Services' ports must not collide with theirs.
  std::optional<net::IpAddress> listen_address;
  // Overrides of the frontend ports (tests bind high ports); unset: the Helm values' ports, else 80/443.
  std::optional<std::uint16_t> http_port;
  std::optional<std::uint16_t> https_port;
  std::optional<std::uint16_t> stats_port;    // the values' stats.port
  std::optional<std::uint16_t> metrics_port;  // the values' metrics port
  // When set, every annotation name the build looks up is recorded with the scopes (config::Scope bits) it
  // looked in: the test that the annotation table's scopes are where the code reads each name.
  std::map<std::string, std::uint8_t>* annotation_reads = nullptr;
};

ProxyConfig build_proxy_config(std::shared_ptr<const model::Model> model, const BuildOptions& options,
                               config::Diagnostics& diagnostics);

}  // namespace metalgate::proxy
