// The Kubernetes objects metalgate reads, as typed values. Types only: manifest_loader.h reads them from
// YAML.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/config/diagnostics.h"
#include "engine/config/label_selector.h"
#include "engine/net/ip_address.h"

namespace metalgate::config {

struct ObjectMeta {
  std::string name;
  std::string namespace_;  // "default" when the manifest leaves it out (for namespaced kinds)
  Labels labels;
  std::map<std::string, std::string> annotations;
  SourceLocation where;                                     // the document's start
  std::map<std::string, SourceLocation> annotations_where;  // where each annotation's key stands
  // metadata.creationTimestamp as the API server writes it (RFC 3339 UTC, "2024-05-01T10:00:00Z"), so that
  // comparing the text orders by time; unset when the manifest has none (an object not created yet).
  std::optional<std::string> creation_timestamp;
  std::string key() const { return namespace_.empty() ? name : namespace_ + "/" + name; }
};

// -----------------------------------------------------------------------------------------
// metallb.io/v1beta1

struct ServiceAllocation {
  std::optional<int> priority;  // lower is preferred; pools with a priority come before pools without
  std::vector<std::string> namespaces;
  std::vector<LabelSelector> namespace_selectors;
  std::vector<LabelSelector> service_selectors;
};

struct IpAddressPool {
  ObjectMeta meta;
  std::vector<net::AddressRange> addresses;
  bool auto_assign = true;
  bool avoid_buggy_ips = false;
  std::optional<ServiceAllocation> service_allocation;
};

struct L2Advertisement {
  ObjectMeta meta;
  std::vector<std::string> ip_address_pools;
  std::vector<LabelSelector> ip_address_pool_selectors;
  std::vector<LabelSelector> node_selectors;
  std::vector<std::string> interfaces;  // empty: every interface
};

// ----------------------------------------------------------------------------------------- core/v1

enum class Protocol { kTcp, kUdp, kSctp };
std::string_view to_string(Protocol p);

// A port given as a number or as a name (targetPort, Ingress backend ports, probe ports).
struct PortRef {
  std::optional<std::uint16_t> number;
  std::string name;
  bool empty() const { return !number && name.empty(); }
  std::string to_string() const { return number ? std::to_string(*number) : name; }
};

struct ServicePort {
  std::string name;
  Protocol protocol = Protocol::kTcp;
  std::uint16_t port = 0;
  PortRef target_port;  // defaults to port
  std::optional<std::uint16_t> node_port;
};

enum class ServiceType { kClusterIP, kNodePort, kLoadBalancer, kExternalName };
std::string_view to_string(ServiceType t);
enum class TrafficPolicy { kCluster, kLocal };
enum class IpFamilyPolicy { kSingleStack, kPreferDualStack, kRequireDualStack };

struct Service {
  ObjectMeta meta;
  ServiceType type = ServiceType::kClusterIP;
  std::vector<ServicePort> ports;
  Labels selector;
  TrafficPolicy external_traffic_policy = TrafficPolicy::kCluster;
  // spec.sessionAffinity: ClientIP, with sessionAffinityConfig.clientIP.timeoutSeconds (Kubernetes' default
  // 10800); unset: None.
  std::optional<std::chrono::seconds> client_ip_affinity;
  std::vector<net::IpFamily> ip_families;
  IpFamilyPolicy ip_family_policy = IpFamilyPolicy::kSingleStack;
  std::optional<std::string> load_balancer_class;
  // MetalLB's view, from spec.loadBalancerIP and the metallb.io/ (or legacy) annotations.
  std::vector<net::IpAddress> requested_ips;
  std::optional<std::string> address_pool;
  std::optional<std::string> sharing_key;
  bool synthesized_from_values = false;  // built from the Helm values' controller.service
};

struct HttpGetProbe {
  std::string path = "/";
  PortRef port;
};

struct Probe {
  std::optional<HttpGetProbe> http_get;
  std::optional<PortRef> tcp_socket;
  std::chrono::seconds initial_delay{0};
  std::chrono::seconds period{10};
  std::chrono::seconds timeout{1};
  int success_threshold = 1;
  int failure_threshold = 3;
};

struct ContainerPort {
  std::string name;
  std::uint16_t container_port = 0;
  Protocol protocol = Protocol::kTcp;
};

struct Container {
  std::string name;
  std::string image;
  std::vector<ContainerPort> ports;
  std::optional<Probe> readiness_probe;
};

struct Deployment {
  ObjectMeta meta;
  int replicas = 1;
  LabelSelector selector;
  Labels pod_labels;
  std::vector<Container> containers;
  bool synthesized_from_values = false;
};

struct EndpointAddress {
  net::IpAddress ip;
  std::string node_name;
  std::string target_name;  // the pod's name, when given
  // EndpointSlice conditions (Endpoints: notReadyAddresses are neither ready nor serving). Unset `serving`
  // follows `ready`, as the API defines it.
  bool ready = true;
  bool serving = true;
  bool terminating = false;
};

struct EndpointPort {
  std::string name;
  std::uint16_t port = 0;
  Protocol protocol = Protocol::kTcp;
};

// v1 Endpoints and discovery.k8s.io/v1 EndpointSlice, both reduced to one shape: the endpoints of one
// Service.
struct ServiceEndpoints {
  ObjectMeta meta;
  std::string service_name;  // Endpoints: its own name; EndpointSlice: label kubernetes.io/service-name
  std::vector<EndpointAddress> addresses;
  std::vector<EndpointPort> ports;
  bool from_slice = false;
};

struct Node {
  ObjectMeta meta;
  std::vector<net::IpAddress> addresses;  // status.addresses InternalIP
};

// -----------------------------------------------------------------------------------------
// networking.k8s.io/v1

enum class PathType { kExact, kPrefix, kImplementationSpecific };
std::string_view to_string(PathType t);

struct IngressBackend {
  std::string service_name;
  PortRef service_port;
  std::optional<std::string> resource_kind;  // a resource backend: not something a proxy can serve
  SourceLocation where;
};

struct IngressPath {
  std::string path;
  PathType path_type = PathType::kPrefix;
  IngressBackend backend;
};

struct IngressRule {
  std::string host;  // empty: every host
  std::vector<IngressPath> paths;
};

struct IngressTls {
  std::vector<std::string> hosts;
  std::string secret_name;
};

struct Ingress {
  ObjectMeta meta;
  std::optional<std::string> ingress_class_name;  // spec.ingressClassName
  std::optional<std::string> legacy_class;        // annotation kubernetes.io/ingress.class
  std::vector<IngressTls> tls;
  std::vector<IngressRule> rules;
  std::optional<IngressBackend> default_backend;
};

struct IngressClass {
  ObjectMeta meta;
  std::string controller;
  bool is_default = false;
};

// ----------------------------------------------------------------------------------------- ConfigMap, Secret

struct ConfigMap {
  ObjectMeta meta;
  std::map<std::string, std::string> data;
  std::map<std::string, SourceLocation> data_where;
};

struct Secret {
  ObjectMeta meta;
  std::string type = "Opaque";
  std::map<std::string, std::string> data;  // decoded
  bool is_tls() const { return type == "kubernetes.io/tls"; }
};

// ----------------------------------------------------------------------------------------- Helm values

struct ValuesPort {
  std::string name;
  std::uint16_t port = 0;
  std::uint16_t target_port = 0;
};

// The ingress controller chart's `controller:` section, after merging every values file in order.
struct ControllerValues {
  std::vector<SourceLocation> files;
  std::string service_type = "LoadBalancer";
  std::map<std::string, std::string> service_annotations;
  TrafficPolicy external_traffic_policy = TrafficPolicy::kCluster;
  std::optional<std::string> load_balancer_ip;
  std::uint16_t http_port = 80;
  std::uint16_t https_port = 443;
  std::optional<std::uint16_t> stat_port;
  std::vector<ValuesPort> tcp_ports;
  std::vector<ValuesPort> udp_ports;
  int replica_count = 2;
  std::map<std::string, std::string> config;  // the controller ConfigMap's data
  std::map<std::string, SourceLocation> config_where;
  std::optional<std::string> tcp_services_config_map;
  std::optional<std::string> udp_services_config_map;
  bool stats_enabled = false;
  std::uint16_t stats_port = 1024;
  std::optional<std::string> stats_user, stats_password;
  bool metrics_enabled = false;
  std::uint16_t metrics_port = 9101;
  std::string ingress_class = "haproxy";
  std::string ingress_class_controller = "haproxy.org/ingress-controller";
  bool ingress_class_resource_enabled = false;
  bool ingress_class_resource_default = false;
  std::optional<std::string> default_backend_service;
  std::string log_level = "info";
  bool log_traffic = false;
  // Every scalar or list each values file sets under controller:, by dotted path ("config.check-interval"),
  // in file order: what finish_manifest_set reports when two files set one key differently.
  struct Setting {
    std::string value;
    SourceLocation where;
  };
  std::map<std::string, std::vector<Setting>> settings;
  bool settings_overflow = false;  // more settings than the loader records (aliases that fan out)
};

// ----------------------------------------------------------------------------------------- the whole set

struct SkippedObject {
  std::string api_version;
  std::string kind;
  std::string name;
  SourceLocation where;
};

struct ManifestSet {
  std::vector<IpAddressPool> pools;
  std::vector<L2Advertisement> l2_advertisements;
  std::vector<Service> services;
  std::vector<Deployment> deployments;
  std::vector<ServiceEndpoints> endpoints;
  std::vector<Node> nodes;
  std::vector<Ingress> ingresses;
  std::vector<IngressClass> ingress_classes;
  std::vector<ConfigMap> config_maps;
  std::vector<Secret> secrets;
  std::optional<ControllerValues> controller;
  std::vector<SkippedObject> skipped;
  std::vector<std::string> files;
  std::size_t object_count = 0;
};

}  // namespace metalgate::config
