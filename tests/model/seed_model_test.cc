// The seed manifests end to end: what the tutorial promises must come out of the model.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/config/manifest_loader.h"
#include "engine/model/resolve.h"

namespace metalgate::model {
namespace {

class SeedModel : public ::testing::Test {
 protected:
  void SetUp() override {
    auto set =
        config::load_manifest_paths({std::string(METALGATE_SOURCE_DIR) + "/scenarios/seed"}, diagnostics);
    model = resolve_model(std::move(set), {}, diagnostics);
  }
  config::Diagnostics diagnostics;
  Model model;
};

TEST_F(SeedModel, IsValid) {
  EXPECT_FALSE(diagnostics.has_errors()) << diagnostics.to_string();
}

TEST_F(SeedModel, TheProxyServiceGetsTheFirstPoolAddress) {
  const auto* ctl = model.ingress_controller();
  ASSERT_NE(ctl, nullptr);
  EXPECT_EQ(ctl->key, "haproxy-ingress/haproxy-ingress-kubernetes-ingress");
  ASSERT_EQ(ctl->addresses.size(), 1u);
  EXPECT_EQ(ctl->addresses[0].to_string(), "192.168.1.240");
  EXPECT_EQ(ctl->pool, "haproxy-pool");
  ASSERT_EQ(ctl->announcements.size(), 1u);
  EXPECT_EQ(ctl->announcements[0].l2_advertisement, "metallb-system/haproxy-l2-advertisement");
  EXPECT_EQ(ctl->service->external_traffic_policy, config::TrafficPolicy::kLocal);
}

TEST_F(SeedModel, BothIngressesRouteTheirHostToTheWebApp) {
  EXPECT_EQ(model.ingress_class, "haproxy");
  EXPECT_EQ(model.ingresses,
            (std::vector<std::string>{"default/advanced-web-ingress", "default/web-app-ingress"}));
  for (const char* host : {"app.example.com", "advanced.example.com", "APP.example.com:443"}) {
    const auto* r = model.routes.match(host, "/any/path");
    ASSERT_NE(r, nullptr) << host;
    const auto& b = model.backends[r->target];
    EXPECT_EQ(b.service_key, "default/web-app");
    EXPECT_EQ(b.port, 80);
    ASSERT_EQ(b.endpoints.endpoints.size(), 3u);
    EXPECT_EQ(b.endpoints.endpoints[2].name, "web-app-2");
  }
  EXPECT_EQ(model.routes.match("other.example.com", "/"), nullptr);
  EXPECT_FALSE(model.routes.default_target());
  ASSERT_EQ(model.tls.size(), 2u);
}

TEST_F(SeedModel, TcpAndUdpMapsComeFromTheConfigMaps) {
  ASSERT_EQ(model.tcp_services.size(), 2u);
  EXPECT_EQ(model.tcp_services[0].listen_port, 5432);
  EXPECT_EQ(model.tcp_services[0].service_key, "default/postgresql");
  EXPECT_EQ(model.tcp_services[1].listen_port, 6379);
  EXPECT_EQ(model.tcp_services[1].endpoints.endpoints.size(), 1u);
  ASSERT_EQ(model.udp_services.size(), 1u);
  EXPECT_EQ(model.udp_services[0].listen_port, 53);
  EXPECT_EQ(model.udp_services[0].service_key, "default/coredns-custom");
  EXPECT_EQ(model.udp_services[0].endpoints.endpoints.size(), 2u);
}

TEST_F(SeedModel, ControllerSettingsFromTheValuesFiles) {
  EXPECT_EQ(model.controller_config.at("load-balance"), "leastconn");
  EXPECT_EQ(model.controller_config.at("timeout-queue"), "30000");
  ASSERT_TRUE(model.manifests.controller);
  EXPECT_EQ(model.manifests.controller->replica_count, 3);  // step 5 raised it
  EXPECT_TRUE(model.manifests.controller->stats_enabled);
}

TEST_F(SeedModel, InventedAnnotationsAreNotedWithTheirRealEquivalent) {
  int notes = 0;
  for (const auto& d : diagnostics.items())
    if (d.severity == config::Severity::kNote && d.message.find("its equivalent there") != std::string::npos)
      ++notes;
  EXPECT_GE(notes, 15);
}

// ------------------------------------------------------------------------------------------ conflicts

struct Resolved {
  config::Diagnostics diagnostics;
  Model model;
};

// Loads whole manifest files (name, text) and resolves them, as `metalgate validate` does.
std::unique_ptr<Resolved> resolve_files(const std::vector<std::pair<std::string, std::string>>& files) {
  auto r = std::make_unique<Resolved>();
  config::ManifestSet set;
  for (const auto& [name, text] : files)
    config::load_manifest_text(text, name, set, r->diagnostics);
  config::finish_manifest_set(set, r->diagnostics);
  r->model = resolve_model(std::move(set), {}, r->diagnostics);
  return r;
}

std::string service(const std::string& name, const std::string& ports,
                    const std::string& type = "ClusterIP") {
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name +
         "\n  namespace: default\nspec:\n  type: " + type + "\n  selector:\n    app: " + name +
         "\n  ports:\n" + ports;
}

// An Ingress routing host/ to `backend`:80; its backend stands on line 16, column 11 (15 without a
// timestamp).
std::string ingress(const std::string& name, const std::string& created, const std::string& host,
                    const std::string& backend) {
  return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
         "\n  namespace: default\n" + (created.empty() ? "" : "  creationTimestamp: \"" + created + "\"\n") +
         "spec:\n  ingressClassName: haproxy\n  rules:\n  - host: " + host +
         "\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n"
         "          service:\n            name: " +
         backend + "\n            port:\n              number: 80\n";
}

std::vector<std::string> warnings_with(const config::Diagnostics& d, const std::string& text) {
  std::vector<std::string> out;
  for (const auto& x : d.items())
    if (x.severity == config::Severity::kWarning && x.to_string().find(text) != std::string::npos)
      out.push_back(x.to_string());
  return out;
}

const std::string kPort80 = "  - name: http\n    port: 80\n";

TEST(Conflicts, TheSameHostAndPathInTwoIngressesNameBothLocationsAndTheOldestWins) {
  auto r = resolve_files(
      {{"svc.yaml", service("web-app", kPort80) + "---\n" + service("shop", kPort80)},
       {"web.yaml", ingress("web-app-ingress", "2024-05-01T10:00:00Z", "app.example.com", "web-app")},
       {"shop.yaml", ingress("a-shop", "2024-06-01T10:00:00Z", "app.example.com", "shop")}});
  EXPECT_EQ(warnings_with(r->diagnostics, "route "),
            std::vector<std::string>{
                "web.yaml:16:11: warning: route app.example.com/ (Prefix): goes to default/web-app:80 from "
                "Ingress default/web-app-ingress (web.yaml:16:11); Ingress default/a-shop (shop.yaml:16:11) "
                "sends it to default/shop:80. One rule serves a host and path: the oldest Ingress's is used "
                "(creationTimestamp, then namespace/name), with its annotations."});
  const auto* route = r->model.routes.match("app.example.com", "/");
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(r->model.backends[route->target].service_key, "default/web-app");
  EXPECT_EQ(r->model.ingresses, (std::vector<std::string>{"default/web-app-ingress", "default/a-shop"}));
}

TEST(Conflicts, ThreeIngressesOnOneRouteGiveOneWarningNamingAllThree) {
  auto r = resolve_files({{"svc.yaml", service("web-app", kPort80) + "---\n" + service("shop", kPort80)},
                          {"a.yaml", ingress("a", "", "app.example.com", "web-app")},
                          {"b.yaml", ingress("b", "", "app.example.com", "shop")},
                          {"c.yaml", ingress("c", "", "app.example.com", "shop")}});
  EXPECT_EQ(warnings_with(r->diagnostics, "route "),
            std::vector<std::string>{
                "a.yaml:15:11: warning: route app.example.com/ (Prefix): goes to default/web-app:80 from "
                "Ingress default/a (a.yaml:15:11); Ingress default/b (b.yaml:15:11) sends it to "
                "default/shop:80; Ingress default/c (c.yaml:15:11) sends it to default/shop:80. One rule "
                "serves a host and path: the oldest Ingress's is used (creationTimestamp, then "
                "namespace/name), with its annotations."});
}

TEST(Conflicts, OneBackendListsEveryIngressThatRoutesToItOldestFirst) {
  auto r = resolve_files({{"svc.yaml", service("web-app", kPort80)},
                          {"b.yaml", ingress("b", "2024-05-01T10:00:00Z", "b.example.com", "web-app")},
                          {"a.yaml", ingress("a", "2024-06-01T10:00:00Z", "a.example.com", "web-app")}});
  ASSERT_EQ(r->model.backends.size(), 1u);
  EXPECT_EQ(r->model.backends[0].ingress, "default/b");
  EXPECT_EQ(r->model.backends[0].ingresses, (std::vector<std::string>{"default/b", "default/a"}));
}

TEST(Conflicts, TwoDefaultBackendsNameBothAndTheOldestWins) {
  auto default_backend = [](const std::string& name, const std::string& svc) {
    return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
           "\n  namespace: default\nspec:\n  ingressClassName: haproxy\n  defaultBackend:\n    service:\n"
           "      name: " +
           svc + "\n      port:\n        number: 80\n";
  };
  auto r = resolve_files({{"svc.yaml", service("web-app", kPort80) + "---\n" + service("shop", kPort80)},
                          {"a.yaml", default_backend("a", "web-app")},
                          {"b.yaml", default_backend("b", "shop")}});
  EXPECT_EQ(
      warnings_with(r->diagnostics, "defaultBackend"),
      std::vector<std::string>{
          "a.yaml:9:5: warning: spec.defaultBackend: unmatched requests go to default/web-app:80 from "
          "Ingress default/a (a.yaml:9:5); Ingress default/b (b.yaml:9:5) sets default/shop:80. There is "
          "one default backend: the oldest Ingress's is used (creationTimestamp, then namespace/name)."});
  ASSERT_TRUE(r->model.routes.default_target());
  EXPECT_EQ(r->model.backends[*r->model.routes.default_target()].service_key, "default/web-app");
}

const char* const kTcpUdpValues = R"(controller:
  tcpServices:
    configMapName: tcp
  udpServices:
    configMapName: udp
)";

std::string config_map(const std::string& name, const std::string& entry) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: default\ndata:\n  " +
         entry + "\n";
}

TEST(Conflicts, APortInBothTheTcpAndTheUdpConfigMapToDifferentServicesNamesBoth) {
  auto r =
      resolve_files({{"values.yaml", kTcpUdpValues},
                     {"svc.yaml", service("dns-tcp", "  - name: dns\n    port: 53\n") + "---\n" +
                                      service("dns-udp", "  - name: dns\n    port: 53\n    protocol: UDP\n")},
                     {"tcp.yaml", config_map("tcp", "\"53\": default/dns-tcp:53")},
                     {"udp.yaml", config_map("udp", "\"53\": default/dns-udp:53")}});
  EXPECT_EQ(
      warnings_with(r->diagnostics, "separate listeners"),
      std::vector<std::string>{
          "tcp.yaml:7:3: warning: port 53: TCP goes to default/dns-tcp:53 from ConfigMap default/tcp "
          "(tcp.yaml:7:3); UDP goes to default/dns-udp:53 from ConfigMap default/udp (udp.yaml:7:3). TCP "
          "and UDP are separate listeners: both are used, each for its own protocol."});
  EXPECT_EQ(r->model.tcp_services.size(), 1u);
  EXPECT_EQ(r->model.udp_services.size(), 1u);
}

TEST(Conflicts, OneServiceOnTheSamePortOverTcpAndUdpIsNoConflict) {
  auto r =
      resolve_files({{"values.yaml", kTcpUdpValues},
                     {"svc.yaml", service("dns",
                                          "  - name: dns\n    port: 53\n  - name: dns-udp\n    port: 53\n"
                                          "    protocol: UDP\n")},
                     {"tcp.yaml", config_map("tcp", "\"53\": default/dns:53")},
                     {"udp.yaml", config_map("udp", "\"53\": default/dns:53")}});
  EXPECT_TRUE(warnings_with(r->diagnostics, "separate listeners").empty()) << r->diagnostics.to_string();
}

TEST(Conflicts, AConfigMapPortAndAnotherLoadBalancerServicesSamePortEachGoWhereTheirAddressSays) {
  const char* pool = R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: pool
  namespace: metallb-system
spec:
  addresses:
  - 192.168.1.240-192.168.1.250
)";
  auto r =
      resolve_files({{"values.yaml", kTcpUdpValues},
                     {"pool.yaml", pool},
                     {"svc.yaml", service("postgresql", "  - name: pg\n    port: 5432\n") + "---\n" +
                                      service("pg-direct", "  - name: pg\n    port: 5432\n", "LoadBalancer")},
                     {"tcp.yaml", config_map("tcp", "\"5432\": default/postgresql:5432")}});
  auto pg = std::find_if(r->model.services.begin(), r->model.services.end(),
                         [](const ResolvedService& s) { return s.key == "default/pg-direct"; });
  ASSERT_NE(pg, r->model.services.end());
  ASSERT_FALSE(pg->addresses.empty()) << r->diagnostics.to_string();
  // The ConfigMap's 5432 is the controller's (its addresses); pg-direct's 5432 is its own address's.
  ASSERT_EQ(r->model.tcp_services.size(), 1u);
  EXPECT_EQ(r->model.tcp_services[0].service_key, "default/postgresql");
  ASSERT_EQ(r->model.forwards.size(), 1u);
  EXPECT_EQ(r->model.forwards[0].service_key, "default/pg-direct");
  EXPECT_EQ(r->model.forwards[0].addresses, pg->addresses);
  EXPECT_EQ(r->model.forwards[0].port.port, 5432);
  EXPECT_TRUE(warnings_with(r->diagnostics, "exposes it too").empty()) << r->diagnostics.to_string();
}

// kube-proxy does not cross address families: a dual-stack Service's IPv4 address forwards to its IPv4
// endpoints only and its IPv6 address to its IPv6 ones.
TEST(Forwards, ADualStackServiceForwardsEachFamilyToItsOwnEndpoints) {
  const char* manifests = R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec: {addresses: [192.168.1.240/32, "fd00::240/128"]}
---
apiVersion: v1
kind: Service
metadata: {name: redis, namespace: default}
spec:
  type: LoadBalancer
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  ports: [{name: redis, port: 6379}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: redis-v4, namespace: default, labels: {kubernetes.io/service-name: redis}}
addressType: IPv4
ports: [{name: redis, port: 6379}]
endpoints: [{addresses: [10.0.0.5]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: redis-v6, namespace: default, labels: {kubernetes.io/service-name: redis}}
addressType: IPv6
ports: [{name: redis, port: 6379}]
endpoints: [{addresses: ["fd00::5"]}]
)";
  auto r = resolve_files({{"redis.yaml", manifests}});
  ASSERT_EQ(r->model.forwards.size(), 2u) << r->diagnostics.to_string();
  for (const auto& f : r->model.forwards) {
    ASSERT_EQ(f.addresses.size(), 1u);
    ASSERT_EQ(f.endpoints.endpoints.size(), 1u) << f.addresses[0].to_string();
    EXPECT_EQ(f.endpoints.endpoints[0].ip->is_v4(), f.addresses[0].is_v4()) << f.addresses[0].to_string();
  }
  EXPECT_EQ(r->model.forwards[0].addresses[0].to_string(), "192.168.1.240");
  EXPECT_EQ(r->model.forwards[0].endpoints.endpoints[0].ip->to_string(), "10.0.0.5");
  EXPECT_EQ(r->model.forwards[1].endpoints.endpoints[0].ip->to_string(), "fd00::5");
}

TEST(Conflicts, ATcpServicesShapedConfigMapNoValuesFileNamesIsNotedWithHowToNameIt) {
  auto r = resolve_files({{"values.yaml", "controller:\n  replicaCount: 1\n"},
                          {"tcp.yaml", config_map("tcp-extra", "\"5432\": default/postgresql:5432")},
                          {"other.yaml", config_map("settings", "\"5432\": hello")}});
  std::vector<std::string> notes;
  for (const auto& x : r->diagnostics.items())
    if (x.severity == config::Severity::kNote && x.message.find("TCP/UDP services map") != std::string::npos)
      notes.push_back(x.to_string());
  ASSERT_EQ(notes.size(), 1u) << r->diagnostics.to_string();
  EXPECT_NE(notes[0].find("tcp.yaml:"), std::string::npos);
  EXPECT_NE(notes[0].find("controller.tcpServices.configMapName"), std::string::npos);
  EXPECT_NE(notes[0].find("default/tcp-extra"), std::string::npos);
}

// ------------------------------------------------------------------------------------------ ingress classes

// An Ingress for host/ to web-app:80 whose class is set by `class_lines` (spec or annotation lines, or none).
std::string classed_ingress(const std::string& name, const std::string& annotations, const std::string& spec_class) {
  return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
         "\n  namespace: default\n" + annotations + "spec:\n" + spec_class +
         "  rules:\n  - host: " + name + ".example.com\n    http:\n      paths:\n      - path: /\n"
         "        pathType: Prefix\n        backend:\n          service:\n            name: web-app\n"
         "            port:\n              number: 80\n";
}

std::string ingress_class(const std::string& name, const std::string& controller, bool is_default) {
  return "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: " + name +
         (is_default ? "\n  annotations:\n    ingressclass.kubernetes.io/is-default-class: \"true\"" : "") +
         "\nspec:\n  controller: " + controller + "\n";
}

TEST(IngressClasses, OnlyIngressesOfThisControllersClassesAreServedAndTheOthersAreNoted) {
  auto r = resolve_files(
      {{"svc.yaml", service("web-app", kPort80)},
       {"classes.yaml", ingress_class("haproxy-alt", "haproxy.org/ingress-controller", false) + "---\n" +
                            ingress_class("nginx", "k8s.io/ingress-nginx", false)},
       {"ours.yaml", classed_ingress("ours", "", "  ingressClassName: haproxy\n")},
       {"alt.yaml", classed_ingress("alt", "", "  ingressClassName: haproxy-alt\n")},
       {"legacy.yaml", classed_ingress("legacy", "  annotations:\n    kubernetes.io/ingress.class: haproxy\n", "")},
       {"nginx.yaml", classed_ingress("nginx", "", "  ingressClassName: nginx\n")},
       {"none.yaml", classed_ingress("none", "", "")}});
  EXPECT_EQ(r->model.ingresses, (std::vector<std::string>{"default/alt", "default/legacy", "default/ours"}));
  std::string d = r->diagnostics.to_string();
  EXPECT_NE(d.find("nginx.yaml:1:1: note: Ingress default/nginx: class 'nginx' belongs to another controller"),
            std::string::npos) << d;
  EXPECT_NE(d.find("Ingress default/none: has no ingress class and no default IngressClass is ours"),
            std::string::npos) << d;
}

TEST(IngressClasses, AnIngressWithoutAClassIsServedWhenOurIngressClassIsTheDefault) {
  for (bool ours_is_default : {false, true}) {
    auto r = resolve_files(
        {{"svc.yaml", service("web-app", kPort80)},
         {"classes.yaml", ingress_class("haproxy", "haproxy.org/ingress-controller", ours_is_default) + "---\n" +
                              ingress_class("nginx", "k8s.io/ingress-nginx", !ours_is_default)},
         {"none.yaml", classed_ingress("none", "", "")}});
    EXPECT_EQ(r->model.ingresses.size(), ours_is_default ? 1u : 0u) << r->diagnostics.to_string();
  }
}

}  // namespace
}  // namespace metalgate::model
