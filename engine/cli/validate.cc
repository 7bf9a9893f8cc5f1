#include "engine/cli/validate.h"

#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "engine/config/manifest_loader.h"
#include "engine/ipam/state_file.h"
#include "engine/model/resolve.h"
#include "engine/proxy/proxy_config.h"

namespace metalgate::cli {

namespace {

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i)
    s += (i ? sep : "") + items[i];
  return s;
}

std::string addresses_text(const std::vector<net::IpAddress>& a) {
  std::vector<std::string> s;
  for (const auto& ip : a)
    s.push_back(ip.to_string());
  return join(s, ", ");
}

std::string ports_text(const config::Service& s) {
  std::vector<std::string> p;
  for (const auto& port : s.ports)
    p.push_back(std::to_string(port.port) + "/" + std::string(config::to_string(port.protocol)));
  return join(p, " ");
}

std::string who_announces(const model::ResolvedService& r, bool nodes_given) {
  if (r.announcements.empty()) return "nobody (no L2Advertisement selects the pool)";
  std::vector<std::string> parts;
  for (const auto& a : r.announcements) {
    std::string nodes;
    if (nodes_given) {
      nodes = a.nodes.empty() ? "no node" : "nodes " + join(a.nodes, ", ");
    } else if (a.node_selectors.empty()) {
      nodes = "any node";
    } else {
      std::vector<std::string> sel;
      for (const auto& s : a.node_selectors)
        sel.push_back(s.to_string());
      nodes = "nodes matching " + join(sel, " or ");
    }
    std::string ifs = a.interfaces.empty() ? "any interface" : "interfaces " + join(a.interfaces, ", ");
    parts.push_back(nodes + " on " + ifs + " (L2Advertisement " + a.l2_advertisement + ")");
  }
  std::string s = join(parts, "; ");
  if (r.service->external_traffic_policy == config::TrafficPolicy::kLocal)
    s += "; externalTrafficPolicy Local: only a node with a ready endpoint of the Service";
  return s;
}

std::string endpoints_text(const routing::EndpointResolution& e) {
  if (e.endpoints.empty()) return "no endpoints (" + e.problem + ")";
  std::vector<std::string> names;
  for (const auto& ep : e.endpoints)
    names.push_back(
        (ep.ip ? net::SocketAddress{*ep.ip, ep.port}.to_string() : ep.name + ":" + std::to_string(ep.port)) +
        (ep.ready                       ? ""
         : ep.serving && ep.terminating ? " (terminating, serving)"
                                        : " (not ready)"));
  return std::to_string(e.endpoints.size()) + " endpoint" + (e.endpoints.size() == 1 ? "" : "s") + " [" +
         join(names, " ") + "] from " + e.source;
}

nlohmann::json endpoints_json(const routing::EndpointResolution& e) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& ep : e.endpoints) {
    nlohmann::json x{{"name", ep.name}, {"port", ep.port}, {"ready", ep.ready}};
    if (!ep.ready) x["serving"] = ep.serving;
    if (ep.terminating) x["terminating"] = true;
    if (ep.ip) x["ip"] = ep.ip->to_string();
    if (!ep.node.empty()) x["node"] = ep.node;
    j.push_back(std::move(x));
  }
  return j;
}

std::string forward_text(const model::ServiceForward& f) {
  std::vector<std::string> at;
  for (const auto& ip : f.addresses)
    at.push_back(net::SocketAddress{ip, f.port.port}.to_string());
  std::string s = join(at, ", ") + "/" + std::string(config::to_string(f.port.protocol)) + " -> " +
                  endpoints_text(f.endpoints);
  s += f.local ? "; externalTrafficPolicy Local: each node to its own endpoints"
               : "; externalTrafficPolicy Cluster";
  if (f.client_ip_affinity)
    s += "; sessionAffinity ClientIP for " + std::to_string(f.client_ip_affinity->count()) + "s";
  return s;
}

nlohmann::json forwards_json(const model::Model& m) {
  using nlohmann::json;
  json forwards = json::array();
  for (const auto& f : m.forwards) {
    json addrs = json::array();
    for (const auto& a : f.addresses)
      addrs.push_back(a.to_string());
    json x{{"service", f.service_key},
           {"addresses", addrs},
           {"port", f.port.port},
           {"protocol", config::to_string(f.port.protocol)},
           {"externalTrafficPolicy", f.local ? "Local" : "Cluster"},
           {"endpoints", endpoints_json(f.endpoints)}};
    x["sessionAffinity"] = f.client_ip_affinity
                               ? json{{"clientIP", {{"timeoutSeconds", f.client_ip_affinity->count()}}}}
                               : json("None");
    forwards.push_back(std::move(x));
  }
  return forwards;
}

}  // namespace

std::string format_model_text(const model::Model& m, const config::Diagnostics& d,
                              const ProtocolFacts& protocols) {
  std::ostringstream o;
  const auto& set = m.manifests;
  o << "Loaded " << set.object_count << " objects from " << set.files.size() << " files";
  if (!set.skipped.empty()) o << " (" << set.skipped.size() << " of kinds metalgate does not use)";
  o << "\n\nAddress pools\n";
  if (set.pools.empty()) o << "  (none)\n";
  for (const auto& p : set.pools) {
    std::vector<std::string> ranges;
    std::uint64_t size = 0;
    for (const auto& r : p.addresses) {
      ranges.push_back(r.to_string());
      size += r.size();
    }
    o << "  " << p.meta.key() << "  " << join(ranges, ", ") << "  (" << size << " addresses"
      << (p.auto_assign ? "" : ", autoAssign off") << (p.avoid_buggy_ips ? ", avoidBuggyIPs" : "") << ")\n";
  }
  o << "\nLoadBalancer services\n";
  if (m.services.empty()) o << "  (none)\n";
  for (const auto& r : m.services) {
    o << "  " << r.key << (r.is_ingress_controller ? "  [ingress controller]" : "") << "\n";
    if (r.addresses.empty())
      o << "    address: pending: " << r.pending << "\n";
    else
      o << "    address: " << addresses_text(r.addresses) << " from pool " << r.pool
        << (r.shared ? " (shared)" : "") << "\n";
    o << "    ports:   " << ports_text(*r.service) << "\n";
    o << "    announced by: " << who_announces(r, !set.nodes.empty()) << "\n";
  }
  o << "\nHTTP routes (ingress class " << m.ingress_class << ")\n";
  if (m.routes.routes().empty()) o << "  (none)\n";
  for (const auto* route : m.routes.routes()) {
    const auto& b = m.backends[route->target];
    o << "  " << (route->host.empty() ? "*" : route->host) << route->path << "  ("
      << config::to_string(route->type) << ")  -> " << b.service_key << ":" << b.port << " -> "
      << endpoints_text(b.endpoints) << "\n";
  }
  if (auto t = m.routes.default_target())
    o << "  default backend -> " << m.backends[*t].service_key << ":" << m.backends[*t].port << "\n";
  else
    o << "  default backend -> built-in 404\n";
  for (const auto& t : m.tls)
    o << "  TLS " << t.host << " with Secret " << t.secret_key << "\n";
  if (!m.tls.empty() && !protocols.https_alpn.empty())
    o << "  HTTPS offers " << join(protocols.https_alpn, ", ")
      << " (ALPN, tls-alpn); servers are spoken to in HTTP/1.1"
      << (protocols.h2_backends.empty() ? "" : " unless named below") << "\n";
  if (!protocols.h2_backends.empty())
    o << "  HTTP/2 to the servers of " << join(protocols.h2_backends, ", ") << " (server-proto h2)\n";
  for (auto [title, list] :
       {std::pair{"TCP services", &m.tcp_services}, std::pair{"UDP services", &m.udp_services}}) {
    o << "\n" << title << "\n";
    if (list->empty()) o << "  (none)\n";
    for (const auto& l4 : *list)
      o << "  " << l4.listen_port << (l4.ssl ? " (TLS offload)" : "") << " -> " << l4.service_key << ":"
        << l4.service_port << " -> " << endpoints_text(l4.endpoints) << "\n";
  }
  o << "\nService forwarding (other LoadBalancer Services' own ports)\n";
  if (m.forwards.empty()) o << "  (none)\n";
  for (const auto& f : m.forwards)
    o << "  " << f.service_key << "  " << forward_text(f) << "\n";
  if (!d.items().empty()) {
    o << "\nDiagnostics (" << d.count(config::Severity::kError) << " errors, "
      << d.count(config::Severity::kWarning) << " warnings, " << d.count(config::Severity::kNote)
      << " notes)\n";
    o << d.to_string();
  }
  return o.str();
}

std::string format_model_json(const model::Model& m, const config::Diagnostics& d, bool valid,
                              const ProtocolFacts& protocols) {
  using nlohmann::json;
  json j;
  j["valid"] = valid;
  j["objects"] = m.manifests.object_count;
  j["files"] = m.manifests.files;
  json pools = json::array();
  for (const auto& p : m.manifests.pools) {
    json ranges = json::array();
    for (const auto& r : p.addresses)
      ranges.push_back(r.to_string());
    pools.push_back({{"name", p.meta.key()},
                     {"addresses", ranges},
                     {"autoAssign", p.auto_assign},
                     {"avoidBuggyIPs", p.avoid_buggy_ips}});
  }
  j["pools"] = pools;
  if (!m.tls.empty()) j["https"] = {{"alpn", protocols.https_alpn}, {"serverProtocol", "http/1.1"}};
  j["h2Backends"] = protocols.h2_backends;
  json services = json::array();
  for (const auto& r : m.services) {
    json s{{"service", r.key},
           {"ingressController", r.is_ingress_controller},
           {"pool", r.pool},
           {"shared", r.shared}};
    json addrs = json::array();
    for (const auto& a : r.addresses)
      addrs.push_back(a.to_string());
    s["addresses"] = addrs;
    if (!r.pending.empty()) s["pending"] = r.pending;
    json ports = json::array();
    for (const auto& p : r.service->ports)
      ports.push_back({{"port", p.port}, {"protocol", config::to_string(p.protocol)}, {"name", p.name}});
    s["ports"] = ports;
    json ann = json::array();
    for (const auto& a : r.announcements) {
      json sel = json::array();
      for (const auto& x : a.node_selectors)
        sel.push_back(x.to_string());
      ann.push_back({{"l2Advertisement", a.l2_advertisement},
                     {"interfaces", a.interfaces},
                     {"nodeSelectors", sel},
                     {"nodes", a.nodes}});
    }
    s["announcements"] = ann;
    s["externalTrafficPolicy"] =
        r.service->external_traffic_policy == config::TrafficPolicy::kLocal ? "Local" : "Cluster";
    services.push_back(std::move(s));
  }
  j["services"] = services;
  json routes = json::array();
  for (const auto* route : m.routes.routes()) {
    const auto& b = m.backends[route->target];
    routes.push_back({{"host", route->host},
                      {"path", route->path},
                      {"pathType", config::to_string(route->type)},
                      {"service", b.service_key},
                      {"port", b.port},
                      {"source", route->source},
                      {"endpoints", endpoints_json(b.endpoints)}});
  }
  j["ingressClass"] = m.ingress_class;
  j["routes"] = routes;
  if (auto t = m.routes.default_target())
    j["defaultBackend"] = {{"service", m.backends[*t].service_key}, {"port", m.backends[*t].port}};
  else
    j["defaultBackend"] = nullptr;
  json tls = json::array();
  for (const auto& t : m.tls)
    tls.push_back({{"host", t.host}, {"secret", t.secret_key}, {"ingress", t.ingress}});
  j["tls"] = tls;
  for (auto [name, list] :
       {std::pair{"tcpServices", &m.tcp_services}, std::pair{"udpServices", &m.udp_services}}) {
    json arr = json::array();
    for (const auto& l4 : *list)
      arr.push_back({{"port", l4.listen_port},
                     {"service", l4.service_key},
                     {"servicePort", l4.service_port},
                     {"ssl", l4.ssl},
                     {"endpoints", endpoints_json(l4.endpoints)}});
    j[name] = arr;
  }
  j["forwards"] = forwards_json(m);
  json diags = json::array();
  for (const auto& x : d.sorted())
    diags.push_back({{"severity", config::to_string(x.severity)},
                     {"file", x.where.file},
                     {"line", x.where.line},
                     {"column", x.where.column},
                     {"field", x.field},
                     {"message", x.message}});
  j["diagnostics"] = diags;
  return j.dump(2) + "\n";
}

ValidateOutcome validate_manifests(const ValidateOptions& options) {
  ValidateOutcome o;
  config::Diagnostics& d = o.diagnostics;
  auto set = config::load_manifest_paths(options.paths, d);
  model::ResolveOptions ro;
  if (!options.state_file.empty()) {
    if (auto state = ipam::read_state_file(options.state_file))
      ro.previous_allocations = std::move(*state);
    else
      d.error({options.state_file, 0, 0}, "", state.error());
  }
  o.model = std::make_shared<const model::Model>(model::resolve_model(std::move(set), ro, d));
  // What serve refuses, validate refuses too: the proxy's settings (timeouts, balancing, TLS suites) are
  // checked by building the proxy's configuration from the model, then dropping it.
  const proxy::ProxyConfig config = proxy::build_proxy_config(o.model, {}, d);
  o.protocols.https_alpn = config.tls.alpn;
  for (const auto& b : config.backends)
    if (b.protocol == proxy::ServerProtocol::kHttp2) o.protocols.h2_backends.push_back(b.name);
  o.valid = !d.has_errors();
  return o;
}

int run_validate(const ValidateOptions& options, std::ostream& out, std::ostream& err) {
  const ValidateOutcome o = validate_manifests(options);
  const model::Model& m = *o.model;
  const config::Diagnostics& d = o.diagnostics;
  const bool valid = o.valid;
  if (options.json) {
    out << format_model_json(m, d, valid, o.protocols);
  } else {
    out << format_model_text(m, d, o.protocols);
    if (!valid) err << "metalgate: " << d.error_count() << " error(s); the configuration is invalid\n";
  }
  return valid ? 0 : 1;
}

}  // namespace metalgate::cli
