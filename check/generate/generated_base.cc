#include "check/generate/generated_base.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

namespace metalgate::check {

namespace {

// ------------------------------------------------------------------------------------------- the draws

// The seed's draws. Only the engine's raw 64-bit output is used (reduced by modulo here), because the
// standard distributions differ between standard libraries and the same seed must write the same files
// everywhere.
class Draw {
 public:
  explicit Draw(std::uint64_t seed) : engine_(seed) {}
  int below(int n) { return static_cast<int>(engine_() % static_cast<std::uint64_t>(n)); }
  bool one_in(int n) { return below(n) == 0; }

 private:
  std::mt19937_64 engine_;
};

enum class Kind { kExact, kPrefix, kImplementationSpecific };

struct Route {
  std::string path;
  Kind kind = Kind::kPrefix;
  int app = 0;  // index of the app whose Service answers
};

struct Rule {
  std::string host;  // "app.example.test", "*.example.test", or empty: every host
  std::vector<Route> routes;
};

struct IngressDraw {
  std::string name;
  std::vector<Rule> rules;
  int default_app = -1;  // spec.defaultBackend's app, or none
  std::vector<std::pair<std::string, std::string>> annotations;
};

struct World {
  std::uint64_t seed = 0;
  std::vector<int> replicas;  // per app: app-1 … app-N, each its own Deployment, Service and pods
  std::vector<int> ports;     // per app: its Service's port
  std::vector<IngressDraw> ingresses;
  int values_default_app = -1;  // the values' defaultBackendService, or none
  int tcp_app = -1;             // the tcp-services entry's app, or none
  // The L2Advertisement announces from nodes labelled metalgate-check/announce: "yes" only (cases draw the
  // label onto their nodes).
  bool announce_selected = false;
  bool selected_by_expression = false;  // the selector as matchExpressions (In) rather than matchLabels
  // The L2Advertisement's interfaces: none (every interface), [eth0], or [eth1, eth0] (a name the simulated
  // nodes lack, and theirs). Every node has eth0: MetalLB's election ignores interfaces, so an owner
  // without a listed one stays silent by design (docs/checking.md), which is no failure to look for.
  int interfaces_listed = 0;
  // externalTrafficPolicy: Cluster on the controller's Service (the chart's default), else Local: nodes
  // without the proxy may then announce and forward to the proxies.
  bool cluster_controller = false;
  bool udp_map = false;  // a udp-services entry to a DNS-like Deployment of one pod, and its client
};

constexpr int kTcpPort = 7000;
constexpr int kUdpPort = 5353;
constexpr const char* kDomain = "example.test";
const std::vector<std::string> kExtraPaths = {"/", "/static", "/login", "/img", "/docs/guide"};

std::string app_name(int app) {
  return "app-" + std::to_string(app + 1);
}

Kind draw_kind(Draw& d) {
  const int k = d.below(4);  // Prefix twice as often as the others
  return k == 0 ? Kind::kExact : k == 1 ? Kind::kImplementationSpecific : Kind::kPrefix;
}

// A rule's paths: the ones the traps need (`forced`, with their kind) and some of the others. Apps go round
// from a drawn offset in path order, so a path and the next shorter one (/ and /api, /api and /api/v1) are
// served by different apps whenever there are two apps or more: a request that the wrong one of them
// answered is visible.
Rule draw_rule(Draw& d, const std::string& host, const std::vector<std::pair<std::string, Kind>>& forced,
               int apps) {
  std::vector<std::pair<std::string, Kind>> paths = forced;
  for (const auto& p : kExtraPaths)
    if (d.one_in(3)) paths.emplace_back(p, draw_kind(d));
  if (paths.empty())
    paths.emplace_back(kExtraPaths[d.below(static_cast<int>(kExtraPaths.size()))], draw_kind(d));
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  Rule rule{host, {}};
  const int offset = d.below(apps);
  for (std::size_t i = 0; i < paths.size(); ++i)
    rule.routes.push_back({paths[i].first, paths[i].second, static_cast<int>((offset + i) % apps)});
  return rule;
}

// The rules of every Ingress together: always an exact host with the nested prefixes /api and /api/v1 and a
// wildcard host with the trailing-slash prefix /foo/; mostly a rule without a host; sometimes a second exact
// host and a deeper wildcard (whose parent, api.example.test, the first wildcard matches).
std::vector<Rule> draw_rules(Draw& d, int apps) {
  const std::string domain = kDomain;
  std::vector<Rule> rules;
  rules.push_back(draw_rule(d, "app." + domain, {{"/api", Kind::kPrefix}, {"/api/v1", draw_kind(d)}}, apps));
  rules.push_back(draw_rule(d, "*." + domain, {{"/foo/", Kind::kPrefix}}, apps));
  if (!d.one_in(4)) rules.push_back(draw_rule(d, "", {{"/api", draw_kind(d)}}, apps));
  if (d.one_in(2)) rules.push_back(draw_rule(d, "www." + domain, {}, apps));
  if (d.one_in(2)) rules.push_back(draw_rule(d, "*.api." + domain, {{"/v1", Kind::kPrefix}}, apps));
  return rules;
}

// Annotations metalgate acts on (and the HAProxy controller reads on an Ingress) that leave every answer to
// its pod: balancing, timeouts, health checks and headers (no rate limit, allow list, authentication or
// redirect, which would answer in the pods' place and hide a misrouted request).
std::vector<std::pair<std::string, std::string>> draw_annotations(Draw& d) {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> choices = {
      {"haproxy.org/load-balance", {"roundrobin", "leastconn", "source"}},
      {"haproxy.org/timeout-server", {"30s", "60s"}},
      {"haproxy.org/check-interval", {"2s", "3s"}},
      {"haproxy.org/response-set-header", {"X-Generated-Base yes"}},
      {"haproxy.org/request-set-header", {"X-Generated-Request yes"}},
      {"haproxy.org/check-http", {"/healthz"}},
  };
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, values] : choices)
    if (d.one_in(3)) out.emplace_back(name, values[d.below(static_cast<int>(values.size()))]);
  return out;
}

World draw_world(std::uint64_t seed) {
  Draw d(seed);
  World w;
  w.seed = seed;
  const int apps = 2 + d.below(3);
  for (int i = 0; i < apps; ++i) {
    w.replicas.push_back(1 + d.below(2));
    w.ports.push_back(d.one_in(2) ? 80 : 8080);
  }
  std::vector<Rule> rules = draw_rules(d, apps);
  // Every Ingress gets a rule, and all carry the same annotations: a Service that Ingresses annotate
  // differently gets the oldest one's settings, with a warning (tested by the engine's own tests).
  const int ingresses = 1 + d.below(std::min(3, static_cast<int>(rules.size())));
  const auto annotations = draw_annotations(d);
  for (int i = 0; i < ingresses; ++i)
    w.ingresses.push_back({"routes-" + std::to_string(i + 1), {}, -1, annotations});
  // Each Ingress takes one rule of the shuffled list, then the rest go anywhere.
  for (std::size_t i = rules.size(); i > 1; --i)
    std::swap(rules[i - 1], rules[d.below(static_cast<int>(i))]);
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const int to = i < w.ingresses.size() ? static_cast<int>(i) : d.below(ingresses);
    w.ingresses[to].rules.push_back(std::move(rules[i]));
  }
  // One default backend at most (of several, the oldest Ingress's would serve, with a warning).
  if (d.one_in(2)) w.ingresses[d.below(ingresses)].default_app = d.below(apps);
  if (d.one_in(4)) w.values_default_app = d.below(apps);
  if (d.one_in(2)) w.tcp_app = d.below(apps);
  w.announce_selected = d.one_in(2);
  w.selected_by_expression = d.one_in(2);
  w.interfaces_listed = d.below(3);
  w.cluster_controller = d.one_in(2);
  w.udp_map = d.one_in(2);
  return w;
}

// ------------------------------------------------------------------------------------------- manifests

std::string kind_name(Kind k) {
  return k == Kind::kExact ? "Exact" : k == Kind::kPrefix ? "Prefix" : "ImplementationSpecific";
}

std::string pool_and_advertisement(const World& w) {
  return "# The address pool and its Layer-2 advertisement.\n"
         "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
         "metadata:\n  name: generated-pool\n  namespace: metallb-system\n"
         "spec:\n  addresses:\n  - 192.168.1.240-192.168.1.250\n  autoAssign: true\n"
         "---\n"
         "apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\n"
         "metadata:\n  name: generated-l2-advertisement\n  namespace: metallb-system\n"
         "spec:\n  ipAddressPools:\n  - generated-pool\n" +
         std::string(!w.announce_selected ? ""
                     : w.selected_by_expression
                         ? "  nodeSelectors:\n  - matchExpressions:\n    - key: metalgate-check/announce\n"
                           "      operator: In\n      values: [\"yes\", \"always\"]\n"
                         : "  nodeSelectors:\n  - matchLabels:\n      metalgate-check/announce: \"yes\"\n") +
         std::string(w.interfaces_listed == 1   ? "  interfaces:\n  - eth0\n"
                     : w.interfaces_listed == 2 ? "  interfaces:\n  - eth1\n  - eth0\n"
                                                : "");
}

std::string policy(const World& w) {
  return w.cluster_controller ? "Cluster" : "Local";
}

// The controller's Service as the chart renders it (scenarios/seed/haproxy-controller-service.yaml).
std::string controller_service(const World& w) {
  std::string s =
      "# The LoadBalancer Service in front of the ingress controller.\n"
      "apiVersion: v1\nkind: Service\n"
      "metadata:\n  name: haproxy-ingress-kubernetes-ingress\n  namespace: haproxy-ingress\n"
      "  labels:\n    app.kubernetes.io/name: kubernetes-ingress\n    app.kubernetes.io/instance: "
      "haproxy-ingress\n"
      "  annotations:\n    metallb.universe.tf/address-pool: generated-pool\n"
      "spec:\n  type: LoadBalancer\n  externalTrafficPolicy: " +
      policy(w) +
      "\n"
      "  selector:\n    app.kubernetes.io/name: kubernetes-ingress\n    app.kubernetes.io/instance: "
      "haproxy-ingress\n"
      "  ports:\n  - name: http\n    port: 80\n    protocol: TCP\n  - name: https\n    port: 443\n    "
      "protocol: TCP\n";
  if (w.tcp_app >= 0)
    s += "  - name: tcp-" + std::to_string(kTcpPort) + "\n    port: " + std::to_string(kTcpPort) +
         "\n    protocol: TCP\n";
  if (w.udp_map)
    s += "  - name: udp-" + std::to_string(kUdpPort) + "\n    port: " + std::to_string(kUdpPort) +
         "\n    protocol: UDP\n";
  return s;
}

// The controller's Helm values (as scenarios/seed/values/ set them): its class, its Service, and the
// tcp-services map and default backend when drawn.
std::string controller_values(const World& w) {
  std::string s =
      "# The ingress controller's Helm values.\n"
      "controller:\n  service:\n    type: LoadBalancer\n"
      "    annotations:\n      metallb.universe.tf/address-pool: generated-pool\n"
      "    externalTrafficPolicy: " +
      policy(w) + "\n    ports:\n      http: 80\n      https: 443\n";
  const std::string tcp = std::to_string(kTcpPort), udp = std::to_string(kUdpPort);
  if (w.tcp_app >= 0)
    s += "    tcpPorts:\n      - name: tcp-" + tcp + "\n        port: " + tcp +
         "\n        targetPort: " + tcp + "\n";
  if (w.udp_map)
    s += "    udpPorts:\n      - name: udp-" + udp + "\n        port: " + udp +
         "\n        targetPort: " + udp + "\n";
  if (w.tcp_app >= 0) s += "  tcpServices:\n    configMapName: haproxy-ingress-tcp\n";
  if (w.udp_map) s += "  udpServices:\n    configMapName: haproxy-ingress-udp\n";
  s += "  replicaCount: 2\n  ingressClass: haproxy\n"
       "  ingressClassResource:\n    name: haproxy\n    enabled: true\n    default: false\n"
       "    controllerValue: haproxy.org/ingress-controller\n";
  if (w.values_default_app >= 0)
    s += "  defaultBackendService: default/" + app_name(w.values_default_app) + "\n";
  return s;
}

std::string app(const World& w, int i) {
  const std::string name = app_name(i), port = std::to_string(w.ports[i]);
  return "apiVersion: apps/v1\nkind: Deployment\n"
         "metadata:\n  name: " +
         name + "\n  namespace: default\n  labels:\n    app: " + name + "\n" +
         "spec:\n  replicas: " + std::to_string(w.replicas[i]) + "\n" +
         "  selector:\n    matchLabels:\n      app: " + name + "\n" +
         "  template:\n    metadata:\n      labels:\n        app: " + name + "\n" +
         "    spec:\n      containers:\n      - name: " + name + "\n        image: nginx:1.25-alpine\n" +
         "        ports:\n        - containerPort: " + port + "\n          name: http\n" +
         "---\n"
         "apiVersion: v1\nkind: Service\n"
         "metadata:\n  name: " +
         name + "\n  namespace: default\n" + "spec:\n  type: ClusterIP\n  selector:\n    app: " + name +
         "\n" + "  ports:\n  - port: " + port + "\n    targetPort: " + port +
         "\n    protocol: TCP\n    name: http\n";
}

std::string backend(const World& w, int app, const std::string& indent) {
  return indent + "service:\n" + indent + "  name: " + app_name(app) + "\n" + indent + "  port:\n" + indent +
         "    number: " + std::to_string(w.ports[app]) + "\n";
}

std::string ingress(const World& w, const IngressDraw& in) {
  std::string s =
      "apiVersion: networking.k8s.io/v1\nkind: Ingress\n"
      "metadata:\n  name: " +
      in.name + "\n  namespace: default\n";
  if (!in.annotations.empty()) s += "  annotations:\n";
  for (const auto& [name, value] : in.annotations)
    s += "    " + name + ": \"" + value + "\"\n";
  s += "spec:\n  ingressClassName: haproxy\n";
  if (in.default_app >= 0) s += "  defaultBackend:\n" + backend(w, in.default_app, "    ");
  if (!in.rules.empty()) s += "  rules:\n";
  for (const auto& rule : in.rules) {
    s += rule.host.empty() ? "  - http:\n" : "  - host: \"" + rule.host + "\"\n    http:\n";
    s += "      paths:\n";
    for (const auto& r : rule.routes)
      s += "      - path: " + r.path + "\n        pathType: " + kind_name(r.kind) + "\n        backend:\n" +
           backend(w, r.app, "          ");
  }
  return s;
}

std::string tcp_services(const World& w) {
  return "# Format: <external-port>: <namespace>/<service-name>:<service-port>\n"
         "apiVersion: v1\nkind: ConfigMap\n"
         "metadata:\n  name: haproxy-ingress-tcp\n  namespace: haproxy-ingress\n"
         "data:\n  \"" +
         std::to_string(kTcpPort) + "\": \"default/" + app_name(w.tcp_app) + ":" +
         std::to_string(w.ports[w.tcp_app]) + "\"\n";
}

// A DNS-like Deployment of one pod answering datagrams, and the udp-services map that sends the controller's
// UDP port to it (the seed's CoreDNS, scenarios/seed/udp-service.yaml, at another port).
std::string udp_services() {
  const std::string port = std::to_string(kUdpPort);
  return "apiVersion: apps/v1\nkind: Deployment\n"
         "metadata:\n  name: dns\n  namespace: default\n"
         "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: dns\n"
         "  template:\n    metadata:\n      labels:\n        app: dns\n"
         "    spec:\n      containers:\n      - name: dns\n        image: coredns/coredns:1.11.1\n"
         "        ports:\n        - containerPort: " +
         port +
         "\n          protocol: UDP\n          name: dns-udp\n"
         "---\n"
         "apiVersion: v1\nkind: Service\n"
         "metadata:\n  name: dns\n  namespace: default\n"
         "spec:\n  type: ClusterIP\n  selector:\n    app: dns\n  ports:\n  - port: " +
         port + "\n    targetPort: " + port +
         "\n    protocol: UDP\n    name: dns-udp\n"
         "---\n"
         "apiVersion: v1\nkind: ConfigMap\n"
         "metadata:\n  name: haproxy-ingress-udp\n  namespace: haproxy-ingress\n"
         "data:\n  \"" +
         port + "\": \"default/dns:" + port + "\"\n";
}

// ------------------------------------------------------------------------------------------- requests

struct Request {
  std::string host, path;
  bool operator<(const Request& o) const { return std::tie(host, path) < std::tie(o.host, o.path); }
};

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The request paths that tell a right matcher from a nearly right one for one route. Prefix P (without its
// trailing slash): P, P/, P/x, Px (a string prefix would take it), P in upper case (paths are case
// sensitive). Exact: P and P/ (a prefix matcher would take it). ImplementationSpecific: P, Px and P/x (a
// plain string prefix, which Px must match).
std::vector<std::string> request_paths(const Route& r) {
  std::string p = r.path;
  if (r.kind == Kind::kPrefix && p.size() > 1 && p.back() == '/') p.pop_back();
  const std::string slash = p.back() == '/' ? p : p + "/";
  switch (r.kind) {
    case Kind::kPrefix:
      return {p, slash, slash + "x", p + "x", upper(p)};
    case Kind::kExact:
      return {p, slash};
    case Kind::kImplementationSpecific:
      return {p, p + "x", slash + "x"};
  }
  return {p};
}

// Every route's request paths, asked of a host the rule matches; for a wildcard *.D, its paths asked of a.D
// (one label: matches), a.b.D (several labels: must not) and D (no label: *.D must not match it); the exact
// host in upper case (hosts are not); a host no rule names.
std::vector<Request> requests(const World& w) {
  std::set<Request> out;
  for (const auto& in : w.ingresses)
    for (const auto& rule : in.rules) {
      const bool wildcard = rule.host.rfind("*.", 0) == 0;
      const std::string parent = wildcard ? rule.host.substr(2) : "";
      const std::string host = rule.host.empty() ? "other.test" : wildcard ? "a." + parent : rule.host;
      for (const auto& r : rule.routes) {
        for (const auto& path : request_paths(r))
          out.insert({host, path});
        if (wildcard) {
          out.insert(Request{"a.b." + parent, r.path});
          out.insert(Request{parent, r.path});
        }
        if (!wildcard && !rule.host.empty()) out.insert(Request{upper(rule.host), r.path});
      }
    }
  out.insert(Request{"nobody.invalid", "/"});
  out.insert(Request{"nobody.invalid", "/api"});
  return {out.begin(), out.end()};
}

// ------------------------------------------------------------------------------------------- base.yaml

std::string pod_addresses(int first, int count) {
  std::string s;
  for (int i = 0; i < count; ++i)
    s += (i ? ", " : "") + std::string("192.168.1.") + std::to_string(first + i);
  return s;
}

std::string base_scenario(const World& w) {
  std::ostringstream s;
  s << "# A generated base for metalgate check (seed " << w.seed
    << "): the manifests in manifests/, three nodes\n"
    << "# running the speaker and the proxy, every app's pods, and a client asking the requests that tell a\n"
    << "# right router from a nearly right one.\n"
    << "name: generated-" << w.seed << "\nseed: 1\nduration: 20s\nlan:\n  subnet: 192.168.1.0/24\nnodes:\n";
  for (int i = 1; i <= 3; ++i)
    s << "  - {name: node-" << i << ", address: 192.168.1.1" << i << ", roles: [speaker, proxy]}\n";
  s << "manifests: [manifests]\nbackends:\n";
  int next = 31;
  for (std::size_t i = 0; i < w.replicas.size(); ++i) {
    s << "  - {deployment: default/" << app_name(static_cast<int>(i)) << ", addresses: ["
      << pod_addresses(next, w.replicas[i]) << "]}\n";
    next += w.replicas[i];
  }
  if (w.udp_map) s << "  - {deployment: default/dns, addresses: [" << pod_addresses(next, 1) << "]}\n";
  s << "clients:\n  - name: router-probe\n    address: 192.168.1.100\n    http:\n      mix:\n";
  for (const auto& r : requests(w))
    s << "        - {host: '" << r.host << "', path: '" << r.path << "'}\n";
  s << "      rate: 10\n      keepalive: true\n";
  if (w.tcp_app >= 0)
    s << "  - {name: tcp-" << kTcpPort << ", address: 192.168.1.101, http: {host: tcp-" << kTcpPort
      << ", path: /, port: " << kTcpPort << ", rate: 2}}\n";
  if (w.udp_map)
    s << "  - {name: udp-" << kUdpPort << ", address: 192.168.1.102, udp: {port: " << kUdpPort
      << ", rate: 2}}\n";
  return s.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Writes the files and removes any other .yaml file of the manifests directory (an earlier seed's), so the
// directory holds this seed's manifests only.
void write_files(const std::filesystem::path& manifests,
                 const std::vector<std::pair<std::string, std::string>>& files) {
  std::filesystem::create_directories(manifests);
  std::set<std::string> names;
  for (const auto& [name, text] : files) {
    write_file(manifests / name, text);
    names.insert(name);
  }
  for (const auto& entry : std::filesystem::directory_iterator(manifests))
    if (entry.path().extension() == ".yaml" && !names.count(entry.path().filename().string()))
      std::filesystem::remove(entry.path());
}

}  // namespace

std::string write_generated_base(std::uint64_t seed, const std::string& dir) {
  const World w = draw_world(seed);
  const std::filesystem::path root(dir);
  std::vector<std::pair<std::string, std::string>> files = {
      {"00-metallb.yaml", pool_and_advertisement(w)},
      {"10-controller-service.yaml", controller_service(w)},
      {"11-controller-values.yaml", controller_values(w)},
  };
  for (std::size_t i = 0; i < w.replicas.size(); ++i)
    files.emplace_back("20-" + app_name(static_cast<int>(i)) + ".yaml", app(w, static_cast<int>(i)));
  for (const auto& in : w.ingresses)
    files.emplace_back("30-" + in.name + ".yaml", ingress(w, in));
  if (w.tcp_app >= 0) files.emplace_back("40-tcp-services.yaml", tcp_services(w));
  if (w.udp_map) files.emplace_back("41-udp-services.yaml", udp_services());
  write_files(root / "manifests", files);
  write_file(root / "base.yaml", base_scenario(w));
  return (root / "base.yaml").string();
}

}  // namespace metalgate::check
