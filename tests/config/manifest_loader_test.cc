// The loader on good and bad input. Bad input must name file, line, column and field, and list every error.
#include <gtest/gtest.h>

#include "engine/config/manifest_loader.h"
#include "tests/config/load_text.h"

namespace metalgate::config {
namespace {

using testing::load;
using testing::Loaded;

// The diagnostics of one severity as "line:column: field: message" lines.
std::vector<std::string> lines(const Diagnostics& d, Severity s = Severity::kError) {
  std::vector<std::string> out;
  for (const auto& x : d.sorted())
    if (x.severity == s)
      out.push_back(std::to_string(x.where.line) + ":" + std::to_string(x.where.column) + ": " + x.field +
                    ": " + x.message);
  return out;
}

TEST(ManifestLoader, ReadsAPoolWithRangesCidrsAndAllocation) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: p
  namespace: metallb-system
  labels: {tier: web}
spec:
  addresses: ["192.168.1.240-192.168.1.250", "fd00::/120"]
  autoAssign: false
  avoidBuggyIPs: true
  serviceAllocation:
    priority: 5
    namespaces: [team-a]
    serviceSelectors:
    - matchExpressions: [{key: app, operator: In, values: [web]}]
)");
  ASSERT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
  ASSERT_EQ(l.set.pools.size(), 1u);
  const auto& p = l.set.pools[0];
  EXPECT_EQ(p.meta.key(), "metallb-system/p");
  EXPECT_EQ(p.addresses.size(), 2u);
  EXPECT_FALSE(p.auto_assign);
  EXPECT_TRUE(p.avoid_buggy_ips);
  ASSERT_TRUE(p.service_allocation);
  EXPECT_EQ(p.service_allocation->priority, 5);
  EXPECT_TRUE(p.service_allocation->service_selectors[0].matches({{"app", "web"}}));
  EXPECT_FALSE(p.service_allocation->service_selectors[0].matches({{"app", "db"}}));
}

TEST(ManifestLoader, ListsEveryErrorWithPositionAndField) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: p
spec:
  adresses: [10.0.0.1]
  autoAssign: maybe
---
apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  type: LoadBalancer
  ports:
  - port: 70000
)");
  auto e = lines(l.diagnostics);
  ASSERT_EQ(e.size(), 4u) << l.diagnostics.to_string();
  // A missing field is reported where its mapping starts; equal positions keep the order they were found in.
  EXPECT_EQ(
      e[0],
      "6:3: IPAddressPool default/p: spec.adresses: unknown field 'adresses' (did you mean 'addresses'?)");
  EXPECT_EQ(e[1],
            "6:3: IPAddressPool default/p: spec.addresses: is required: list the pool's CIDRs or ranges");
  EXPECT_EQ(e[2], "7:15: IPAddressPool default/p: spec.autoAssign: must be true or false, not 'maybe'");
  EXPECT_EQ(e[3], "16:11: Service default/s: spec.ports[0].port: must be between 1 and 65535, not 70000");
}

TEST(ManifestLoader, MalformedYamlNamesThePosition) {
  auto l = load("apiVersion: v1\nkind: Service\nmetadata: {name: [unclosed\n");
  auto e = lines(l.diagnostics);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("malformed YAML"), std::string::npos) << e[0];
  EXPECT_EQ(l.diagnostics.items()[0].where.file, "test.yaml");
  EXPECT_GT(l.diagnostics.items()[0].where.line, 0);
}

TEST(ManifestLoader, BadAddressesAreRefusedOneByOne) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p}
spec:
  addresses:
  - 10.0.0.1/24
  - 10.0.0.9-10.0.0.1
  - 10.0.0.5
  - 10.0.0.5
)");
  auto e = lines(l.diagnostics);
  ASSERT_EQ(e.size(), 3u) << l.diagnostics.to_string();
  EXPECT_EQ(e[0], "6:5: IPAddressPool default/p: spec.addresses[0]: '10.0.0.1/24': CIDR has host bits set");
  EXPECT_EQ(e[1],
            "7:5: IPAddressPool default/p: spec.addresses[1]: '10.0.0.9-10.0.0.1': range end comes before "
            "its start");
  EXPECT_EQ(e[2],
            "9:5: IPAddressPool default/p: spec.addresses[3]: '10.0.0.5' overlaps 10.0.0.5 in the same pool");
}

TEST(ManifestLoader, OverlappingPoolsAndDuplicatesAreErrors) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: a}
spec: {addresses: [10.0.0.0/24]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: b}
spec: {addresses: [10.0.0.200-10.0.1.10]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: a}
spec: {addresses: [10.9.0.0/24]}
)");
  auto e = lines(l.diagnostics);
  ASSERT_EQ(e.size(), 2u) << l.diagnostics.to_string();
  EXPECT_EQ(e[0],
            "6:1: IPAddressPool default/b: addresses 10.0.0.200-10.0.1.10 overlap 10.0.0.0-10.0.0.255 of "
            "pool default/a (test.yaml:1:1)");
  EXPECT_EQ(e[1], "11:1: IPAddressPool default/a: defined twice (first at test.yaml:1:1)");
}

TEST(ManifestLoader, ServiceWithMetalLbAnnotationsLegacyAndNew) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    metallb.universe.tf/address-pool: pool-a
    metallb.io/loadBalancerIPs: "10.0.0.5, fd00::5"
    metallb.io/allow-shared-ip: key1
    metallb.io/adress-pool: typo
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  ipFamilyPolicy: RequireDualStack
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: dns, port: 53, protocol: UDP}
)");
  ASSERT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
  const auto& s = l.set.services.at(0);
  EXPECT_EQ(s.address_pool, "pool-a");
  ASSERT_EQ(s.requested_ips.size(), 2u);
  EXPECT_EQ(s.sharing_key, "key1");
  EXPECT_EQ(s.external_traffic_policy, TrafficPolicy::kLocal);
  EXPECT_EQ(s.ip_family_policy, IpFamilyPolicy::kRequireDualStack);
  EXPECT_EQ(s.ports[0].target_port.name, "http");
  EXPECT_EQ(s.ports[1].protocol, Protocol::kUdp);
  EXPECT_EQ(s.ports[1].target_port.number, 53);
  auto w = lines(l.diagnostics, Severity::kWarning);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(
      w[0].find(
          "unknown MetalLB annotation 'metallb.io/adress-pool' (did you mean 'metallb.io/address-pool'?)"),
      std::string::npos)
      << w[0];
}

TEST(ManifestLoader, ServiceRulesKubernetesEnforces) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: s, annotations: {metallb.io/loadBalancerIPs: 10.0.0.1}}
spec:
  type: LoadBalancer
  loadBalancerIP: 10.0.0.2
  ports:
  - {port: 80}
  - {port: 80}
)");
  auto e = lines(l.diagnostics);
  ASSERT_EQ(e.size(), 4u) << l.diagnostics.to_string();
  EXPECT_EQ(e[0],
            "6:19: Service default/s: spec.loadBalancerIP: set either spec.loadBalancerIP or the "
            "metallb.io/loadBalancerIPs annotation, not both");
  EXPECT_EQ(e[1], "8:5: Service default/s: spec.ports[0].name: is required when a Service has several ports");
  EXPECT_EQ(e[2], "9:5: Service default/s: spec.ports[1].name: is required when a Service has several ports");
  EXPECT_EQ(e[3], "9:12: Service default/s: spec.ports[1].port: port 80/TCP is listed twice");
}

TEST(ManifestLoader, SessionAffinityClientIpWithItsTimeoutAndItsMistakes) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec:
  type: LoadBalancer
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
  ports: [{port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: default}
spec: {type: LoadBalancer, sessionAffinity: ClientIP, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: c, namespace: default}
spec:
  type: LoadBalancer
  sessionAffinity: Sticky
  ports: [{port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: d, namespace: default}
spec:
  type: LoadBalancer
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 90000}}
  ports: [{port: 5432}]
)");
  ASSERT_EQ(l.set.services.size(), 4u);
  EXPECT_EQ(l.set.services[0].client_ip_affinity, std::chrono::seconds(60));
  EXPECT_EQ(l.set.services[1].client_ip_affinity, std::chrono::seconds(10800)) << "Kubernetes' default";
  EXPECT_EQ(l.set.services[2].client_ip_affinity, std::nullopt);
  EXPECT_EQ(lines(l.diagnostics),
            (std::vector<std::string>{
                "20:20: Service default/c: spec.sessionAffinity: must be None or ClientIP, not 'Sticky'",
                "28:26: Service default/d: spec.sessionAffinityConfig: must not be set when `sessionAffinity` is 'None'"}));
}

TEST(ManifestLoader, EndpointSliceConditionsAsTheApiDefinesThem) {
  auto l = load(R"(apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s, namespace: default, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{port: 5432}]
endpoints:
- {addresses: [10.0.0.1]}
- {addresses: [10.0.0.2], conditions: {ready: false}}
- {addresses: [10.0.0.3], conditions: {ready: false, serving: true, terminating: true}}
)");
  ASSERT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
  ASSERT_EQ(l.set.endpoints.size(), 1u);
  const auto& a = l.set.endpoints[0].addresses;
  ASSERT_EQ(a.size(), 3u);
  EXPECT_TRUE(a[0].ready && a[0].serving && !a[0].terminating) << "unset conditions: ready and serving";
  EXPECT_TRUE(!a[1].ready && !a[1].serving) << "serving follows ready when unset";
  EXPECT_TRUE(!a[2].ready && a[2].serving && a[2].terminating);
}

TEST(ManifestLoader, IngressRulesPathsAndTls) {
  auto l = load(R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: i
  annotations: {kubernetes.io/ingress.class: haproxy}
spec:
  tls: [{hosts: [a.example.com], secretName: s}]
  defaultBackend: {service: {name: fallback, port: {number: 8080}}}
  rules:
  - host: "*.example.com"
    http:
      paths:
      - {path: /api, pathType: Exact, backend: {service: {name: api, port: {name: http}}}}
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
)");
  ASSERT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
  const auto& in = l.set.ingresses.at(0);
  EXPECT_EQ(in.legacy_class, "haproxy");
  EXPECT_EQ(in.rules[0].host, "*.example.com");
  EXPECT_EQ(in.rules[0].paths[0].path_type, PathType::kExact);
  EXPECT_EQ(in.rules[0].paths[0].backend.service_port.name, "http");
  EXPECT_EQ(in.default_backend->service_port.number, 8080);
  EXPECT_EQ(in.tls[0].secret_name, "s");
}

TEST(ManifestLoader, IngressMistakesAreCaught) {
  auto l = load(R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec:
  rules:
  - host: 10.0.0.1
    http:
      paths:
      - {path: api, pathType: Prefix, backend: {service: {name: api, port: {number: 80, name: http}}}}
      - {path: /x, backend: {service: {name: api, port: {number: 80}}}}
      - {path: /y, pathType: Regex, backend: {service: {name: api, port: {number: 80}}}}
)");
  auto e = lines(l.diagnostics);
  ASSERT_EQ(e.size(), 5u) << l.diagnostics.to_string();
  EXPECT_NE(e[0].find("spec.rules[0].host: '10.0.0.1' is not a valid host"), std::string::npos) << e[0];
  EXPECT_NE(e[1].find("spec.rules[0].http.paths[0].path: 'api' must be an absolute path"), std::string::npos)
      << e[1];
  EXPECT_NE(e[2].find("spec.rules[0].http.paths[0].backend.service.port: give a number or a name, not both"),
            std::string::npos)
      << e[2];
  EXPECT_NE(e[3].find("spec.rules[0].http.paths[1].pathType: is required"), std::string::npos) << e[3];
  EXPECT_NE(e[4].find("must be Exact, Prefix or ImplementationSpecific, not 'Regex'"), std::string::npos)
      << e[4];
}

TEST(ManifestLoader, OldApiVersionsGetTheCurrentOne) {
  auto l = load("apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: {name: old}\nspec: {}\n");
  auto e = lines(l.diagnostics);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "1:13: Ingress default/old: apiVersion: Ingress networking.k8s.io/v1beta1 is not supported; use "
            "networking.k8s.io/v1");
}

TEST(ManifestLoader, UnknownKindsAreSkippedWithANote) {
  auto l = load(R"(apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m}
spec: {anything: goes}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: peer}
spec: {}
)");
  EXPECT_FALSE(l.diagnostics.has_errors());
  ASSERT_EQ(l.set.skipped.size(), 2u);
  auto n = lines(l.diagnostics, Severity::kNote);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_NE(n[0].find("skipped: metalgate does not use ServiceMonitor objects"), std::string::npos);
  EXPECT_NE(n[1].find("(metalgate announces in Layer 2 mode only)"), std::string::npos);
}

TEST(ManifestLoader, DeploymentSelectorMustMatchItsTemplate) {
  auto l = load(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  replicas: 2
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec:
      containers:
      - name: c
        ports: [{containerPort: 8080, name: http}]
        readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 2}
)");
  auto e = lines(l.diagnostics);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("spec.selector: selects app=a but the pod template's labels do not match it"),
            std::string::npos);
  const auto& d = l.set.deployments.at(0);
  EXPECT_EQ(d.replicas, 2);
  EXPECT_EQ(d.containers[0].ports[0].container_port, 8080);
  EXPECT_EQ(d.containers[0].readiness_probe->http_get->path, "/ready");
  EXPECT_EQ(d.containers[0].readiness_probe->period, std::chrono::seconds(2));
}

TEST(ManifestLoader, TlsSecretsNeedPemBlocks) {
  auto l = load(R"(apiVersion: v1
kind: Secret
metadata: {name: s}
type: kubernetes.io/tls
data:
  tls.crt: bm90IGEgY2VydA==
  tls.key: "***"
)");
  auto e = lines(l.diagnostics);
  ASSERT_EQ(e.size(), 3u) << l.diagnostics.to_string();
  EXPECT_EQ(e[0], "6:3: Secret default/s: data: a kubernetes.io/tls Secret needs 'tls.key'");
  EXPECT_EQ(e[1], "6:12: Secret default/s: data.tls.crt: 'tls.crt' does not hold a PEM block");
  EXPECT_EQ(e[2], "7:12: Secret default/s: data.tls.key: is not valid base64");
}

TEST(ManifestLoader, EndpointsAndSlicesBecomeServiceEndpoints) {
  auto l = load(R"(apiVersion: v1
kind: Endpoints
metadata: {name: db}
subsets:
- addresses: [{ip: 10.1.0.5, nodeName: n1, targetRef: {kind: Pod, name: db-0}}]
  notReadyAddresses: [{ip: 10.1.0.6}]
  ports: [{port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints:
- addresses: [10.1.0.7]
  conditions: {ready: false}
ports: [{name: http, port: 8080}]
)");
  ASSERT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
  ASSERT_EQ(l.set.endpoints.size(), 2u);
  EXPECT_EQ(l.set.endpoints[0].addresses.size(), 2u);
  EXPECT_FALSE(l.set.endpoints[0].addresses[1].ready);
  EXPECT_EQ(l.set.endpoints[1].service_name, "web");
  EXPECT_FALSE(l.set.endpoints[1].addresses[0].ready);
}

TEST(ManifestLoader, ListsOfObjectsAsKubectlPrintsThem) {
  auto l = load(R"(apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {k: v}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}, data: {"5432": "default/db:5432"}}
)");
  ASSERT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
  EXPECT_EQ(l.set.config_maps.size(), 2u);
}

TEST(ManifestLoader, ADocumentThatIsNeitherObjectNorValuesIsAnError) {
  auto l = load("just: data\n");
  auto e = lines(l.diagnostics);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("neither a Kubernetes object"), std::string::npos);
}

TEST(ManifestLoader, MissingPathsAreErrors) {
  Diagnostics d;
  auto set = load_manifest_paths({"/nonexistent/metalgate"}, d);
  ASSERT_TRUE(d.has_errors());
  EXPECT_EQ(d.items()[0].message, "no such file or directory");
}

}  // namespace
}  // namespace metalgate::config

namespace metalgate::config {
namespace {

// yaml-cpp builds an alias inside its own anchor as a cycle; the loader must stop and say so, not recurse
// until memory runs out (found by the manifest fuzz target).
TEST(ManifestLoader, AValuesAliasInsideItsOwnAnchorIsRefusedNotWalkedForever) {
  for (std::string yaml : {"&x {controller: *x}\n", "controller:\n  extraArgs: &w [*w]\n"}) {
    ManifestSet set;
    Diagnostics d;
    load_manifest_text(yaml, "values.yaml", set, d);
    finish_manifest_set(set, d);
    SUCCEED() << yaml << d.to_string();  // reaching here is the point; the first is also an error
  }
  ManifestSet set;
  Diagnostics d;
  load_manifest_text("&x {controller: *x}\n", "values.yaml", set, d);
  EXPECT_TRUE(d.has_errors());
  EXPECT_NE(d.to_string().find("nested deeper than 32 levels"), std::string::npos) << d.to_string();
}

// The fuzzer's out-of-memory finding (reports/fuzz.md): an alias cycle that fans out reaches the depth bound
// on 2^33 paths, and the walk used to add one error (with its path) for each of them until memory ran out. It
// must stop at the first one: one error, at the anchor, naming the field.
TEST(ManifestLoader, ValuesAliasCycleThatFansOutIsOneErrorNotAnErrorPerPath) {
  ManifestSet set;
  Diagnostics d;
  load_manifest_text("controller: &y {a: *y, b: *y}\n", "values.yaml", set, d);
  finish_manifest_set(set, d);
  ASSERT_EQ(d.error_count(), 1u) << d.to_string().substr(0, 2000);
  const auto e = d.sorted().front();
  EXPECT_EQ(e.where.file, "values.yaml");
  EXPECT_EQ(e.where.line, 1);
  EXPECT_EQ(e.where.column, 13);
  EXPECT_NE(e.field.find("controller.a.a.a"), std::string::npos) << e.field;
  EXPECT_NE(e.message.find("nested deeper than 32 levels"), std::string::npos) << e.message;
}

// Without a cycle, aliases that fan out 2 ways on each of 17 levels are ≈ 2^20 nodes to walk, none of them a
// setting (empty mappings), so the settings bound never stops it; the node bound must, with one error.
TEST(ManifestLoader, ValuesAliasesThatFanOutWithoutSettingsStopAtTheNodeBound) {
  std::string yaml = "controller:\n  l0: &l0 {a: {}, b: {}}\n";
  for (int i = 1; i <= 17; ++i)
    yaml += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " {a: *l" + std::to_string(i - 1) +
            ", b: *l" + std::to_string(i - 1) + "}\n";
  ManifestSet set;
  Diagnostics d;
  load_manifest_text(yaml, "values.yaml", set, d);
  finish_manifest_set(set, d);
  ASSERT_EQ(d.error_count(), 1u) << d.to_string().substr(0, 2000);
  const auto e = d.sorted().front();
  EXPECT_EQ(e.where.file, "values.yaml");
  EXPECT_GT(e.where.line, 0);
  EXPECT_NE(e.field.find("Helm values: controller.l"), std::string::npos) << e.field;
  EXPECT_NE(e.message.find("more than 100000 values nodes"), std::string::npos) << e.message;
}

// A list value that fans out is compared as a text of at most 4 KiB, however large its expansion.
TEST(ManifestLoader, ValuesListThatFansOutIsCutToABoundedText) {
  std::string yaml = "controller:\n  l0: &l0 [x, y]\n";
  for (int i = 1; i <= 24; ++i)
    yaml += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) + ", *l" +
            std::to_string(i - 1) + "]\n";
  ManifestSet set;
  Diagnostics d;
  load_manifest_text(yaml, "values.yaml", set, d);
  ASSERT_TRUE(set.controller);
  const auto& l24 = set.controller->settings.at("controller.l24").front().value;
  EXPECT_EQ(l24.size(), 4096u + 3u);
  EXPECT_EQ(l24.substr(l24.size() - 3), "...");
  EXPECT_EQ(set.controller->settings.at("controller.l0").front().value, "[x, y]");
  EXPECT_EQ(set.controller->settings.at("controller.l1").front().value, "[[x, y], [x, y]]");
}

// The fuzzer's second out-of-memory finding (reports/fuzz.md): yaml-cpp 0.7's LoadAll makes an empty document
// of a flow token left at the top of a document, again and again without consuming it, and keeps them all.
// The loader must refuse such a text with one error at that token, not hand it to LoadAll.
TEST(ManifestLoader, AStrayCommaAfterADocumentIsAnErrorNotEndlessEmptyDocuments) {
  struct Case {
    std::string yaml;
    int line, column;
  };
  for (const Case& c : {Case{"&x {controller: x},\n", 1, 19}, Case{"[a],[b]\n", 1, 4},
                        Case{"- a\n- b\n,\n", 3, 1}, Case{",\n", 1, 1}}) {
    ManifestSet set;
    Diagnostics d;
    load_manifest_text(c.yaml, "stray.yaml", set, d);
    finish_manifest_set(set, d);
    ASSERT_EQ(d.error_count(), 1u) << c.yaml << d.to_string();
    const auto e = d.items().front();
    EXPECT_EQ(e.where.file, "stray.yaml");
    EXPECT_EQ(e.where.line, c.line) << c.yaml;
    EXPECT_EQ(e.where.column, c.column) << c.yaml;
    EXPECT_NE(e.message.find("malformed YAML: ','"), std::string::npos) << e.message;
  }
  // Documents that do end are still read, "---" and "..." included.
  auto l = load(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n...\n---\n---\n"
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: default}\n");
  EXPECT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
  EXPECT_EQ(l.set.object_count, 2u);
}

}  // namespace
}  // namespace metalgate::config
