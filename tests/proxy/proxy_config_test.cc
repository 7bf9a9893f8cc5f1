// The proxy's configuration as built from manifests: what each setting becomes, and each mistake reported
// at the file and line that holds it.
#include "engine/proxy/proxy_config.h"

#include <gmock/gmock.h>
#include <functional>
#include <map>
#include <gtest/gtest.h>

#include "engine/config/annotations.h"
#include "engine/config/manifest_loader.h"
#include "engine/model/resolve.h"

namespace metalgate::proxy {
namespace {

using ::testing::HasSubstr;

struct Built {
  ProxyConfig config;
  config::Diagnostics diagnostics;
};

// Builds from one Helm values file whose controller.config is `config_yaml` (indented by four spaces).
std::unique_ptr<Built> build(const std::string& config_yaml) {
  auto b = std::make_unique<Built>();
  config::ManifestSet set;
  config::load_manifest_text("controller:\n  config:\n" + config_yaml, "values.yaml", set, b->diagnostics);
  config::finish_manifest_set(set, b->diagnostics);
  auto model = std::make_shared<model::Model>(model::resolve_model(std::move(set), {}, b->diagnostics));
  b->config = build_proxy_config(model, {}, b->diagnostics);
  return b;
}

const config::Diagnostic* find(const config::Diagnostics& d, config::Severity severity,
                               const std::string& text) {
  for (const auto& x : d.items())
    if (x.severity == severity && x.message.find(text) != std::string::npos) return &x;
  return nullptr;
}

TEST(ProxyConfigTls, DefaultsAreTls12AtLeastWithMozillaIntermediateSuitesAndTickets) {
  auto b = build("    maxconn: \"100\"\n");
  EXPECT_EQ(b->config.tls.offer.min_version, 0x0303);
  EXPECT_EQ(b->config.tls.offer.ciphers, tls::kIntermediateCiphers);
  EXPECT_EQ(b->config.tls.offer.ciphers.find("-SHA:"), std::string::npos) << "no CBC suite";
  EXPECT_EQ(b->config.tls.offer.ciphersuites, "");
  EXPECT_TRUE(b->config.tls.offer.session_tickets);
}

TEST(ProxyConfigTls, SslOptionsReadHaproxysBindOptionWords) {
  auto b = build("    ssl-options: \"no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12 no-tls-tickets\"\n");
  EXPECT_FALSE(b->diagnostics.has_errors()) << b->diagnostics.to_string();
  EXPECT_EQ(b->config.tls.offer.min_version, 0x0304);
  EXPECT_FALSE(b->config.tls.offer.session_tickets);
  auto low = build("    ssl-options: \"ssl-min-ver TLSv1.1\"\n");
  EXPECT_EQ(low->config.tls.offer.min_version, 0x0302);
}

TEST(ProxyConfigTls, GlobalConfigSnippetSetsCiphersAndCiphersuites) {
  auto b = build(
      "    global-config-snippet: |\n"
      "      ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256:!aNULL\n"
      "      ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256\n");
  EXPECT_FALSE(b->diagnostics.has_errors()) << b->diagnostics.to_string();
  EXPECT_EQ(b->config.tls.offer.ciphers, "ECDHE-RSA-AES128-GCM-SHA256:!aNULL");
  EXPECT_EQ(b->config.tls.offer.ciphersuites, "TLS_AES_128_GCM_SHA256");
}

TEST(ProxyConfigTls, AnUnknownCipherOrCiphersuiteIsAnErrorAtItsLine) {
  auto b = build(
      "    timeout-client: 5s\n"
      "    global-config-snippet: |\n"
      "      ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA257\n"
      "      ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_512\n");
  const auto* cipher =
      find(b->diagnostics, config::Severity::kError, "'ECDHE-RSA-AES128-GCM-SHA257' is not a cipher");
  ASSERT_TRUE(cipher) << b->diagnostics.to_string();
  EXPECT_EQ(cipher->where.file, "values.yaml");
  EXPECT_EQ(cipher->where.line, 4);
  EXPECT_THAT(cipher->field, HasSubstr("global-config-snippet"));
  EXPECT_TRUE(find(b->diagnostics, config::Severity::kError, "'TLS_AES_512' is not a TLS 1.3 ciphersuite"));
  EXPECT_EQ(b->config.tls.offer.ciphers, tls::kIntermediateCiphers) << "a refused list changes nothing";
}

TEST(ProxyConfigTls, WordsAndSnippetLinesMetalgateDoesNotReadAreWarned) {
  auto b = build(
      "    ssl-options: \"no-sslv3 strict-sni\"\n"
      "    global-config-snippet: |\n"
      "      tune.ssl.default-dh-param 2048\n"
      "      ssl-default-bind-options ssl-min-ver TLSv9\n");
  EXPECT_TRUE(find(b->diagnostics, config::Severity::kWarning, "'strict-sni' is not read"));
  EXPECT_TRUE(find(b->diagnostics, config::Severity::kWarning, "'tune.ssl.default-dh-param' is not applied"));
  EXPECT_TRUE(find(b->diagnostics, config::Severity::kError, "ssl-min-ver 'TLSv9'"));
}

TEST(ProxyConfigTls, HttpsOffersH2FirstAsTheControllerDoes) {
  auto b = build("    maxconn: \"100\"\n");
  EXPECT_EQ(b->config.tls.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
}

TEST(ProxyConfigTls, TlsAlpnKeepsWhatMetalgateSpeaksInItsOrderAndWarnsOfTheRest) {
  auto b = build("    tls-alpn: \"http/1.1\"\n");
  EXPECT_FALSE(b->diagnostics.has_errors()) << b->diagnostics.to_string();
  EXPECT_EQ(b->config.tls.alpn, (std::vector<std::string>{"http/1.1"}));
  auto mixed = build("    tls-alpn: \"h3, http/1.1 ,h2\"\n");
  EXPECT_EQ(mixed->config.tls.alpn, (std::vector<std::string>{"http/1.1", "h2"}));
  const auto* h3 = find(mixed->diagnostics, config::Severity::kWarning, "'h3' is not offered");
  ASSERT_TRUE(h3) << mixed->diagnostics.to_string();
  EXPECT_EQ(h3->where.line, 3);
  auto none = build("    tls-alpn: \"spdy/3\"\n");
  EXPECT_TRUE(find(none->diagnostics, config::Severity::kError, "offers no protocol metalgate speaks"));
  EXPECT_EQ(none->config.tls.alpn, (std::vector<std::string>{"h2", "http/1.1"}))
      << "a refused list changes nothing";
}

// ------------------------------------------------------------------------------------------ conflicts

// Builds from whole manifest files (name, text), as `metalgate validate` reads them.
std::unique_ptr<Built> build_files(const std::vector<std::pair<std::string, std::string>>& files) {
  auto b = std::make_unique<Built>();
  config::ManifestSet set;
  for (const auto& [name, text] : files)
    config::load_manifest_text(text, name, set, b->diagnostics);
  config::finish_manifest_set(set, b->diagnostics);
  auto model = std::make_shared<model::Model>(model::resolve_model(std::move(set), {}, b->diagnostics));
  b->config = build_proxy_config(model, {}, b->diagnostics);
  return b;
}

const char* const kWebAppService = R"(apiVersion: v1
kind: Service
metadata:
  name: web-app
  namespace: default
spec:
  selector:
    app: web-app
  ports:
  - name: http
    port: 80
)";

// An Ingress sending `host`/ to web-app:80; `annotation` ("check-interval: 5s") is on line 8, column 5.
std::string ingress_to_web_app(const std::string& name, const std::string& created, const std::string& host,
                               const std::string& annotation) {
  return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
         "\n  namespace: default\n" + (created.empty() ? "" : "  creationTimestamp: \"" + created + "\"\n") +
         "  annotations:\n    haproxy.org/" + annotation +
         "\nspec:\n  ingressClassName: haproxy\n  rules:\n  - host: \"" + host +
         "\"\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n"
         "          service:\n            name: web-app\n            port:\n              number: 80\n";
}

std::vector<std::string> warnings_with(const config::Diagnostics& d, const std::string& text) {
  std::vector<std::string> out;
  for (const auto& x : d.items())
    if (x.severity == config::Severity::kWarning && x.to_string().find(text) != std::string::npos)
      out.push_back(x.to_string());
  return out;
}

TEST(Conflicts, TwoIngressesSettingOneBackendsCheckIntervalNameBothAndTheOldestWins) {
  // a-shop sorts first by name, but web-app-ingress is older.
  auto b = build_files({{"svc.yaml", kWebAppService},
                        {"web.yaml", ingress_to_web_app("web-app-ingress", "2024-05-01T10:00:00Z",
                                                        "app.example.com", "check-interval: 5s")},
                        {"shop.yaml", ingress_to_web_app("a-shop", "2024-06-01T10:00:00Z",
                                                         "*.shop.example.com", "check-interval: 1s")}});
  EXPECT_FALSE(b->diagnostics.has_errors()) << b->diagnostics.to_string();
  EXPECT_EQ(warnings_with(b->diagnostics, "check-interval"),
            std::vector<std::string>{
                "web.yaml:8:5: warning: Service default/web-app port 80: check-interval is 5s from Ingress "
                "default/web-app-ingress (web.yaml:8:5); Ingress default/a-shop (shop.yaml:8:5) sets 1s. A "
                "backend has one health check: the oldest Ingress's setting is used (creationTimestamp, then "
                "namespace/name)."});
  ASSERT_EQ(b->config.backends.size(), 1u);
  EXPECT_EQ(b->config.backends[0].check.interval, milliseconds(5000));
}

TEST(Conflicts, WithoutCreationTimestampsTheFirstIngressByNamespaceAndNameWins) {
  auto b = build_files(
      {{"svc.yaml", kWebAppService},
       {"web.yaml", ingress_to_web_app("web-app-ingress", "", "app.example.com", "load-balance: leastconn")},
       {"shop.yaml", ingress_to_web_app("a-shop", "", "*.shop.example.com", "load-balance: source")}});
  EXPECT_EQ(
      warnings_with(b->diagnostics, "load-balance"),
      std::vector<std::string>{
          "shop.yaml:7:5: warning: Service default/web-app port 80: load-balance is source from Ingress "
          "default/a-shop (shop.yaml:7:5); Ingress default/web-app-ingress (web.yaml:7:5) sets leastconn. "
          "A backend has one balance algorithm: the oldest Ingress's setting is used (creationTimestamp, "
          "then namespace/name)."});
  EXPECT_EQ(b->config.backends[0].balance, Balance::kSource);
}

TEST(Conflicts, AnIngressWithATimestampIsOlderThanOneWithout) {
  auto b = build_files(
      {{"svc.yaml", kWebAppService},
       {"web.yaml", ingress_to_web_app("web-app-ingress", "2024-05-01T10:00:00Z", "app.example.com",
                                       "load-balance: leastconn")},
       {"shop.yaml", ingress_to_web_app("a-shop", "", "*.shop.example.com", "load-balance: source")}});
  EXPECT_EQ(b->config.backends[0].balance, Balance::kLeastConn);
}

TEST(Conflicts, ASettingTheOldestIngressLeavesUnsetIsNamedAndNotApplied) {
  auto b = build_files({{"svc.yaml", kWebAppService},
                        {"web.yaml", ingress_to_web_app("web-app-ingress", "2024-05-01T10:00:00Z",
                                                        "app.example.com", "check-interval: 5s")},
                        {"shop.yaml", ingress_to_web_app("a-shop", "2024-06-01T10:00:00Z",
                                                         "*.shop.example.com", "check-http: /health")}});
  EXPECT_EQ(
      warnings_with(b->diagnostics, "check-http"),
      std::vector<std::string>{
          "web.yaml:1:1: warning: Service default/web-app port 80: check-http is left unset by Ingress "
          "default/web-app-ingress (web.yaml:1:1), so the controller ConfigMap's value or the default "
          "applies; Ingress default/a-shop (shop.yaml:8:5) sets /health. A backend has one health check: "
          "the oldest Ingress's setting is used (creationTimestamp, then namespace/name)."});
  EXPECT_FALSE(b->config.backends[0].check.http);
}

TEST(Conflicts, TheServicesOwnAnnotationWinsOverEveryIngressAndTheWarningSaysSo) {
  std::string service = std::string(kWebAppService);
  service.replace(service.find("  namespace: default\n"), 21,
                  "  namespace: default\n  annotations:\n    haproxy.org/check-interval: 2s\n");
  auto b = build_files({{"svc.yaml", service},
                        {"web.yaml", ingress_to_web_app("web-app-ingress", "2024-05-01T10:00:00Z",
                                                        "app.example.com", "check-interval: 5s")},
                        {"shop.yaml", ingress_to_web_app("a-shop", "2024-06-01T10:00:00Z",
                                                         "*.shop.example.com", "check-interval: 1s")}});
  EXPECT_EQ(warnings_with(b->diagnostics, "check-interval"),
            std::vector<std::string>{
                "svc.yaml:7:5: warning: Service default/web-app port 80: check-interval is 2s from Service "
                "default/web-app (svc.yaml:7:5); Ingress default/web-app-ingress (web.yaml:8:5) sets 5s; "
                "Ingress default/a-shop (shop.yaml:8:5) sets 1s. A backend has one health check: the "
                "Service's own annotation is used (it is more specific than any Ingress)."});
  EXPECT_EQ(b->config.backends[0].check.interval, milliseconds(2000));
}

TEST(Conflicts, IngressesAgreeingOnABackendSettingRaiseNoWarning) {
  auto b = build_files(
      {{"svc.yaml", kWebAppService},
       {"web.yaml", ingress_to_web_app("web-app-ingress", "", "app.example.com", "check-interval: 5s")},
       {"shop.yaml", ingress_to_web_app("a-shop", "", "*.shop.example.com", "check-interval: 5s")}});
  EXPECT_TRUE(warnings_with(b->diagnostics, "A backend has one").empty()) << b->diagnostics.to_string();
}

TEST(Conflicts, PerRouteSettingsStayWithEachIngressAndAreNoConflict) {
  auto b =
      build_files({{"svc.yaml", kWebAppService},
                   {"web.yaml", ingress_to_web_app("web-app-ingress", "2024-05-01T10:00:00Z",
                                                   "app.example.com", "rate-limit-requests: \"10\"")},
                   {"shop.yaml", ingress_to_web_app("a-shop", "2024-06-01T10:00:00Z", "*.shop.example.com",
                                                    "rate-limit-requests: \"100\"")}});
  EXPECT_TRUE(warnings_with(b->diagnostics, "rate-limit").empty()) << b->diagnostics.to_string();
  const auto& routes = b->config.model->routes;
  const auto* app = routes.match("app.example.com", "/");
  const auto* shop = routes.match("a.shop.example.com", "/");
  ASSERT_TRUE(app && shop);
  EXPECT_EQ(app->target, shop->target) << "one backend";
  EXPECT_EQ(b->config.policies[b->config.route_policy.at(app)].rate_limit.requests, 10u);
  EXPECT_EQ(b->config.policies[b->config.route_policy.at(shop)].rate_limit.requests, 100u);
}

// ------------------------------------------------------------------------------------------ listeners

const char* const kTwoServices = R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec: {addresses: [192.168.1.240/31]}
---
apiVersion: v1
kind: Service
metadata:
  name: ingress
  namespace: haproxy-ingress
  annotations: {metallb.universe.tf/loadBalancerIPs: 192.168.1.240}
spec:
  type: LoadBalancer
  selector: {app.kubernetes.io/name: kubernetes-ingress}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: dns
  namespace: default
  annotations: {metallb.universe.tf/loadBalancerIPs: 192.168.1.241, haproxy.org/load-balance: leastconn}
spec:
  type: LoadBalancer
  sessionAffinity: ClientIP
  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: dns, namespace: default}
subsets:
- addresses: [{ip: 10.0.0.5, nodeName: n1}]
  ports: [{name: dns, port: 5353, protocol: UDP}, {name: dns-tcp, port: 5353}]
)";

std::vector<std::string> binds(const ProxyConfig& c) {
  std::vector<std::string> out;
  for (const auto& f : c.frontends)
    out.push_back(f.name + " " + f.bind.to_string());
  for (const auto& s : c.l4_services)
    out.push_back(s.name + " " + s.bind.to_string());
  return out;
}

TEST(ProxyConfigListeners, EachAddressExposesOnlyItsOwnServicesPorts) {
  auto b = build_files({{"all.yaml", kTwoServices}});
  ASSERT_FALSE(b->diagnostics.has_errors()) << b->diagnostics.to_string();
  EXPECT_EQ(binds(b->config), (std::vector<std::string>{"http 192.168.1.240:80", "default_dns_udp_53 192.168.1.241:53",
                                                        "default_dns_tcp_53 192.168.1.241:53"}));
}

TEST(ProxyConfigListeners, AServicesPortCarriesItsAffinityBalanceAndEndpointsWithTheirNode) {
  auto b = build_files({{"all.yaml", kTwoServices}});
  ASSERT_EQ(b->config.l4_services.size(), 2u);
  const auto& udp = b->config.l4_services[0];
  EXPECT_TRUE(udp.udp);
  EXPECT_EQ(udp.service, "default/dns");
  EXPECT_EQ(udp.client_ip_affinity, std::chrono::milliseconds(10800 * 1000));
  EXPECT_EQ(udp.backend.balance, Balance::kLeastConn) << "the Service's own haproxy.org annotations apply";
  ASSERT_EQ(udp.backend.servers.size(), 1u);
  EXPECT_EQ(udp.backend.servers[0].address.to_string(), "10.0.0.5:5353");
  EXPECT_EQ(udp.backend.servers[0].node, "n1");
}

TEST(ProxyConfigListeners, ServesListenAddressIsAddedAndTheUnspecifiedAddressReplacesTheVips) {
  config::Diagnostics d;
  config::ManifestSet set;
  config::load_manifest_text(kTwoServices, "all.yaml", set, d);
  config::finish_manifest_set(set, d);
  auto model = std::make_shared<model::Model>(model::resolve_model(std::move(set), {}, d));
  BuildOptions o;
  o.listen_address = net::IpAddress::v4(10, 1, 1, 1);
  auto c = build_proxy_config(model, o, d);
  ASSERT_EQ(c.frontends.size(), 2u);
  EXPECT_EQ(c.frontends[1].bind.to_string(), "10.1.1.1:80");
  o.listen_address = net::IpAddress::v4(0);
  c = build_proxy_config(model, o, d);
  ASSERT_EQ(c.frontends.size(), 1u);
  EXPECT_EQ(c.frontends[0].bind.to_string(), "0.0.0.0:80");
}

// ------------------------------------------------------------------------------------------ the annotation table

std::string shown(milliseconds ms) {
  auto n = ms.count();
  if (n % 3600000 == 0) return std::to_string(n / 3600000) + "h";
  if (n % 60000 == 0) return std::to_string(n / 60000) + "m";
  if (n % 1000 == 0) return std::to_string(n / 1000) + "s";
  return std::to_string(n) + "ms";
}
std::string shown(bool b) {
  return b ? "true" : "false";
}

// The manifests below set, on the Ingress, the Service and the controller ConfigMap, the names that make the
// build read the others (auth-type reads auth-secret, cors-enable the cors-* names, an Ingress's own
// timeout-client is read only when it is there, …), so every lookup runs; a LoadBalancer Service with a UDP and
// a TCP port runs the L4 ones.
const char* const kEveryReadIngress = R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec: {addresses: [192.0.2.53/32]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: default
  annotations:
    haproxy.org/auth-type: basic-auth
    haproxy.org/auth-secret: users
    haproxy.org/cors-enable: "true"
    haproxy.org/hsts: "true"
    haproxy.org/cookie-persistence: srv
    haproxy.org/rate-limit-requests: "10"
    haproxy.org/request-redirect: example.org
    haproxy.org/ssl-passthrough: "true"
    haproxy.org/timeout-client: 30s
spec:
  ingressClassName: haproxy
  rules:
  - host: app.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web-app, port: {number: 80}}}}
---
apiVersion: v1
kind: Secret
metadata: {name: users, namespace: default}
stringData: {admin: "$6$salt$abc"}
---
apiVersion: v1
kind: Service
metadata:
  name: dns
  namespace: default
  annotations:
    haproxy.org/udp-check: "true"
spec:
  type: LoadBalancer
  ports: [{name: dns, port: 53, protocol: UDP}, {name: tcp, port: 5353}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: dns, namespace: default}
subsets:
- addresses: [{ip: 10.1.0.53}]
  ports: [{name: dns, port: 53, protocol: UDP}, {name: tcp, port: 5353}]
)";

// "Where its scope says" made checkable: the build records each name it looks up with the scopes of that
// lookup, and each name the table says metalgate acts on must be looked up in exactly its metalgate scopes —
// no scope where the table (and so validate's "not read here" warning) says it is not read, none missing.
TEST(AnnotationTable, EveryActedOnNameIsReadInExactlyTheScopesTheTableGives) {
  config::Diagnostics d;
  config::ManifestSet set;
  config::load_manifest_text(kWebAppService, "svc.yaml", set, d);
  config::load_manifest_text(kEveryReadIngress, "in.yaml", set, d);
  config::finish_manifest_set(set, d);
  auto m = std::make_shared<model::Model>(model::resolve_model(std::move(set), {}, d));
  m->controller_config = {{"auth-type", "basic-auth"}, {"auth-secret", "default/users"}, {"cors-enable", "true"},
                          {"hsts", "true"}, {"cookie-persistence", "srv"}};
  std::map<std::string, std::uint8_t> reads;
  BuildOptions o;
  o.annotation_reads = &reads;
  build_proxy_config(m, o, d);
  auto scopes = [](std::uint8_t s) {
    std::string out;
    for (auto [bit, name] : {std::pair{config::kConfigMap, "ConfigMap"}, {config::kIngress, "Ingress"},
                             {config::kService, "Service"}})
      if (s & bit) out += std::string(out.empty() ? "" : ", ") + name;
    return out.empty() ? "nowhere" : out;
  };
  std::string mismatches;
  for (const auto& a : config::haproxy_annotations()) {
    if (!a.not_acted_on.empty()) continue;
    auto it = reads.find(std::string(a.name));
    const std::uint8_t read = it == reads.end() ? 0 : it->second;
    if (read != a.metalgate_scopes)
      mismatches += std::string(a.name) + ": read in " + scopes(read) + ", the table says " +
                    scopes(a.metalgate_scopes) + "\n";
  }
  EXPECT_EQ(mismatches, "");
}

// docs/annotations.md's defaults are the table's (engine/config/annotations.cc); here the table's default of each
// name metalgate acts on is checked against what a configuration built without it holds.
TEST(AnnotationDefaults, EveryDocumentedDefaultIsWhatTheCodeUsesWhenTheNameIsUnset) {
  auto b = build_files({{"svc.yaml", kWebAppService},
                        {"in.yaml", ingress_to_web_app("web", "", "app.example.com", "ssl-redirect: \"false\"")}});
  ASSERT_FALSE(b->diagnostics.has_errors()) << b->diagnostics.to_string();
  const ProxyConfig& c = b->config;
  ASSERT_EQ(c.backends.size(), 1u);
  const BackendConfig& be = c.backends[0];
  const RoutePolicy& p = c.policies[0];
  const L4ServiceConfig l4;
  using Getter = std::function<std::string()>;
  const std::map<std::string_view, Getter> actual = {
      {"check", [&] { return shown(be.check.enabled); }},
      {"check-interval", [&] { return shown(be.check.interval); }},
      {"backend-check-interval", [&] { return shown(be.check.interval); }},
      {"check-rise", [&] { return std::to_string(be.check.rise); }},
      {"health-check-rise", [&] { return std::to_string(be.check.rise); }},
      {"check-fall", [&] { return std::to_string(be.check.fall); }},
      {"health-check-fall", [&] { return std::to_string(be.check.fall); }},
      {"load-balance", [&] { return std::string(to_string(be.balance)); }},
      {"http-reuse", [&] { return be.http_reuse == HttpReuse::kSafe ? "safe" : "not safe"; }},
      {"cookie-indirect", [&] { return shown(CookiePersistence{}.indirect); }},
      {"cookie-nocache", [&] { return shown(CookiePersistence{}.nocache); }},
      {"timeout-connect", [&] { return shown(be.timeouts.connect); }},
      {"timeout-server", [&] { return shown(be.timeouts.server); }},
      {"timeout-queue", [&] { return shown(be.timeouts.queue); }},
      {"timeout-tunnel", [&] { return shown(be.timeouts.tunnel); }},
      {"timeout-client", [&] { return shown(c.frontend_timeouts.client); }},
      {"timeout-http-request", [&] { return shown(c.frontend_timeouts.http_request); }},
      {"timeout-http-keep-alive", [&] { return shown(c.frontend_timeouts.http_keep_alive); }},
      {"request-buffer-size", [&] { return std::to_string(c.limits.max_head_bytes); }},
      {"forwarded-for", [&] { return shown(p.forwarded_for); }},
      {"access-log", [&] { return shown(p.access_log); }},
      {"rate-limit-period", [&] { return shown(p.rate_limit.period); }},
      {"rate-limit-status-code", [&] { return std::to_string(p.rate_limit.status); }},
      {"ssl-redirect", [&] { return shown(p.ssl_redirect); }},
      {"ssl-redirect-code", [&] { return std::to_string(p.ssl_redirect_code); }},
      {"hsts", [&] { return shown(p.hsts.enabled); }},
      {"hsts-max-age", [&] { return std::to_string(p.hsts.max_age); }},
      {"hsts-include-subdomains", [&] { return shown(p.hsts.include_subdomains); }},
      {"hsts-preload", [&] { return shown(p.hsts.preload); }},
      {"response-compress", [&] { return shown(p.compression.enabled); }},
      {"udp-idle-timeout", [&] { return shown(l4.udp_idle_timeout); }},
      {"udp-max-flows", [&] { return std::to_string(l4.udp_max_flows); }},
      {"server-ssl", [&] { return shown(be.tls.has_value()); }},
      {"ssl-passthrough", [&] { return shown(!c.passthrough_hosts.empty()); }},
      {"tls-alpn",
       [&] {
         std::string offered;
         for (const auto& name : c.tls.alpn)
           offered += (offered.empty() ? "" : ",") + name;
         return offered;
       }},
  };
  // Defaults that are not one field's value, each with where it is checked instead.
  const std::map<std::string_view, std::string_view> elsewhere = {
      {"auth-realm", "tests/proxy/proxy_test.cc ProxyBasicAuth (sent as Protected-Content, as the controller)"},
      {"request-redirect-code", "tests/proxy/proxy_test.cc ProxyRequestRedirect"},
      {"ssl-redirect-port", "the HTTPS frontend's port unless set: tests/tls/tls_proxy_test.cc"},
      {"compression-algo", "gzip is the only algorithm: tests/proxy/compression_test.cc"},
      {"compression-type", "tests/proxy/compression_test.cc"},
      {"ssl-options", "tests/proxy/proxy_config_test.cc ProxyConfigTls.DefaultsAreTls12AtLeast…"},
      {"cors-enable", "tests/proxy/proxy_test.cc ProxyCors (no Origin header: none added)"},
      {"cors-allow-origin", "tests/proxy/cors_test.cc Cors.TheDefaultsAllowEveryOriginMethodAndHeaderForFiveSeconds"},
      {"cors-allow-methods", "tests/proxy/cors_test.cc Cors.TheDefaultsAllowEveryOriginMethodAndHeaderForFiveSeconds"},
      {"cors-allow-headers", "tests/proxy/cors_test.cc Cors.TheDefaultsAllowEveryOriginMethodAndHeaderForFiveSeconds"},
      {"cors-max-age", "tests/proxy/cors_test.cc Cors.TheDefaultsAllowEveryOriginMethodAndHeaderForFiveSeconds"},
      {"cors-allow-credentials", "tests/proxy/cors_test.cc Cors.AMatchingOriginIsEchoedAndCredentialsAllowedWhenAsked"},
      {"cors-respond-to-options", "tests/proxy/proxy_test.cc ProxyCors.OptionsReachTheServerUnlessRespondToOptionsAnswersThem204"},
  };
  for (const auto& a : config::haproxy_annotations()) {
    if (a.default_value.empty() || !a.not_acted_on.empty() || elsewhere.count(a.name)) continue;
    auto it = actual.find(a.name);
    if (it == actual.end()) {
      ADD_FAILURE() << a.name << " has the documented default '" << a.default_value << "' and no check here";
      continue;
    }
    EXPECT_EQ(it->second(), a.default_value) << a.name;
  }
}

}  // namespace
}  // namespace metalgate::proxy
