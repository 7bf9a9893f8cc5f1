// The routing property's reference of the Ingress rules, on hand-built objects: host tiers (exact, then one
// wildcard label, then no host), the longest path with Exact before Prefix before ImplementationSpecific,
// Prefix by whole path elements, the oldest Ingress on a tie, default backends, and Services to pods by
// their selectors.
#include "check/reference/ingress_rules.h"

#include <gtest/gtest.h>

namespace metalgate::check {
namespace {

using Pods = std::set<std::string>;

config::IngressPath path(const std::string& p, config::PathType t, const std::string& service) {
  config::IngressPath out;
  out.path = p;
  out.path_type = t;
  out.backend.service_name = service;
  return out;
}

config::Ingress ingress(const std::string& name, std::vector<config::IngressRule> rules,
                        std::optional<std::string> created = std::nullopt) {
  config::Ingress i;
  i.meta.name = name;
  i.meta.namespace_ = "shop";
  i.meta.creation_timestamp = created;
  i.rules = std::move(rules);
  return i;
}

struct World {
  config::ManifestSet manifests;
  scenario::Scenario scenario;
  std::vector<std::string> served;

  World() {
    for (const std::string app : {"web", "api", "static", "fallback"}) {
      config::Service s;
      s.meta.name = app;
      s.meta.namespace_ = "shop";
      s.selector = {{"app", app}};
      manifests.services.push_back(s);
      config::Deployment d;
      d.meta.name = app + "-deploy";
      d.meta.namespace_ = "shop";
      d.pod_labels = {{"app", app}, {"tier", "x"}};
      manifests.deployments.push_back(d);
      scenario::ScenarioBackend b;
      b.deployment = "shop/" + app + "-deploy";
      b.addresses = {net::IpAddress::v4(10, 0, 0, 1), net::IpAddress::v4(10, 0, 0, 2)};
      scenario.backends.push_back(b);
    }
  }
  Pods pods(const std::string& host, const std::string& p) const {
    return ReferenceRouting{manifests, served, scenario}.pods_for(host, p);
  }
  std::optional<Pods> tcp(std::uint16_t port) const {
    return ReferenceRouting{manifests, served, scenario}.pods_for_tcp_port(port);
  }
  Pods pods_of(const std::string& service) const {
    return ReferenceRouting{manifests, served, scenario}.pods_of_service("shop", service);
  }
};

const Pods kWeb = {"web-deploy-0", "web-deploy-1"}, kApi = {"api-deploy-0", "api-deploy-1"},
           kStatic = {"static-deploy-0", "static-deploy-1"},
           kFallback = {"fallback-deploy-0", "fallback-deploy-1"};

TEST(ReferenceRouting, ExactHostsThenOneWildcardLabelThenRulesWithoutAHost) {
  World w;
  using T = config::PathType;
  w.manifests.ingresses = {ingress("a", {{"shop.example.com", {path("/", T::kPrefix, "web")}},
                                         {"*.example.com", {path("/", T::kPrefix, "api")}},
                                         {"", {path("/", T::kPrefix, "static")}}})};
  w.served = {"shop/a"};
  EXPECT_EQ(w.pods("shop.example.com", "/x"), kWeb);
  EXPECT_EQ(w.pods("SHOP.example.com", "/x"), kWeb) << "hosts are case-insensitive";
  EXPECT_EQ(w.pods("m.example.com", "/x"), kApi);
  EXPECT_EQ(w.pods("a.m.example.com", "/x"), kStatic) << "a wildcard matches one label only";
  EXPECT_EQ(w.pods("example.com", "/x"), kStatic);
  w.served.clear();
  EXPECT_EQ(w.pods("shop.example.com", "/x"), Pods{}) << "an Ingress the controller does not serve";
}

TEST(ReferenceRouting, TheLongestPathWinsExactBeforePrefixBeforeImplementationSpecific) {
  World w;
  using T = config::PathType;
  w.manifests.ingresses = {ingress(
      "a", {{"h",
             {path("/", T::kPrefix, "web"), path("/api", T::kPrefix, "api"),
              path("/api", T::kExact, "static"), path("/apis", T::kImplementationSpecific, "fallback")}}})};
  w.served = {"shop/a"};
  EXPECT_EQ(w.pods("h", "/api"), kStatic) << "Exact beats Prefix on a tie";
  EXPECT_EQ(w.pods("h", "/api/v1"), kApi);
  EXPECT_EQ(w.pods("h", "/apis"), kFallback) << "longer than /api";
  EXPECT_EQ(w.pods("h", "/apiary"), kWeb)
      << "Prefix /api matches whole elements only, and /apis is no prefix";
  EXPECT_EQ(w.pods("h", "/apisx"), kFallback) << "ImplementationSpecific is a plain string prefix";
}

TEST(ReferenceRouting, TheOldestIngressWinsATieAndDefaultBackendsCatchTheRest) {
  World w;
  using T = config::PathType;
  w.manifests.ingresses = {ingress("b", {{"h", {path("/", T::kPrefix, "api")}}}, "2024-02-01T00:00:00Z"),
                           ingress("a", {{"h", {path("/", T::kPrefix, "web")}}}, "2024-03-01T00:00:00Z")};
  w.served = {"shop/a", "shop/b"};
  EXPECT_EQ(w.pods("h", "/"), kApi) << "b was created first";
  EXPECT_EQ(w.pods("other", "/"), Pods{}) << "no default backend: the proxy's own 404";
  config::IngressBackend fallback;
  fallback.service_name = "fallback";
  w.manifests.ingresses[1].default_backend = fallback;
  EXPECT_EQ(w.pods("other", "/"), kFallback);
}

TEST(ReferenceRouting, AServiceReachesThePodsOfTheDeploymentsItsSelectorMatches) {
  World w;
  EXPECT_EQ(w.pods_of("web"), kWeb);
  w.manifests.services[0].selector = {{"app", "web"}, {"tier", "y"}};
  EXPECT_EQ(w.pods_of("web"), Pods{});
  w.manifests.services[0].selector = {{"tier", "x"}};
  EXPECT_EQ(w.pods_of("web").size(), 8u) << "every Deployment's pods";
}

TEST(ReferenceRouting, ATcpServicePortReachesTheServiceItsConfigMapNames) {
  World w;
  EXPECT_EQ(w.tcp(5432), std::nullopt) << "no tcp-services ConfigMap";
  w.manifests.controller.emplace();
  w.manifests.controller->tcp_services_config_map = "ingress/tcp-map";
  config::ConfigMap cm;
  cm.meta.name = "tcp-map";
  cm.meta.namespace_ = "ingress";
  cm.data = {{"5432", "shop/api:5432"}, {"6379", "broken"}};
  w.manifests.config_maps.push_back(cm);
  EXPECT_EQ(w.tcp(5432), kApi);
  EXPECT_EQ(w.tcp(6379), std::nullopt) << "not namespace/service:port";
  EXPECT_EQ(w.tcp(80), std::nullopt);
  w.manifests.controller->tcp_services_config_map = "tcp-map";
  EXPECT_EQ(w.tcp(5432), kApi) << "a name without a namespace";
}

}  // namespace
}  // namespace metalgate::check
