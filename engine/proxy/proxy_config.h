// Builds the proxy's configuration from the resolved Model: one backend per Service port that routes lead to,
// a policy per Ingress, TLS certificates from kubernetes.io/tls Secrets, and every HAProxy annotation and
// ConfigMap key looked up in the controller's order: default, then the controller ConfigMap, then the
// Ingress, then the Service (the most specific wins). Bad values are diagnostics naming the object and
// annotation; the default then stands.
#pragma once

#include <functional>
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
  // The address frontends bind; unspecified (0.0.0.0) accepts connections to every VIP.
  net::IpAddress bind_address = net::IpAddress::v4(0);
  // Overrides of the frontend ports (tests bind high ports); unset: the Helm values' ports, else 80/443.
  std::optional<std::uint16_t> http_port;
  std::optional<std::uint16_t> https_port;
};

ProxyConfig build_proxy_config(std::shared_ptr<const model::Model> model, const BuildOptions& options,
                               config::Diagnostics& diagnostics);

}  // namespace metalgate::proxy
