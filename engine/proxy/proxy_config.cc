#include "engine/proxy/proxy_config.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "engine/config/annotations.h"
#include "engine/config/duration.h"
#include "engine/proxy/basic_auth.h"
#include "engine/proxy/cors.h"
#include "engine/proxy/path_rewrite.h"

namespace metalgate::proxy {

std::string_view to_string(Balance b) {
  switch (b) {
    case Balance::kRoundRobin:
      return "roundrobin";
    case Balance::kLeastConn:
      return "leastconn";
    case Balance::kSource:
      return "source";
  }
  return "?";
}

std::string Hsts::header_value() const {
  std::string v = "max-age=" + std::to_string(max_age);
  if (include_subdomains) v += "; includeSubDomains";
  if (preload) v += "; preload";
  return v;
}

namespace {

using config::Diagnostics;

// One place an annotation value can come from, with what to say when it is wrong.
struct Layer {
  const std::map<std::string, std::string>* values = nullptr;
  bool prefixed =
      false;  // Ingress/Service annotations carry "haproxy.org/" and friends; ConfigMap keys do not
  config::SourceLocation where;
  std::string field_prefix;  // "Ingress default/web: annotation " / "ConfigMap …: data."
  const std::map<std::string, config::SourceLocation>* where_of = nullptr;  // per key, when known
  std::string namespace_;  // the annotated object's; empty for the ConfigMap
  std::uint8_t scope = config::kConfigMap;
};

// BuildOptions::annotation_reads of the build running on this thread (build_proxy_config sets and clears it).
thread_local std::map<std::string, std::uint8_t>* t_annotation_reads = nullptr;

struct Found {
  std::string value;
  config::SourceLocation where;
  std::string field;
  std::string namespace_;  // of the object it was found on (a bare Secret name lives there); empty: ConfigMap
};

// Looks up annotations from the least specific layer to the most specific one; the last hit wins.
class Lookup {
 public:
  explicit Lookup(std::vector<Layer> layers) : layers_(std::move(layers)) {}

  std::optional<Found> get(std::string_view name) const {
    std::optional<Found> hit;
    if (t_annotation_reads)
      for (const Layer& layer : layers_)
        (*t_annotation_reads)[std::string(name)] |= layer.scope;
    for (const Layer& layer : layers_) {
      if (!layer.values) continue;
      for (const auto& [key, value] : *layer.values) {
        std::optional<std::string_view> bare =
            layer.prefixed ? config::haproxy_annotation_name(key) : std::optional<std::string_view>(key);
        if (!bare || *bare != name) continue;
        config::SourceLocation where = layer.where;
        if (layer.where_of)
          if (auto at = layer.where_of->find(key); at != layer.where_of->end()) where = at->second;
        hit = Found{value, where, layer.field_prefix + key, layer.namespace_};
      }
    }
    return hit;
  }
  // The first name that is set, in order (seed aliases after the controller's name).
  std::optional<Found> get_any(std::initializer_list<std::string_view> names) const {
    for (auto n : names)
      if (auto f = get(n)) return f;
    return std::nullopt;
  }

 private:
  std::vector<Layer> layers_;
};

void read_duration(const Lookup& l, std::initializer_list<std::string_view> names, milliseconds& out,
                   Diagnostics& d) {
  auto f = l.get_any(names);
  if (!f) return;
  if (auto v = config::parse_duration(f->value))
    out = *v;
  else
    d.error(f->where, f->field, "'" + f->value + "' is not a duration (5s, 100ms, 1m or milliseconds)");
}

void read_bool(const Lookup& l, std::initializer_list<std::string_view> names, bool& out, Diagnostics& d) {
  auto f = l.get_any(names);
  if (!f) return;
  if (auto v = config::parse_bool(f->value))
    out = *v;
  else
    d.error(f->where, f->field, "'" + f->value + "' is not true or false");
}

template <typename Int>
void read_int(const Lookup& l, std::initializer_list<std::string_view> names, Int& out, long long min,
              long long max, Diagnostics& d) {
  auto f = l.get_any(names);
  if (!f) return;
  try {
    std::size_t used = 0;
    long long v = std::stoll(f->value, &used);
    if (used == f->value.size() && v >= min && v <= max) {
      out = static_cast<Int>(v);
      return;
    }
  } catch (...) {
  }
  d.error(
      f->where, f->field,
      "'" + f->value + "' is not a whole number from " + std::to_string(min) + " to " + std::to_string(max));
}

std::vector<net::Cidr> read_cidrs(const Found& f, Diagnostics& d) {
  std::vector<net::Cidr> out;
  std::string text = f.value;
  std::replace(text.begin(), text.end(), ',', ' ');
  std::istringstream in(text);
  std::string item;
  while (in >> item) {
    std::optional<net::Cidr> c = net::Cidr::parse(item, true);
    if (!c) {
      if (auto ip = net::IpAddress::parse(item)) c = net::Cidr{*ip, ip->is_v4() ? 32 : 128};
    }
    if (c)
      out.push_back(*c);
    else
      d.error(f.where, f.field, "'" + item + "' is not an address or CIDR");
  }
  return out;
}

// "Name: value" lines (the seed's `headers`, request-set-header, response-set-header); HAProxy's own form is
// "Name value".
std::vector<HeaderSetting> read_headers(const Found& f, Diagnostics& d) {
  std::vector<HeaderSetting> out;
  std::istringstream in(f.value);
  std::string line;
  while (std::getline(in, line)) {
    auto b = line.find_first_not_of(" \t");
    if (b == std::string::npos || line[b] == '#') continue;
    line = line.substr(b);
    auto sep = line.find_first_of(": \t");
    if (sep == std::string::npos || sep == 0) {
      d.error(f.where, f.field, "'" + line + "' is not 'Header-Name: value'");
      continue;
    }
    std::string name = line.substr(0, sep);
    std::string value = line.substr(sep + (line[sep] == ':' ? 1 : 0));
    auto vb = value.find_first_not_of(" \t");
    value = vb == std::string::npos ? "" : value.substr(vb);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r'))
      value.pop_back();
    out.push_back({name, value});
  }
  return out;
}

std::optional<HttpReuse> http_reuse_named(std::string_view name) {
  if (name == "never") return HttpReuse::kNever;
  if (name == "safe") return HttpReuse::kSafe;
  if (name == "aggressive") return HttpReuse::kAggressive;
  if (name == "always") return HttpReuse::kAlways;
  return std::nullopt;
}

// The parts of backend-config-snippet that metalgate understands: `default-server maxconn|inter|rise|fall N`,
// `timeout queue|server|connect|tunnel|check T`, `http-reuse MODE`, `balance ALGO`. Other lines are
// warnings (HAProxy configuration metalgate does not run).
void apply_backend_snippet(const Found& f, BackendConfig& b, int& maxconn, Diagnostics& d) {
  std::istringstream in(f.value);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::vector<std::string> w;
    std::string x;
    while (words >> x)
      w.push_back(x);
    if (w.empty() || w[0][0] == '#') continue;
    bool ok = false;
    if (w[0] == "default-server") {
      ok = w.size() >= 3 && w.size() % 2 == 1;
      for (std::size_t i = 1; ok && i + 1 < w.size(); i += 2) {
        try {
          if (w[i] == "maxconn")
            maxconn = std::stoi(w[i + 1]);
          else if (w[i] == "rise")
            b.check.rise = std::stoi(w[i + 1]);
          else if (w[i] == "fall")
            b.check.fall = std::stoi(w[i + 1]);
          else if (w[i] == "weight")
            for (auto& s : b.servers)
              s.weight = std::stoi(w[i + 1]);
          else if (w[i] == "inter") {
            auto v = config::parse_duration(w[i + 1]);
            ok = v.has_value();
            if (v) b.check.interval = *v;
          } else
            ok = false;
        } catch (...) {
          ok = false;
        }
      }
    } else if (w[0] == "timeout" && w.size() == 3) {
      auto v = config::parse_duration(w[2]);
      ok = v.has_value();
      if (v) {
        if (w[1] == "queue")
          b.timeouts.queue = *v;
        else if (w[1] == "server")
          b.timeouts.server = *v;
        else if (w[1] == "connect")
          b.timeouts.connect = *v;
        else if (w[1] == "tunnel")
          b.timeouts.tunnel = *v;
        else if (w[1] == "check")
          b.check.timeout = *v;
        else
          ok = false;
      }
    } else if (w[0] == "http-reuse" && w.size() == 2) {
      auto mode = http_reuse_named(w[1]);
      ok = mode.has_value();
      if (ok) b.http_reuse = *mode;
    } else if (w[0] == "balance" && w.size() == 2) {
      ok = true;
      if (w[1] == "roundrobin")
        b.balance = Balance::kRoundRobin;
      else if (w[1] == "leastconn")
        b.balance = Balance::kLeastConn;
      else if (w[1] == "source")
        b.balance = Balance::kSource;
      else
        ok = false;
    }
    if (!ok) d.warning(f.where, f.field, "snippet line '" + line + "' is not one metalgate applies; ignored");
  }
}

// A DNS query for NAME's A record with a fixed ID (the health probe for DNS services).
std::string dns_query(const std::string& name) {
  std::string q = {'\x4d', '\x47', '\x01', '\x00', '\x00', '\x01',
                   '\x00', '\x00', '\x00', '\x00', '\x00', '\x00'};
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    std::string label = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!label.empty()) {
      q += static_cast<char>(label.size());
      q += label;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  q += std::string("\x00\x00\x01\x00\x01", 5);
  return q;
}

Layer ingress_layer(const config::Ingress& ingress) {
  return {&ingress.meta.annotations,
          true,
          ingress.meta.where,
          "Ingress " + ingress.meta.key() + ": metadata.annotations.",
          &ingress.meta.annotations_where,
          ingress.meta.namespace_,
          config::kIngress};
}

Layer service_layer(const config::Service& service) {
  return {&service.meta.annotations,
          true,
          service.meta.where,
          "Service " + service.meta.key() + ": metadata.annotations.",
          &service.meta.annotations_where,
          service.meta.namespace_,
          config::kService};
}

Lookup lookup_for(const model::Model& m, const config::Ingress* ingress, const config::Service* service) {
  std::vector<Layer> layers;
  Layer cm;
  cm.values = &m.controller_config;
  cm.field_prefix = "controller ConfigMap: data.";
  if (m.manifests.controller && !m.manifests.controller->files.empty()) {
    cm.where = m.manifests.controller->files.front();
    cm.where_of = &m.manifests.controller->config_where;
  }
  layers.push_back(cm);
  if (ingress) layers.push_back(ingress_layer(*ingress));
  if (service) layers.push_back(service_layer(*service));
  return Lookup(std::move(layers));
}

const config::Ingress* find_ingress(const model::Model& m, std::string_view key) {
  for (const auto& in : m.manifests.ingresses)
    if (in.meta.key() == key) return &in;
  return nullptr;
}

const config::Service* find_service(const model::Model& m, std::string_view key) {
  for (const auto& s : m.manifests.services)
    if (s.meta.key() == key) return &s;
  return nullptr;
}

// The timeouts of a backend's side: a backend reads them from its Ingress, Service and the ConfigMap.
void read_server_timeouts(const Lookup& l, Timeouts& t, Diagnostics& d) {
  read_duration(l, {"timeout-connect"}, t.connect, d);
  read_duration(l, {"timeout-server"}, t.server, d);
  read_duration(l, {"timeout-queue"}, t.queue, d);
  read_duration(l, {"timeout-tunnel"}, t.tunnel, d);
}

// The client side's, which apply before a request is routed: from the ConfigMap (an Ingress's timeout-client
// is the route's, RoutePolicy::client_timeout).
void read_frontend_timeouts(const Lookup& global, Timeouts& t, Diagnostics& d) {
  read_duration(global, {"timeout-client"}, t.client, d);
  read_duration(global, {"timeout-http-request"}, t.http_request, d);
  read_duration(global, {"timeout-http-keep-alive"}, t.http_keep_alive, d);
}

// Settings a backend has once, whatever route leads to it: when the Ingresses routing to one Service port
// (and the Service) set one differently, one value wins and report_backend_conflicts says which. Per-route
// settings (timeout-client, rate limits, headers, allow/deny lists, redirects…) live in RoutePolicy instead.
struct BackendSetting {
  std::vector<std::string_view> names;  // the controller's name first, then aliases
  std::string_view what;                // "A backend has one <what>"
};

const std::vector<BackendSetting>& backend_settings() {
  static const std::vector<BackendSetting> k = {
      {{"check"}, "health check"},
      {{"check-interval", "backend-check-interval"}, "health check"},
      {{"check-rise", "health-check-rise"}, "health check"},
      {{"check-fall", "health-check-fall"}, "health check"},
      {{"check-http"}, "health check"},
      {{"timeout-check"}, "health check"},
      {{"load-balance"}, "balance algorithm"},
      {{"cookie-persistence"}, "persistence cookie"},
      {{"cookie-indirect"}, "persistence cookie"},
      {{"cookie-nocache"}, "persistence cookie"},
      {{"pod-maxconn"}, "connection limit per server"},
      {{"http-reuse"}, "connection reuse mode"},
      {{"backend-config-snippet"}, "backend configuration"},
      {{"timeout-connect"}, "set of server timeouts"},
      {{"timeout-server"}, "set of server timeouts"},
      {{"timeout-queue"}, "set of server timeouts"},
      {{"timeout-tunnel"}, "set of server timeouts"},
      {{"server-ssl"}, "TLS setting towards its servers"},
      {{"server-ca"}, "TLS setting towards its servers"},
      {{"server-crt"}, "TLS setting towards its servers"},
      {{"server-proto"}, "protocol towards its servers"},
  };
  return k;
}

// One object's own value for a setting (unset: nullopt), with where the annotation (or the object) stands.
struct OwnSetting {
  std::string source;  // "Ingress default/shop"
  std::optional<std::string> value;
  config::SourceLocation where;
  std::string text() const { return source + " (" + where.to_string() + ")"; }
};

OwnSetting own_setting(std::string source, const config::ObjectMeta& meta, const BackendSetting& setting) {
  for (auto name : setting.names)
    for (const auto& [key, value] : meta.annotations)
      if (config::haproxy_annotation_name(key) == std::optional<std::string_view>(name)) {
        auto at = meta.annotations_where.find(key);
        return {std::move(source), value, at == meta.annotations_where.end() ? meta.where : at->second};
      }
  return {std::move(source), std::nullopt, meta.where};
}

// A value as a warning quotes it: a multi-line one (a snippet) on one line, its line breaks as "\n".
std::string shown(std::string value) {
  while (!value.empty() && (value.back() == '\n' || value.back() == ' '))
    value.pop_back();
  if (value.find('\n') == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value)
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  return out + "\"";
}

// The sources of one setting, the one used first: the Service's own annotation (the most specific layer) with
// the Ingresses that set another value, else every Ingress, oldest first (only the oldest's annotations
// configure the backend, unset ones included).
std::vector<OwnSetting> setting_sources(const std::vector<const config::Ingress*>& ingresses,
                                        const config::Service* service, const BackendSetting& setting) {
  std::vector<OwnSetting> out;
  if (service) out.push_back(own_setting("Service " + service->meta.key(), service->meta, setting));
  if (!out.empty() && !out[0].value) out.clear();
  for (const auto* in : ingresses) {
    auto s = own_setting("Ingress " + in->meta.key(), in->meta, setting);
    if (out.empty() || out[0].source.starts_with("Ingress ") || s.value) out.push_back(std::move(s));
  }
  return out;
}

// One warning per backend setting that the Ingresses routing to one Service port, or they and the Service,
// set differently: naming each source, its value, and the value used.
void report_backend_conflicts(const std::string& backend,
                              const std::vector<const config::Ingress*>& ingresses,
                              const config::Service* service, Diagnostics& d) {
  for (const auto& setting : backend_settings()) {
    auto all = setting_sources(ingresses, service, setting);
    if (std::all_of(all.begin(), all.end(), [&](const auto& s) { return s.value == all[0].value; })) continue;
    std::string name(setting.names[0]);
    std::string text = all[0].value ? name + " is " + shown(*all[0].value) + " from " + all[0].text()
                                    : name + " is left unset by " + all[0].text() +
                                          ", so the controller ConfigMap's value or the default applies";
    for (std::size_t i = 1; i < all.size(); ++i)
      text += "; " + all[i].text() + (all[i].value ? " sets " + shown(*all[i].value) : " leaves it unset");
    bool by_service = all[0].source.starts_with("Service ");
    text += ". A backend has one " + std::string(setting.what) + ": " +
            (by_service
                 ? std::string("the Service's own annotation is used (it is more specific than any "
                               "Ingress).")
                 : "the oldest Ingress's setting is used (" + std::string(model::kOldestIngressRule) + ").");
    d.warning(all[0].where, backend, text);
  }
}

// The servers a backend starts from: its endpoints with an address (the world places Deployment pods). HTTP
// and ConfigMap backends take ready ones; a LoadBalancer Service's own ports (`kube_proxy`) also those
// serving while they terminate, which l4/forwarding.h uses only when none is ready.
struct Servers {
  std::vector<ServerConfig> servers;
  std::string problem;  // why there are none
};

Servers servers_of(const routing::EndpointResolution& endpoints, const BuildOptions& o, bool kube_proxy) {
  Servers out;
  int index = 0;
  for (const auto& ep : endpoints.endpoints) {
    ++index;
    if (!ep.ready && !(kube_proxy && ep.serving && ep.terminating)) continue;
    std::optional<net::IpAddress> ip = ep.ip;
    if (!ip && o.place_endpoint) ip = o.place_endpoint(ep);
    if (!ip) continue;
    ServerConfig s;
    s.name = ep.name.empty() ? "SRV_" + std::to_string(index) : ep.name;
    s.address = {*ip, ep.port};
    s.node = ep.node.empty() && o.endpoint_node ? o.endpoint_node(ep) : ep.node;
    s.ready = ep.ready;
    out.servers.push_back(std::move(s));
  }
  if (out.servers.empty())
    out.problem = endpoints.problem.empty() ? "no placed endpoints" : endpoints.problem;
  return out;
}

// The Secret an annotation names: "namespace/name", or a bare name in the annotated object's namespace (the
// controller's GetK8sPath). nullptr, with an error ending in `consequence`, when it names none.
const config::Secret* named_secret(const model::Model& m, const Found& f, Diagnostics& d,
                                   const std::string& consequence = "") {
  std::string key = f.value;
  if (key.find('/') == std::string::npos) {
    if (f.namespace_.empty()) {
      d.error(f.where, f.field,
              "'" + key + "' names no namespace: in the controller ConfigMap it is namespace/name" +
                  consequence);
      return nullptr;
    }
    key = f.namespace_ + "/" + key;
  }
  for (const auto& s : m.manifests.secrets)
    if (s.meta.key() == key) return &s;
  d.error(f.where, f.field, "Secret " + key + " does not exist" + consequence);
  return nullptr;
}

// A Secret's value under `name` ("tls.crt", "tls.key"), or nullptr with an error.
const std::string* secret_value(const config::Secret& secret, const std::string& name, const Found& f,
                                Diagnostics& d) {
  auto it = secret.data.find(name);
  if (it != secret.data.end() && !it->second.empty()) return &it->second;
  d.error(f.where, f.field, "Secret " + secret.meta.key() + " has no " + name);
  return nullptr;
}

// server-ssl, server-ca, server-crt (the controller's service/ssl.go, ca.go, crt.go): TLS to the servers,
// unverified unless server-ca names a CA; server-ca and server-crt turn TLS on by themselves. Unlike the
// controller, a Secret that cannot be used is an error rather than a silent fallback to plain TCP or to no
// verification: whoever named a CA meant the servers to be verified.
void read_server_tls(const model::Model& m, const Lookup& l, BackendConfig& b, Diagnostics& d) {
  bool enabled = false;
  read_bool(l, {"server-ssl"}, enabled, d);
  ServerTls t;
  auto ca = l.get("server-ca");
  auto crt = l.get("server-crt");
  if (ca && !ca->value.empty()) {
    enabled = true;
    if (const config::Secret* secret = named_secret(m, *ca, d))
      if (const std::string* pem = secret_value(*secret, "tls.crt", *ca, d)) {
        t.ca_pem = *pem;
        if (!tls::has_certificate(t.ca_pem))
          d.error(ca->where, ca->field,
                  "Secret " + secret->meta.key() + ": tls.crt holds no PEM certificate");
      }
  }
  if (crt && !crt->value.empty()) {
    enabled = true;
    if (const config::Secret* secret = named_secret(m, *crt, d)) {
      const std::string* pem = secret_value(*secret, "tls.crt", *crt, d);
      const std::string* key = secret_value(*secret, "tls.key", *crt, d);
      if (pem && key) {
        t.certificate_pem = *pem;
        t.private_key_pem = *key;
        std::string problem = tls::client_key_pair_problem({{}, *pem, *key, "Secret " + secret->meta.key()});
        if (!problem.empty()) d.error(crt->where, crt->field, problem);
      }
    }
  }
  if (enabled) b.tls = std::move(t);
}

// server-proto (the controller writes `proto h2` on the servers): HTTP/2 to them, h2c over TCP or ALPN h2
// over server-ssl. The controller knows no other value; "h1" is taken as the default it is.
void read_server_protocol(const Lookup& l, BackendConfig& b, Diagnostics& d) {
  auto f = l.get("server-proto");
  if (!f || f->value.empty() || f->value == "h1") return;
  if (f->value == "h2")
    b.protocol = ServerProtocol::kHttp2;
  else
    d.error(f->where, f->field, "'" + f->value + "' is not h2 (or h1, the default)");
}

BackendConfig build_backend(const model::Model& m, const std::string& service_key, std::uint16_t port,
                            Servers servers, const std::vector<std::string>& ingress_keys, Diagnostics& d) {
  BackendConfig b;
  std::string svc_name = service_key;
  std::replace(svc_name.begin(), svc_name.end(), '/', '_');
  b.name = svc_name + "_" + std::to_string(port);
  const config::Service* service = find_service(m, service_key);
  std::vector<const config::Ingress*> ingresses;
  for (const auto& key : ingress_keys)
    if (const config::Ingress* in = find_ingress(m, key)) ingresses.push_back(in);
  report_backend_conflicts("Service " + service_key + " port " + std::to_string(port), ingresses, service, d);
  // Only the oldest Ingress's annotations configure the backend (report_backend_conflicts names the others).
  Lookup l = lookup_for(m, ingresses.empty() ? nullptr : ingresses.front(), service);

  b.servers = std::move(servers.servers);
  b.problem = std::move(servers.problem);

  if (auto f = l.get("load-balance")) {
    if (f->value == "roundrobin")
      b.balance = Balance::kRoundRobin;
    else if (f->value == "leastconn")
      b.balance = Balance::kLeastConn;
    else if (f->value == "source")
      b.balance = Balance::kSource;
    else
      d.error(f->where, f->field, "'" + f->value + "' is not one of roundrobin, leastconn, source");
  }
  read_server_timeouts(l, b.timeouts, d);
  read_bool(l, {"check"}, b.check.enabled, d);
  read_duration(l, {"check-interval", "backend-check-interval"}, b.check.interval, d);
  read_int(l, {"check-rise", "health-check-rise"}, b.check.rise, 1, 1000, d);
  read_int(l, {"check-fall", "health-check-fall"}, b.check.fall, 1, 1000, d);
  if (auto f = l.get("timeout-check")) {
    if (auto v = config::parse_duration(f->value))
      b.check.timeout = *v;
    else
      d.error(f->where, f->field, "'" + f->value + "' is not a duration");
  }
  if (auto f = l.get("check-http")) {
    std::istringstream in(f->value);
    std::vector<std::string> w;
    std::string x;
    while (in >> x)
      w.push_back(x);
    if (w.size() == 1 && w[0][0] == '/') {
      b.check.http = true;
      b.check.uri = w[0];
    } else if (w.size() >= 2 && w[1][0] == '/') {
      b.check.http = true;
      b.check.method = w[0];
      b.check.uri = w[1];
    } else {
      d.error(f->where, f->field, "'" + f->value + "' is neither \"URI\" nor \"METHOD URI\"");
    }
  }
  int maxconn = 0;
  read_int(l, {"pod-maxconn"}, maxconn, 0, 1000000, d);
  if (auto f = l.get("backend-config-snippet")) apply_backend_snippet(*f, b, maxconn, d);
  for (auto& s : b.servers)
    s.maxconn = maxconn;
  if (auto f = l.get("http-reuse")) {
    if (auto mode = http_reuse_named(f->value))
      b.http_reuse = *mode;
    else
      d.error(f->where, f->field, "'" + f->value + "' is not never, safe, aggressive or always");
  }
  if (auto f = l.get("cookie-persistence"); f && !f->value.empty()) {
    CookiePersistence c;
    c.name = f->value;
    read_bool(l, {"cookie-indirect"}, c.indirect, d);
    read_bool(l, {"cookie-nocache"}, c.nocache, d);
    b.cookie = c;
  }
  read_server_tls(m, l, b, d);
  read_server_protocol(l, b, d);
  return b;
}

// auth-realm: the controller writes it into `http-request auth realm` with its spaces turned into '-', so
// that is what clients see ("Protected Content", the default, becomes "Protected-Content").
std::string read_auth_realm(const Lookup& l, Diagnostics& d) {
  std::string realm = "Protected-Content";
  auto f = l.get("auth-realm");
  if (!f || f->value.empty()) return realm;
  if (std::any_of(f->value.begin(), f->value.end(),
                  [](unsigned char c) { return c < ' ' || c == 0x7f || c == '"' || c == '\\'; })) {
    d.error(f->where, f->field,
            "a realm may not hold quotes, backslashes or control characters; " + realm + " is used");
    return realm;
  }
  realm = f->value;
  std::replace(realm.begin(), realm.end(), ' ', '-');
  return realm;
}

// The users of auth-secret ("name" in the Ingress's namespace, or "namespace/name"): each key of the Secret
// is a user, its value a crypt(3) hash (one trailing line break dropped, empty values skipped, as the
// controller does). Empty when the Secret cannot be read, which the caller turns into a route nobody gets
// into.
std::map<std::string, std::string, std::less<>> read_auth_users(const model::Model& m, const Found& type,
                                                                const Lookup& l,
                                                                const config::Ingress* ingress,
                                                                Diagnostics& d) {
  std::map<std::string, std::string, std::less<>> users;
  auto f = l.get("auth-secret");
  if (!f || f->value.empty()) {
    d.error(type.where, type.field,
            "auth-type basic-auth needs auth-secret; every request of the route gets 401");
    return users;
  }
  // A bare name set in the controller ConfigMap lives in each Ingress's namespace, as the controller reads it
  // per Ingress.
  Found named = *f;
  if (named.namespace_.empty() && ingress) named.namespace_ = ingress->meta.namespace_;
  const config::Secret* secret = named_secret(m, named, d, "; every request of the route gets 401");
  if (!secret) return users;
  const std::string key = secret->meta.key();
  for (auto [user, hash] : secret->data) {
    if (!hash.empty() && hash.back() == '\n') hash.pop_back();
    if (hash.empty()) continue;
    bool legacy = false;
    if (!crypt_hash_known(hash, &legacy))
      d.warning(f->where, f->field,
                "Secret " + key + " user '" + user +
                    "': the value is not a crypt(3) hash libcrypt knows (plain passwords are not accepted), "
                    "so no password matches it");
    else if (legacy)
      d.warning(f->where, f->field,
                "Secret " + key + " user '" + user +
                    "': a legacy DES hash; use bcrypt ($2y$) or sha512crypt ($6$)");
    users.emplace(user, std::move(hash));
  }
  if (users.empty())
    d.error(f->where, f->field, "Secret " + key + " lists no user; every request of the route gets 401");
  return users;
}

// auth-type, auth-realm, auth-secret (the controller's basicAuth.go). A route whose auth cannot be set up as
// asked (another auth-type, no readable Secret) is closed, every request answered 401, rather than left open
// as the controller leaves it: whoever wrote auth-type meant the route to be protected.
std::shared_ptr<const BasicAuth> read_basic_auth(const model::Model& m, const Lookup& l,
                                                 const config::Ingress* ingress, Diagnostics& d) {
  auto type = l.get("auth-type");
  if (!type || type->value.empty()) return nullptr;
  std::map<std::string, std::string, std::less<>> users;
  if (type->value == "basic-auth")
    users = read_auth_users(m, *type, l, ingress, d);
  else
    d.error(type->where, type->field,
            "'" + type->value +
                "' is not an auth-type metalgate knows (only basic-auth is); every request of the route gets "
                "401");
  return std::make_shared<const BasicAuth>(read_auth_realm(l, d), std::move(users));
}

// path-rewrite: one rule per line, "PATH" (every path becomes PATH) or "REGEX FORMAT" (path_rewrite.h).
std::vector<std::shared_ptr<const PathRewrite>> read_path_rewrites(const Lookup& l, Diagnostics& d) {
  std::vector<std::shared_ptr<const PathRewrite>> rules;
  auto f = l.get("path-rewrite");
  if (!f) return rules;
  std::istringstream lines(f->value);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::vector<std::string> w;
    for (std::string word; in >> word;)
      w.push_back(word);
    if (w.empty()) continue;
    if (w.size() > 2) {
      d.error(f->where, f->field, "'" + line + "' is neither PATH nor REGEX FORMAT");
      continue;
    }
    if (w.back().find("%[") != std::string::npos)
      d.warning(
          f->where, f->field,
          "'" + w.back() +
              "': metalgate does not evaluate HAProxy sample expressions (%[...]); they stay as written");
    std::string error;
    auto rule = PathRewrite::make(w.size() == 1 ? "(.*)" : w[0], w.back(), error);
    if (rule)
      rules.push_back(std::move(rule));
    else
      d.error(f->where, f->field, error);
  }
  return rules;
}

// request-redirect: "host[:port]", or with an http:// or https:// scheme (http when none), and
// request-redirect-code (302; HAProxy's redirect codes 301, 302, 303, 307, 308).
std::optional<RequestRedirect> read_request_redirect(const Lookup& l, Diagnostics& d) {
  auto f = l.get("request-redirect");
  if (!f || f->value.empty()) return std::nullopt;
  RequestRedirect r;
  std::string_view v = f->value;
  if (v.starts_with("https://")) {
    r.scheme = "https";
    v.remove_prefix(8);
  } else if (v.starts_with("http://")) {
    v.remove_prefix(7);
  }
  const std::size_t colon = v.rfind(':');
  const std::string_view host = v.substr(0, colon);
  const std::string_view port = colon == std::string_view::npos ? std::string_view() : v.substr(colon + 1);
  const bool host_ok = !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '[' || c == ']';
  });
  const bool port_ok =
      colon == std::string_view::npos ||
      (!port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), ::isdigit) &&
       std::stoi(std::string(port)) >= 1 && std::stoi(std::string(port)) <= 65535);
  if (!host_ok || !port_ok) {
    d.error(f->where, f->field, "'" + f->value + "' is not host or host:port (a port alone is not allowed)");
    return std::nullopt;
  }
  r.authority = v;
  read_int(l, {"request-redirect-code"}, r.code, 301, 308, d);
  if (r.code != 301 && r.code != 302 && r.code != 303 && r.code != 307 && r.code != 308) {
    auto c = l.get("request-redirect-code");
    d.error(c->where, c->field, "'" + c->value + "' is not a redirect code (301, 302, 303, 307 or 308)");
    r.code = 302;
  }
  return r;
}

// cors-enable and the settings that go with it (cors.h), with the controller's defaults. A bad value is an
// error at its annotation and its default stands; an origin pattern that cannot be used leaves the route
// without CORS headers (nullptr), as the controller's failed rule does.
std::shared_ptr<const Cors> read_cors(const Lookup& l, Diagnostics& d) {
  bool enabled = false;
  read_bool(l, {"cors-enable"}, enabled, d);
  if (!enabled) return nullptr;
  CorsSettings s;
  if (auto f = l.get("cors-allow-origin"); f && !f->value.empty()) {
    s.allow_origin = f->value;
    std::istringstream words(f->value);
    for (std::string word; words >> word;)
      if (word.size() > 1 && word.back() == ',')
        d.warning(
            f->where, f->field,
            "'" + word + "': origin patterns are separated by spaces; the comma is part of the pattern");
  }
  if (auto f = l.get("cors-allow-methods"); f && !f->value.empty()) {
    std::string error;
    if (auto methods = normalize_cors_methods(f->value, error))
      s.allow_methods = *methods;
    else
      d.error(f->where, f->field, error + "; * is used");
  }
  if (auto f = l.get("cors-allow-headers"); f && !f->value.empty())
    s.allow_headers = normalize_cors_headers(f->value);
  if (auto f = l.get("cors-max-age"); f && !f->value.empty()) {
    if (auto v = config::parse_duration(f->value))
      s.max_age_seconds = v->count() / 1000;
    else
      d.error(f->where, f->field, "'" + f->value + "' is not a duration (5s, 100ms, 1m or milliseconds)");
  }
  if (auto f = l.get("cors-allow-credentials")) s.allow_credentials = f->value == "true";
  read_bool(l, {"cors-respond-to-options"}, s.respond_to_options, d);
  std::string error;
  auto cors = Cors::make(std::move(s), error);
  if (!cors)  // only an origin pattern can be refused
    if (auto f = l.get("cors-allow-origin"))
      d.error(f->where, f->field, error + "; the route gets no CORS headers");
  return cors;
}

RoutePolicy build_policy(const model::Model& m, const config::Ingress* ingress, Diagnostics& d) {
  RoutePolicy p;
  if (ingress) p.ingress = ingress->meta.key();
  Lookup l = lookup_for(m, ingress, nullptr);
  if (auto f = l.get_any({"allow-list", "whitelist"})) p.allow_list = read_cidrs(*f, d);
  if (auto f = l.get_any({"deny-list", "blacklist"})) p.deny_list = read_cidrs(*f, d);
  read_int(l, {"rate-limit-requests"}, p.rate_limit.requests, 0, 100000000, d);
  read_duration(l, {"rate-limit-period"}, p.rate_limit.period, d);
  read_int(l, {"rate-limit-status-code"}, p.rate_limit.status, 100, 599, d);
  if (auto f = l.get("rate-limit-whitelist")) p.rate_limit.whitelist = read_cidrs(*f, d);
  if (p.rate_limit.period.count() <= 0) p.rate_limit.period = milliseconds(1000);
  read_bool(l, {"ssl-redirect"}, p.ssl_redirect, d);
  read_int(l, {"ssl-redirect-code"}, p.ssl_redirect_code, 300, 399, d);
  if (auto f = l.get("ssl-redirect-port")) {
    std::uint16_t port = 0;
    read_int(l, {"ssl-redirect-port"}, port, 1, 65535, d);
    if (port) p.ssl_redirect_port = port;
  }
  // The controller turns ssl-redirect on for hosts of spec.tls when it has a certificate for them.
  if (ingress && !ingress->tls.empty() && !l.get("ssl-redirect")) p.ssl_redirect = true;
  read_bool(l, {"hsts"}, p.hsts.enabled, d);
  read_int(l, {"hsts-max-age"}, p.hsts.max_age, 0, 1LL << 40, d);
  read_bool(l, {"hsts-include-subdomains"}, p.hsts.include_subdomains, d);
  read_bool(l, {"hsts-preload"}, p.hsts.preload, d);
  if (auto f = l.get("request-set-header")) p.request_set_headers = read_headers(*f, d);
  if (auto f = l.get("response-set-header")) p.response_set_headers = read_headers(*f, d);
  if (auto f = l.get("headers")) {
    auto more = read_headers(*f, d);
    p.response_set_headers.insert(p.response_set_headers.end(), more.begin(), more.end());
  }
  if (auto f = l.get("set-host"); f && !f->value.empty()) p.set_host = f->value;
  read_bool(l, {"forwarded-for"}, p.forwarded_for, d);
  read_bool(l, {"response-compress"}, p.compression.enabled, d);
  if (auto f = l.get("compression-type")) {
    std::istringstream in(f->value);
    p.compression.types.clear();
    std::string t;
    while (in >> t)
      p.compression.types.push_back(t);
  }
  if (auto f = l.get("compression-algo"); f && f->value != "gzip")
    d.error(f->where, f->field, "only gzip is supported");
  // A ConfigMap listing compression types turns compression on for every route, as HAProxy's
  // `compression type` in the defaults section does.
  if (!l.get("response-compress") && l.get("compression-type")) p.compression.enabled = true;
  p.access_log = true;
  read_bool(l, {"access-log"}, p.access_log, d);
  if (ingress) {
    milliseconds t{0};
    bool set = false;
    for (const auto& [k, v] : ingress->meta.annotations)
      if (config::haproxy_annotation_name(k) == std::optional<std::string_view>("timeout-client")) set = true;
    if (set) {
      read_duration(l, {"timeout-client"}, t, d);
      p.client_timeout = t;
    }
  }
  p.basic_auth = read_basic_auth(m, l, ingress, d);
  p.path_rewrites = read_path_rewrites(l, d);
  p.request_redirect = read_request_redirect(l, d);
  p.cors = read_cors(l, d);
  return p;
}

}  // namespace

// HAProxy's ssl-default-bind-options words (the seed's ssl-options key takes the same). The minimum
// version is TLS 1.2 unless ssl-min-ver lowers it, as in HAProxy since 2.2; no-tlsv1x words below 1.2
// restate that default.
void read_bind_options(const Found& f, tls::Offer& offer, Diagnostics& d) {
  static const std::map<std::string, int, std::less<>> kVersions = {
      {"TLSv1.0", 0x0301}, {"TLSv1.1", 0x0302}, {"TLSv1.2", 0x0303}, {"TLSv1.3", 0x0304}};
  std::istringstream in(f.value);
  std::string w;
  while (in >> w) {
    if (w == "no-tls-tickets") {
      offer.session_tickets = false;
    } else if (w == "no-tlsv12") {
      offer.min_version = std::max(offer.min_version, 0x0304);
    } else if (w == "ssl-min-ver") {
      std::string v;
      in >> v;
      if (auto it = kVersions.find(v); it != kVersions.end())
        offer.min_version = it->second;
      else
        d.error(f.where, f.field, "ssl-min-ver '" + v + "' is not one of TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3");
    } else if (w != "no-sslv3" && w != "no-tlsv10" && w != "no-tlsv11" && w != "prefer-client-ciphers") {
      d.warning(f.where, f.field,
                "'" + w +
                    "' is not read by metalgate; it reads no-sslv3, no-tlsv10, "
                    "no-tlsv11, no-tlsv12, ssl-min-ver, no-tls-tickets, prefer-client-ciphers");
    }
  }
}

void read_cipher_list(const Found& f, std::string value, bool tls13, std::string& out, Diagnostics& d) {
  if (std::string bad = tls::unknown_cipher(value, tls13); !bad.empty()) {
    d.error(f.where, f.field,
            "'" + bad + "' is not a " + (tls13 ? "TLS 1.3 ciphersuite" : "cipher") + " OpenSSL knows");
    return;
  }
  out = std::move(value);
}

// The controller's way to set TLS suites and options: ssl-default-bind-* lines in global-config-snippet.
// Then the seed's ssl-options. Other snippet lines are HAProxy configuration metalgate does not run.
void read_tls_offer(const Lookup& global, tls::Offer& offer, Diagnostics& d) {
  if (auto f = global.get("global-config-snippet")) {
    std::istringstream lines(f->value);
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream words(line);
      std::string key, rest;
      words >> key;
      std::getline(words >> std::ws, rest);
      if (key.empty() || key[0] == '#') continue;
      if (key == "ssl-default-bind-ciphers")
        read_cipher_list(*f, rest, false, offer.ciphers, d);
      else if (key == "ssl-default-bind-ciphersuites")
        read_cipher_list(*f, rest, true, offer.ciphersuites, d);
      else if (key == "ssl-default-bind-options")
        read_bind_options(Found{rest, f->where, f->field, {}}, offer, d);
      else
        d.warning(f->where, f->field,
                  "'" + key +
                      "' is not applied: metalgate reads only the ssl-default-bind-ciphers, "
                      "-ciphersuites and -options lines of a global-config-snippet");
    }
  }
  if (auto f = global.get("ssl-options")) read_bind_options(*f, offer, d);
}

namespace {
// tls-alpn: the protocols HTTPS frontends offer, each one metalgate speaks ("h2", "http/1.1"); an unknown
// name is dropped with a warning (HAProxy would offer it and then speak HTTP/1.1 anyway).
void read_alpn(const Lookup& global, std::vector<std::string>& alpn, Diagnostics& d) {
  auto f = global.get("tls-alpn");
  if (!f) return;
  std::vector<std::string> offered;
  std::istringstream in(f->value);
  std::string name;
  while (std::getline(in, name, ',')) {
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name == "h2" || name == "http/1.1") {
      if (std::find(offered.begin(), offered.end(), name) == offered.end()) offered.push_back(name);
    } else if (!name.empty()) {
      d.warning(f->where, f->field, "'" + name + "' is not offered: metalgate speaks h2 and http/1.1");
    }
  }
  if (offered.empty()) {
    d.error(f->where, f->field, "offers no protocol metalgate speaks (use \"h2,http/1.1\" or \"http/1.1\")");
    return;
  }
  alpn = std::move(offered);
}

// A UDP service's check: none unless asked (udp-check), since UDP has no connection to check.
void read_udp_check(const Lookup& l, HealthCheck& check, Diagnostics& d) {
  check.enabled = false;
  auto f = l.get("udp-check");
  if (!f || f->value.empty()) return;
  std::istringstream in(f->value);
  std::string kind, arg;
  in >> kind >> arg;
  if (kind == "dns" && !arg.empty()) {
    check.enabled = check.udp = true;
    check.udp_send = dns_query(arg);
    check.udp_expect = check.udp_send.substr(0, 2);  // the same query ID
  } else if (kind == "send" && !arg.empty()) {
    std::string rest;
    std::getline(in, rest);
    std::string text = arg + rest;
    auto expect_at = text.find(" expect ");
    check.enabled = check.udp = true;
    check.udp_send = text.substr(0, expect_at);
    if (expect_at != std::string::npos) check.udp_expect = text.substr(expect_at + 8);
  } else {
    d.error(f->where, f->field, "'" + f->value + "' is neither 'dns NAME' nor 'send TEXT [expect TEXT]'");
  }
}

// What the Service's own annotations say of an L4 service's flows (over the ConfigMap's).
void read_l4_settings(const model::Model& m, const std::string& service_key, L4ServiceConfig& s,
                      Diagnostics& d) {
  Lookup l = lookup_for(m, nullptr, find_service(m, service_key));
  read_duration(l, {"udp-idle-timeout"}, s.udp_idle_timeout, d);
  read_int(l, {"udp-max-flows"}, s.udp_max_flows, 1, 10000000, d);
  if (s.udp) read_udp_check(l, s.backend.check, d);
  if (s.udp && s.backend.tls) {
    s.backend.tls.reset();
    if (auto f = l.get_any({"server-ssl", "server-ca", "server-crt"}))
      d.warning(f->where, f->field, "a UDP port carries no TLS: ignored for " + s.name);
  }
}

// Where the controller's frontends and the ConfigMap's TCP/UDP services listen
// (BuildOptions::listen_address).
std::vector<net::IpAddress> controller_addresses(const model::Model& m, const BuildOptions& o) {
  if (o.listen_address && o.listen_address->is_unspecified()) return {*o.listen_address};
  std::vector<net::IpAddress> out;
  if (const auto* c = m.ingress_controller()) out = c->addresses;
  if (o.listen_address && std::find(out.begin(), out.end(), *o.listen_address) == out.end())
    out.push_back(*o.listen_address);
  return out;
}

// The ConfigMap's TCP and UDP services, on each of the controller's addresses: their backend Service's
// annotations over the ConfigMap's.
void add_config_map_services(const model::Model& m, const BuildOptions& o,
                             const std::vector<net::IpAddress>& addresses, ProxyConfig& c, Diagnostics& d) {
  for (const auto* list : {&m.tcp_services, &m.udp_services}) {
    for (const auto& l4 : *list) {
      L4ServiceConfig s;
      s.udp = l4.protocol == config::Protocol::kUdp;
      s.name = std::string(s.udp ? "udp-" : "tcp-") + std::to_string(l4.listen_port);
      s.ssl = l4.ssl;
      s.backend =
          build_backend(m, l4.service_key, l4.service_port, servers_of(l4.endpoints, o, false), {}, d);
      read_l4_settings(m, l4.service_key, s, d);
      for (const auto& ip : addresses) {
        s.bind = {ip, l4.listen_port};
        c.l4_services.push_back(s);
      }
    }
  }
}

// The container of a Deployment that serves `port`: the one exposing it, else the only one.
const config::Container* serving_container(const config::Deployment& d, std::uint16_t port) {
  for (const auto& c : d.containers)
    for (const auto& p : c.ports)
      if (p.container_port == port) return &c;
  return d.containers.size() == 1 ? &d.containers.front() : nullptr;
}

// Pods of a Deployment have no kubelet here: their readinessProbe becomes the servers' health check, so that
// a pod that is not ready takes no new connections, as kube-proxy would see it. An unnamed probe port, or one
// that names no container port, leaves the check as it was.
void apply_readiness_probe(const model::Model& m, const model::ServiceForward& f, HealthCheck& check) {
  if (f.endpoints.endpoints.empty() || f.endpoints.endpoints.front().deployment.empty()) return;
  const auto& ep = f.endpoints.endpoints.front();
  const config::Container* c = nullptr;
  for (const auto& d : m.manifests.deployments)
    if (d.meta.key() == ep.deployment) c = serving_container(d, ep.port);
  if (!c || !c->readiness_probe) return;
  const config::Probe& probe = *c->readiness_probe;
  const config::PortRef& ref =
      probe.http_get ? probe.http_get->port : probe.tcp_socket.value_or(config::PortRef{});
  std::optional<std::uint16_t> port = ref.number;
  for (const auto& p : c->ports)
    if (!port && !ref.name.empty() && p.name == ref.name) port = p.container_port;
  if (!port) return;
  check.enabled = true;
  check.http = probe.http_get.has_value();
  if (probe.http_get) check.uri = probe.http_get->path;
  check.port = *port;
  check.interval = std::chrono::duration_cast<milliseconds>(probe.period);
  check.timeout = std::chrono::duration_cast<milliseconds>(probe.timeout);
  check.rise = probe.success_threshold;
  check.fall = probe.failure_threshold;
}

// Every port of every other LoadBalancer Service with an address, on each of its addresses.
void add_forwards(const model::Model& m, const BuildOptions& o, ProxyConfig& c, Diagnostics& d) {
  for (const auto& f : m.forwards) {
    L4ServiceConfig s;
    s.udp = f.port.protocol == config::Protocol::kUdp;
    s.service = f.service_key;
    std::string name = f.service_key;
    std::replace(name.begin(), name.end(), '/', '_');
    s.name = name + (s.udp ? "_udp_" : "_tcp_") + std::to_string(f.port.port);
    s.local_only = f.local;
    if (f.client_ip_affinity)
      s.client_ip_affinity = std::chrono::duration_cast<milliseconds>(*f.client_ip_affinity);
    s.backend = build_backend(m, f.service_key, f.port.port, servers_of(f.endpoints, o, true), {}, d);
    read_l4_settings(m, f.service_key, s, d);
    // TCP: unless `check: "false"`; UDP: unless udp-check says how (a probe checks over TCP or HTTP).
    if (s.udp != s.backend.check.enabled) apply_readiness_probe(m, f, s.backend.check);
    for (const auto& ip : f.addresses) {
      s.bind = {ip, f.port.port};
      c.l4_services.push_back(s);
    }
  }
}

// One policy per Ingress that has routes, and one rate table per distinct period.
void add_policies(const model::Model& m, ProxyConfig& c, Diagnostics& d) {
  c.policies.push_back(build_policy(m, nullptr, d));
  std::map<std::string, std::uint32_t> by_ingress;
  for (const routing::Route* r : m.routes.routes()) {
    std::string key = r->source.rfind("Ingress ", 0) == 0 ? r->source.substr(8) : r->source;
    auto [it, inserted] = by_ingress.emplace(key, static_cast<std::uint32_t>(c.policies.size()));
    if (inserted) c.policies.push_back(build_policy(m, find_ingress(m, key), d));
    c.route_policy[r] = it->second;
  }
  for (auto& p : c.policies) {
    auto it = std::find(c.rate_periods.begin(), c.rate_periods.end(), p.rate_limit.period);
    if (it == c.rate_periods.end()) {
      c.rate_periods.push_back(p.rate_limit.period);
      it = c.rate_periods.end() - 1;
    }
    p.rate_table = static_cast<std::uint32_t>(it - c.rate_periods.begin());
  }
}

// ssl-passthrough (Ingress or ConfigMap, as the controller's ingress.go reads it): each host of such an
// Ingress is routed by SNI to its backend as TCP. One passthrough service per Service port; the first route
// of a host decides (SNI has no path). The servers speak TLS, so their health checks only connect (an HTTP
// check would be refused by the TLS server).
void add_passthrough(const model::Model& m, ProxyConfig& c, Diagnostics& d) {
  std::map<std::uint32_t, std::size_t> service_of;      // backend -> passthrough_services index
  std::map<std::string, std::optional<Found>> passing;  // Ingress -> its ssl-passthrough, when true
  for (const routing::Route* r : m.routes.routes()) {
    const std::string key = r->source.rfind("Ingress ", 0) == 0 ? r->source.substr(8) : r->source;
    auto [on, first] = passing.emplace(key, std::nullopt);
    if (first)
      if (const config::Ingress* ingress = find_ingress(m, key)) {
        Lookup l = lookup_for(m, ingress, nullptr);
        bool enabled = false;
        read_bool(l, {"ssl-passthrough"}, enabled, d);
        if (enabled) on->second = l.get("ssl-passthrough");
      }
    if (!on->second) continue;
    if (r->host.empty()) {
      d.error(on->second->where, on->second->field,
              "a rule of " + r->source + " has no host: ssl-passthrough routes by the SNI host name only");
      continue;
    }
    auto [it, inserted] = service_of.emplace(r->target, c.passthrough_services.size());
    if (inserted) {
      L4ServiceConfig svc;
      svc.name = "ssl-passthrough_" + c.backends[r->target].name;
      svc.backend = c.backends[r->target];
      svc.backend.check.http = false;
      svc.backend.tls.reset();  // the client's TLS goes through as it is
      c.passthrough_services.push_back(std::move(svc));
    }
    c.passthrough_hosts.emplace(r->host, it->second);
  }
}

// TLS: one certificate per Secret, serving the hosts that spec.tls lists for it.
void add_certificates(const model::Model& m, ProxyConfig& c, Diagnostics& d) {
  std::map<std::string, std::size_t> by_secret;
  for (const auto& binding : m.tls) {
    const config::Secret* secret = nullptr;
    for (const auto& s : m.manifests.secrets)
      if (s.meta.key() == binding.secret_key) secret = &s;
    if (!secret || !secret->is_tls()) continue;
    auto crt = secret->data.find("tls.crt");
    auto key = secret->data.find("tls.key");
    if (crt == secret->data.end() || key == secret->data.end()) {
      d.error(secret->meta.where, "Secret " + secret->meta.key(),
              "a kubernetes.io/tls Secret needs tls.crt and tls.key");
      continue;
    }
    auto [it, inserted] = by_secret.emplace(binding.secret_key, c.tls.certificates.size());
    if (inserted)
      c.tls.certificates.push_back({{}, crt->second, key->second, "Secret " + secret->meta.key()});
    if (!binding.host.empty()) c.tls.certificates[it->second].hosts.push_back(binding.host);
  }
}

// The values' stats and metrics listeners, on the frontends' addresses. Metrics on the stats port are served
// by the stats listener (/metrics), as the controller's stats frontend serves them.
void add_monitor(const model::Model& m, const BuildOptions& o, const std::vector<net::IpAddress>& addresses,
                 MonitorConfig& out) {
  if (!m.manifests.controller) return;
  const config::ControllerValues& v = *m.manifests.controller;
  const std::uint16_t stats_port = o.stats_port.value_or(v.stats_port);
  const std::uint16_t metrics_port = o.metrics_port.value_or(v.metrics_port);
  for (const auto& ip : addresses) {
    if (v.stats_enabled) out.stats.push_back({ip, stats_port});
    if (v.metrics_enabled && !(v.stats_enabled && metrics_port == stats_port))
      out.metrics.push_back({ip, metrics_port});
  }
  if (v.stats_enabled) {
    out.user = v.stats_user;
    out.password = v.stats_password;
  }
}

}  // namespace

ProxyConfig build_proxy_config(std::shared_ptr<const model::Model> model, const BuildOptions& o,
                               Diagnostics& d) {
  struct RecordReads {
    explicit RecordReads(std::map<std::string, std::uint8_t>* to) { t_annotation_reads = to; }
    ~RecordReads() { t_annotation_reads = nullptr; }
  } record_reads(o.annotation_reads);
  ProxyConfig c;
  c.model = model;
  const model::Model& m = *model;
  Lookup global = lookup_for(m, nullptr, nullptr);
  read_frontend_timeouts(global, c.frontend_timeouts, d);
  read_int(global, {"request-buffer-size"}, c.limits.max_head_bytes, 1024, 1 << 24, d);
  read_int(global, {"maxconn"}, c.maxconn, 0, 10000000, d);
  read_int(global, {"nbthread"}, c.nbthread, 1, 256, d);
  read_bool(global, {"access-log"}, c.access_log, d);
  read_tls_offer(global, c.tls.offer, d);
  read_alpn(global, c.tls.alpn, d);
  if (auto f = global.get("proxy-protocol")) c.proxy_protocol_sources = read_cidrs(*f, d);

  std::uint16_t http_port = 80, https_port = 443;
  if (m.manifests.controller) {
    http_port = m.manifests.controller->http_port;
    https_port = m.manifests.controller->https_port;
  }
  if (o.http_port) http_port = *o.http_port;
  if (o.https_port) https_port = *o.https_port;
  c.https_port = https_port;
  const auto addresses = controller_addresses(m, o);
  for (const auto& ip : addresses)
    c.frontends.push_back({"http", {ip, http_port}, false});
  add_monitor(m, o, addresses, c.monitor);

  for (const auto& hb : m.backends)
    c.backends.push_back(
        build_backend(m, hb.service_key, hb.port, servers_of(hb.endpoints, o, false), hb.ingresses, d));
  add_config_map_services(m, o, addresses, c, d);
  add_forwards(m, o, c, d);
  c.default_backend = m.routes.default_target();
  add_policies(m, c, d);
  add_passthrough(m, c, d);
  add_certificates(m, c, d);
  if (!c.tls.certificates.empty() || !c.passthrough_hosts.empty())
    for (const auto& ip : addresses)
      c.frontends.push_back({"https", {ip, https_port}, true});
  return c;
}

}  // namespace metalgate::proxy
