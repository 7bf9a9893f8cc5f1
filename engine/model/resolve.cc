#include "engine/model/resolve.h"

#include <algorithm>
#include <set>

#include "engine/config/manifest_loader.h"

namespace metalgate::model {

bool ingress_before(const config::Ingress& a, const config::Ingress& b) {
  const auto& ta = a.meta.creation_timestamp;
  const auto& tb = b.meta.creation_timestamp;
  if (ta.has_value() != tb.has_value()) return ta.has_value();
  if (ta && *ta != *tb) return *ta < *tb;
  return a.meta.key() < b.meta.key();
}

const ResolvedService* Model::ingress_controller() const {
  for (const auto& s : services)
    if (s.is_ingress_controller) return &s;
  return nullptr;
}

namespace {

using config::Diagnostics;

const config::Service* find_service(const config::ManifestSet& set, const std::string& ns,
                                    const std::string& name) {
  for (const auto& s : set.services)
    if (s.meta.namespace_ == ns && s.meta.name == name) return &s;
  return nullptr;
}

void resolve_addresses(Model& m, const ResolveOptions& options, Diagnostics& d) {
  const auto& set = m.manifests;
  std::vector<ipam::ServiceRequest> requests;
  for (const auto& s : set.services) {
    if (s.type != config::ServiceType::kLoadBalancer) continue;
    if (s.load_balancer_class) {
      d.note(s.meta.where, "Service " + s.meta.key(),
             "loadBalancerClass '" + *s.load_balancer_class + "' is not MetalLB's; no address is assigned");
      continue;
    }
    requests.push_back(ipam::ServiceRequest::from(s));
  }
  auto result = ipam::allocate(set.pools, requests, options.previous_allocations);

  for (const auto& s : set.services) {
    if (s.type != config::ServiceType::kLoadBalancer || s.load_balancer_class) continue;
    ResolvedService r;
    r.service = &s;
    r.key = s.meta.key();
    r.is_ingress_controller = config::is_controller_service(s, set);
    if (auto it = result.assigned.find(r.key); it != result.assigned.end()) {
      r.addresses = it->second.addresses;
      r.pool = it->second.pool;
      r.shared = it->second.shared;
    } else {
      r.pending = result.pending[r.key];
      d.warning(s.meta.where, "Service " + r.key, "stays pending without an address: " + r.pending);
    }
    // Which L2Advertisements announce the pool, and on which nodes and interfaces.
    if (!r.pool.empty()) {
      const config::IpAddressPool* pool = nullptr;
      for (const auto& p : set.pools)
        if (p.meta.name == r.pool) pool = &p;
      for (const auto& adv : set.l2_advertisements) {
        bool selects = adv.ip_address_pools.empty() && adv.ip_address_pool_selectors.empty();
        selects = selects || std::find(adv.ip_address_pools.begin(), adv.ip_address_pools.end(), r.pool) !=
                                 adv.ip_address_pools.end();
        for (const auto& sel : adv.ip_address_pool_selectors)
          selects = selects || (pool && sel.matches(pool->meta.labels));
        if (!selects) continue;
        Announcement a;
        a.l2_advertisement = adv.meta.key();
        a.interfaces = adv.interfaces;
        a.node_selectors = adv.node_selectors;
        for (const auto& n : set.nodes) {
          bool ok = adv.node_selectors.empty();
          for (const auto& sel : adv.node_selectors)
            ok = ok || sel.matches(n.meta.labels);
          if (ok) a.nodes.push_back(n.meta.name);
        }
        r.announcements.push_back(std::move(a));
      }
      if (r.announcements.empty())
        d.warning(s.meta.where, "Service " + r.key,
                  "gets " + r.addresses.front().to_string() + " from pool " + r.pool +
                      ", but no L2Advertisement selects that pool: nobody will answer ARP for it");
    }
    m.services.push_back(std::move(r));
  }
  for (const auto& adv : set.l2_advertisements)
    for (const auto& name : adv.ip_address_pools)
      if (std::none_of(set.pools.begin(), set.pools.end(),
                       [&](const auto& p) { return p.meta.name == name; }))
        d.warning(adv.meta.where, "L2Advertisement " + adv.meta.key(),
                  "names pool '" + name + "', which does not exist");
}

// Returns the id of the backend for service:port, creating it on first use; nullopt (with a diagnostic) if
// invalid.
std::optional<std::uint32_t> backend_for(Model& m, const std::string& ns, const config::IngressBackend& b,
                                         const std::string& ingress, const config::SourceLocation& where,
                                         Diagnostics& d) {
  std::string field = "Ingress " + ingress;
  if (b.resource_kind) {
    d.warning(where, field,
              "resource backends (" + *b.resource_kind + ") cannot be served by a proxy; ignored");
    return std::nullopt;
  }
  const config::Service* svc = find_service(m.manifests, ns, b.service_name);
  if (!svc) {
    d.error(where, field, "backend Service " + ns + "/" + b.service_name + " does not exist");
    return std::nullopt;
  }
  const config::ServicePort* port = routing::find_service_port(*svc, b.service_port);
  if (!port) {
    d.error(where, field, "Service " + svc->meta.key() + " has no port " + b.service_port.to_string());
    return std::nullopt;
  }
  for (std::uint32_t i = 0; i < m.backends.size(); ++i) {
    auto& known = m.backends[i];
    if (known.service_key != svc->meta.key() || known.port != port->port) continue;
    // Callers go through Ingresses oldest first, so `ingresses` stays in that order.
    if (std::find(known.ingresses.begin(), known.ingresses.end(), ingress) == known.ingresses.end())
      known.ingresses.push_back(ingress);
    return i;
  }
  HttpBackend hb;
  hb.service_key = svc->meta.key();
  hb.port = port->port;
  hb.port_name = port->name;
  hb.endpoints = routing::resolve_endpoints(m.manifests, *svc, *port);
  hb.ingress = ingress;
  hb.ingresses = {ingress};
  if (hb.endpoints.endpoints.empty())
    d.warning(where, field,
              "backend " + svc->meta.key() + ":" + std::to_string(port->port) + " has no endpoints (" +
                  hb.endpoints.problem + "): requests get 503");
  m.backends.push_back(std::move(hb));
  return static_cast<std::uint32_t>(m.backends.size() - 1);
}

std::string backend_text(const Model& m, std::uint32_t id) {
  return m.backends[id].service_key + ":" + std::to_string(m.backends[id].port);
}

std::string source_text(const routing::Route& r, const config::SourceLocation& where) {
  return r.source + " (" + where.to_string() + ")";
}

// One warning per host, path and type that several Ingresses define, naming each with its backend.
void report_route_conflicts(const Model& m, const std::vector<routing::RouteConflict>& conflicts,
                            Diagnostics& d) {
  std::vector<bool> done(conflicts.size(), false);
  for (std::size_t i = 0; i < conflicts.size(); ++i) {
    if (done[i]) continue;
    const routing::Route& kept = conflicts[i].kept;
    std::string others;
    for (std::size_t j = i; j < conflicts.size(); ++j) {
      const routing::Route& k = conflicts[j].kept;
      if (k.source != kept.source || k.host != kept.host || k.path != kept.path || k.type != kept.type)
        continue;
      done[j] = true;
      const routing::Route& lost = conflicts[j].dropped;
      others += "; " + source_text(lost, conflicts[j].dropped_where) + " sends it to " +
                backend_text(m, lost.target);
    }
    d.warning(conflicts[i].kept_where,
              "route " + (kept.host.empty() ? std::string("*") : kept.host) + kept.path + " (" +
                  std::string(config::to_string(kept.type)) + ")",
              "goes to " + backend_text(m, kept.target) + " from " +
                  source_text(kept, conflicts[i].kept_where) + others +
                  ". One rule serves a host and path: the oldest Ingress's is used (" +
                  std::string(kOldestIngressRule) + "), with its annotations.");
  }
}

// One warning when Ingresses set different spec.defaultBackends, naming each.
void report_default_backend_conflict(const Model& m,
                                     const std::vector<std::pair<const config::Ingress*, std::uint32_t>>& all,
                                     Diagnostics& d) {
  auto text = [&](const std::pair<const config::Ingress*, std::uint32_t>& x) {
    return "Ingress " + x.first->meta.key() + " (" + x.first->default_backend->where.to_string() + ")";
  };
  std::string others;
  for (std::size_t i = 1; i < all.size(); ++i)
    if (all[i].second != all[0].second)
      others += "; " + text(all[i]) + " sets " + backend_text(m, all[i].second);
  if (others.empty()) return;
  d.warning(all[0].first->default_backend->where, "spec.defaultBackend",
            "unmatched requests go to " + backend_text(m, all[0].second) + " from " + text(all[0]) + others +
                ". There is one default backend: the oldest Ingress's is used (" +
                std::string(kOldestIngressRule) + ").");
}

void resolve_routes(Model& m, Diagnostics& d) {
  const auto& set = m.manifests;
  m.ingress_class = set.controller ? set.controller->ingress_class : "haproxy";
  std::string controller_value =
      set.controller ? set.controller->ingress_class_controller : "haproxy.org/ingress-controller";
  bool our_class_is_default = false;
  for (const auto& c : set.ingress_classes)
    if (c.controller == controller_value && c.is_default) our_class_is_default = true;
  std::set<std::string> our_classes{m.ingress_class};
  for (const auto& c : set.ingress_classes)
    if (c.controller == controller_value) our_classes.insert(c.meta.name);

  std::vector<const config::Ingress*> ours;
  for (const auto& in : set.ingresses) {
    std::optional<std::string> cls = in.ingress_class_name ? in.ingress_class_name : in.legacy_class;
    // The loader refuses an annotation that disagrees with spec.ingressClassName, as the API server does.
    bool mine = cls ? our_classes.count(*cls) > 0 : our_class_is_default;
    if (!mine) {
      d.note(in.meta.where, "Ingress " + in.meta.key(),
             cls ? "class '" + *cls + "' belongs to another controller; not served"
                 : "has no ingress class and no default IngressClass is ours; not served");
      continue;
    }
    ours.push_back(&in);
  }
  // Oldest first (Kubernetes' rule for conflicting Ingress rules), so that conflicts resolve the same way
  // whatever order the files came in: routes added first win, and a backend's settings come from the oldest.
  std::sort(ours.begin(), ours.end(), [](auto* a, auto* b) { return ingress_before(*a, *b); });

  std::vector<std::pair<const config::Ingress*, std::uint32_t>> defaults;  // oldest first; [0] is used
  for (const auto* in : ours) {
    m.ingresses.push_back(in->meta.key());
    for (const auto& rule : in->rules) {
      for (const auto& p : rule.paths) {
        auto id = backend_for(m, in->meta.namespace_, p.backend, in->meta.key(), p.backend.where, d);
        if (!id) continue;
        m.routes.add({rule.host, p.path, p.path_type, *id, "Ingress " + in->meta.key()}, p.backend.where);
      }
    }
    if (in->default_backend) {
      if (auto id = backend_for(m, in->meta.namespace_, *in->default_backend, in->meta.key(),
                                in->default_backend->where, d)) {
        if (defaults.empty()) m.routes.set_default_target(*id);
        defaults.push_back({in, *id});
      }
    }
    for (const auto& tls : in->tls) {
      const config::Secret* secret = nullptr;
      for (const auto& s : set.secrets)
        if (s.meta.namespace_ == in->meta.namespace_ && s.meta.name == tls.secret_name) secret = &s;
      if (tls.secret_name.empty())
        d.warning(in->meta.where, "Ingress " + in->meta.key(),
                  "spec.tls entry without secretName uses the default certificate");
      else if (!secret)
        d.error(in->meta.where, "Ingress " + in->meta.key(),
                "TLS Secret " + in->meta.namespace_ + "/" + tls.secret_name + " does not exist");
      else if (!secret->is_tls())
        d.error(secret->meta.where, "Secret " + secret->meta.key(),
                "is referenced for TLS but its type is " + secret->type);
      for (const auto& h : tls.hosts)
        m.tls.push_back({h, in->meta.namespace_ + "/" + tls.secret_name, in->meta.key()});
    }
  }
  // The chart's controller.defaultBackendService serves unmatched requests when no Ingress sets
  // spec.defaultBackend.
  if (set.controller && set.controller->default_backend_service && !m.routes.default_target()) {
    const std::string& ref = *set.controller->default_backend_service;
    auto where = set.controller->files.empty() ? config::SourceLocation{} : set.controller->files.front();
    auto slash = ref.find('/');
    const config::Service* svc =
        slash == std::string::npos ? nullptr : find_service(set, ref.substr(0, slash), ref.substr(slash + 1));
    if (!svc || svc->ports.empty()) {
      d.warning(where, "Helm values: controller.defaultBackendService",
                "Service '" + ref + "' does not exist; unmatched requests get the built-in 404");
    } else {
      config::IngressBackend b;
      b.service_name = svc->meta.name;
      b.service_port.number = svc->ports.front().port;
      if (auto id = backend_for(m, svc->meta.namespace_, b, "(controller default backend)", where, d))
        m.routes.set_default_target(*id);
    }
  }
  report_default_backend_conflict(m, defaults, d);
  report_route_conflicts(m, m.routes.build(), d);
}

// "namespace/service:port[:ssl]" as the controller's TCP and UDP ConfigMaps write it.
void resolve_l4_map(Model& m, const config::ConfigMap& cm, config::Protocol protocol, Diagnostics& d) {
  for (const auto& [key, value] : cm.data) {
    auto where_it = cm.data_where.find(key);
    config::SourceLocation where = where_it == cm.data_where.end() ? cm.meta.where : where_it->second;
    std::string field = "ConfigMap " + cm.meta.key() + ": data." + key;
    int listen = 0;
    try {
      std::size_t used = 0;
      listen = std::stoi(key, &used);
      if (used != key.size()) listen = 0;
    } catch (...) {
    }
    if (listen < 1 || listen > 65535) {
      d.error(where, field, "the key must be a port number 1-65535");
      continue;
    }
    auto slash = value.find('/');
    auto colon = value.find(':', slash == std::string::npos ? 0 : slash);
    if (slash == std::string::npos || colon == std::string::npos) {
      d.error(where, field, "'" + value + "' is not namespace/service:port[:ssl]");
      continue;
    }
    std::string ns = value.substr(0, slash), name = value.substr(slash + 1, colon - slash - 1);
    std::string rest = value.substr(colon + 1);
    bool ssl = false;
    if (auto c2 = rest.find(':'); c2 != std::string::npos) {
      if (rest.substr(c2 + 1) != "ssl") {
        d.error(where, field, "the only suffix allowed after the port is ':ssl'");
        continue;
      }
      if (protocol == config::Protocol::kUdp)
        d.error(where, field, "':ssl' makes no sense for a UDP service");
      ssl = true;
      rest = rest.substr(0, c2);
    }
    const config::Service* svc = find_service(m.manifests, ns, name);
    if (!svc) {
      d.error(where, field, "Service " + ns + "/" + name + " does not exist");
      continue;
    }
    config::PortRef ref;
    if (!rest.empty() && std::all_of(rest.begin(), rest.end(), ::isdigit))
      ref.number = static_cast<std::uint16_t>(std::stoi(rest));
    else
      ref.name = rest;
    const config::ServicePort* port = nullptr;
    for (const auto& p : svc->ports)
      if (p.protocol == protocol &&
          ((ref.number && p.port == *ref.number) || (!ref.name.empty() && p.name == ref.name)))
        port = &p;
    if (!port) {
      d.error(where, field,
              "Service " + svc->meta.key() + " has no " + std::string(config::to_string(protocol)) +
                  " port " + rest);
      continue;
    }
    L4Service l4;
    l4.protocol = protocol;
    l4.listen_port = static_cast<std::uint16_t>(listen);
    l4.service_key = svc->meta.key();
    l4.service_port = port->port;
    l4.ssl = ssl;
    l4.endpoints = routing::resolve_endpoints(m.manifests, *svc, *port);
    l4.config_map = cm.meta.key();
    l4.where = where;
    if (l4.endpoints.endpoints.empty())
      d.warning(where, field,
                "Service " + svc->meta.key() + " has no endpoints (" + l4.endpoints.problem + ")");
    // The LoadBalancer Service in front of the controller must expose the port, or clients cannot reach it.
    if (const auto* ctl = m.ingress_controller()) {
      bool exposed = std::any_of(ctl->service->ports.begin(), ctl->service->ports.end(),
                                 [&](const auto& p) { return p.port == listen && p.protocol == protocol; });
      if (!exposed)
        d.warning(where, field,
                  "port " + key + "/" + std::string(config::to_string(protocol)) +
                      " is not a port of the controller's Service " + ctl->key + ": clients cannot reach it");
    }
    (protocol == config::Protocol::kTcp ? m.tcp_services : m.udp_services).push_back(std::move(l4));
  }
}

std::string l4_text(const L4Service& l4) {
  return l4.service_key + ":" + std::to_string(l4.service_port) + " from ConfigMap " + l4.config_map + " (" +
         l4.where.to_string() + ")";
}

// A port in both the TCP and the UDP ConfigMap, to different Services: legal, but rarely meant.
void report_tcp_udp_overlap(const Model& m, Diagnostics& d) {
  for (const auto& t : m.tcp_services)
    for (const auto& u : m.udp_services)
      if (t.listen_port == u.listen_port && t.service_key != u.service_key)
        d.warning(t.where, "port " + std::to_string(t.listen_port),
                  "TCP goes to " + l4_text(t) + "; UDP goes to " + l4_text(u) +
                      ". TCP and UDP are separate listeners: both are used, each for its own protocol.");
}

// kube-proxy keeps address families apart: a Service's IPv4 addresses forward to its IPv4 endpoints and its
// IPv6 addresses to its IPv6 ones, so a dual-stack Service port is two forwards. An endpoint without an
// address yet (a Deployment's pod, placed by the world later) stays in each.
void split_by_family(ServiceForward f, std::vector<ServiceForward>& out) {
  for (bool v4 : {true, false}) {
    ServiceForward g = f;
    std::erase_if(g.addresses, [v4](const net::IpAddress& a) { return a.is_v4() != v4; });
    if (g.addresses.empty()) continue;
    std::erase_if(g.endpoints.endpoints,
                  [v4](const routing::ResolvedEndpoint& e) { return e.ip && e.ip->is_v4() != v4; });
    if (g.endpoints.endpoints.empty() && !f.endpoints.endpoints.empty())
      g.endpoints.problem = std::string("no IPv") + (v4 ? "4" : "6") + " endpoint for the IPv" + (v4 ? "4" : "6") +
                            " address (kube-proxy does not cross address families)";
    out.push_back(std::move(g));
  }
}

// Every port of every LoadBalancer Service but the controller's, once it has an address.
void resolve_forwards(Model& m) {
  for (const auto& r : m.services) {
    if (r.is_ingress_controller || r.addresses.empty()) continue;
    const config::Service& s = *r.service;
    for (const auto& port : s.ports) {
      ServiceForward f;
      f.service_key = r.key;
      f.addresses = r.addresses;
      f.port = port;
      f.endpoints = routing::resolve_endpoints(m.manifests, s, port);
      f.local = s.external_traffic_policy == config::TrafficPolicy::kLocal;
      f.client_ip_affinity = s.client_ip_affinity;
      split_by_family(std::move(f), m.forwards);
    }
  }
}

// A ConfigMap shaped like a TCP/UDP services map (port keys, "namespace/service:port" values) that the
// controller does not name does nothing: say so, and how to name it, rather than leave the port answering
// with a reset.
bool looks_like_port(std::string_view k) {
  return !k.empty() && k.size() <= 5 &&
         std::all_of(k.begin(), k.end(), [](char c) { return c >= '0' && c <= '9'; });
}
// "namespace/service:port", with the controller's optional ":PROXY"-style suffixes after it.
bool looks_like_target(std::string_view v) {
  auto slash = v.find('/');
  auto colon = v.find(':', slash == std::string_view::npos ? 0 : slash);
  return slash != std::string_view::npos && slash > 0 && colon != std::string_view::npos &&
         colon > slash + 1 && colon + 1 < v.size() && v.find(' ') == std::string_view::npos;
}

void note_unreferenced_l4_maps(const Model& m, const config::ConfigMap* tcp, const config::ConfigMap* udp,
                               Diagnostics& d) {
  for (const auto& cm : m.manifests.config_maps) {
    if (&cm == tcp || &cm == udp || cm.data.empty()) continue;
    bool shaped = std::all_of(cm.data.begin(), cm.data.end(), [](const auto& kv) {
      return looks_like_port(kv.first) && looks_like_target(kv.second);
    });
    if (!shaped) continue;
    d.note(cm.meta.where, "ConfigMap " + cm.meta.key(),
           "looks like a TCP/UDP services map, but no values file names it, so its ports are not served; "
           "name it "
           "in the Helm values as controller.tcpServices.configMapName (or udpServices) '" +
               cm.meta.key() + "'");
  }
}

void resolve_l4(Model& m, Diagnostics& d) {
  const auto& set = m.manifests;
  auto by_name = [&](const std::optional<std::string>& name) -> const config::ConfigMap* {
    if (!name) return nullptr;
    auto slash = name->find('/');
    for (const auto& cm : set.config_maps) {
      if (slash == std::string::npos ? cm.meta.name == *name : cm.meta.key() == *name) return &cm;
    }
    return nullptr;
  };
  const config::ConfigMap* tcp = nullptr;
  const config::ConfigMap* udp = nullptr;
  if (set.controller) {
    tcp = by_name(set.controller->tcp_services_config_map);
    udp = by_name(set.controller->udp_services_config_map);
    auto where = set.controller->files.empty() ? config::SourceLocation{} : set.controller->files.front();
    if (set.controller->tcp_services_config_map && !tcp)
      d.error(where, "Helm values: controller.tcpServices.configMapName",
              "ConfigMap '" + *set.controller->tcp_services_config_map + "' does not exist");
    if (set.controller->udp_services_config_map && !udp)
      d.error(where, "Helm values: controller.udpServices.configMapName",
              "ConfigMap '" + *set.controller->udp_services_config_map + "' does not exist");
  }
  note_unreferenced_l4_maps(m, tcp, udp, d);
  if (tcp) resolve_l4_map(m, *tcp, config::Protocol::kTcp, d);
  if (udp) resolve_l4_map(m, *udp, config::Protocol::kUdp, d);
  report_tcp_udp_overlap(m, d);
  std::set<std::uint16_t> http_ports;
  if (set.controller) http_ports = {set.controller->http_port, set.controller->https_port};
  for (const auto& l4 : m.tcp_services)
    if (http_ports.count(l4.listen_port))
      d.error({}, "ConfigMap " + l4.config_map,
              "TCP port " + std::to_string(l4.listen_port) + " is the HTTP(S) frontend's port");
}

}  // namespace

Model resolve_model(config::ManifestSet manifests, const ResolveOptions& options, Diagnostics& d) {
  Model m;
  m.manifests = std::move(manifests);
  if (m.manifests.controller) m.controller_config = m.manifests.controller->config;
  resolve_addresses(m, options, d);
  resolve_routes(m, d);
  resolve_l4(m, d);
  resolve_forwards(m);
  return m;
}

ipam::PreviousAllocations held_allocations(const Model& model) {
  ipam::PreviousAllocations held;
  for (const auto& s : model.services)
    if (!s.addresses.empty()) held[s.key] = s.addresses;
  return held;
}

}  // namespace metalgate::model
