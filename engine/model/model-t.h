// The desired state of the world that manifests describe, resolved: each LoadBalancer Service with its
// addresses and who may announce them, the HTTP routing table, the TCP and UDP service maps, and TLS
// bindings. Speaker, proxy, simulator and `metalgate validate` all work from this one shape.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/manifest-t.h"
#include "engine/ipam/allocator.h"
#include "engine/routing/endpoints.h"
#include "engine/routing/route_table.h"

namespace metalgate::model {

struct Announcement {
  std::string l2_advertisement;                       // "namespace/name"
  std::vector<std::string> interfaces;                // empty: every interface
  std::vector<config::LabelSelector> node_selectors;  // empty: every node
  std::vector<std::string> nodes;                     // Node objects that match, when Node objects were given
};

struct ResolvedService {
  const config::Service* service = nullptr;
  std::string key;
  bool is_ingress_controller = false;
  std::vector<net::IpAddress> addresses;
  std::string pool;
  bool shared = false;
  std::string pending;  // why there is no address
  std::vector<Announcement> announcements;
};

// One Service port that HTTP routes or the default backend lead to.
struct HttpBackend {
  std::string service_key;
  std::uint16_t port = 0;
  std::string port_name;
  routing::EndpointResolution endpoints;
  std::string ingress;                 // the oldest Ingress that routes here: ingresses.front()
  std::vector<std::string> ingresses;  // every Ingress that routes here, oldest first (ingress_before)
};

// The order conflicting Ingresses resolve in, Kubernetes' rule for Ingress rules: the oldest
// metadata.creationTimestamp first (one without a timestamp counts as newest), then namespace/name.
bool ingress_before(const config::Ingress& a, const config::Ingress& b);
// The rule in words, for the diagnostics that apply it.
inline constexpr std::string_view kOldestIngressRule = "creationTimestamp, then namespace/name";

struct L4Service {
  config::Protocol protocol = config::Protocol::kTcp;
  std::uint16_t listen_port = 0;
  std::string service_key;
  std::uint16_t service_port = 0;
  bool ssl = false;  // TLS offload (":ssl" suffix)
  routing::EndpointResolution endpoints;
  std::string config_map;        // where it was declared
  config::SourceLocation where;  // its data entry
};

// One port of a LoadBalancer Service other than the controller's. Its addresses expose it (and only the ports
// of their Services), and the node that owns them forwards its traffic to the Service's endpoints, as
// kube-proxy does in a cluster (docs/service-forwarding.md).
struct ServiceForward {
  std::string service_key;
  std::vector<net::IpAddress> addresses;
  config::ServicePort port;  // port, protocol, name
  routing::EndpointResolution endpoints;
  bool local = false;                                      // externalTrafficPolicy: Local
  std::optional<std::chrono::seconds> client_ip_affinity;  // sessionAffinity: ClientIP
};

struct TlsBinding {
  std::string host;  // "" for the default certificate
  std::string secret_key;
  std::string ingress;
};

struct Model {
  config::ManifestSet manifests;
  std::vector<ResolvedService> services;
  std::string ingress_class;
  std::vector<std::string> ingresses;  // the ones this controller serves, "namespace/name"
  std::vector<HttpBackend> backends;   // route targets index this
  routing::RouteTable routes;
  std::vector<L4Service> tcp_services;
  std::vector<L4Service> udp_services;
  std::vector<ServiceForward> forwards;  // every port of every other LoadBalancer Service with an address
  std::vector<TlsBinding> tls;
  std::map<std::string, std::string> controller_config;  // the controller ConfigMap's data

  const ResolvedService* ingress_controller() const;
};

struct ResolveOptions {
  ipam::PreviousAllocations previous_allocations;
};

}  // namespace metalgate::model
