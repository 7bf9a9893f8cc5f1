#include "engine/config/manifest_loader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/config/annotations.h"
#include "engine/config/duration.h"
#include "engine/config/yaml_reader.h"

namespace metalgate::config {

namespace fs = std::filesystem;

std::string_view to_string(Protocol p) {
  switch (p) {
    case Protocol::kTcp:
      return "TCP";
    case Protocol::kUdp:
      return "UDP";
    case Protocol::kSctp:
      return "SCTP";
  }
  return "?";
}

std::string_view to_string(ServiceType t) {
  switch (t) {
    case ServiceType::kClusterIP:
      return "ClusterIP";
    case ServiceType::kNodePort:
      return "NodePort";
    case ServiceType::kLoadBalancer:
      return "LoadBalancer";
    case ServiceType::kExternalName:
      return "ExternalName";
  }
  return "?";
}

std::string_view to_string(PathType t) {
  switch (t) {
    case PathType::kExact:
      return "Exact";
    case PathType::kPrefix:
      return "Prefix";
    case PathType::kImplementationSpecific:
      return "ImplementationSpecific";
  }
  return "?";
}

namespace {

// Metadata fields Kubernetes fills in that pasted manifests often carry.
const std::vector<std::string_view> kServerMetadata = {"uid",
                                                       "resourceVersion",
                                                       "creationTimestamp",
                                                       "generation",
                                                       "managedFields",
                                                       "ownerReferences",
                                                       "finalizers",
                                                       "generateName",
                                                       "selfLink",
                                                       "deletionTimestamp",
                                                       "deletionGracePeriodSeconds"};

bool is_dns_label_char(char c) {
  return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
         c == '-';
}

// RFC 1123 subdomain, as Kubernetes requires for hosts and most names.
bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto dot = s.find('.', start);
    auto label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), is_dns_label_char)) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

// IANA service names, which named ports must be.
bool is_port_name(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  bool letter = false;
  for (char c : s) {
    if (!is_dns_label_char(c)) return false;
    if (std::isalpha(static_cast<unsigned char>(c))) letter = true;
  }
  return letter && s.front() != '-' && s.back() != '-' && s.find("--") == std::string_view::npos;
}

std::optional<std::uint16_t> parse_port_number(std::string_view s) {
  if (s.empty() || s.size() > 5 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return std::nullopt;
  int v = std::stoi(std::string(s));
  if (v < 1 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// A port given as a number or a name (targetPort, probe ports).
PortRef read_port_ref(const YamlReader& r) {
  PortRef p;
  auto s = r.scalar();
  if (!s) return p;
  if (auto n = parse_port_number(*s)) {
    p.number = n;
  } else if (!s->empty() && std::all_of(s->begin(), s->end(),
                                        [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    r.error("port " + *s + " is outside 1-65535");
  } else if (is_port_name(*s)) {
    p.name = *s;
  } else {
    r.error("'" + *s + "' is neither a port number nor a valid port name");
  }
  return p;
}

Protocol read_protocol(const YamlReader& r) {
  auto s = r.scalar();
  if (!s || *s == "TCP") return Protocol::kTcp;
  if (*s == "UDP") return Protocol::kUdp;
  if (*s == "SCTP") return Protocol::kSctp;
  r.error("protocol must be TCP, UDP or SCTP, not '" + *s + "'");
  return Protocol::kTcp;
}

LabelSelector read_selector(const YamlReader& r) {
  LabelSelector sel;
  if (!r.expect_map({"matchLabels", "matchExpressions"})) return sel;
  sel.match_labels = r.string_map("matchLabels");
  for (const auto& e : r["matchExpressions"].items()) {
    if (!e.expect_map({"key", "operator", "values"})) continue;
    LabelRequirement req;
    req.key = e.string("key", true).value_or("");
    auto op = e.string("operator", true).value_or("In");
    req.values = e.string_list("values");
    if (op == "In")
      req.op = LabelRequirement::Operator::kIn;
    else if (op == "NotIn")
      req.op = LabelRequirement::Operator::kNotIn;
    else if (op == "Exists")
      req.op = LabelRequirement::Operator::kExists;
    else if (op == "DoesNotExist")
      req.op = LabelRequirement::Operator::kDoesNotExist;
    else
      e["operator"].error("must be In, NotIn, Exists or DoesNotExist, not '" + op + "'");
    bool needs_values =
        req.op == LabelRequirement::Operator::kIn || req.op == LabelRequirement::Operator::kNotIn;
    if (needs_values && req.values.empty()) e["values"].error("must not be empty for operator " + op);
    if (!needs_values && !req.values.empty()) e["values"].error("must be empty for operator " + op);
    sel.match_expressions.push_back(std::move(req));
  }
  return sel;
}

std::vector<LabelSelector> read_selectors(const YamlReader& r) {
  std::vector<LabelSelector> out;
  for (const auto& item : r.items())
    out.push_back(read_selector(item));
  return out;
}

ObjectMeta read_meta(const YamlReader& doc, bool namespaced) {
  ObjectMeta m;
  m.where = doc.where();
  auto meta = doc["metadata"];
  if (!meta.present()) {
    meta.error("is required (with at least a name)");
    return m;
  }
  meta.expect_map({"name", "namespace", "labels", "annotations"}, kServerMetadata);
  m.name = meta.string("name", true).value_or("");
  if (!m.name.empty() && !is_dns_subdomain(m.name))
    meta["name"].error("'" + m.name + "' is not a valid name (lower-case letters, digits, '-' and '.')");
  if (namespaced) {
    m.namespace_ = meta.string("namespace").value_or("default");
  } else if (meta.has("namespace")) {
    meta["namespace"].warning("this kind is cluster-wide; the namespace is ignored");
  }
  m.labels = meta.string_map("labels");
  m.annotations = meta.string_map("annotations");
  return m;
}

// Haproxy-controller annotations: unknown ones get the closest known name; known ones used where metalgate
// does not read them get a warning; seed extensions and wider-than-controller uses get a note with the real
// equivalent.
void check_haproxy_annotations(const ObjectMeta& meta, const YamlReader& doc, Scope scope) {
  auto annotations = doc["metadata"]["annotations"];
  static const auto names = haproxy_annotation_names();
  for (const auto& [key, value] : meta.annotations) {
    auto bare = haproxy_annotation_name(key);
    if (!bare) continue;
    auto at = annotations[key];
    const AnnotationSpec* spec = find_haproxy_annotation(*bare);
    if (!spec) {
      std::string message = "unknown annotation '" + key + "'";
      auto suggestion = closest_name(*bare, names);
      if (!suggestion.empty())
        message +=
            " (did you mean '" + std::string(key.substr(0, key.size() - bare->size())) + suggestion + "'?)";
      at.warning(message + "; it has no effect");
      continue;
    }
    if (!(spec->metalgate_scopes & scope)) {
      at.warning("'" + std::string(*bare) + "' has no effect on " + (scope == kIngress ? "an " : "a ") +
                 scope_names(scope) + "; it belongs on " + scope_names(spec->metalgate_scopes));
    } else if (spec->origin == AnnotationOrigin::kSeedExtension) {
      at.note("'" + std::string(*bare) +
              "' is a metalgate extension the HAProxy controller does not have; "
              "its equivalent there: " +
              std::string(spec->controller_equivalent));
    } else if (!(spec->controller_scopes & scope)) {
      at.note("metalgate reads '" + std::string(*bare) + "' here; the HAProxy controller reads it only on " +
              scope_names(spec->controller_scopes));
    }
  }
}

// ------------------------------------------------------------------------------------------ metallb.io

void read_pool(const YamlReader& doc, ManifestSet& set) {
  IpAddressPool p;
  p.meta = read_meta(doc, true);
  auto spec = doc["spec"];
  if (!spec.present()) spec.error("is required");
  spec.expect_map({"addresses", "autoAssign", "avoidBuggyIPs", "serviceAllocation"});
  auto addresses = spec["addresses"];
  if (!addresses.present()) addresses.error("is required: list the pool's CIDRs or ranges");
  for (const auto& item : addresses.items()) {
    auto text = item.scalar(true);
    if (!text) continue;
    std::string why;
    auto range = net::AddressRange::parse(*text, &why);
    if (!range) {
      item.error("'" + *text + "': " + why);
      continue;
    }
    for (const auto& earlier : p.addresses)
      if (earlier.overlaps(*range))
        item.error("'" + *text + "' overlaps " + earlier.to_string() + " in the same pool");
    p.addresses.push_back(*range);
  }
  p.auto_assign = spec.boolean("autoAssign").value_or(true);
  p.avoid_buggy_ips = spec.boolean("avoidBuggyIPs").value_or(false);
  auto alloc = spec["serviceAllocation"];
  if (alloc.present() &&
      alloc.expect_map({"priority", "namespaces", "namespaceSelectors", "serviceSelectors"})) {
    ServiceAllocation a;
    if (auto pr = alloc.integer("priority", 0, INT32_MAX)) a.priority = static_cast<int>(*pr);
    a.namespaces = alloc.string_list("namespaces");
    a.namespace_selectors = read_selectors(alloc["namespaceSelectors"]);
    a.service_selectors = read_selectors(alloc["serviceSelectors"]);
    p.service_allocation = std::move(a);
  }
  set.pools.push_back(std::move(p));
}

void read_l2_advertisement(const YamlReader& doc, ManifestSet& set) {
  L2Advertisement a;
  a.meta = read_meta(doc, true);
  auto spec = doc["spec"];
  if (spec.present()) {
    spec.expect_map({"ipAddressPools", "ipAddressPoolSelectors", "nodeSelectors", "interfaces"});
    a.ip_address_pools = spec.string_list("ipAddressPools");
    a.ip_address_pool_selectors = read_selectors(spec["ipAddressPoolSelectors"]);
    a.node_selectors = read_selectors(spec["nodeSelectors"]);
    a.interfaces = spec.string_list("interfaces");
  }
  set.l2_advertisements.push_back(std::move(a));
}

// ------------------------------------------------------------------------------------------ core/v1

void read_metallb_annotations(Service& s, const YamlReader& doc) {
  auto annotations = doc["metadata"]["annotations"];
  static const auto names = metallb_annotation_names();
  for (const auto& [key, value] : s.meta.annotations) {
    auto m = metallb_annotation(key);
    if (!m) continue;
    auto at = annotations[key];
    if (!m->which) {
      std::string message = "unknown MetalLB annotation '" + key + "'";
      auto suggestion = closest_name(m->name, names);
      if (!suggestion.empty())
        message +=
            " (did you mean '" + std::string(key.substr(0, key.size() - m->name.size())) + suggestion + "'?)";
      at.warning(message + "; it has no effect");
      continue;
    }
    switch (*m->which) {
      case MetalLbAnnotation::kAddressPool:
        if (s.address_pool && *s.address_pool != value)
          at.error("conflicts with another address-pool annotation");
        s.address_pool = value;
        break;
      case MetalLbAnnotation::kAllowSharedIp:
        s.sharing_key = value;
        break;
      case MetalLbAnnotation::kIpAllocatedFromPool:
        break;  // status MetalLB writes; nothing to read
      case MetalLbAnnotation::kLoadBalancerIps: {
        std::stringstream list(value);
        std::string item;
        while (std::getline(list, item, ',')) {
          item.erase(
              std::remove_if(item.begin(), item.end(), [](unsigned char c) { return std::isspace(c); }),
              item.end());
          if (item.empty()) continue;
          if (auto ip = net::IpAddress::parse(item))
            s.requested_ips.push_back(*ip);
          else
            at.error("'" + item + "' is not an IP address");
        }
        if (s.requested_ips.size() > 2 ||
            (s.requested_ips.size() == 2 && s.requested_ips[0].family() == s.requested_ips[1].family()))
          at.error("request at most one IPv4 and one IPv6 address");
        break;
      }
    }
  }
}

void read_service(const YamlReader& doc, ManifestSet& set) {
  Service s;
  s.meta = read_meta(doc, true);
  auto spec = doc["spec"];
  if (!spec.present()) spec.error("is required");
  spec.expect_map(
      {"type", "ports", "selector", "externalTrafficPolicy", "loadBalancerIP", "loadBalancerClass",
       "ipFamilies", "ipFamilyPolicy"},
      {"clusterIP", "clusterIPs", "sessionAffinity", "sessionAffinityConfig", "allocateLoadBalancerNodePorts",
       "internalTrafficPolicy", "healthCheckNodePort", "publishNotReadyAddresses", "loadBalancerSourceRanges",
       "externalIPs", "externalName", "trafficDistribution"});
  if (auto t = spec.string("type")) {
    if (*t == "ClusterIP")
      s.type = ServiceType::kClusterIP;
    else if (*t == "NodePort")
      s.type = ServiceType::kNodePort;
    else if (*t == "LoadBalancer")
      s.type = ServiceType::kLoadBalancer;
    else if (*t == "ExternalName")
      s.type = ServiceType::kExternalName;
    else
      spec["type"].error("must be ClusterIP, NodePort, LoadBalancer or ExternalName, not '" + *t + "'");
  }
  std::set<std::pair<std::uint16_t, Protocol>> seen_ports;
  std::set<std::string> seen_names;
  auto ports = spec["ports"].items();
  for (const auto& pr : ports) {
    if (!pr.expect_map({"name", "protocol", "port", "targetPort", "nodePort", "appProtocol"})) continue;
    ServicePort p;
    p.name = pr.string("name").value_or("");
    if (ports.size() > 1 && p.name.empty()) pr["name"].error("is required when a Service has several ports");
    if (!p.name.empty() && !seen_names.insert(p.name).second)
      pr["name"].error("'" + p.name + "' is used twice");
    p.protocol = read_protocol(pr["protocol"]);
    if (auto n = pr.integer("port", 1, 65535, true)) p.port = static_cast<std::uint16_t>(*n);
    if (pr.has("targetPort"))
      p.target_port = read_port_ref(pr["targetPort"]);
    else
      p.target_port.number = p.port;
    if (auto n = pr.integer("nodePort", 1, 65535)) p.node_port = static_cast<std::uint16_t>(*n);
    if (p.port && !seen_ports.insert({p.port, p.protocol}).second)
      pr["port"].error("port " + std::to_string(p.port) + "/" + std::string(to_string(p.protocol)) +
                       " is listed twice");
    s.ports.push_back(std::move(p));
  }
  s.selector = spec.string_map("selector");
  if (auto etp = spec.string("externalTrafficPolicy")) {
    if (*etp == "Local")
      s.external_traffic_policy = TrafficPolicy::kLocal;
    else if (*etp != "Cluster")
      spec["externalTrafficPolicy"].error("must be Cluster or Local, not '" + *etp + "'");
  }
  for (const auto& f : spec["ipFamilies"].items()) {
    auto v = f.scalar(true);
    if (v == "IPv4")
      s.ip_families.push_back(net::IpFamily::kV4);
    else if (v == "IPv6")
      s.ip_families.push_back(net::IpFamily::kV6);
    else if (v)
      f.error("must be IPv4 or IPv6, not '" + *v + "'");
  }
  if (auto pol = spec.string("ipFamilyPolicy")) {
    if (*pol == "SingleStack")
      s.ip_family_policy = IpFamilyPolicy::kSingleStack;
    else if (*pol == "PreferDualStack")
      s.ip_family_policy = IpFamilyPolicy::kPreferDualStack;
    else if (*pol == "RequireDualStack")
      s.ip_family_policy = IpFamilyPolicy::kRequireDualStack;
    else
      spec["ipFamilyPolicy"].error("must be SingleStack, PreferDualStack or RequireDualStack, not '" + *pol +
                                   "'");
  }
  s.load_balancer_class = spec.string("loadBalancerClass");
  read_metallb_annotations(s, doc);
  if (auto lbip = spec.string("loadBalancerIP")) {
    if (!s.requested_ips.empty())
      spec["loadBalancerIP"].error(
          "set either spec.loadBalancerIP or the metallb.io/loadBalancerIPs annotation, not both");
    else if (auto ip = net::IpAddress::parse(*lbip))
      s.requested_ips.push_back(*ip);
    else
      spec["loadBalancerIP"].error("'" + *lbip + "' is not an IP address");
  }
  if (s.type != ServiceType::kLoadBalancer && (!s.requested_ips.empty() || s.address_pool))
    doc["metadata"].warning("MetalLB settings on a " + std::string(to_string(s.type)) +
                            " Service have no effect: only LoadBalancer Services get an address");
  check_haproxy_annotations(s.meta, doc, kService);
  set.services.push_back(std::move(s));
}

std::optional<Probe> read_probe(const YamlReader& r) {
  if (!r.present()) return std::nullopt;
  if (!r.expect_map({"httpGet", "tcpSocket", "initialDelaySeconds", "periodSeconds", "timeoutSeconds",
                     "successThreshold", "failureThreshold"},
                    {"exec", "grpc", "terminationGracePeriodSeconds"}))
    return std::nullopt;
  Probe p;
  if (auto h = r["httpGet"];
      h.present() && h.expect_map({"path", "port"}, {"scheme", "host", "httpHeaders"})) {
    HttpGetProbe g;
    g.path = h.string("path").value_or("/");
    g.port = read_port_ref(h["port"]);
    if (g.port.empty()) h["port"].error("is required");
    p.http_get = g;
  }
  if (auto t = r["tcpSocket"]; t.present() && t.expect_map({"port"}, {"host"}))
    p.tcp_socket = read_port_ref(t["port"]);
  p.initial_delay = std::chrono::seconds(r.integer("initialDelaySeconds", 0, 86400).value_or(0));
  p.period = std::chrono::seconds(r.integer("periodSeconds", 1, 86400).value_or(10));
  p.timeout = std::chrono::seconds(r.integer("timeoutSeconds", 1, 86400).value_or(1));
  p.success_threshold = static_cast<int>(r.integer("successThreshold", 1, 1000).value_or(1));
  p.failure_threshold = static_cast<int>(r.integer("failureThreshold", 1, 1000).value_or(3));
  return p;
}

void read_deployment(const YamlReader& doc, ManifestSet& set) {
  Deployment d;
  d.meta = read_meta(doc, true);
  auto spec = doc["spec"];
  if (!spec.present()) spec.error("is required");
  spec.expect_map(
      {"replicas", "selector", "template"},
      {"strategy", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds", "paused"});
  d.replicas = static_cast<int>(spec.integer("replicas", 0, 100000).value_or(1));
  if (!spec["selector"].present()) spec["selector"].error("is required");
  d.selector = read_selector(spec["selector"]);
  auto tmpl = spec["template"];
  if (!tmpl.present()) tmpl.error("is required");
  d.pod_labels = tmpl["metadata"].string_map("labels");
  if (spec["selector"].present() && !d.selector.matches(d.pod_labels))
    spec["selector"].error("selects " + d.selector.to_string() +
                           " but the pod template's labels do not match it");
  // A pod spec has dozens of fields; metalgate reads containers and lets the rest through.
  auto containers = tmpl["spec"]["containers"];
  if (!containers.present()) containers.error("is required");
  for (const auto& c : containers.items()) {
    Container ct;
    ct.name = c.string("name", true).value_or("");
    ct.image = c.string("image").value_or("");
    for (const auto& p : c["ports"].items()) {
      if (!p.expect_map({"containerPort", "protocol", "name"}, {"hostPort", "hostIP"})) continue;
      ContainerPort cp;
      cp.name = p.string("name").value_or("");
      if (auto n = p.integer("containerPort", 1, 65535, true))
        cp.container_port = static_cast<std::uint16_t>(*n);
      cp.protocol = read_protocol(p["protocol"]);
      ct.ports.push_back(std::move(cp));
    }
    ct.readiness_probe = read_probe(c["readinessProbe"]);
    d.containers.push_back(std::move(ct));
  }
  set.deployments.push_back(std::move(d));
}

std::vector<EndpointPort> read_endpoint_ports(const YamlReader& r) {
  std::vector<EndpointPort> out;
  for (const auto& p : r.items()) {
    if (!p.expect_map({"name", "port", "protocol"}, {"appProtocol"})) continue;
    EndpointPort ep;
    ep.name = p.string("name").value_or("");
    if (auto n = p.integer("port", 1, 65535, true)) ep.port = static_cast<std::uint16_t>(*n);
    ep.protocol = read_protocol(p["protocol"]);
    out.push_back(std::move(ep));
  }
  return out;
}

void read_endpoints(const YamlReader& doc, ManifestSet& set) {
  ObjectMeta meta = read_meta(doc, true);
  doc["subsets"].items();  // type check
  for (const auto& subset : doc["subsets"].items()) {
    if (!subset.expect_map({"addresses", "notReadyAddresses", "ports"})) continue;
    ServiceEndpoints e;
    e.meta = meta;
    e.service_name = meta.name;
    for (bool ready : {true, false}) {
      for (const auto& a : subset[ready ? "addresses" : "notReadyAddresses"].items()) {
        if (!a.expect_map({"ip", "nodeName", "targetRef", "hostname"})) continue;
        EndpointAddress ea;
        auto ip = a.string("ip", true);
        if (ip) {
          if (auto parsed = net::IpAddress::parse(*ip))
            ea.ip = *parsed;
          else
            a["ip"].error("'" + *ip + "' is not an IP address");
        }
        ea.node_name = a.string("nodeName").value_or("");
        ea.target_name = a["targetRef"].string("name").value_or("");
        ea.ready = ready;
        e.addresses.push_back(std::move(ea));
      }
    }
    e.ports = read_endpoint_ports(subset["ports"]);
    set.endpoints.push_back(std::move(e));
  }
}

void read_endpoint_slice(const YamlReader& doc, ManifestSet& set) {
  ServiceEndpoints e;
  e.meta = read_meta(doc, true);
  e.from_slice = true;
  auto it = e.meta.labels.find("kubernetes.io/service-name");
  if (it == e.meta.labels.end())
    doc["metadata"]["labels"].error("an EndpointSlice needs the label kubernetes.io/service-name");
  else
    e.service_name = it->second;
  auto type = doc.string("addressType", true).value_or("IPv4");
  if (type == "FQDN") {
    doc["addressType"].warning("FQDN endpoints are not resolved by metalgate; this slice is ignored");
    return;
  }
  if (type != "IPv4" && type != "IPv6")
    doc["addressType"].error("must be IPv4, IPv6 or FQDN, not '" + type + "'");
  for (const auto& ep : doc["endpoints"].items()) {
    if (!ep.expect_map({"addresses", "conditions", "nodeName", "targetRef"},
                       {"hostname", "zone", "hints", "deprecatedTopology"}))
      continue;
    bool ready = ep["conditions"].boolean("ready").value_or(true);
    for (const auto& a : ep["addresses"].items()) {
      auto ip = a.scalar(true);
      if (!ip) continue;
      auto parsed = net::IpAddress::parse(*ip);
      if (!parsed) {
        a.error("'" + *ip + "' is not an IP address");
        continue;
      }
      e.addresses.push_back(
          {*parsed, ep.string("nodeName").value_or(""), ep["targetRef"].string("name").value_or(""), ready});
    }
  }
  e.ports = read_endpoint_ports(doc["ports"]);
  set.endpoints.push_back(std::move(e));
}

void read_node(const YamlReader& doc, ManifestSet& set) {
  Node n;
  n.meta = read_meta(doc, false);
  for (const auto& a : doc["status"]["addresses"].items()) {
    if (a.string("type").value_or("") != "InternalIP") continue;
    if (auto ip = net::IpAddress::parse(a.string("address").value_or(""))) n.addresses.push_back(*ip);
  }
  set.nodes.push_back(std::move(n));
}

std::string decode_base64(std::string_view in, bool& ok) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0, padding = 0;
  ok = true;
  for (char c : in) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    auto v = kAlphabet.find(c);
    if (v == std::string_view::npos || padding) {
      ok = false;
      return {};
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (padding > 2) ok = false;
  return out;
}

void read_secret(const YamlReader& doc, ManifestSet& set) {
  Secret s;
  s.meta = read_meta(doc, true);
  s.type = doc.string("type").value_or("Opaque");
  for (auto& [key, value] : doc["data"].entries()) {
    auto text = value.scalar();
    if (!text) continue;
    bool ok = false;
    auto decoded = decode_base64(*text, ok);
    if (!ok) {
      value.error("is not valid base64");
      continue;
    }
    s.data[key] = std::move(decoded);
  }
  for (auto& [key, value] : doc["stringData"].entries())
    if (auto text = value.scalar()) s.data[key] = *text;
  if (s.is_tls()) {
    for (std::string_view key : {"tls.crt", "tls.key"}) {
      auto it = s.data.find(std::string(key));
      if (it == s.data.end())
        doc["data"].error("a kubernetes.io/tls Secret needs '" + std::string(key) + "'");
      else if (it->second.find("-----BEGIN ") == std::string::npos)
        doc["data"][key].error("'" + std::string(key) + "' does not hold a PEM block");
    }
  }
  set.secrets.push_back(std::move(s));
}

void read_config_map(const YamlReader& doc, ManifestSet& set) {
  ConfigMap c;
  c.meta = read_meta(doc, true);
  for (auto& [key, value] : doc["data"].entries()) {
    c.data[key] = value.present() ? value.scalar().value_or("") : "";
    c.data_where[key] = doc["data"].key_where(key);
  }
  set.config_maps.push_back(std::move(c));
}

// ------------------------------------------------------------------------------------------
// networking.k8s.io/v1

bool valid_ingress_host(std::string_view host) {
  if (host.starts_with("*.")) host.remove_prefix(2);
  return is_dns_subdomain(host) && !net::IpAddress::parse(host);
}

std::optional<IngressBackend> read_ingress_backend(const YamlReader& r) {
  if (!r.present()) {
    r.error("is required");
    return std::nullopt;
  }
  if (!r.expect_map({"service", "resource"})) return std::nullopt;
  IngressBackend b;
  b.where = r.where();
  if (r.has("resource")) {
    b.resource_kind = r["resource"].string("kind").value_or("?");
    if (r.has("service")) r.error("a backend has either a service or a resource, not both");
    return b;
  }
  auto svc = r["service"];
  if (!svc.present()) {
    svc.error("is required");
    return std::nullopt;
  }
  svc.expect_map({"name", "port"});
  b.service_name = svc.string("name", true).value_or("");
  auto port = svc["port"];
  if (!port.present()) {
    port.error("is required (number or name)");
  } else if (port.expect_map({"number", "name"})) {
    if (port.has("number") && port.has("name")) port.error("give a number or a name, not both");
    if (auto n = port.integer("number", 1, 65535)) b.service_port.number = static_cast<std::uint16_t>(*n);
    if (auto n = port.string("name")) {
      if (is_port_name(*n))
        b.service_port.name = *n;
      else
        port["name"].error("'" + *n + "' is not a valid port name");
    }
    if (b.service_port.empty() && !port.has("number") && !port.has("name"))
      port.error("needs a number or a name");
  }
  return b;
}

void read_ingress(const YamlReader& doc, ManifestSet& set) {
  Ingress in;
  in.meta = read_meta(doc, true);
  auto spec = doc["spec"];
  if (!spec.present()) spec.error("is required");
  if (spec.has("backend"))
    spec["backend"].error("spec.backend was removed in networking.k8s.io/v1; use spec.defaultBackend");
  spec.expect_map({"ingressClassName", "defaultBackend", "tls", "rules"}, {"backend"});
  in.ingress_class_name = spec.string("ingressClassName");
  if (auto it = in.meta.annotations.find("kubernetes.io/ingress.class"); it != in.meta.annotations.end())
    in.legacy_class = it->second;
  if (spec.has("defaultBackend")) in.default_backend = read_ingress_backend(spec["defaultBackend"]);
  for (const auto& t : spec["tls"].items()) {
    if (!t.expect_map({"hosts", "secretName"})) continue;
    IngressTls tls;
    tls.hosts = t.string_list("hosts");
    for (const auto& h : tls.hosts)
      if (!valid_ingress_host(h)) t["hosts"].error("'" + h + "' is not a valid host name");
    tls.secret_name = t.string("secretName").value_or("");
    in.tls.push_back(std::move(tls));
  }
  for (const auto& r : spec["rules"].items()) {
    if (!r.expect_map({"host", "http"})) continue;
    IngressRule rule;
    rule.host = r.string("host").value_or("");
    if (!rule.host.empty() && !valid_ingress_host(rule.host))
      r["host"].error("'" + rule.host +
                      "' is not a valid host: lower-case DNS name, optionally '*.' first, no IP address");
    auto http = r["http"];
    if (http.present() && http.expect_map({"paths"})) {
      auto paths = http["paths"];
      if (!paths.present()) paths.error("is required");
      for (const auto& p : paths.items()) {
        if (!p.expect_map({"path", "pathType", "backend"})) continue;
        IngressPath ip;
        ip.path = p.string("path").value_or("");
        auto type = p.string("pathType", true);
        if (type == "Exact")
          ip.path_type = PathType::kExact;
        else if (type == "Prefix")
          ip.path_type = PathType::kPrefix;
        else if (type == "ImplementationSpecific")
          ip.path_type = PathType::kImplementationSpecific;
        else if (type)
          p["pathType"].error("must be Exact, Prefix or ImplementationSpecific, not '" + *type + "'");
        if (ip.path_type != PathType::kImplementationSpecific && ip.path.empty())
          p["path"].error("is required for pathType " + type.value_or("?"));
        if (!ip.path.empty() && ip.path.front() != '/')
          p["path"].error("'" + ip.path + "' must be an absolute path (start with '/')");
        if (auto b = read_ingress_backend(p["backend"])) ip.backend = std::move(*b);
        rule.paths.push_back(std::move(ip));
      }
    }
    in.rules.push_back(std::move(rule));
  }
  if (in.rules.empty() && !in.default_backend) spec.error("needs rules or a defaultBackend");
  check_haproxy_annotations(in.meta, doc, kIngress);
  set.ingresses.push_back(std::move(in));
}

void read_ingress_class(const YamlReader& doc, ManifestSet& set) {
  IngressClass c;
  c.meta = read_meta(doc, false);
  auto spec = doc["spec"];
  spec.expect_map({"controller", "parameters"});
  c.controller = spec.string("controller", true).value_or("");
  auto it = c.meta.annotations.find("ingressclass.kubernetes.io/is-default-class");
  c.is_default = it != c.meta.annotations.end() && it->second == "true";
  set.ingress_classes.push_back(std::move(c));
}

// ------------------------------------------------------------------------------------------ Helm values

std::vector<ValuesPort> read_values_ports(const YamlReader& r) {
  std::vector<ValuesPort> out;
  for (const auto& p : r.items()) {
    if (!p.expect_map({"name", "port", "targetPort"}, {"nodePort", "protocol"})) continue;
    ValuesPort vp;
    vp.name = p.string("name").value_or("");
    if (auto n = p.integer("port", 1, 65535, true)) vp.port = static_cast<std::uint16_t>(*n);
    vp.target_port = static_cast<std::uint16_t>(p.integer("targetPort", 1, 65535).value_or(vp.port));
    out.push_back(vp);
  }
  return out;
}

std::optional<TrafficPolicy> read_traffic_policy(const YamlReader& r) {
  auto s = r.scalar();
  if (!s) return std::nullopt;
  if (*s == "Local") return TrafficPolicy::kLocal;
  if (*s == "Cluster") return TrafficPolicy::kCluster;
  r.error("must be Cluster or Local, not '" + *s + "'");
  return std::nullopt;
}

// Applies one values file over what earlier files set: maps merge key by key, lists and scalars replace.
void read_values(const YamlReader& doc, ManifestSet& set) {
  auto& v = set.controller ? *set.controller : set.controller.emplace();
  v.files.push_back(doc.where());
  doc.expect_map_lenient({"controller"},
                         {"defaultBackend", "rbac", "serviceAccount", "podSecurityPolicy", "crdjob",
                          "imageCredentials", "alpine", "namespace", "fullnameOverride", "nameOverride"});
  auto c = doc["controller"];
  if (!c.present()) return;
  c.expect_map_lenient({"service", "replicaCount", "config", "tcpServices", "udpServices", "stats", "metrics",
                        "ingressClass", "ingressClassResource", "defaultBackendService", "logging"},
                       {"resources",
                        "affinity",
                        "podDisruptionBudget",
                        "autoscaling",
                        "topologySpreadConstraints",
                        "serviceMonitor",
                        "nodeSelector",
                        "tolerations",
                        "image",
                        "podAnnotations",
                        "podLabels",
                        "extraArgs",
                        "extraEnvs",
                        "kind",
                        "daemonset",
                        "priorityClassName",
                        "securityContext",
                        "containerPort",
                        "livenessProbe",
                        "readinessProbe",
                        "startupProbe",
                        "lifecycle",
                        "terminationGracePeriodSeconds",
                        "name",
                        "minReadySeconds",
                        "strategy",
                        "unprivileged",
                        "defaultTLSSecret",
                        "publishService",
                        "allowPrivilegedPorts",
                        "extraVolumes",
                        "extraVolumeMounts",
                        "extraContainers",
                        "initContainers",
                        "dnsConfig",
                        "dnsPolicy",
                        "hostNetwork",
                        "keda",
                        "sync",
                        "sidecars",
                        "podSecurityContext",
                        "serviceAccount",
                        "kubernetesIngressControllerConfig"});
  if (auto n = c.integer("replicaCount", 0, 1000)) v.replica_count = static_cast<int>(*n);
  auto svc = c["service"];
  if (svc.present() &&
      svc.expect_map_lenient(
          {"type", "annotations", "externalTrafficPolicy", "ports", "tcpPorts", "udpPorts", "loadBalancerIP"},
          {"enabled", "labels", "targetPorts", "nodePorts", "enablePorts", "clusterIP",
           "loadBalancerSourceRanges", "externalIPs", "sessionAffinity", "loadBalancerClass"})) {
    if (auto t = svc.string("type")) v.service_type = *t;
    for (auto& [k, val] : svc.string_map("annotations"))
      v.service_annotations[k] = val;
    if (auto etp = read_traffic_policy(svc["externalTrafficPolicy"])) v.external_traffic_policy = *etp;
    if (auto ip = svc.string("loadBalancerIP")) v.load_balancer_ip = *ip;
    auto ports = svc["ports"];
    if (ports.present() && ports.expect_map({"http", "https", "stat"}, {"quic", "admin", "prometheus"})) {
      if (auto n = ports.integer("http", 1, 65535)) v.http_port = static_cast<std::uint16_t>(*n);
      if (auto n = ports.integer("https", 1, 65535)) v.https_port = static_cast<std::uint16_t>(*n);
      if (auto n = ports.integer("stat", 1, 65535)) v.stat_port = static_cast<std::uint16_t>(*n);
    }
    if (svc.has("tcpPorts")) v.tcp_ports = read_values_ports(svc["tcpPorts"]);
    if (svc.has("udpPorts")) v.udp_ports = read_values_ports(svc["udpPorts"]);
  }
  for (auto& [key, value] : c["config"].entries()) {
    v.config[key] = value.present() ? value.scalar().value_or("") : "";
    v.config_where[key] = c["config"].key_where(key);
  }
  if (auto t = c["tcpServices"]; t.present() && t.expect_map({"configMapName"}))
    v.tcp_services_config_map = t.string("configMapName");
  if (auto u = c["udpServices"]; u.present() && u.expect_map({"configMapName"}))
    v.udp_services_config_map = u.string("configMapName");
  if (auto s = c["stats"]; s.present() && s.expect_map({"enabled", "port", "auth"})) {
    v.stats_enabled = s.boolean("enabled").value_or(v.stats_enabled);
    if (auto n = s.integer("port", 1, 65535)) v.stats_port = static_cast<std::uint16_t>(*n);
    if (auto a = s["auth"]; a.present() && a.expect_map({"username", "password"})) {
      v.stats_user = a.string("username");
      v.stats_password = a.string("password");
    }
  }
  if (auto m = c["metrics"]; m.present() && m.expect_map({"enabled", "service", "port"})) {
    v.metrics_enabled = m.boolean("enabled").value_or(v.metrics_enabled);
    if (auto n = m["service"].integer("port", 1, 65535)) v.metrics_port = static_cast<std::uint16_t>(*n);
    if (auto n = m.integer("port", 1, 65535)) v.metrics_port = static_cast<std::uint16_t>(*n);
  }
  if (auto ic = c.string("ingressClass")) v.ingress_class = *ic;
  if (auto r = c["ingressClassResource"];
      r.present() && r.expect_map({"name", "enabled", "default", "controllerValue"})) {
    if (auto n = r.string("name")) v.ingress_class = *n;
    v.ingress_class_resource_enabled = r.boolean("enabled").value_or(v.ingress_class_resource_enabled);
    v.ingress_class_resource_default = r.boolean("default").value_or(v.ingress_class_resource_default);
    if (auto cv = r.string("controllerValue")) v.ingress_class_controller = *cv;
  }
  if (auto d = c.string("defaultBackendService")) v.default_backend_service = *d;
  if (auto l = c["logging"]; l.present() && l.expect_map({"level", "traffic"})) {
    if (auto lv = l.string("level")) v.log_level = *lv;
    v.log_traffic = l.boolean("traffic").value_or(v.log_traffic);
  }
}

// ------------------------------------------------------------------------------------------ dispatch

struct KindInfo {
  std::string_view api_version;
  std::string_view kind;
  void (*read)(const YamlReader&, ManifestSet&);
  std::vector<std::string_view> top_level;
};

void read_nothing(const YamlReader&, ManifestSet&) {}

const std::vector<KindInfo>& kinds() {
  static const std::vector<KindInfo> k = {
      {"metallb.io/v1beta1", "IPAddressPool", read_pool, {"spec"}},
      {"metallb.io/v1beta1", "L2Advertisement", read_l2_advertisement, {"spec"}},
      {"v1", "Service", read_service, {"spec"}},
      {"v1", "Endpoints", read_endpoints, {"subsets"}},
      {"v1", "ConfigMap", read_config_map, {"data", "binaryData", "immutable"}},
      {"v1", "Secret", read_secret, {"data", "stringData", "type", "immutable"}},
      {"v1", "Node", read_node, {"spec"}},
      {"v1", "Namespace", read_nothing, {"spec"}},
      {"apps/v1", "Deployment", read_deployment, {"spec"}},
      {"discovery.k8s.io/v1", "EndpointSlice", read_endpoint_slice, {"addressType", "endpoints", "ports"}},
      {"networking.k8s.io/v1", "Ingress", read_ingress, {"spec"}},
      {"networking.k8s.io/v1", "IngressClass", read_ingress_class, {"spec"}},
  };
  return k;
}

void read_document(const YamlReader& doc, ManifestSet& set) {
  if (!doc.present()) return;  // an empty document between '---' lines
  if (!doc.node().IsMap()) {
    doc.error("a document must be a mapping (a Kubernetes object or a Helm values file)");
    return;
  }
  if (!doc.has("apiVersion") && !doc.has("kind")) {
    if (doc.has("controller")) {
      YamlReader values = doc;
      values.set_context("Helm values");
      read_values(values, set);
      return;
    }
    doc.error("neither a Kubernetes object (no apiVersion and kind) nor a Helm values file (no controller:)");
    return;
  }
  auto api = doc.string("apiVersion", true).value_or("");
  auto kind = doc.string("kind", true).value_or("");
  if (kind == "List") {
    for (const auto& item : doc["items"].items())
      read_document(item, set);
    return;
  }
  std::string name = doc["metadata"].string("name").value_or("?");
  bool cluster_wide = kind == "IngressClass" || kind == "Node" || kind == "Namespace";
  std::string ns = cluster_wide ? "" : doc["metadata"].string("namespace").value_or("default");
  YamlReader obj = doc;
  obj.set_context(kind + " " + (ns.empty() ? name : ns + "/" + name));

  const KindInfo* match = nullptr;
  const KindInfo* same_kind = nullptr;
  for (const auto& k : kinds()) {
    if (k.kind != kind) continue;
    same_kind = &k;
    if (k.api_version == api) match = &k;
  }
  if (!match) {
    if (same_kind) {
      obj["apiVersion"].error(kind + " " + api + " is not supported; use " +
                              std::string(same_kind->api_version));
      return;
    }
    std::string why = api.starts_with("metallb.io/") ? " (metalgate announces in Layer 2 mode only)" : "";
    set.skipped.push_back({api, kind, name, doc.where()});
    obj.note("skipped: metalgate does not use " + kind + " objects" + why);
    return;
  }
  std::vector<std::string_view> top = {"apiVersion", "kind", "metadata"};
  top.insert(top.end(), match->top_level.begin(), match->top_level.end());
  // initializer_list cannot be built at run time: check the keys here.
  std::set<std::string> seen;
  for (auto it = doc.node().begin(); it != doc.node().end(); ++it) {
    if (!it->first.IsScalar()) continue;
    const std::string& key = it->first.Scalar();
    if (!seen.insert(key).second) {
      obj[key].error("appears twice");
      continue;
    }
    if (key == "status") continue;  // written by the cluster; harmless in pasted manifests
    if (std::find(top.begin(), top.end(), key) == top.end()) {
      std::string message = "unknown field '" + key + "'";
      auto s = closest_name(key, top);
      if (!s.empty()) message += " (did you mean '" + s + "'?)";
      YamlReader(it->first, obj.file(), obj.field(), obj.diagnostics()).error(message);
    }
  }
  match->read(obj, set);
  ++set.object_count;
}

}  // namespace

void load_manifest_text(std::string_view text, const std::string& file_name, ManifestSet& set,
                        Diagnostics& diagnostics) {
  set.files.push_back(file_name);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    diagnostics.error(location_of(e.mark, file_name), "", "malformed YAML: " + e.msg);
    return;
  }
  for (const auto& d : documents)
    read_document(YamlReader(d, file_name, "", diagnostics), set);
}

ManifestSet load_manifest_paths(const std::vector<std::string>& paths, Diagnostics& diagnostics) {
  ManifestSet set;
  auto load_file = [&](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      diagnostics.error({p.string(), 0, 0}, "", "cannot read the file");
      return;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    load_manifest_text(buf.str(), p.string(), set, diagnostics);
  };
  for (const auto& path : paths) {
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      diagnostics.error({path, 0, 0}, "", "no such file or directory");
      continue;
    }
    if (fs::is_directory(status)) {
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(path, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        auto ext = it->path().extension();
        if (it->is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(it->path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) diagnostics.warning({path, 0, 0}, "", "directory holds no .yaml or .yml files");
      for (const auto& f : files)
        load_file(f);
    } else {
      load_file(path);
    }
  }
  finish_manifest_set(set, diagnostics);
  return set;
}

namespace {

template <typename T>
void check_duplicates(const std::vector<T>& objects, std::string_view kind, Diagnostics& d) {
  std::map<std::string, const T*> seen;
  for (const auto& o : objects) {
    if (o.meta.name.empty()) continue;
    auto [it, inserted] = seen.emplace(o.meta.key(), &o);
    if (!inserted)
      d.error(o.meta.where, std::string(kind) + " " + o.meta.key(),
              "defined twice (first at " + it->second->meta.where.to_string() + ")");
  }
}

Labels controller_pod_labels() {
  return {{"app.kubernetes.io/name", "kubernetes-ingress"},
          {"app.kubernetes.io/instance", "haproxy-ingress"}};
}

void synthesize_controller_objects(ManifestSet& set, Diagnostics& d) {
  const auto& v = *set.controller;
  const SourceLocation where = v.files.empty() ? SourceLocation{} : v.files.front();
  const std::string ns(kControllerNamespace), name(kControllerName);

  auto existing = std::find_if(set.services.begin(), set.services.end(), [&](const Service& s) {
    return s.meta.namespace_ == ns && s.meta.name == name;
  });
  if (existing != set.services.end()) {
    d.note(existing->meta.where, "Service " + ns + "/" + name,
           "defined explicitly; the Helm values' controller.service settings are not applied to it");
  } else {
    Service s;
    s.meta.name = name;
    s.meta.namespace_ = ns;
    s.meta.where = where;
    s.meta.labels = controller_pod_labels();
    s.meta.annotations = v.service_annotations;
    s.synthesized_from_values = true;
    s.type = v.service_type == "LoadBalancer" ? ServiceType::kLoadBalancer
             : v.service_type == "NodePort"   ? ServiceType::kNodePort
                                              : ServiceType::kClusterIP;
    s.external_traffic_policy = v.external_traffic_policy;
    s.selector = controller_pod_labels();
    auto add = [&](std::string port_name, std::uint16_t port, Protocol proto) {
      for (const auto& p : s.ports)
        if (p.port == port && p.protocol == proto) {
          d.error(where, "Helm values: controller.service",
                  "port " + std::to_string(port) + " is used twice");
          return;
        }
      ServicePort p;
      p.name = std::move(port_name);
      p.port = port;
      p.protocol = proto;
      p.target_port.number = port;
      s.ports.push_back(std::move(p));
    };
    add("http", v.http_port, Protocol::kTcp);
    add("https", v.https_port, Protocol::kTcp);
    if (v.stat_port) add("stat", *v.stat_port, Protocol::kTcp);
    for (const auto& p : v.tcp_ports)
      add(p.name.empty() ? "tcp-" + std::to_string(p.port) : p.name, p.port, Protocol::kTcp);
    for (const auto& p : v.udp_ports)
      add(p.name.empty() ? "udp-" + std::to_string(p.port) : p.name, p.port, Protocol::kUdp);
    for (const auto& [key, value] : v.service_annotations) {
      auto m = metallb_annotation(key);
      if (!m || !m->which) continue;
      if (*m->which == MetalLbAnnotation::kAddressPool) s.address_pool = value;
      if (*m->which == MetalLbAnnotation::kAllowSharedIp) s.sharing_key = value;
      if (*m->which == MetalLbAnnotation::kLoadBalancerIps)
        if (auto ip = net::IpAddress::parse(value)) s.requested_ips.push_back(*ip);
    }
    if (v.load_balancer_ip) {
      if (auto ip = net::IpAddress::parse(*v.load_balancer_ip))
        s.requested_ips.push_back(*ip);
      else
        d.error(where, "Helm values: controller.service.loadBalancerIP",
                "'" + *v.load_balancer_ip + "' is not an IP address");
    }
    set.services.push_back(std::move(s));
  }

  auto deployment = std::find_if(set.deployments.begin(), set.deployments.end(), [&](const Deployment& x) {
    return x.meta.namespace_ == ns && x.meta.name == name;
  });
  if (deployment == set.deployments.end()) {
    Deployment dep;
    dep.meta.name = name;
    dep.meta.namespace_ = ns;
    dep.meta.where = where;
    dep.replicas = v.replica_count;
    dep.selector.match_labels = controller_pod_labels();
    dep.pod_labels = controller_pod_labels();
    dep.synthesized_from_values = true;
    Container c;
    c.name = "kubernetes-ingress-controller";
    dep.containers.push_back(c);
    set.deployments.push_back(std::move(dep));
  }

  if (v.ingress_class_resource_enabled &&
      std::none_of(set.ingress_classes.begin(), set.ingress_classes.end(),
                   [&](const IngressClass& c) { return c.meta.name == v.ingress_class; })) {
    IngressClass c;
    c.meta.name = v.ingress_class;
    c.meta.where = where;
    c.controller = v.ingress_class_controller;
    c.is_default = v.ingress_class_resource_default;
    set.ingress_classes.push_back(std::move(c));
  }

  // The controller ConfigMap's keys: the same names as the annotations, at ConfigMap scope.
  static const auto names = haproxy_annotation_names();
  for (const auto& [key, value] : v.config) {
    auto wit = v.config_where.find(key);
    SourceLocation at = wit == v.config_where.end() ? where : wit->second;
    std::string field = "Helm values: controller.config." + key;
    const AnnotationSpec* spec = find_haproxy_annotation(key);
    if (!spec) {
      std::string message = "unknown controller setting '" + key + "'";
      auto s = closest_name(key, names);
      if (!s.empty()) message += " (did you mean '" + s + "'?)";
      d.warning(at, field, message + "; it has no effect");
    } else if (!(spec->metalgate_scopes & kConfigMap)) {
      d.warning(at, field,
                "'" + key + "' cannot be set in the controller ConfigMap; it belongs on " +
                    scope_names(spec->metalgate_scopes));
    } else if (spec->origin == AnnotationOrigin::kSeedExtension) {
      d.note(at, field,
             "'" + key +
                 "' is a metalgate extension the HAProxy controller does not have; its equivalent there: " +
                 std::string(spec->controller_equivalent));
    }
  }
}

}  // namespace

void finish_manifest_set(ManifestSet& set, Diagnostics& d) {
  if (set.controller) synthesize_controller_objects(set, d);
  check_duplicates(set.pools, "IPAddressPool", d);
  check_duplicates(set.l2_advertisements, "L2Advertisement", d);
  check_duplicates(set.services, "Service", d);
  check_duplicates(set.deployments, "Deployment", d);
  check_duplicates(set.ingresses, "Ingress", d);
  check_duplicates(set.ingress_classes, "IngressClass", d);
  check_duplicates(set.config_maps, "ConfigMap", d);
  check_duplicates(set.secrets, "Secret", d);
  check_duplicates(set.nodes, "Node", d);
  // MetalLB refuses overlapping pools: an address must belong to one pool only.
  for (std::size_t i = 0; i < set.pools.size(); ++i)
    for (std::size_t j = i + 1; j < set.pools.size(); ++j)
      for (const auto& a : set.pools[i].addresses)
        for (const auto& b : set.pools[j].addresses)
          if (a.overlaps(b))
            d.error(set.pools[j].meta.where, "IPAddressPool " + set.pools[j].meta.key(),
                    "addresses " + b.to_string() + " overlap " + a.to_string() + " of pool " +
                        set.pools[i].meta.key() + " (" + set.pools[i].meta.where.to_string() + ")");
}

bool is_controller_service(const Service& service, const ManifestSet& set) {
  if (service.type != ServiceType::kLoadBalancer || service.selector.empty()) return false;
  for (const auto& dep : set.deployments) {
    if (dep.meta.namespace_ != service.meta.namespace_) continue;
    bool is_controller =
        dep.synthesized_from_values || (dep.pod_labels.count("app.kubernetes.io/name") &&
                                        dep.pod_labels.at("app.kubernetes.io/name") == "kubernetes-ingress");
    if (is_controller && LabelSelector{service.selector, {}}.matches(dep.pod_labels)) return true;
  }
  auto it = service.selector.find("app.kubernetes.io/name");
  if (it != service.selector.end() && it->second == "kubernetes-ingress") return true;
  it = service.selector.find("run");
  return it != service.selector.end() && it->second == "haproxy-ingress";
}

}  // namespace metalgate::config
