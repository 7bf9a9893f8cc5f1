// Helm values merging, the controller objects built from them, annotation checks, durations and selectors.
#include <gtest/gtest.h>

#include <fstream>

#include "engine/config/annotations.h"
#include "engine/config/duration.h"
#include "engine/config/manifest_loader.h"

namespace metalgate::config {
namespace {

TEST(HelmValues, FilesMergeInOrderAndBuildTheControllerService) {
  ManifestSet set;
  Diagnostics d;
  load_manifest_text(R"(controller:
  service:
    annotations: {metallb.universe.tf/address-pool: pool}
    externalTrafficPolicy: Local
    ports: {http: 8080, https: 8443}
  replicaCount: 2
  config: {timeout-client: "50s", load-balance: roundrobin}
)",
                     "10.yaml", set, d);
  load_manifest_text(R"(controller:
  service:
    tcpPorts: [{name: postgresql, port: 5432, targetPort: 5432}]
    udpPorts: [{name: dns, port: 53}]
  replicaCount: 3
  config: {load-balance: leastconn, timeout-clinet: "1s"}
  resources: {limits: {cpu: 1}}
  weirdKey: 1
)",
                     "20.yaml", set, d);
  finish_manifest_set(set, d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_TRUE(set.controller);
  const auto& v = *set.controller;
  EXPECT_EQ(v.replica_count, 3);
  EXPECT_EQ(v.config.at("timeout-client"), "50s");  // kept from the first file
  EXPECT_EQ(v.config.at("load-balance"), "leastconn");
  ASSERT_EQ(set.services.size(), 1u);
  const auto& s = set.services[0];
  EXPECT_EQ(s.meta.key(), "haproxy-ingress/haproxy-ingress-kubernetes-ingress");
  EXPECT_EQ(s.type, ServiceType::kLoadBalancer);
  EXPECT_EQ(s.address_pool, "pool");
  EXPECT_EQ(s.external_traffic_policy, TrafficPolicy::kLocal);
  ASSERT_EQ(s.ports.size(), 4u);
  EXPECT_EQ(s.ports[0].port, 8080);
  EXPECT_EQ(s.ports[2].port, 5432);
  EXPECT_EQ(s.ports[3].protocol, Protocol::kUdp);
  EXPECT_TRUE(is_controller_service(s, set));
  ASSERT_EQ(set.deployments.size(), 1u);
  EXPECT_EQ(set.deployments[0].replicas, 3);

  std::vector<std::string> warnings, overrides;
  for (const auto& x : d.sorted())
    if (x.severity == Severity::kWarning)
      (x.message.find("Values files merge") == std::string::npos ? warnings : overrides).push_back(x.field);
  // The second file overrides two settings of the first: each is reported (tests below check the words).
  EXPECT_EQ(overrides, (std::vector<std::string>{"Helm values: controller.replicaCount",
                                                 "Helm values: controller.config.load-balance"}));
  warnings.clear();
  for (const auto& x : d.sorted())
    if (x.severity == Severity::kWarning && x.message.find("Values files merge") == std::string::npos)
      warnings.push_back(x.where.to_string() + " " + x.message);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0],
            "20.yaml:6:37 unknown controller setting 'timeout-clinet' (did you mean 'timeout-client'?); it "
            "has no effect");
  EXPECT_EQ(warnings[1], "20.yaml:8:3 unknown field 'weirdKey'");
}

TEST(Annotations, PrefixesAreEquivalent) {
  EXPECT_EQ(haproxy_annotation_name("haproxy.org/ssl-redirect"), "ssl-redirect");
  EXPECT_EQ(haproxy_annotation_name("haproxy.com/ssl-redirect"), "ssl-redirect");
  EXPECT_EQ(haproxy_annotation_name("ingress.kubernetes.io/ssl-redirect"), "ssl-redirect");
  EXPECT_FALSE(haproxy_annotation_name("nginx.ingress.kubernetes.io/ssl-redirect"));
}

TEST(Annotations, EverySeedInventionNamesARealEquivalent) {
  for (const char* name :
       {"check-fall", "check-rise", "access-log", "cookie-indirect", "cookie-nocache", "response-compress",
        "request-buffer-size", "headers", "hsts", "hsts-max-age", "hsts-include-subdomains", "ssl-options",
        "http-reuse", "backend-check-interval"}) {
    const auto* spec = find_haproxy_annotation(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->origin, AnnotationOrigin::kSeedExtension) << name;
    EXPECT_FALSE(spec->controller_equivalent.empty()) << name;
  }
  EXPECT_EQ(find_haproxy_annotation("rate-limit-requests")->origin, AnnotationOrigin::kController);
}

TEST(Annotations, UnknownOnesGetTheClosestNameAndMisplacedOnesAWarning) {
  ManifestSet set;
  Diagnostics d;
  load_manifest_text(R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: i
  annotations:
    haproxy.com/rate-limit-request: "10"
    haproxy.org/route-acl: "x"
    haproxy.org/fancy-thing: "1"
spec: {defaultBackend: {service: {name: s, port: {number: 80}}}}
)",
                     "i.yaml", set, d);
  std::vector<std::string> w;
  for (const auto& x : d.sorted())
    if (x.severity == Severity::kWarning) w.push_back(x.message);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0],
            "unknown annotation 'haproxy.com/rate-limit-request' (did you mean "
            "'haproxy.com/rate-limit-requests'?); it has no effect");
  EXPECT_EQ(w[1], "'route-acl' has no effect on an Ingress; it belongs on Service");
  EXPECT_EQ(w[2], "unknown annotation 'haproxy.org/fancy-thing'; it has no effect");
}

TEST(Duration, ParsesControllerTimeForms) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_duration("5s"), milliseconds(5000));
  EXPECT_EQ(parse_duration("100ms"), milliseconds(100));
  EXPECT_EQ(parse_duration("1m"), milliseconds(60000));
  EXPECT_EQ(parse_duration("2h"), milliseconds(7200000));
  EXPECT_EQ(parse_duration("5000"), milliseconds(5000));  // bare numbers are milliseconds
  EXPECT_FALSE(parse_duration("5 seconds"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_EQ(format_duration(milliseconds(60000)), "1m");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(parse_bool("enabled"), true);
  EXPECT_EQ(parse_bool("OFF"), false);
  EXPECT_FALSE(parse_bool("perhaps"));
}

TEST(LabelSelector, ExpressionsFollowKubernetes) {
  LabelSelector s;
  s.match_labels = {{"app", "web"}};
  s.match_expressions = {{"tier", LabelRequirement::Operator::kNotIn, {"db"}},
                         {"zone", LabelRequirement::Operator::kExists, {}}};
  EXPECT_TRUE(s.matches({{"app", "web"}, {"zone", "a"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}, {"zone", "a"}, {"tier", "db"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}}));
  EXPECT_TRUE(LabelSelector{}.matches({}));
  EXPECT_EQ(s.to_string(), "app=web,tier notin (db),zone");
}

TEST(ClosestName, SuggestsOnlyPlausibleTypos) {
  EXPECT_EQ(closest_name("adresses", {"addresses", "autoAssign"}), "addresses");
  EXPECT_EQ(closest_name("zzzzzz", {"addresses", "autoAssign"}), "");
}

std::vector<std::string> warnings_with(const Diagnostics& d, const std::string& text) {
  std::vector<std::string> out;
  for (const auto& x : d.items())
    if (x.severity == Severity::kWarning && x.to_string().find(text) != std::string::npos)
      out.push_back(x.to_string());
  return out;
}

TEST(Conflicts, TwoValuesFilesSettingOneKeyDifferentlyNameBothAndTheLastWins) {
  ManifestSet set;
  Diagnostics d;
  load_manifest_text("controller:\n  config:\n    check-interval: 5s\n", "10.yaml", set, d);
  load_manifest_text("controller:\n  replicaCount: 2\n", "20.yaml", set, d);
  load_manifest_text("controller:\n  config:\n    check-interval: 1s\n", "30.yaml", set, d);
  finish_manifest_set(set, d);
  EXPECT_EQ(warnings_with(d, "check-interval"),
            std::vector<std::string>{
                "30.yaml:3:21: warning: Helm values: controller.config.check-interval: is 1s from "
                "30.yaml:3:21; 10.yaml:3:21 sets 5s. Values files merge in the order given (a directory's "
                "files by name), later over earlier as with helm -f: the last file's value is used."});
  EXPECT_EQ(set.controller->config.at("check-interval"), "1s");
}

TEST(Conflicts, ListsInValuesFilesConflictAsAWholeAndAgreeingFilesAreNoConflict) {
  ManifestSet set;
  Diagnostics d;
  load_manifest_text("controller:\n  replicaCount: 2\n  service:\n    tcpPorts: [{name: pg, port: 5432}]\n",
                     "10.yaml", set, d);
  load_manifest_text("controller:\n  replicaCount: 2\n  service:\n    tcpPorts: [{name: pg, port: 5433}]\n",
                     "20.yaml", set, d);
  finish_manifest_set(set, d);
  EXPECT_TRUE(warnings_with(d, "replicaCount").empty()) << d.to_string();
  EXPECT_EQ(
      warnings_with(d, "tcpPorts"),
      std::vector<std::string>{
          "20.yaml:4:15: warning: Helm values: controller.service.tcpPorts: is [{name: pg, port: 5433}] "
          "from 20.yaml:4:15; 10.yaml:4:15 sets [{name: pg, port: 5432}]. Values files merge in the "
          "order given (a directory's files by name), later over earlier as with helm -f: the last "
          "file's value is used."});
}

TEST(Conflicts, CreationTimestampIsReadAndAMalformedOneIsWarnedAndIgnored) {
  ManifestSet set;
  Diagnostics d;
  load_manifest_text(R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  creationTimestamp: "2024-05-01T10:00:00Z"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
  creationTimestamp: "yesterday"
)",
                     "cm.yaml", set, d);
  ASSERT_EQ(set.config_maps.size(), 2u);
  EXPECT_EQ(set.config_maps[0].meta.creation_timestamp, "2024-05-01T10:00:00Z");
  EXPECT_FALSE(set.config_maps[1].meta.creation_timestamp);
  EXPECT_EQ(
      warnings_with(d, "creationTimestamp"),
      std::vector<std::string>{
          "cm.yaml:11:22: warning: ConfigMap default/b: metadata.creationTimestamp: 'yesterday' is not an "
          "RFC 3339 UTC time like 2024-05-01T10:00:00Z; ignored (the object then counts as newer than any "
          "with a timestamp)"});
}


// docs/annotations.md's row for one name, as the table says it.
std::string doc_row(const AnnotationSpec& a) {
  auto scopes = [](std::uint8_t s) { return s ? scope_names(s) : std::string("–"); };
  std::string origin = a.origin == AnnotationOrigin::kController
                           ? "controller"
                           : "seed extension; the controller's way: " + std::string(a.controller_equivalent);
  std::string state = a.not_acted_on.empty() ? "acted on" : "not acted on: " + std::string(a.not_acted_on);
  std::string def = a.default_value.empty() ? "–" : "`" + std::string(a.default_value) + "`";
  return "| `" + std::string(a.name) + "` | " + scopes(a.controller_scopes) + " | " + scopes(a.metalgate_scopes) +
         " | " + def + " | " + origin + " | " + state + " |";
}

TEST(AnnotationTable, DocsListEveryNameWithItsScopesDefaultAndStateAsTheTableSays) {
  std::ifstream in(std::string(METALGATE_SOURCE_DIR) + "/docs/annotations.md");
  ASSERT_TRUE(in) << "docs/annotations.md";
  std::vector<std::string> documented;
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("| `")) documented.push_back(line);
  std::vector<std::string> expected;
  std::string all;
  for (const auto& a : haproxy_annotations()) {
    expected.push_back(doc_row(a));
    all += expected.back() + "\n";
  }
  EXPECT_EQ(documented, expected) << "docs/annotations.md's rows should be:\n" << all;
}

TEST(AnnotationTable, ANameMetalgateDoesNotActOnIsAWarningSayingWhatHappensInstead) {
  for (const auto& a : haproxy_annotations()) {
    if (a.not_acted_on.empty() || !(a.metalgate_scopes & kIngress)) continue;
    ManifestSet set;
    Diagnostics d;
    load_manifest_text("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  annotations:\n"
                       "    haproxy.org/" + std::string(a.name) + ": \"x\"\nspec:\n  defaultBackend:\n"
                       "    service: {name: s, port: {number: 80}}\n",
                       "i.yaml", set, d);
    bool warned = false;
    for (const auto& x : d.items())
      warned = warned || (x.severity == Severity::kWarning && x.where.line == 6 &&
                          x.message.find("does not act on it: " + std::string(a.not_acted_on)) != std::string::npos);
    EXPECT_TRUE(warned) << a.name << "\n" << d.to_string();
  }
}

TEST(AnnotationTable, FrontendWideSettingsOnAnIngressAreWarnedAsMisplaced) {
  for (const char* name : {"maxconn", "request-buffer-size", "timeout-http-request", "timeout-http-keep-alive"}) {
    ManifestSet set;
    Diagnostics d;
    load_manifest_text(std::string("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n"
                                   "  annotations:\n    haproxy.org/") +
                           name + ": \"5\"\nspec:\n  defaultBackend:\n    service: {name: s, port: {number: 80}}\n",
                       "i.yaml", set, d);
    EXPECT_NE(d.to_string().find("has no effect on an Ingress; it belongs on ConfigMap"), std::string::npos)
        << name << "\n" << d.to_string();
  }
}

}  // namespace
}  // namespace metalgate::config
