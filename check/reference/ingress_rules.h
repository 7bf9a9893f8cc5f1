// An independent reference of where the Kubernetes Ingress rules send a request: which pods may answer a
// Host and path. Written from the Kubernetes Ingress specification and docs/configuration.md ("HTTP routes"),
// simply and by brute force, and sharing no code with engine/routing or engine/model's route building, so
// that the routing property compares two implementations and not one with itself. It reads the manifests as
// the config loader parsed them (the objects, not their interpretation) and the scenario's pods.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/config/manifest-t.h"
#include "scenario/schema/scenario-t.h"

namespace metalgate::check {

struct ReferenceRouting {
  const config::ManifestSet& manifests;
  std::vector<std::string> ingresses;  // the ones the controller serves, "namespace/name"
  const scenario::Scenario& scenario;  // its backends: the pods of each Deployment

  // The pods that may answer `host` and `path` (no query string): those of the Service the best rule names,
  // or the default backend's; empty when nothing but the proxy's own 404 answers.
  std::set<std::string> pods_for(const std::string& host, const std::string& path) const;
  // The pods that may answer a connection to the controller's TCP port `port`: those of the Service the
  // tcp-services ConfigMap (the values' controller.tcpServices.configMapName) maps it to, "PORT":
  // "namespace/service:port"; nullopt when the ConfigMap maps no such port.
  std::optional<std::set<std::string>> pods_for_tcp_port(std::uint16_t port) const;
  // The same for a datagram to the controller's UDP port, by the udp-services ConfigMap
  // (controller.udpServices.configMapName).
  std::optional<std::set<std::string>> pods_for_udp_port(std::uint16_t port) const;
  // The pods of the Deployments whose pod labels the Service's selector matches.
  std::set<std::string> pods_of_service(const std::string& ns, const std::string& name) const;

 private:
  std::optional<std::set<std::string>> pods_for_mapped_port(const std::optional<std::string>& config_map,
                                                            std::uint16_t port) const;
};

}  // namespace metalgate::check
