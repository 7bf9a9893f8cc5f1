#include "engine/config/manifest_loader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <yaml-cpp/eventhandler.h>

#include "engine/config/annotations.h"
#include "engine/config/duration.h"
#include "engine/config/k8s_names.h"
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

// Reports a failed syntax check (a k8s_names result, empty when valid) on `at`, quoting the value.
bool check_syntax(const YamlReader& at, std::string_view value, const std::string& why) {
  if (why.empty()) return true;
  at.error("'" + std::string(value) + "': " + why);
  return false;
}

// The same for a mapping's key: the problem is reported where the key stands.
void check_key_syntax(const YamlReader& map, const std::string& key, const std::string& why) {
  if (why.empty()) return;
  map.diagnostics().error(map.key_where(key), map[key].field(), "'" + key + "': " + why);
}

using SyntaxCheck = std::string (*)(std::string_view);

// Absent, null or [] (and no error: the list's reader reports a wrong type).
bool is_empty_list(const YamlReader& r) {
  return !r.present() || (r.node().IsSequence() && r.node().size() == 0);
}

// Checks every key of a mapping (ConfigMap and Secret keys, label and annotation keys).
void check_keys(const YamlReader& map, SyntaxCheck check) {
  if (!map.present() || !map.node().IsMap()) return;  // the reader of the values has reported it
  for (auto it = map.node().begin(); it != map.node().end(); ++it)
    if (it->first.IsScalar()) check_key_syntax(map, it->first.Scalar(), check(it->first.Scalar()));
}

// Label keys and values, as ValidateLabels does (metadata.labels, a Service's selector, matchLabels).
void check_labels(const YamlReader& map) {
  check_keys(map, check_qualified_name);
  if (!map.present() || !map.node().IsMap()) return;
  for (const auto& [key, value] : map.entries())
    if (value.present() && value.node().IsScalar())
      check_syntax(value, value.node().Scalar(), check_label_value(value.node().Scalar()));
}

// ValidateAnnotations: keys are qualified names once lower-cased; all of them together at most 256 KiB.
void check_annotations(const YamlReader& map, const std::map<std::string, std::string>& annotations) {
  std::size_t total = 0;
  for (const auto& [key, value] : annotations) {
    std::string lower = key;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    check_key_syntax(map, key, check_qualified_name(lower));
    total += key.size() + value.size();
  }
  constexpr std::size_t kMaxAnnotationBytes = 256 * 1024;
  if (total > kMaxAnnotationBytes)
    map.error("Too long: must have at most " + std::to_string(kMaxAnnotationBytes) + " bytes");
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
  } else if (is_iana_port_name(*s)) {
    p.name = *s;
  } else {
    r.error("'" + *s + "' is neither a port number nor a valid port name: " + check_iana_port_name(*s));
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

// Which selector rules apply: apimachinery's (LabelSelectorAsSelector) for every selector; MetalLB adds its
// own duplicate checks (config.go validateLabelSelectorMatchExpressions) for the selectors of its kinds.
enum class SelectorRules { kKubernetes, kMetalLb };

LabelRequirement read_requirement(const YamlReader& e, SelectorRules rules) {
  static const std::vector<std::pair<std::string_view, LabelRequirement::Operator>> kOperators = {
      {"In", LabelRequirement::Operator::kIn},
      {"NotIn", LabelRequirement::Operator::kNotIn},
      {"Exists", LabelRequirement::Operator::kExists},
      {"DoesNotExist", LabelRequirement::Operator::kDoesNotExist}};
  LabelRequirement req;
  req.key = e.string("key", true).value_or("");
  if (!req.key.empty()) check_syntax(e["key"], req.key, check_qualified_name(req.key));
  auto op = e.string("operator", true).value_or("In");
  auto known =
      std::find_if(kOperators.begin(), kOperators.end(), [&](const auto& o) { return o.first == op; });
  if (known != kOperators.end())
    req.op = known->second;
  else
    e["operator"].error("must be In, NotIn, Exists or DoesNotExist, not '" + op + "'");
  bool needs_values =
      req.op == LabelRequirement::Operator::kIn || req.op == LabelRequirement::Operator::kNotIn;
  std::set<std::string> seen;
  for (const auto& item : e["values"].items()) {
    auto v = item.scalar(true);
    if (!v) continue;
    check_syntax(item, *v, check_label_value(*v));
    if (rules == SelectorRules::kMetalLb && !seen.insert(*v).second)
      item.error("duplicate definition of match expression value in label selector \"" + *v + "\"");
    req.values.push_back(*v);
  }
  if (known == kOperators.end()) return req;  // which values it takes is unknown
  if (needs_values && req.values.empty()) e["values"].error("must not be empty for operator " + op);
  if (!needs_values && !req.values.empty()) e["values"].error("must be empty for operator " + op);
  return req;
}

LabelSelector read_selector(const YamlReader& r, SelectorRules rules = SelectorRules::kKubernetes) {
  LabelSelector sel;
  if (!r.expect_map({"matchLabels", "matchExpressions"})) return sel;
  sel.match_labels = r.string_map("matchLabels");
  check_labels(r["matchLabels"]);
  std::set<std::string> seen;
  for (const auto& e : r["matchExpressions"].items()) {
    if (!e.expect_map({"key", "operator", "values"})) continue;
    auto req = read_requirement(e, rules);
    if (rules == SelectorRules::kMetalLb && !seen.insert(canonical(req)).second)
      e.error("duplicate definition of match expressions \"" + canonical(req) + "\"");
    sel.match_expressions.push_back(std::move(req));
  }
  return sel;
}

// A list of MetalLB selectors, where MetalLB refuses two equal ones (validateLabelSelectorDuplicate; the
// order of an expression's values does not matter). `list` names the field in the message.
std::vector<LabelSelector> read_selectors(const YamlReader& r, std::string_view list) {
  std::vector<LabelSelector> out;
  std::set<std::string> seen;
  for (const auto& item : r.items()) {
    out.push_back(read_selector(item, SelectorRules::kMetalLb));
    if (item.node().IsMap() && !seen.insert(out.back().canonical()).second)
      item.error("duplicate definition of " + std::string(list) + " \"" + out.back().to_string() + "\"");
  }
  return out;
}

// A list of names where MetalLB refuses repeats (config.go validateDuplicate).
std::vector<std::string> read_unique_strings(const YamlReader& r, std::string_view duplicate_message) {
  std::vector<std::string> out;
  for (const auto& item : r.items()) {
    auto s = item.scalar(true);
    if (!s) continue;
    if (std::find(out.begin(), out.end(), *s) != out.end())
      item.error(std::string(duplicate_message) + " \"" + *s + "\"");
    out.push_back(*s);
  }
  return out;
}

// metadata.creationTimestamp, which orders conflicting Ingress rules (the oldest wins, as in Kubernetes).
// Only the API server's own form, RFC 3339 in UTC to the second, so that comparing the text compares times.
std::optional<std::string> read_creation_timestamp(const YamlReader& meta) {
  auto ts = meta.has("creationTimestamp") ? meta.string("creationTimestamp") : std::nullopt;
  if (!ts) return std::nullopt;
  static const std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  bool ok = ts->size() == kShape.size();
  for (std::size_t i = 0; ok && i < kShape.size(); ++i)
    ok = kShape[i] == 'd' ? std::isdigit(static_cast<unsigned char>((*ts)[i])) != 0 : (*ts)[i] == kShape[i];
  if (ok) return ts;
  meta["creationTimestamp"].warning("'" + *ts +
                                    "' is not an RFC 3339 UTC time like 2024-05-01T10:00:00Z; ignored (the "
                                    "object then counts as newer than any with a timestamp)");
  return std::nullopt;
}

// metadata as ValidateObjectMeta checks it. `name_check` is the kind's name rule: a DNS-1123 subdomain for
// most kinds, a DNS-1035 label for a Service.
ObjectMeta read_meta(const YamlReader& doc, bool namespaced,
                     SyntaxCheck name_check = check_dns1123_subdomain) {
  ObjectMeta m;
  m.where = doc.where();
  auto meta = doc["metadata"];
  if (!meta.present()) {
    meta.error("is required (with at least a name)");
    return m;
  }
  meta.expect_map({"name", "namespace", "labels", "annotations"}, kServerMetadata);
  m.name = meta.string("name", true).value_or("");
  if (!m.name.empty()) check_syntax(meta["name"], m.name, name_check(m.name));
  if (namespaced) {
    m.namespace_ = meta.string("namespace").value_or("default");
    if (meta.has("namespace"))
      check_syntax(meta["namespace"], m.namespace_, check_dns1123_label(m.namespace_));
  } else if (meta.has("namespace")) {
    meta["namespace"].warning("this kind is cluster-wide; the namespace is ignored");
  }
  m.labels = meta.string_map("labels");
  check_labels(meta["labels"]);
  m.annotations = meta.string_map("annotations");
  check_annotations(meta["annotations"], m.annotations);
  for (const auto& [key, value] : m.annotations)
    m.annotations_where[key] = meta["annotations"].key_where(key);
  m.creation_timestamp = read_creation_timestamp(meta);
  return m;
}

// The warning for a name metalgate accepts and does not act on (AnnotationSpec::not_acted_on).
std::string not_acted_on_text(const AnnotationSpec& spec) {
  return "'" + std::string(spec.name) +
         "' is accepted but metalgate does not act on it: " + std::string(spec.not_acted_on);
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
    } else if (!spec->not_acted_on.empty()) {
      at.warning(not_acted_on_text(*spec));
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

// MetalLB's webhooks accept its objects only in the namespace MetalLB is installed in (metallb-system unless
// installed elsewhere). metalgate cannot know that namespace, so it reads them from any namespace and says
// so.
void note_metallb_namespace(const YamlReader& doc, const ObjectMeta& meta) {
  constexpr std::string_view kMetalLbNamespace = "metallb-system";
  if (meta.namespace_ == kMetalLbNamespace) return;
  auto at = doc["metadata"].has("namespace") ? doc["metadata"]["namespace"] : doc["metadata"];
  at.note("MetalLB accepts this object only in its own namespace (\"resource must be created in " +
          std::string(kMetalLbNamespace) +
          " namespace\" for the default install); metalgate reads it from '" + meta.namespace_ + "'");
}

// spec.addresses as MetalLB's addressPoolFromCR reads it: at least one entry, each a CIDR or an a-b range,
// none overlapping another.
void read_pool_addresses(const YamlReader& addresses, IpAddressPool& p) {
  if (!addresses.present()) {
    addresses.error("is required: list the pool's CIDRs or ranges");
    return;
  }
  auto items = addresses.items();
  if (is_empty_list(addresses))
    addresses.error("pool has no prefixes defined: list at least one CIDR or range");
  for (const auto& item : items) {
    auto text = item.scalar(true);
    if (!text) continue;
    std::string why;
    auto range = net::AddressRange::parse(*text, &why);
    if (!range) {
      item.error("'" + *text + "': " + why);
      if (net::Cidr::parse(*text, true))
        item.note(
            "MetalLB accepts a CIDR with host bits set and uses its network; metalgate asks for the "
            "network address so that the pool reads as what it holds");
      continue;
    }
    if (text->find('/') == std::string::npos && text->find('-') == std::string::npos)
      item.note("'" + *text + "' is a single address: metalgate takes it as '" + *text +
                (range->first.is_v4() ? "/32" : "/128") +
                "', MetalLB rejects it (invalid CIDR); write it so");
    for (const auto& earlier : p.addresses)
      if (earlier.overlaps(*range))
        item.error("'" + *text + "' overlaps " + earlier.to_string() + " in the same pool");
    p.addresses.push_back(*range);
  }
}

void read_pool(const YamlReader& doc, ManifestSet& set) {
  IpAddressPool p;
  p.meta = read_meta(doc, true);
  note_metallb_namespace(doc, p.meta);
  auto spec = doc["spec"];
  if (!spec.present()) spec.error("is required");
  spec.expect_map({"addresses", "autoAssign", "avoidBuggyIPs", "serviceAllocation"});
  read_pool_addresses(spec["addresses"], p);
  p.auto_assign = spec.boolean("autoAssign").value_or(true);
  p.avoid_buggy_ips = spec.boolean("avoidBuggyIPs").value_or(false);
  auto alloc = spec["serviceAllocation"];
  if (alloc.present() &&
      alloc.expect_map({"priority", "namespaces", "namespaceSelectors", "serviceSelectors"})) {
    ServiceAllocation a;
    if (auto pr = alloc.integer("priority", 0, INT32_MAX)) a.priority = static_cast<int>(*pr);
    a.namespaces = read_unique_strings(alloc["namespaces"], "duplicate definition in namespaces field:");
    a.namespace_selectors = read_selectors(alloc["namespaceSelectors"], "namespaceSelectors");
    a.service_selectors = read_selectors(alloc["serviceSelectors"], "serviceSelectors");
    p.service_allocation = std::move(a);
  }
  set.pools.push_back(std::move(p));
}

// preferredNodeSelectors: [{weight: 1..100, preference: <selector>}], checked as MetalLB's CRD schema and
// preferredNodeScores do. metalgate's election does not weigh node preferences.
void read_preferred_node_selectors(const YamlReader& r) {
  for (const auto& item : r.items()) {
    if (!item.expect_map({"weight", "preference"})) continue;
    item.integer("weight", 1, 100, true);
    if (!item["preference"].present())
      item["preference"].error("is required");
    else
      read_selector(item["preference"], SelectorRules::kMetalLb);
  }
  if (r.present())
    r.note(
        "metalgate checks preferredNodeSelectors but does not act on them: any selected node may announce");
}

void read_l2_advertisement(const YamlReader& doc, ManifestSet& set) {
  L2Advertisement a;
  a.meta = read_meta(doc, true);
  note_metallb_namespace(doc, a.meta);
  auto spec = doc["spec"];
  if (spec.present()) {
    spec.expect_map({"ipAddressPools", "ipAddressPoolSelectors", "nodeSelectors", "interfaces",
                     "serviceSelectors", "preferredNodeSelectors"});
    a.ip_address_pools =
        read_unique_strings(spec["ipAddressPools"], "duplicate definition of ipAddressPools");
    a.ip_address_pool_selectors = read_selectors(spec["ipAddressPoolSelectors"], "ipAddressPoolSelectors");
    a.node_selectors = read_selectors(spec["nodeSelectors"], "nodeSelectors");
    read_selectors(spec["serviceSelectors"], "serviceSelectors");
    if (spec.has("serviceSelectors"))
      spec["serviceSelectors"].note(
          "metalgate checks serviceSelectors but does not act on them: this advertisement announces every "
          "Service of its pools");
    read_preferred_node_selectors(spec["preferredNodeSelectors"]);
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
          if (item.empty()) {
            if (!value.empty())
              at.error("'" + value + "' has an empty entry: invalid metallb.io/loadBalancerIPs");
            continue;
          }
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

ServiceType read_service_type(const YamlReader& spec) {
  static const std::vector<std::pair<std::string_view, ServiceType>> kTypes = {
      {"ClusterIP", ServiceType::kClusterIP},
      {"NodePort", ServiceType::kNodePort},
      {"LoadBalancer", ServiceType::kLoadBalancer},
      {"ExternalName", ServiceType::kExternalName}};
  auto t = spec.string("type");
  if (!t) return ServiceType::kClusterIP;
  for (const auto& [name, type] : kTypes)
    if (*t == name) return type;
  spec["type"].error("must be ClusterIP, NodePort, LoadBalancer or ExternalName, not '" + *t + "'");
  return ServiceType::kClusterIP;
}

// What ValidateService compares across a Service's ports.
struct ServicePortsSeen {
  std::set<std::pair<std::uint16_t, Protocol>> ports;
  std::set<std::pair<std::uint16_t, Protocol>> node_ports;
  std::set<std::string> names;
};

// One entry of spec.ports, as validateServicePort and ValidateService check it.
void read_service_port(const YamlReader& pr, std::size_t count, Service& s, ServicePortsSeen& seen) {
  if (!pr.expect_map({"name", "protocol", "port", "targetPort", "nodePort", "appProtocol"})) return;
  ServicePort p;
  p.name = pr.string("name").value_or("");
  if (count > 1 && p.name.empty()) pr["name"].error("is required when a Service has several ports");
  if (!p.name.empty()) check_syntax(pr["name"], p.name, check_dns1123_label(p.name));
  if (!p.name.empty() && !seen.names.insert(p.name).second)
    pr["name"].error("'" + p.name + "' is used twice");
  p.protocol = read_protocol(pr["protocol"]);
  if (auto n = pr.integer("port", 1, 65535, true)) p.port = static_cast<std::uint16_t>(*n);
  if (pr.has("targetPort"))
    p.target_port = read_port_ref(pr["targetPort"]);
  else
    p.target_port.number = p.port;
  if (auto n = pr.integer("nodePort", 1, 65535)) {
    p.node_port = static_cast<std::uint16_t>(*n);
    if (s.type == ServiceType::kClusterIP) pr["nodePort"].error("may not be used when `type` is 'ClusterIP'");
    if (!seen.node_ports.insert({*p.node_port, p.protocol}).second)
      pr["nodePort"].error("Duplicate value: node port " + std::to_string(*p.node_port) + "/" +
                           std::string(to_string(p.protocol)) + " is used by another port");
  }
  if (auto ap = pr.string("appProtocol")) check_syntax(pr["appProtocol"], *ap, check_qualified_name(*ap));
  if (p.port && !seen.ports.insert({p.port, p.protocol}).second)
    pr["port"].error("port " + std::to_string(p.port) + "/" + std::string(to_string(p.protocol)) +
                     " is listed twice");
  s.ports.push_back(std::move(p));
}

// The parts of a Service that decide which fields it may set.
struct ServiceShape {
  ServiceType type;
  bool local;         // externalTrafficPolicy: Local
  bool external_ips;  // spec.externalIPs is not empty
};

// Fields the API server allows only on some Service types (ValidateService,
// validateServiceExternalTrafficPolicy, ValidateServiceClusterIPsRelatedFields).
struct TypeBoundField {
  std::string_view key;
  bool (*allowed)(const ServiceShape&);
  std::string_view message;
};

bool is_load_balancer(const ServiceShape& s) {
  return s.type == ServiceType::kLoadBalancer;
}
bool is_local_load_balancer(const ServiceShape& s) {
  return is_load_balancer(s) && s.local;
}
bool is_externally_accessible(const ServiceShape& s) {
  return is_load_balancer(s) || s.type == ServiceType::kNodePort ||
         (s.type == ServiceType::kClusterIP && s.external_ips);
}
bool is_not_external_name(const ServiceShape& s) {
  return s.type != ServiceType::kExternalName;
}

void check_type_bound_fields(const YamlReader& spec, const ServiceShape& shape) {
  static constexpr std::string_view kOnlyLoadBalancer = "may only be used when `type` is 'LoadBalancer'";
  static constexpr std::string_view kNotExternalName = "may not be set for ExternalName services";
  static const std::vector<TypeBoundField> kFields = {
      {"loadBalancerClass", is_load_balancer, kOnlyLoadBalancer},
      {"loadBalancerSourceRanges", is_load_balancer, kOnlyLoadBalancer},
      {"allocateLoadBalancerNodePorts", is_load_balancer, kOnlyLoadBalancer},
      {"healthCheckNodePort", is_local_load_balancer,
       "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"},
      {"externalTrafficPolicy", is_externally_accessible,
       "may only be set for externally-accessible services"},
      {"clusterIP", is_not_external_name, kNotExternalName},
      {"clusterIPs", is_not_external_name, kNotExternalName},
      {"ipFamilies", is_not_external_name, kNotExternalName},
      {"ipFamilyPolicy", is_not_external_name, kNotExternalName},
  };
  for (const auto& f : kFields) {
    auto v = spec[f.key];
    bool set = v.present() && !(v.node().IsScalar() && v.node().Scalar().empty());
    if (set && !f.allowed(shape)) v.error(std::string(f.message));
  }
}

// ValidateService's checks of single values that metalgate otherwise only carries.
void check_service_values(const YamlReader& spec, const Service& s) {
  bool headless = spec.string("clusterIP") == "None";
  if (spec.present() && is_empty_list(spec["ports"]) && !headless && s.type != ServiceType::kExternalName)
    spec["ports"].error(
        "is required: a Service needs a port unless it is headless (clusterIP: None) or "
        "ExternalName");
  if (s.type == ServiceType::kExternalName) {
    auto name = spec.string("externalName").value_or("");
    if (name.ends_with('.')) name.pop_back();
    if (name.empty())
      spec["externalName"].error("is required for an ExternalName Service");
    else
      check_syntax(spec["externalName"], name, check_dns1123_subdomain(name));
  }
  if (s.load_balancer_class)
    check_syntax(spec["loadBalancerClass"], *s.load_balancer_class,
                 check_qualified_name(*s.load_balancer_class));
  for (const auto& r : spec["loadBalancerSourceRanges"].items()) {
    auto text = r.scalar(true).value_or("");
    auto trimmed = text;
    trimmed.erase(0, trimmed.find_first_not_of(" \t"));
    trimmed.erase(trimmed.find_last_not_of(" \t") + 1);
    if (!net::Cidr::parse(trimmed, true))
      r.error("'" + text + "': must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
  }
  check_labels(spec["selector"]);
}

void read_ip_families(const YamlReader& spec, Service& s) {
  for (const auto& f : spec["ipFamilies"].items()) {
    auto v = f.scalar(true);
    std::optional<net::IpFamily> family;
    if (v == "IPv4")
      family = net::IpFamily::kV4;
    else if (v == "IPv6")
      family = net::IpFamily::kV6;
    else if (v)
      f.error("must be IPv4 or IPv6, not '" + *v + "'");
    if (!family) continue;
    if (std::find(s.ip_families.begin(), s.ip_families.end(), *family) != s.ip_families.end())
      f.error("Duplicate value: '" + *v + "' is listed twice");
    else
      s.ip_families.push_back(*family);
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
}

// spec.sessionAffinity and its timeout, as the API server validates them (validateServiceSessionAffinity).
void read_session_affinity(const YamlReader& spec, Service& s) {
  auto affinity = spec.string("sessionAffinity").value_or("None");
  auto config = spec["sessionAffinityConfig"];
  if (affinity == "None") {
    if (config.present() && !(config.node().IsScalar() && config.node().Scalar().empty()))
      config.error("must not be set when `sessionAffinity` is 'None'");
    return;
  }
  if (affinity != "ClientIP") {
    spec["sessionAffinity"].error("must be None or ClientIP, not '" + affinity + "'");
    return;
  }
  if (s.type == ServiceType::kExternalName)
    spec["sessionAffinity"].error("may not be set for ExternalName services");
  s.client_ip_affinity = std::chrono::seconds(10800);
  if (!config.present()) return;
  if (!config.expect_map({"clientIP"})) return;
  auto client_ip = config["clientIP"];
  if (client_ip.present() && client_ip.expect_map({"timeoutSeconds"}))
    if (auto t = client_ip.integer("timeoutSeconds", 1, 86400))
      s.client_ip_affinity = std::chrono::seconds(*t);
}

void read_service(const YamlReader& doc, ManifestSet& set) {
  Service s;
  s.meta = read_meta(doc, true, check_dns1035_label);
  auto spec = doc["spec"];
  if (!spec.present()) spec.error("is required");
  spec.expect_map(
      {"type", "ports", "selector", "externalTrafficPolicy", "loadBalancerIP", "loadBalancerClass",
       "ipFamilies", "ipFamilyPolicy", "sessionAffinity", "sessionAffinityConfig"},
      {"clusterIP", "clusterIPs", "allocateLoadBalancerNodePorts", "internalTrafficPolicy",
       "healthCheckNodePort", "publishNotReadyAddresses", "loadBalancerSourceRanges", "externalIPs",
       "externalName", "trafficDistribution"});
  s.type = read_service_type(spec);
  ServicePortsSeen seen;
  auto ports = spec["ports"].items();
  for (const auto& pr : ports)
    read_service_port(pr, ports.size(), s, seen);
  s.selector = spec.string_map("selector");
  if (auto etp = spec.string("externalTrafficPolicy")) {
    if (*etp == "Local")
      s.external_traffic_policy = TrafficPolicy::kLocal;
    else if (*etp != "Cluster")
      spec["externalTrafficPolicy"].error("must be Cluster or Local, not '" + *etp + "'");
  }
  read_ip_families(spec, s);
  read_session_affinity(spec, s);
  s.load_balancer_class = spec.string("loadBalancerClass");
  check_type_bound_fields(spec, {s.type, s.external_traffic_policy == TrafficPolicy::kLocal,
                                 !spec["externalIPs"].items().empty()});
  check_service_values(spec, s);
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

// Which object a list of endpoint ports belongs to: their rules differ (validateEndpointPort for Endpoints,
// validatePorts for EndpointSlices).
enum class EndpointsKind { kEndpoints, kSlice };

std::vector<EndpointPort> read_endpoint_ports(const YamlReader& r, EndpointsKind kind) {
  constexpr std::size_t kMaxSlicePorts = 100;
  std::vector<EndpointPort> out;
  auto items = r.items();
  if (kind == EndpointsKind::kSlice && items.size() > kMaxSlicePorts)
    r.error("Too many: " + std::to_string(items.size()) + ": must have at most 100 items");
  std::set<std::string> names;
  for (const auto& p : items) {
    if (!p.expect_map({"name", "port", "protocol", "appProtocol"})) continue;
    EndpointPort ep;
    ep.name = p.string("name").value_or("");
    if (kind == EndpointsKind::kEndpoints && items.size() > 1 && ep.name.empty())
      p["name"].error("is required when there are several ports");
    if (!ep.name.empty()) check_syntax(p["name"], ep.name, check_dns1123_label(ep.name));
    if (kind == EndpointsKind::kSlice && !names.insert(ep.name).second)
      p["name"].error("Duplicate value: '" + ep.name + "' names two ports");
    if (auto n = p.integer("port", 1, 65535, true)) ep.port = static_cast<std::uint16_t>(*n);
    ep.protocol = read_protocol(p["protocol"]);
    if (auto ap = p.string("appProtocol")) check_syntax(p["appProtocol"], *ap, check_qualified_name(*ap));
    out.push_back(std::move(ep));
  }
  return out;
}

// ValidateNonSpecialIP: an endpoint may not be unspecified or link-local. Loopback, which Kubernetes refuses
// too, is accepted with a note: metalgate can proxy to backends on its own host.
void check_endpoint_ip(const YamlReader& at, const net::IpAddress& ip) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kSpecial = {
      {"169.254.0.0/16", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"},
      {"fe80::/10", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"},
      {"224.0.0.0/24", "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"},
      {"ff02::/16", "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"}};
  std::string text = ip.to_string();
  if (ip.is_unspecified()) at.error("'" + text + "': may not be unspecified (" + text + ")");
  for (const auto& [range, message] : kSpecial)
    if (net::Cidr::parse(range)->contains(ip)) at.error("'" + text + "': " + std::string(message));
  if (net::Cidr::parse("127.0.0.0/8")->contains(ip) || net::Cidr::parse("::1/128")->contains(ip))
    at.note("'" + text +
            "': Kubernetes refuses endpoints in the loopback range (127.0.0.0/8, ::1/128); "
            "metalgate accepts them for backends on its own host");
}

// The hostname and nodeName of an endpoint (validateEndpointAddress, the EndpointSlice's validateEndpoints).
void check_endpoint_names(const YamlReader& a) {
  if (auto h = a.string("hostname")) check_syntax(a["hostname"], *h, check_dns1123_label(*h));
  if (auto n = a.string("nodeName")) check_syntax(a["nodeName"], *n, check_dns1123_subdomain(*n));
}

std::optional<EndpointAddress> read_endpoint_address(const YamlReader& a, bool ready) {
  if (!a.expect_map({"ip", "nodeName", "targetRef", "hostname"})) return std::nullopt;
  check_endpoint_names(a);
  EndpointAddress ea;
  auto ip = a.string("ip", true);
  if (ip) {
    if (auto parsed = net::IpAddress::parse(*ip)) {
      ea.ip = *parsed;
      check_endpoint_ip(a["ip"], *parsed);
    } else {
      a["ip"].error("'" + *ip + "' is not an IP address");
    }
  }
  ea.node_name = a.string("nodeName").value_or("");
  ea.target_name = a["targetRef"].string("name").value_or("");
  ea.ready = ea.serving = ready;
  return ea;
}

void read_endpoints(const YamlReader& doc, ManifestSet& set) {
  ObjectMeta meta = read_meta(doc, true);
  for (const auto& subset : doc["subsets"].items()) {
    if (!subset.expect_map({"addresses", "notReadyAddresses", "ports"})) continue;
    ServiceEndpoints e;
    e.meta = meta;
    e.service_name = meta.name;
    for (bool ready : {true, false})
      for (const auto& a : subset[ready ? "addresses" : "notReadyAddresses"].items())
        if (auto ea = read_endpoint_address(a, ready)) e.addresses.push_back(std::move(*ea));
    if (is_empty_list(subset["addresses"]) && is_empty_list(subset["notReadyAddresses"]))
      subset.error("must specify `addresses` or `notReadyAddresses`");
    e.ports = read_endpoint_ports(subset["ports"], EndpointsKind::kEndpoints);
    set.endpoints.push_back(std::move(e));
  }
}

// One endpoint of a slice: 1 to 100 addresses, each of the slice's address family (validateEndpoints).
void read_slice_endpoint(const YamlReader& ep, net::IpFamily family, ServiceEndpoints& e) {
  if (!ep.expect_map({"addresses", "conditions", "nodeName", "targetRef", "hostname"},
                     {"zone", "hints", "deprecatedTopology"}))
    return;
  check_endpoint_names(ep);
  auto conditions = ep["conditions"];
  if (conditions.present()) conditions.expect_map({"ready", "serving", "terminating"});
  const bool ready = conditions.boolean("ready").value_or(true);
  const bool serving = conditions.boolean("serving").value_or(ready);
  const bool terminating = conditions.boolean("terminating").value_or(false);
  auto addresses = ep["addresses"].items();
  if (addresses.empty()) ep["addresses"].error("must contain at least 1 address");
  if (addresses.size() > 100)
    ep["addresses"].error("Too many: " + std::to_string(addresses.size()) + ": must have at most 100 items");
  for (const auto& a : addresses) {
    auto ip = a.scalar(true);
    if (!ip) continue;
    auto parsed = net::IpAddress::parse(*ip);
    if (!parsed || parsed->family() != family) {
      a.error("'" + *ip + "': must be a valid " + std::string(net::to_string(family)) + " address");
      continue;
    }
    check_endpoint_ip(a, *parsed);
    e.addresses.push_back({*parsed, ep.string("nodeName").value_or(""),
                           ep["targetRef"].string("name").value_or(""), ready, serving, terminating});
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
  auto endpoints = doc["endpoints"].items();
  if (endpoints.size() > 1000)
    doc["endpoints"].error("Too many: " + std::to_string(endpoints.size()) +
                           ": must have at most 1000 items");
  for (const auto& ep : endpoints)
    read_slice_endpoint(ep, type == "IPv6" ? net::IpFamily::kV6 : net::IpFamily::kV4, e);
  e.ports = read_endpoint_ports(doc["ports"], EndpointsKind::kSlice);
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

// MaxSecretSize: the most a Secret's or a ConfigMap's payload may hold.
constexpr std::size_t kMaxPayloadBytes = 1024 * 1024;

void check_payload_size(const YamlReader& at, std::size_t bytes) {
  if (bytes > kMaxPayloadBytes)
    at.error("Too long: must have at most " + std::to_string(kMaxPayloadBytes) + " bytes");
}

// The keys some Secret types require (ValidateSecret). kubernetes.io/tls is checked with its PEM blocks.
struct SecretTypeRule {
  std::string_view type;
  std::vector<std::string_view> one_of;  // at least one of these keys must be there
  bool json;                             // and hold a JSON object
};

// Close enough to Go's json.Unmarshal into a map for a validator: a '{' first and a mapping once parsed
// (JSON is YAML).
bool is_json_object(const std::string& text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text[first] != '{') return false;
  try {
    return YAML::Load(text).IsMap();
  } catch (const YAML::Exception&) {
    return false;
  }
}

// Where a Secret's key is written: in data, else in stringData (else the data mapping as a whole).
YamlReader secret_key_at(const YamlReader& doc, const std::string& key) {
  if (doc["data"].has(key)) return doc["data"][key];
  if (doc["stringData"].has(key)) return doc["stringData"][key];
  return doc["data"];
}

void check_secret_type(const YamlReader& doc, const Secret& s) {
  static const std::vector<SecretTypeRule> kRules = {
      {"kubernetes.io/basic-auth", {"username", "password"}, false},
      {"kubernetes.io/ssh-auth", {"ssh-privatekey"}, false},
      {"kubernetes.io/dockercfg", {".dockercfg"}, true},
      {"kubernetes.io/dockerconfigjson", {".dockerconfigjson"}, true}};
  if (s.type == "kubernetes.io/service-account-token" &&
      s.meta.annotations.count("kubernetes.io/service-account.name") == 0)
    doc["metadata"]["annotations"].error(
        "a kubernetes.io/service-account-token Secret needs the annotation "
        "kubernetes.io/service-account.name");
  for (const auto& rule : kRules) {
    if (s.type != rule.type) continue;
    auto found = std::find_if(rule.one_of.begin(), rule.one_of.end(),
                              [&](std::string_view k) { return s.data.count(std::string(k)) > 0; });
    if (found == rule.one_of.end()) {
      std::string keys;
      for (auto k : rule.one_of)
        keys += (keys.empty() ? "'" : " or '") + std::string(k) + "'";
      doc["data"].error("a " + std::string(rule.type) + " Secret needs " + keys);
      continue;
    }
    if (rule.json && !is_json_object(s.data.at(std::string(*found))))
      secret_key_at(doc, std::string(*found))
          .error("'" + std::string(*found) + "' does not hold a JSON object");
  }
}

// A Secret's or a ConfigMap's base64 `data`/`binaryData` values, decoded; undecodable ones are errors.
std::map<std::string, std::string> read_base64_map(const YamlReader& map) {
  std::map<std::string, std::string> out;
  for (auto& [key, value] : map.entries()) {
    auto text = value.scalar();
    if (!text) continue;
    bool ok = false;
    auto decoded = decode_base64(*text, ok);
    if (!ok) {
      value.error("is not valid base64");
      continue;
    }
    out[key] = std::move(decoded);
  }
  return out;
}

void read_secret(const YamlReader& doc, ManifestSet& set) {
  Secret s;
  s.meta = read_meta(doc, true);
  s.type = doc.string("type").value_or("Opaque");
  s.data = read_base64_map(doc["data"]);
  check_keys(doc["data"], check_config_map_key);
  for (auto& [key, value] : doc["stringData"].entries())
    if (auto text = value.scalar()) s.data[key] = *text;
  check_keys(doc["stringData"], check_config_map_key);
  std::size_t bytes = 0;
  for (const auto& [key, value] : s.data)
    bytes += value.size();
  check_payload_size(doc["data"], bytes);
  check_secret_type(doc, s);
  if (s.is_tls()) {
    for (std::string_view key : {"tls.crt", "tls.key"}) {
      auto it = s.data.find(std::string(key));
      if (it == s.data.end()) {
        doc["data"].error("a kubernetes.io/tls Secret needs '" + std::string(key) + "'");
      } else if (it->second.find("-----BEGIN ") == std::string::npos) {
        auto at = secret_key_at(doc, std::string(key));
        at.error("'" + std::string(key) + "' does not hold a PEM block");
        at.note("Kubernetes only requires the key to be there; metalgate needs the PEM to serve it");
      }
    }
  }
  set.secrets.push_back(std::move(s));
}

void read_config_map(const YamlReader& doc, ManifestSet& set) {
  ConfigMap c;
  c.meta = read_meta(doc, true);
  std::size_t bytes = 0;
  auto binary = read_base64_map(doc["binaryData"]);
  for (auto& [key, value] : doc["data"].entries()) {
    c.data[key] = value.present() ? value.scalar().value_or("") : "";
    c.data_where[key] = doc["data"].key_where(key);
    bytes += c.data[key].size();
    if (binary.count(key)) check_key_syntax(doc["data"], key, "duplicate of key present in binaryData");
  }
  check_keys(doc["data"], check_config_map_key);
  check_keys(doc["binaryData"], check_config_map_key);
  for (const auto& [key, value] : binary)
    bytes += value.size();
  check_payload_size(doc["data"], bytes);
  set.config_maps.push_back(std::move(c));
}

// ------------------------------------------------------------------------------------------
// networking.k8s.io/v1

// Why `host` is not a valid Ingress host, or empty: a DNS-1123 subdomain, or "*." and one
// (IsWildcardDNS1123Subdomain).
std::string check_ingress_host(std::string_view host) {
  return host.find('*') == std::string_view::npos ? check_dns1123_subdomain(host)
                                                  : check_wildcard_dns1123_subdomain(host);
}

// validateHTTPIngressPath: an Exact or Prefix path must not walk the tree or hide a slash.
void check_path_sequences(const YamlReader& at, std::string_view path) {
  for (std::string_view bad : {"//", "/./", "/../", "%2f", "%2F"})
    if (path.find(bad) != std::string_view::npos)
      at.error("'" + std::string(path) + "': must not contain '" + std::string(bad) + "'");
  for (std::string_view bad : {"/..", "/."})
    if (path.ends_with(bad))
      at.error("'" + std::string(path) + "': cannot end with '" + std::string(bad) + "'");
}

void read_backend_service_port(const YamlReader& port, IngressBackend& b) {
  if (!port.present()) {
    port.error("is required (number or name)");
    return;
  }
  if (!port.expect_map({"number", "name"})) return;
  if (port.has("number") && port.has("name")) port.error("give a number or a name, not both");
  if (auto n = port.integer("number", 1, 65535)) b.service_port.number = static_cast<std::uint16_t>(*n);
  if (auto n = port.string("name")) {
    if (is_iana_port_name(*n))
      b.service_port.name = *n;
    else
      port["name"].error("'" + *n + "' is not a valid port name: " + check_iana_port_name(*n));
  }
  if (b.service_port.empty() && !port.has("number") && !port.has("name"))
    port.error("needs a number or a name");
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
  if (!b.service_name.empty()) check_syntax(svc["name"], b.service_name, check_dns1035_label(b.service_name));
  read_backend_service_port(svc["port"], b);
  return b;
}

std::optional<IngressPath> read_ingress_path(const YamlReader& p) {
  if (!p.expect_map({"path", "pathType", "backend"})) return std::nullopt;
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
  else if (ip.path_type != PathType::kImplementationSpecific)
    check_path_sequences(p["path"], ip.path);
  if (auto b = read_ingress_backend(p["backend"])) ip.backend = std::move(*b);
  return ip;
}

IngressRule read_ingress_rule(const YamlReader& r) {
  IngressRule rule;
  rule.host = r.string("host").value_or("");
  if (!rule.host.empty() && net::IpAddress::parse(rule.host))
    r["host"].error("'" + rule.host + "' is not a valid host: must be a DNS name, not an IP address");
  else if (auto why = check_ingress_host(rule.host); !rule.host.empty() && !why.empty())
    r["host"].error("'" + rule.host + "' is not a valid host: " + why);
  auto http = r["http"];
  if (!http.present() || !http.expect_map({"paths"})) return rule;
  auto paths = http["paths"];
  if (is_empty_list(paths)) paths.error("is required: list at least one path");
  for (const auto& p : paths.items())
    if (auto ip = read_ingress_path(p)) rule.paths.push_back(std::move(*ip));
  return rule;
}

IngressTls read_ingress_tls(const YamlReader& t) {
  IngressTls tls;
  for (const auto& at : t["hosts"].items()) {
    auto h = at.scalar(true);
    if (!h) continue;
    tls.hosts.push_back(*h);
    if (net::IpAddress::parse(*h)) {
      at.error("'" + *h + "' is not a valid host name");
      at.note(
          "Kubernetes accepts an IP address here; metalgate chooses certificates by SNI, which names hosts");
    } else {
      check_syntax(at, *h, check_ingress_host(*h));
    }
  }
  tls.secret_name = t.string("secretName").value_or("");
  if (!tls.secret_name.empty())
    check_syntax(t["secretName"], tls.secret_name, check_dns1123_subdomain(tls.secret_name));
  return tls;
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
  if (in.ingress_class_name)
    check_syntax(spec["ingressClassName"], *in.ingress_class_name,
                 check_dns1123_subdomain(*in.ingress_class_name));
  if (auto it = in.meta.annotations.find("kubernetes.io/ingress.class"); it != in.meta.annotations.end()) {
    in.legacy_class = it->second;
    if (in.ingress_class_name && *in.ingress_class_name != it->second)
      doc["metadata"]["annotations"]["kubernetes.io/ingress.class"].error(
          "'" + it->second + "': must match `ingressClassName` ('" + *in.ingress_class_name +
          "') when both are specified");
  }
  if (spec.has("defaultBackend")) in.default_backend = read_ingress_backend(spec["defaultBackend"]);
  for (const auto& t : spec["tls"].items())
    if (t.expect_map({"hosts", "secretName"})) in.tls.push_back(read_ingress_tls(t));
  for (const auto& r : spec["rules"].items())
    if (r.expect_map({"host", "http"})) in.rules.push_back(read_ingress_rule(r));
  if (in.rules.empty() && !in.default_backend) spec.error("needs rules or a defaultBackend");
  check_haproxy_annotations(in.meta, doc, kIngress);
  set.ingresses.push_back(std::move(in));
}

// validateIngressClassParametersReference: kind and name are path segments, apiGroup a subdomain, and the
// scope (Cluster when left out) decides whether a namespace is needed or forbidden.
void check_ingress_class_parameters(const YamlReader& p) {
  if (!p.present() || !p.expect_map({"apiGroup", "kind", "name", "scope", "namespace"})) return;
  for (std::string_view key : {"kind", "name"}) {
    auto v = p.string(key, true);
    if (!v) continue;
    for (std::string_view bad : {".", ".."})
      if (*v == bad) p[key].error("'" + *v + "': may not be '" + std::string(bad) + "'");
    for (std::string_view bad : {"/", "%"})
      if (v->find(bad) != std::string::npos)
        p[key].error("'" + *v + "': may not contain '" + std::string(bad) + "'");
  }
  if (auto g = p.string("apiGroup")) check_syntax(p["apiGroup"], *g, check_dns1123_subdomain(*g));
  auto scope = p.string("scope").value_or("Cluster");
  if (scope != "Cluster" && scope != "Namespace")
    p["scope"].error("must be Cluster or Namespace, not '" + scope + "'");
  auto ns = p.string("namespace");
  if (scope == "Namespace" && !ns)
    p["namespace"].error("is required: `parameters.scope` is set to 'Namespace'");
  if (scope == "Namespace" && ns) check_syntax(p["namespace"], *ns, check_dns1123_label(*ns));
  if (scope == "Cluster" && ns) p["namespace"].error("`parameters.scope` is set to 'Cluster'");
}

void read_ingress_class(const YamlReader& doc, ManifestSet& set) {
  IngressClass c;
  c.meta = read_meta(doc, false);
  auto spec = doc["spec"];
  spec.expect_map({"controller", "parameters"});
  c.controller = spec.string("controller", true).value_or("");
  constexpr std::size_t kMaxControllerLength = 250;
  if (c.controller.size() > kMaxControllerLength)
    spec["controller"].error("Too long: must have at most 250 bytes");
  else if (!c.controller.empty())
    check_syntax(spec["controller"], c.controller, check_domain_prefixed_path(c.controller));
  check_ingress_class_parameters(spec["parameters"]);
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

// Records every leaf `r` sets (a scalar, or a list as one flow-style value: lists replace, they do not
// merge) under its dotted path, for the report of keys that two values files set differently.
// Helm values nest a few levels; anything deeper than this is an alias that contains itself (`&x {a: *x}`),
// which yaml-cpp builds as a cycle. Walking it must stop.
constexpr int kMaxValuesDepth = 32;

// Aliases may also fan out (`b: [*a, *a]`, `c: [*b, *b]`, …): a walk that follows them grows exponentially,
// and so does a cycle that fans out (`&y {a: *y, b: *y}` is 2^33 paths to the depth bound). So the walk
// counts every node it enters, leaves or not (a DAG of empty mappings records nothing), and stops the whole
// walk at the first bound it meets, with one error. The seed values files (scenarios/seed/values) have 23 to
// 61 nodes under controller: and at most 8 levels, and a values file that sets every key of the chart is a
// few hundred nodes: no real values file comes near these bounds.
constexpr std::size_t kMaxValueText = 4096;
constexpr std::size_t kMaxValuesSettings = 10000;
constexpr std::size_t kMaxValuesNodes = 100000;

// Appends a list or map value to `out` as flow-style text. Once `out` is over kMaxValueText nothing more is
// visited, so the cost is bounded by the text's length however the aliases fan out; cycles end in "...".
void append_flow_text(const YAML::Node& n, int depth, std::string& out) {
  if (depth > kMaxValuesDepth) {
    out += "...";
    return;
  }
  if (n.IsScalar()) {
    out += n.Scalar();
    return;
  }
  const bool map = n.IsMap();
  out += map ? "{" : "[";
  bool first = true;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (out.size() > kMaxValueText) return;
    if (!first) out += ", ";
    first = false;
    if (map) {
      out += it->first.as<std::string>("");
      out += ": ";
      append_flow_text(it->second, depth + 1, out);
    } else {
      append_flow_text(*it, depth + 1, out);
    }
  }
  out += map ? "}" : "]";
}

// A list or map value as one flow-style text, for comparing and quoting it; cut at kMaxValueText with "...".
std::string flow_text(const YAML::Node& n, int depth) {
  std::string out;
  append_flow_text(n, depth, out);
  if (out.size() > kMaxValueText) {
    out.resize(kMaxValueText);
    out += "...";
  }
  return out;
}

struct ValuesWalk {
  ControllerValues& v;
  std::size_t nodes = 0;  // entered so far in this file's walk
  bool stopped = false;   // a bound was met and reported: the rest of this file's values are not recorded
};

void record_values_settings(const YamlReader& r, const std::string& path, ValuesWalk& w, int depth = 0) {
  if (w.stopped) return;
  const YAML::Node& n = r.node();
  if (depth > kMaxValuesDepth) {
    r.error("values nested deeper than " + std::to_string(kMaxValuesDepth) +
            " levels (an alias inside its own anchor?); the values' settings are not compared past here");
    w.stopped = true;
    return;
  }
  if (++w.nodes > kMaxValuesNodes) {
    r.error("more than " + std::to_string(kMaxValuesNodes) +
            " values nodes (aliases that fan out?); the values' settings are not compared past here");
    w.stopped = true;
    return;
  }
  if (w.v.settings.size() >= kMaxValuesSettings) {
    if (!w.v.settings_overflow) r.error("more than 10000 values settings (aliases that fan out?)");
    w.v.settings_overflow = true;
    w.stopped = true;
    return;
  }
  if (n.IsMap()) {
    for (const auto& [key, child] : r.entries()) {
      record_values_settings(child, path + "." + key, w, depth + 1);
      if (w.stopped) return;
    }
    return;
  }
  std::string text;
  if (n.IsScalar() || n.IsSequence()) text = flow_text(n, depth);
  w.v.settings[path].push_back({text, r.where()});
}

// controller.service: the controller Service metalgate builds from the values.
void read_values_service(const YamlReader& svc, ControllerValues& v) {
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
}

// controller.stats, metrics, ingressClass(Resource), defaultBackendService and logging.
void read_values_operations(const YamlReader& c, ControllerValues& v) {
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

// Applies one values file over what earlier files set: maps merge key by key, lists and scalars replace.
void read_values(const YamlReader& doc, ManifestSet& set) {
  auto& v = set.controller ? *set.controller : set.controller.emplace();
  v.files.push_back(doc.where());
  doc.expect_map_lenient({"controller"},
                         {"defaultBackend", "rbac", "serviceAccount", "podSecurityPolicy", "crdjob",
                          "imageCredentials", "alpine", "namespace", "fullnameOverride", "nameOverride"});
  auto c = doc["controller"];
  if (!c.present()) return;
  ValuesWalk walk{v};
  record_values_settings(c, "controller", walk);
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
  read_values_service(c["service"], v);
  for (auto& [key, value] : c["config"].entries()) {
    v.config[key] = value.present() ? value.scalar().value_or("") : "";
    v.config_where[key] = c["config"].key_where(key);
  }
  if (auto t = c["tcpServices"]; t.present() && t.expect_map({"configMapName"}))
    v.tcp_services_config_map = t.string("configMapName");
  if (auto u = c["udpServices"]; u.present() && u.expect_map({"configMapName"}))
    v.udp_services_config_map = u.string("configMapName");
  read_values_operations(c, v);
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

// yaml-cpp up to 0.8 (Debian ships 0.7) never ends YAML::LoadAll on a flow token left at the top of a
// document (`{a: b},`, `[a],[b]`, a `,` line after a block list): the parser makes an empty document of it
// without consuming it, again and again, and LoadAll keeps every one until memory runs out (found by the
// manifest fuzz target; jbeder/yaml-cpp#1040, fixed upstream by #1319 after 0.8.0). So the text is parsed
// once first with this handler, which keeps nothing and stops at a document that starts where the previous
// one did: no input was consumed, so the parser would never get past it.
class DocumentProgress : public YAML::EventHandler {
 public:
  using Style = YAML::EmitterStyle::value;
  std::optional<YAML::Mark> stuck;  // where the parser stopped advancing
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (last_ && last_->pos == mark.pos) stuck = mark;
    last_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, Style) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, Style) override {}
  void OnMapEnd() override {}

 private:
  std::optional<YAML::Mark> last_;
};

// Where yaml-cpp would loop for ever on `text` (see DocumentProgress), if anywhere. Throws what the parser
// throws.
std::optional<YAML::Mark> stuck_document(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentProgress progress;
  while (!progress.stuck && parser.HandleNextDocument(progress)) {
  }
  return progress.stuck;
}

}  // namespace

void load_manifest_text(std::string_view text, const std::string& file_name, ManifestSet& set,
                        Diagnostics& diagnostics) {
  set.files.push_back(file_name);
  std::vector<YAML::Node> documents;
  try {
    const std::string whole(text);
    if (auto stuck = stuck_document(whole)) {
      const auto at = static_cast<std::size_t>(stuck->pos);
      const char c = at < whole.size() ? whole[at] : '\0';
      diagnostics.error(
          location_of(*stuck, file_name), "",
          std::string("malformed YAML: ") +
              (c > ' ' && c < 127 ? "'" + std::string(1, c) + "'" : std::string("a token")) +
              " where a document should end or go on (a ',', ']' or '}' outside a flow collection?)");
      return;
    }
    documents = YAML::LoadAll(whole);
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

// MetalLB's annotations and loadBalancerIP from controller.service, on the synthesized Service.
void read_controller_service_addresses(const ControllerValues& v, const SourceLocation& where, Service& s,
                                       Diagnostics& d) {
  for (const auto& [key, value] : v.service_annotations) {
    auto m = metallb_annotation(key);
    if (!m || !m->which) continue;
    if (*m->which == MetalLbAnnotation::kAddressPool) s.address_pool = value;
    if (*m->which == MetalLbAnnotation::kAllowSharedIp) s.sharing_key = value;
    if (*m->which == MetalLbAnnotation::kLoadBalancerIps)
      if (auto ip = net::IpAddress::parse(value)) s.requested_ips.push_back(*ip);
  }
  if (!v.load_balancer_ip) return;
  if (auto ip = net::IpAddress::parse(*v.load_balancer_ip))
    s.requested_ips.push_back(*ip);
  else
    d.error(where, "Helm values: controller.service.loadBalancerIP",
            "'" + *v.load_balancer_ip + "' is not an IP address");
}

// The controller's Service as the chart would make it from controller.service (when the manifests have none).
Service controller_service(const ControllerValues& v, const SourceLocation& where, Diagnostics& d) {
  Service s;
  s.meta.name = std::string(kControllerName);
  s.meta.namespace_ = std::string(kControllerNamespace);
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
        d.error(where, "Helm values: controller.service", "port " + std::to_string(port) + " is used twice");
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
  read_controller_service_addresses(v, where, s, d);
  return s;
}

// The controller's Deployment: its replicas are the pods the controller Service's endpoints come from.
Deployment controller_deployment(const ControllerValues& v, const SourceLocation& where) {
  Deployment dep;
  dep.meta.name = std::string(kControllerName);
  dep.meta.namespace_ = std::string(kControllerNamespace);
  dep.meta.where = where;
  dep.replicas = v.replica_count;
  dep.selector.match_labels = controller_pod_labels();
  dep.pod_labels = controller_pod_labels();
  dep.synthesized_from_values = true;
  Container c;
  c.name = "kubernetes-ingress-controller";
  dep.containers.push_back(c);
  return dep;
}

// The controller ConfigMap's keys: the same names as the annotations, at ConfigMap scope.
void check_controller_config_keys(const ControllerValues& v, const SourceLocation& where, Diagnostics& d) {
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
    } else if (!spec->not_acted_on.empty()) {
      d.warning(at, field, not_acted_on_text(*spec));
    } else if (spec->origin == AnnotationOrigin::kSeedExtension) {
      d.note(at, field,
             "'" + key +
                 "' is a metalgate extension the HAProxy controller does not have; its equivalent there: " +
                 std::string(spec->controller_equivalent));
    }
  }
}

// What the Helm chart would create from the values (Service, Deployment, IngressClass), for each one the
// manifests do not define themselves, and the check of the controller ConfigMap's keys.
void synthesize_controller_objects(ManifestSet& set, Diagnostics& d) {
  const auto& v = *set.controller;
  const SourceLocation where = v.files.empty() ? SourceLocation{} : v.files.front();
  const std::string ns(kControllerNamespace), name(kControllerName);
  auto is_controller = [&](const ObjectMeta& m) { return m.namespace_ == ns && m.name == name; };

  auto existing = std::find_if(set.services.begin(), set.services.end(),
                               [&](const Service& s) { return is_controller(s.meta); });
  if (existing != set.services.end())
    d.note(existing->meta.where, "Service " + ns + "/" + name,
           "defined explicitly; the Helm values' controller.service settings are not applied to it");
  else
    set.services.push_back(controller_service(v, where, d));

  if (std::none_of(set.deployments.begin(), set.deployments.end(),
                   [&](const Deployment& x) { return is_controller(x.meta); }))
    set.deployments.push_back(controller_deployment(v, where));

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
  check_controller_config_keys(v, where, d);
}

// One warning per key that values files set to different values: Helm merges them in the order given (a
// directory's files by name), so the last file's value is used.
void report_values_conflicts(const ControllerValues& v, Diagnostics& d) {
  for (const auto& [path, settings] : v.settings) {
    const auto& used = settings.back();
    std::string others;
    for (auto it = settings.rbegin() + 1; it != settings.rend(); ++it)
      if (it->value != used.value) others += "; " + it->where.to_string() + " sets " + it->value;
    if (others.empty()) continue;
    d.warning(used.where, "Helm values: " + path,
              "is " + used.value + " from " + used.where.to_string() + others +
                  ". Values files merge in the order given (a directory's files by name), later over "
                  "earlier as with helm -f: the last file's value is used.");
  }
}

}  // namespace

void finish_manifest_set(ManifestSet& set, Diagnostics& d) {
  if (set.controller) report_values_conflicts(*set.controller, d);
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
