// The rules MetalLB and the Kubernetes API server enforce, each refused by `validate` with file:line:column
// and field path (docs/configuration.md, "Validation rules", lists them with their sources). Where metalgate
// deliberately differs, the test shows the note that says so.
#include <gtest/gtest.h>

#include "engine/config/manifest_loader.h"
#include "tests/config/load_text.h"

namespace metalgate::config {
namespace {

using testing::load;
using testing::Loaded;

// Whether `l` holds a diagnostic of `severity` at `at` ("line:column"), for exactly `field`, whose message
// contains `message`. The failure lists every diagnostic.
::testing::AssertionResult has(const Loaded& l, Severity severity, const std::string& at,
                               const std::string& field, const std::string& message) {
  for (const auto& d : l.diagnostics.items()) {
    std::string where = std::to_string(d.where.line) + ":" + std::to_string(d.where.column);
    if (d.severity == severity && d.where.file == "test.yaml" && where == at && d.field == field &&
        d.message.find(message) != std::string::npos)
      return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no " << to_string(severity) << " at " << at << " on '" << field
                                       << "' containing \"" << message << "\" in:\n"
                                       << l.diagnostics.to_string();
}

// The same, and it is the only error.
::testing::AssertionResult only_error(const Loaded& l, const std::string& at, const std::string& field,
                                      const std::string& message) {
  auto found = has(l, Severity::kError, at, field, message);
  if (!found) return found;
  if (l.diagnostics.error_count() != 1)
    return ::testing::AssertionFailure() << "expected one error, got:\n" << l.diagnostics.to_string();
  return found;
}

// ------------------------------------------------------------------------------------------ the issue's
// cases

TEST(MetalLbPoolRules, AnEmptyAddressListIsAPoolWithNoPrefixes) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: metallb-system}
spec:
  addresses: []
)");
  EXPECT_TRUE(only_error(l, "5:14", "IPAddressPool metallb-system/p: spec.addresses",
                         "pool has no prefixes defined"));
}

TEST(MetalLbL2Rules, NamingTheSamePoolTwiceIsADuplicateDefinition) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: a, namespace: metallb-system}
spec:
  ipAddressPools: [good, good]
)");
  EXPECT_TRUE(only_error(l, "5:26", "L2Advertisement metallb-system/a: spec.ipAddressPools[1]",
                         "duplicate definition of ipAddressPools \"good\""));
}

TEST(MetalLbSelectorRules, RepeatedValuesInOneExpressionAreADuplicateDefinition) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: a, namespace: metallb-system}
spec:
  nodeSelectors:
  - matchExpressions: [{key: foo, operator: In, values: [quux, quux]}]
)");
  EXPECT_TRUE(only_error(
      l, "6:64", "L2Advertisement metallb-system/a: spec.nodeSelectors[0].matchExpressions[0].values[1]",
      "duplicate definition of match expression value in label selector \"quux\""));
}

// ------------------------------------------------------------------------------------------ IPAddressPool

TEST(MetalLbPoolRules, ABareAddressIsAcceptedWithANoteThatMetalLbRefusesIt) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: metallb-system}
spec:
  addresses: [10.0.0.5]
)");
  EXPECT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kNote, "5:15", "IPAddressPool metallb-system/p: spec.addresses[0]",
                  "'10.0.0.5' is a single address: metalgate takes it as '10.0.0.5/32', MetalLB rejects it"));
}

TEST(MetalLbPoolRules, ACidrWithHostBitsIsRefusedWithANoteOnWhatMetalLbDoes) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: metallb-system}
spec:
  addresses: [10.0.0.5/24]
)");
  EXPECT_TRUE(
      only_error(l, "5:15", "IPAddressPool metallb-system/p: spec.addresses[0]", "CIDR has host bits set"));
  EXPECT_TRUE(has(l, Severity::kNote, "5:15", "IPAddressPool metallb-system/p: spec.addresses[0]",
                  "MetalLB accepts a CIDR with host bits set"));
}

TEST(MetalLbPoolRules, APoolOutsideMetalLbsNamespaceIsNoted) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: web}
spec: {addresses: [10.0.0.0/24]}
)");
  EXPECT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kNote, "3:32", "IPAddressPool web/p: metadata.namespace",
                  "resource must be created in metallb-system namespace"));
}

TEST(MetalLbPoolRules, AllocationNamespacesMustNotRepeat) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: metallb-system}
spec:
  addresses: [10.0.0.0/24]
  serviceAllocation: {namespaces: [a, b, a]}
)");
  EXPECT_TRUE(only_error(l, "6:42", "IPAddressPool metallb-system/p: spec.serviceAllocation.namespaces[2]",
                         "duplicate definition in namespaces field: \"a\""));
}

TEST(MetalLbPoolRules, AllocationSelectorsMustNotRepeat) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: metallb-system}
spec:
  addresses: [10.0.0.0/24]
  serviceAllocation:
    namespaceSelectors:
    - matchLabels: {team: a}
    - matchLabels: {team: a}
    serviceSelectors:
    - matchExpressions: [{key: app, operator: In, values: [x, y]}]
    - matchExpressions: [{key: app, operator: In, values: [y, x]}]
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "9:7",
                  "IPAddressPool metallb-system/p: spec.serviceAllocation.namespaceSelectors[1]",
                  "duplicate definition of namespaceSelectors \"team=a\""));
  EXPECT_TRUE(has(l, Severity::kError, "12:7",
                  "IPAddressPool metallb-system/p: spec.serviceAllocation.serviceSelectors[1]",
                  "duplicate definition of serviceSelectors"));
}

// ------------------------------------------------------------------------------------------ L2Advertisement

TEST(MetalLbL2Rules, NodeSelectorsMustNotRepeatWhateverTheOrderOfValues) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: a, namespace: metallb-system}
spec:
  nodeSelectors:
  - matchExpressions: [{key: zone, operator: In, values: [a, b]}]
  - matchExpressions: [{key: zone, operator: In, values: [b, a]}]
)");
  EXPECT_TRUE(only_error(l, "7:5", "L2Advertisement metallb-system/a: spec.nodeSelectors[1]",
                         "duplicate definition of nodeSelectors"));
}

TEST(MetalLbL2Rules, ServiceSelectorsAreCheckedAndNotedAsNotActedOn) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: a, namespace: metallb-system}
spec:
  serviceSelectors:
  - matchLabels: {app: web}
  - matchLabels: {app: web}
)");
  EXPECT_TRUE(only_error(l, "7:5", "L2Advertisement metallb-system/a: spec.serviceSelectors[1]",
                         "duplicate definition of serviceSelectors \"app=web\""));
  EXPECT_TRUE(has(l, Severity::kNote, "6:3", "L2Advertisement metallb-system/a: spec.serviceSelectors",
                  "does not act on them"));
}

TEST(MetalLbL2Rules, PreferredNodeSelectorsNeedAWeightFrom1To100AndAPreference) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: a, namespace: metallb-system}
spec:
  preferredNodeSelectors:
  - {weight: 100, preference: {matchLabels: {role: edge}}}
  - {weight: 0, preference: {matchLabels: {role: edge}}}
  - {weight: 5}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "7:14",
                  "L2Advertisement metallb-system/a: spec.preferredNodeSelectors[1].weight",
                  "must be between 1 and 100, not 0"));
  EXPECT_TRUE(has(l, Severity::kError, "8:5",
                  "L2Advertisement metallb-system/a: spec.preferredNodeSelectors[2].preference",
                  "is required"));
  EXPECT_TRUE(has(l, Severity::kNote, "6:3", "L2Advertisement metallb-system/a: spec.preferredNodeSelectors",
                  "does not act on them"));
}

TEST(MetalLbL2Rules, AnAdvertisementOutsideMetalLbsNamespaceIsNoted) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: a}
)");
  EXPECT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kNote, "3:11", "L2Advertisement default/a: metadata",
                  "resource must be created in metallb-system namespace"));
}

// ------------------------------------------------------------------------------------------ label selectors

TEST(MetalLbSelectorRules, RepeatedExpressionsInOneSelectorAreADuplicateDefinition) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: a, namespace: metallb-system}
spec:
  ipAddressPoolSelectors:
  - matchExpressions:
    - {key: tier, operator: In, values: [a, b]}
    - {key: tier, operator: In, values: [b, a]}
)");
  EXPECT_TRUE(only_error(
      l, "8:7", "L2Advertisement metallb-system/a: spec.ipAddressPoolSelectors[0].matchExpressions[1]",
      "duplicate definition of match expressions \"tier in (a,b)\""));
}

TEST(LabelSelectorRules, OperatorsAndTheirValues) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: a, namespace: metallb-system}
spec:
  nodeSelectors:
  - matchExpressions:
    - {key: a, operator: Near}
    - {key: b, operator: In}
    - {key: c, operator: Exists, values: [x]}
    - {operator: Exists}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 4u) << l.diagnostics.to_string();
  const std::string e = "L2Advertisement metallb-system/a: spec.nodeSelectors[0].matchExpressions";
  EXPECT_TRUE(
      has(l, Severity::kError, "7:26", e + "[0].operator", "must be In, NotIn, Exists or DoesNotExist"));
  EXPECT_TRUE(has(l, Severity::kError, "8:7", e + "[1].values", "must not be empty for operator In"));
  EXPECT_TRUE(has(l, Severity::kError, "9:42", e + "[2].values", "must be empty for operator Exists"));
  EXPECT_TRUE(has(l, Severity::kError, "10:7", e + "[3].key", "is required"));
}

TEST(LabelSelectorRules, ExpressionKeysMustBeQualifiedNames) {
  auto l = load(R"(apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: a, namespace: metallb-system}
spec:
  nodeSelectors:
  - matchExpressions: [{key: "bad key!", operator: Exists}]
)");
  EXPECT_TRUE(only_error(l, "6:30",
                         "L2Advertisement metallb-system/a: spec.nodeSelectors[0].matchExpressions[0].key",
                         "'bad key!': name part must consist of alphanumeric characters"));
}

TEST(LabelSelectorRules, ExpressionValuesAndMatchLabelsMustBeLabelValues) {
  auto l = load(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector:
    matchLabels: {app: "-web"}
    matchExpressions: [{key: tier, operator: In, values: ["a b"]}]
  template:
    metadata: {labels: {app: "-web", tier: "a b"}}
    spec: {containers: [{name: c}]}
)");
  EXPECT_TRUE(has(l, Severity::kError, "6:24", "Deployment default/d: spec.selector.matchLabels.app",
                  "'-web': a valid label must be an empty string or consist of alphanumeric characters"));
  EXPECT_TRUE(has(l, Severity::kError, "7:59",
                  "Deployment default/d: spec.selector.matchExpressions[0].values[0]",
                  "'a b': a valid label must be an empty string"));
}

TEST(LabelSelectorRules, KubernetesSelectorsMayRepeatValues) {
  auto l = load(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector:
    matchExpressions: [{key: app, operator: In, values: [web, web]}]
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c}]}
)");
  EXPECT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
}

// ------------------------------------------------------------------------------------------ metadata

TEST(MetadataRules, ANameIsRequired) {
  auto l = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: b}}\n");
  EXPECT_TRUE(only_error(l, "3:11", "ConfigMap default/?: metadata.name", "is required"));
}

TEST(MetadataRules, NamesAreDns1123Subdomains) {
  auto l = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n");
  EXPECT_TRUE(only_error(l, "3:18", "ConfigMap default/Bad_Name: metadata.name",
                         "'Bad_Name': a lowercase RFC 1123 subdomain must consist of"));
}

TEST(MetadataRules, ALongSubdomainLabelIsAcceptedAsKubernetesDoes) {
  auto l = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + std::string(70, 'a') + ".b}\n");
  EXPECT_FALSE(l.diagnostics.has_errors()) << l.diagnostics.to_string();
}

TEST(MetadataRules, ServiceNamesAreDns1035Labels) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: 1svc}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: a.b}
spec: {ports: [{port: 80}]}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(
      has(l, Severity::kError, "3:18", "Service default/1svc: metadata.name",
          "'1svc': a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
          "alphabetic character"));
  EXPECT_TRUE(has(l, Severity::kError, "8:18", "Service default/a.b: metadata.name", "a DNS-1035 label"));
}

TEST(MetadataRules, NamespacesAreDns1123Labels) {
  auto l = load(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: Bad_NS}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: a.b}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "3:32", "ConfigMap Bad_NS/c: metadata.namespace",
                  "'Bad_NS': a lowercase RFC 1123 label must consist of"));
  EXPECT_TRUE(has(l, Severity::kError, "7:32", "ConfigMap a.b/c: metadata.namespace",
                  "'a.b': must not contain dots"));
}

TEST(MetadataRules, LabelKeysAreQualifiedNamesAndValuesLabelValues) {
  auto l = load(R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  labels:
    "bad key!": x
    example.com/ok: "value with spaces"
    /nameless: x
)");
  EXPECT_EQ(l.diagnostics.error_count(), 3u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "6:5", "ConfigMap default/c: metadata.labels.bad key!",
                  "'bad key!': name part must consist of alphanumeric characters"));
  EXPECT_TRUE(has(l, Severity::kError, "7:21", "ConfigMap default/c: metadata.labels.example.com/ok",
                  "'value with spaces': a valid label must be an empty string"));
  EXPECT_TRUE(has(l, Severity::kError, "8:5", "ConfigMap default/c: metadata.labels./nameless",
                  "'/nameless': prefix part must be non-empty"));
}

TEST(MetadataRules, AnnotationKeysAreQualifiedNamesOnceLowerCased) {
  auto l = load(R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  annotations:
    Example.COM/Mixed-Case: fine
    a/b/c: no
)");
  EXPECT_TRUE(only_error(l, "7:5", "ConfigMap default/c: metadata.annotations.a/b/c",
                         "'a/b/c': a qualified name must consist of alphanumeric characters"));
}

TEST(MetadataRules, AnnotationsTogetherHoldAtMost256KiB) {
  auto l = load("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    big: " +
                std::string(256 * 1024, 'x') + "\n");
  EXPECT_TRUE(only_error(l, "6:5", "ConfigMap default/c: metadata.annotations",
                         "Too long: must have at most 262144 bytes"));
}

// ------------------------------------------------------------------------------------------ Service

TEST(ServiceRules, PortsAreRequiredUnlessHeadlessOrExternalName) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: none}
spec: {selector: {app: a}}
---
apiVersion: v1
kind: Service
metadata: {name: headless}
spec: {clusterIP: None, selector: {app: a}}
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {type: ExternalName, externalName: db.example.com.}
)");
  EXPECT_TRUE(only_error(l, "4:7", "Service default/none: spec.ports", "is required"));
}

TEST(ServiceRules, PortNamesAreDns1123Labels) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: s}
spec: {ports: [{name: Web_Port, port: 80}]}
)");
  EXPECT_TRUE(only_error(l, "4:23", "Service default/s: spec.ports[0].name",
                         "'Web_Port': a lowercase RFC 1123 label must consist of"));
}

TEST(ServiceRules, NodePortIsForbiddenOnClusterIpAndUniquePerProtocol) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: c}
spec: {ports: [{port: 80, nodePort: 30080}]}
---
apiVersion: v1
kind: Service
metadata: {name: n}
spec:
  type: NodePort
  ports:
  - {name: a, port: 80, nodePort: 30080}
  - {name: b, port: 81, nodePort: 30080}
  - {name: c, port: 81, nodePort: 30080, protocol: UDP}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "4:37", "Service default/c: spec.ports[0].nodePort",
                  "may not be used when `type` is 'ClusterIP'"));
  EXPECT_TRUE(has(l, Severity::kError, "13:35", "Service default/n: spec.ports[1].nodePort",
                  "Duplicate value: node port 30080/TCP"));
}

TEST(ServiceRules, AppProtocolIsAQualifiedName) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: s}
spec: {ports: [{port: 80, appProtocol: "h t t p"}]}
)");
  EXPECT_TRUE(
      only_error(l, "4:40", "Service default/s: spec.ports[0].appProtocol", "'h t t p': name part must"));
}

TEST(ServiceRules, SelectorKeysAndValuesAreLabels) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: s}
spec: {selector: {app: "no good"}, ports: [{port: 80}]}
)");
  EXPECT_TRUE(
      only_error(l, "4:24", "Service default/s: spec.selector.app", "'no good': a valid label must be"));
}

TEST(ServiceRules, ExternalTrafficPolicyOnlyOnExternallyAccessibleServices) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: internal}
spec: {externalTrafficPolicy: Local, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: with-external-ips}
spec: {externalTrafficPolicy: Local, externalIPs: [192.0.2.1], ports: [{port: 80}]}
)");
  EXPECT_TRUE(only_error(l, "4:31", "Service default/internal: spec.externalTrafficPolicy",
                         "may only be set for externally-accessible services"));
}

TEST(ServiceRules, HealthCheckNodePortOnlyOnLocalLoadBalancers) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: s}
spec: {type: LoadBalancer, healthCheckNodePort: 32000, ports: [{port: 80}]}
)");
  EXPECT_TRUE(
      only_error(l, "4:49", "Service default/s: spec.healthCheckNodePort",
                 "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
}

TEST(ServiceRules, IpFamiliesMustNotRepeat) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: s}
spec: {ipFamilies: [IPv4, IPv4], ports: [{port: 80}]}
)");
  EXPECT_TRUE(only_error(l, "4:27", "Service default/s: spec.ipFamilies[1]", "Duplicate value: 'IPv4'"));
}

TEST(ServiceRules, LoadBalancerOnlyFieldsAreRefusedOnOtherTypes) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  type: NodePort
  loadBalancerClass: example.com/lb
  loadBalancerSourceRanges: [10.0.0.0/8]
  allocateLoadBalancerNodePorts: false
  ports: [{port: 80}]
)");
  EXPECT_EQ(l.diagnostics.error_count(), 3u) << l.diagnostics.to_string();
  for (auto [at, field] :
       {std::pair{"6:22", "spec.loadBalancerClass"}, std::pair{"7:29", "spec.loadBalancerSourceRanges"},
        std::pair{"8:34", "spec.allocateLoadBalancerNodePorts"}})
    EXPECT_TRUE(has(l, Severity::kError, at, std::string("Service default/s: ") + field,
                    "may only be used when `type` is 'LoadBalancer'"));
}

TEST(ServiceRules, LoadBalancerClassIsAQualifiedNameAndSourceRangesAreCidrs) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  type: LoadBalancer
  loadBalancerClass: "a/b/c"
  loadBalancerSourceRanges: [" 10.0.0.1/8 ", 10.0.0.300/8]
  ports: [{port: 80}]
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "6:22", "Service default/s: spec.loadBalancerClass",
                  "'a/b/c': a qualified name"));
  EXPECT_TRUE(has(l, Severity::kError, "7:46", "Service default/s: spec.loadBalancerSourceRanges[1]",
                  "'10.0.0.300/8': must be a valid CIDR value"));
}

TEST(ServiceRules, ExternalNameServicesNeedAnExternalNameAndNoClusterFields) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: missing}
spec: {type: ExternalName}
---
apiVersion: v1
kind: Service
metadata: {name: bad}
spec: {type: ExternalName, externalName: Bad_Host, clusterIP: 10.0.0.1, ipFamilies: [IPv4]}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 4u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "4:7", "Service default/missing: spec.externalName", "is required"));
  EXPECT_TRUE(has(l, Severity::kError, "9:42", "Service default/bad: spec.externalName",
                  "'Bad_Host': a lowercase RFC 1123 subdomain"));
  EXPECT_TRUE(has(l, Severity::kError, "9:63", "Service default/bad: spec.clusterIP",
                  "may not be set for ExternalName services"));
  EXPECT_TRUE(has(l, Severity::kError, "9:85", "Service default/bad: spec.ipFamilies",
                  "may not be set for ExternalName services"));
}

TEST(ServiceRules, TypeProtocolTargetPortAndFamiliesComeFromTheirLists) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  type: Bogus
  ipFamilies: [IPv5]
  ipFamilyPolicy: Dual
  ports:
  - {name: a, port: 80, protocol: HTTP, targetPort: Bad_Name}
  - {name: a, port: 81}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 6u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "5:9", "Service default/s: spec.type",
                  "must be ClusterIP, NodePort, LoadBalancer or ExternalName, not 'Bogus'"));
  EXPECT_TRUE(
      has(l, Severity::kError, "6:16", "Service default/s: spec.ipFamilies[0]", "must be IPv4 or IPv6"));
  EXPECT_TRUE(has(l, Severity::kError, "7:19", "Service default/s: spec.ipFamilyPolicy",
                  "must be SingleStack, PreferDualStack or RequireDualStack"));
  EXPECT_TRUE(has(l, Severity::kError, "9:35", "Service default/s: spec.ports[0].protocol",
                  "protocol must be TCP, UDP or SCTP, not 'HTTP'"));
  EXPECT_TRUE(has(l, Severity::kError, "9:53", "Service default/s: spec.ports[0].targetPort",
                  "'Bad_Name' is neither a port number nor a valid port name"));
  EXPECT_TRUE(
      has(l, Severity::kError, "10:12", "Service default/s: spec.ports[1].name", "'a' is used twice"));
}

TEST(ServiceRules, RequestedLoadBalancerAddressesAreIpsOfDifferentFamilies) {
  auto l = load(R"(apiVersion: v1
kind: Service
metadata: {name: a, annotations: {metallb.io/loadBalancerIPs: "10.0.0.1,,10.0.0.2"}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {type: LoadBalancer, loadBalancerIP: nope, ports: [{port: 80}]}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 3u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "3:63",
                  "Service default/a: metadata.annotations.metallb.io/loadBalancerIPs",
                  "has an empty entry: invalid metallb.io/loadBalancerIPs"));
  EXPECT_TRUE(has(l, Severity::kError, "3:63",
                  "Service default/a: metadata.annotations.metallb.io/loadBalancerIPs",
                  "request at most one IPv4 and one IPv6 address"));
  EXPECT_TRUE(has(l, Severity::kError, "9:44", "Service default/b: spec.loadBalancerIP",
                  "'nope' is not an IP address"));
}

// ------------------------------------------------------------------------------------------ Ingress

std::string ingress(const std::string& spec, const std::string& metadata = "{name: i}") {
  return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: " + metadata + "\nspec:\n" + spec;
}

TEST(IngressRules, AnHttpRuleNeedsAtLeastOnePath) {
  auto l = load(ingress("  rules: [{host: a.example.com, http: {paths: []}}]\n"));
  EXPECT_TRUE(only_error(l, "5:47", "Ingress default/i: spec.rules[0].http.paths", "is required"));
}

TEST(IngressRules, ExactAndPrefixPathsMustNotWalkTheTree) {
  auto l = load(ingress(R"(  defaultBackend: {service: {name: web, port: {number: 80}}}
  rules:
  - http:
      paths:
      - {path: /a//b, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /a/.., pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /a%2Fb, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /a//b, pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
)"));
  EXPECT_EQ(l.diagnostics.error_count(), 3u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "9:16", "Ingress default/i: spec.rules[0].http.paths[0].path",
                  "'/a//b': must not contain '//'"));
  EXPECT_TRUE(has(l, Severity::kError, "10:16", "Ingress default/i: spec.rules[0].http.paths[1].path",
                  "'/a/..': cannot end with '/..'"));
  EXPECT_TRUE(has(l, Severity::kError, "11:16", "Ingress default/i: spec.rules[0].http.paths[2].path",
                  "'/a%2Fb': must not contain '%2F'"));
}

TEST(IngressRules, BackendServiceNamesAreDns1035Labels) {
  auto l = load(ingress("  defaultBackend: {service: {name: 1bad.svc, port: {number: 80}}}\n"));
  EXPECT_TRUE(only_error(l, "5:36", "Ingress default/i: spec.defaultBackend.service.name",
                         "'1bad.svc': a DNS-1035 label"));
}

TEST(IngressRules, TlsSecretNamesAndTheClassNameAreDns1123Subdomains) {
  auto l = load(ingress(R"(  ingressClassName: Bad_Class
  tls: [{hosts: [a.example.com], secretName: Bad_Secret}]
  defaultBackend: {service: {name: web, port: {number: 80}}}
)"));
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "5:21", "Ingress default/i: spec.ingressClassName",
                  "'Bad_Class': a lowercase RFC 1123 subdomain"));
  EXPECT_TRUE(has(l, Severity::kError, "6:46", "Ingress default/i: spec.tls[0].secretName",
                  "'Bad_Secret': a lowercase RFC 1123 subdomain"));
}

TEST(IngressRules, TheLegacyClassAnnotationMustMatchTheClassName) {
  auto l = load(
      ingress("  ingressClassName: haproxy\n  defaultBackend: {service: {name: web, port: {number: 80}}}\n",
              "{name: i, annotations: {kubernetes.io/ingress.class: nginx}}"));
  EXPECT_TRUE(only_error(l, "3:64", "Ingress default/i: metadata.annotations.kubernetes.io/ingress.class",
                         "'nginx': must match `ingressClassName` ('haproxy') when both are specified"));
}

TEST(IngressRules, WildcardHostsAreStarDotAndASubdomain) {
  auto l = load(ingress(R"(  rules:
  - {host: "*"}
  - {host: "*.*.example.com"}
  - {host: "f*.example.com"}
  - {host: "*.example.com"}
)"));
  EXPECT_EQ(l.diagnostics.error_count(), 3u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "6:12", "Ingress default/i: spec.rules[0].host",
                  "'*' is not a valid host: a wildcard DNS-1123 subdomain must start with '*.'"));
  EXPECT_TRUE(has(l, Severity::kError, "7:12", "Ingress default/i: spec.rules[1].host",
                  "a wildcard DNS-1123 subdomain"));
  EXPECT_TRUE(has(l, Severity::kError, "8:12", "Ingress default/i: spec.rules[2].host",
                  "a wildcard DNS-1123 subdomain"));
}

TEST(IngressRules, AnIpAsTlsHostIsRefusedWithANoteThatKubernetesAcceptsIt) {
  auto l = load(ingress(R"(  tls: [{hosts: [192.0.2.1]}]
  defaultBackend: {service: {name: web, port: {number: 80}}}
)"));
  EXPECT_TRUE(only_error(l, "5:18", "Ingress default/i: spec.tls[0].hosts[0]",
                         "'192.0.2.1' is not a valid host name"));
  EXPECT_TRUE(has(l, Severity::kNote, "5:18", "Ingress default/i: spec.tls[0].hosts[0]",
                  "Kubernetes accepts an IP address here"));
}

TEST(IngressRules, ASpecNeedsRulesOrADefaultBackendAndABackendOneKind) {
  auto l = load(ingress(R"(  rules:
  - http:
      paths:
      - {pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}, resource: {kind: B}}}
)") + "---\n" + ingress("  tls: []\n", "{name: j}"));
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "8:53", "Ingress default/i: spec.rules[0].http.paths[0].backend",
                  "a backend has either a service or a resource, not both"));
  EXPECT_TRUE(has(l, Severity::kError, "14:3", "Ingress default/j: spec", "needs rules or a defaultBackend"));
}

// ------------------------------------------------------------------------------------------ IngressClass

TEST(IngressClassRules, TheControllerIsADomainPrefixedPathOfAtMost250Bytes) {
  auto l = load(R"(apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: a}
spec: {controller: haproxy}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: b}
spec: {controller: "example.com/a b"}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: c}
spec: {controller: example.com/)" +
                std::string(250, 'x') + R"(}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 3u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "4:20", "IngressClass a: spec.controller",
                  "'haproxy': must be a domain-prefixed path (such as \"acme.io/foo\")"));
  EXPECT_TRUE(has(l, Severity::kError, "9:20", "IngressClass b: spec.controller", "Invalid path"));
  EXPECT_TRUE(has(l, Severity::kError, "14:20", "IngressClass c: spec.controller",
                  "Too long: must have at most 250 bytes"));
}

TEST(IngressClassRules, TheControllerIsRequired) {
  auto l = load("apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: a}\nspec: {}\n");
  EXPECT_TRUE(only_error(l, "4:7", "IngressClass a: spec.controller", "is required"));
}

TEST(IngressClassRules, ParametersNameAKindAndScopeDecidesTheNamespace) {
  auto l = load(R"(apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: a}
spec:
  controller: haproxy.org/ingress-controller
  parameters: {apiGroup: Bad_Group, kind: a/b, name: "..", scope: Namespace}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: b}
spec:
  controller: haproxy.org/ingress-controller
  parameters: {kind: Config, name: c, namespace: x}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 5u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "6:26", "IngressClass a: spec.parameters.apiGroup",
                  "'Bad_Group': a lowercase RFC 1123 subdomain"));
  EXPECT_TRUE(
      has(l, Severity::kError, "6:43", "IngressClass a: spec.parameters.kind", "'a/b': may not contain '/'"));
  EXPECT_TRUE(
      has(l, Severity::kError, "6:54", "IngressClass a: spec.parameters.name", "'..': may not be '..'"));
  EXPECT_TRUE(has(l, Severity::kError, "6:15", "IngressClass a: spec.parameters.namespace",
                  "is required: `parameters.scope` is set to 'Namespace'"));
  EXPECT_TRUE(has(l, Severity::kError, "13:50", "IngressClass b: spec.parameters.namespace",
                  "`parameters.scope` is set to 'Cluster'"));
}

// ------------------------------------------------------------------------------------------ ConfigMap,
// Secret

TEST(ConfigMapRules, KeysAreConfigKeys) {
  auto l = load(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {bad/key: x, "..hidden": y, ok.key_1-A: z}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "4:8", "ConfigMap default/c: data.bad/key",
                  "'bad/key': a valid config key must consist of"));
  EXPECT_TRUE(has(l, Severity::kError, "4:20", "ConfigMap default/c: data...hidden",
                  "'..hidden': must not start with '..'"));
}

TEST(ConfigMapRules, AKeyMayNotBeInBothDataAndBinaryData) {
  auto l = load(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {shared: x}
binaryData: {shared: eA==, other: "***"}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "4:8", "ConfigMap default/c: data.shared",
                  "'shared': duplicate of key present in binaryData"));
  EXPECT_TRUE(
      has(l, Severity::kError, "5:35", "ConfigMap default/c: binaryData.other", "is not valid base64"));
}

TEST(ConfigMapRules, ThePayloadHoldsAtMostOneMebibyte) {
  auto l = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: " +
                std::string(1024 * 1024, 'x') + "\n  b: x\n");
  EXPECT_TRUE(only_error(l, "5:3", "ConfigMap default/c: data", "Too long: must have at most 1048576 bytes"));
}

TEST(SecretRules, DataAndStringDataKeysAreConfigKeys) {
  auto l = load(R"(apiVersion: v1
kind: Secret
metadata: {name: s}
data: {"a b": eA==}
stringData: {..: y}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "4:8", "Secret default/s: data.a b", "'a b': a valid config key"));
  EXPECT_TRUE(has(l, Severity::kError, "5:14", "Secret default/s: stringData...", "'..': must not be '..'"));
}

TEST(SecretRules, TypedSecretsCarryTheirKeys) {
  auto l = load(R"(apiVersion: v1
kind: Secret
metadata: {name: basic}
type: kubernetes.io/basic-auth
data: {other: eA==}
---
apiVersion: v1
kind: Secret
metadata: {name: docker}
type: kubernetes.io/dockerconfigjson
stringData: {.dockerconfigjson: "not json"}
---
apiVersion: v1
kind: Secret
metadata: {name: token}
type: kubernetes.io/service-account-token
---
apiVersion: v1
kind: Secret
metadata: {name: ssh}
type: kubernetes.io/ssh-auth
stringData: {ssh-privatekey: key}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 3u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "5:7", "Secret default/basic: data",
                  "a kubernetes.io/basic-auth Secret needs 'username' or 'password'"));
  EXPECT_TRUE(has(l, Severity::kError, "11:33", "Secret default/docker: stringData..dockerconfigjson",
                  "'.dockerconfigjson' does not hold a JSON object"));
  EXPECT_TRUE(has(l, Severity::kError, "15:11", "Secret default/token: metadata.annotations",
                  "needs the annotation kubernetes.io/service-account.name"));
}

TEST(SecretRules, ATlsSecretWithoutPemIsRefusedWithANoteOnWhatKubernetesRequires) {
  auto l = load(R"(apiVersion: v1
kind: Secret
metadata: {name: s}
type: kubernetes.io/tls
stringData: {tls.crt: x, tls.key: y}
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(
      has(l, Severity::kError, "5:23", "Secret default/s: stringData.tls.crt", "does not hold a PEM block"));
  EXPECT_TRUE(has(l, Severity::kNote, "5:23", "Secret default/s: stringData.tls.crt",
                  "Kubernetes only requires the key"));
}

// ------------------------------------------------------------------------------------------ Endpoints

TEST(EndpointsRules, ASubsetNeedsAddressesOrNotReadyAddresses) {
  auto l = load(R"(apiVersion: v1
kind: Endpoints
metadata: {name: e}
subsets:
- ports: [{port: 80}]
)");
  EXPECT_TRUE(only_error(l, "5:3", "Endpoints default/e: subsets[0]",
                         "must specify `addresses` or `notReadyAddresses`"));
}

TEST(EndpointsRules, AddressesMayNotBeUnspecifiedOrLinkLocalAndLoopbackIsNoted) {
  auto l = load(R"(apiVersion: v1
kind: Endpoints
metadata: {name: e}
subsets:
- addresses: [{ip: 0.0.0.0}, {ip: 169.254.1.1}, {ip: "fe80::1"}, {ip: 224.0.0.5}, {ip: 127.0.0.1}]
)");
  EXPECT_EQ(l.diagnostics.error_count(), 4u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "5:20", "Endpoints default/e: subsets[0].addresses[0].ip",
                  "'0.0.0.0': may not be unspecified (0.0.0.0)"));
  EXPECT_TRUE(has(l, Severity::kError, "5:35", "Endpoints default/e: subsets[0].addresses[1].ip",
                  "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
  EXPECT_TRUE(has(l, Severity::kError, "5:54", "Endpoints default/e: subsets[0].addresses[2].ip",
                  "link-local range"));
  EXPECT_TRUE(has(l, Severity::kError, "5:71", "Endpoints default/e: subsets[0].addresses[3].ip",
                  "may not be in the link-local multicast range"));
  EXPECT_TRUE(has(l, Severity::kNote, "5:88", "Endpoints default/e: subsets[0].addresses[4].ip",
                  "Kubernetes refuses endpoints in the loopback range"));
}

TEST(EndpointsRules, HostnamesAreLabelsAndNodeNamesSubdomains) {
  auto l = load(R"(apiVersion: v1
kind: Endpoints
metadata: {name: e}
subsets:
- addresses: [{ip: 10.0.0.1, hostname: a.b, nodeName: Node_1}]
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "5:40", "Endpoints default/e: subsets[0].addresses[0].hostname",
                  "'a.b': must not contain dots"));
  EXPECT_TRUE(has(l, Severity::kError, "5:55", "Endpoints default/e: subsets[0].addresses[0].nodeName",
                  "'Node_1': a lowercase RFC 1123 subdomain"));
}

TEST(EndpointsRules, SeveralPortsNeedLabelNames) {
  auto l = load(R"(apiVersion: v1
kind: Endpoints
metadata: {name: e}
subsets:
- addresses: [{ip: 10.0.0.1}]
  ports: [{port: 80}, {name: Web, port: 81}]
)");
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(
      has(l, Severity::kError, "6:11", "Endpoints default/e: subsets[0].ports[0].name", "is required"));
  EXPECT_TRUE(has(l, Severity::kError, "6:30", "Endpoints default/e: subsets[0].ports[1].name",
                  "'Web': a lowercase RFC 1123 label"));
}

std::string slice(const std::string& rest) {
  return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
         "metadata: {name: s, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\n" +
         rest;
}

TEST(EndpointSliceRules, EachEndpointHasAnAddressOfTheSlicesFamily) {
  auto l = load(slice("endpoints:\n- addresses: []\n- addresses: [\"fd00::1\"]\n"));
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(has(l, Severity::kError, "6:14", "EndpointSlice default/s: endpoints[0].addresses",
                  "must contain at least 1 address"));
  EXPECT_TRUE(has(l, Severity::kError, "7:15", "EndpointSlice default/s: endpoints[1].addresses[0]",
                  "'fd00::1': must be a valid IPv4 address"));
}

TEST(EndpointSliceRules, AnEndpointHoldsAtMost100Addresses) {
  std::string addresses;
  for (int i = 1; i <= 101; ++i)
    addresses += (i > 1 ? ", 10.0.1." : "10.0.1.") + std::to_string(i);
  auto l = load(slice("endpoints:\n- addresses: [" + addresses + "]\n"));
  EXPECT_TRUE(only_error(l, "6:14", "EndpointSlice default/s: endpoints[0].addresses",
                         "Too many: 101: must have at most 100 items"));
}

TEST(EndpointSliceRules, TheAddressTypeIsIPv4IPv6OrFqdn) {
  auto l = load(
      "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
      "metadata: {name: s, labels: {kubernetes.io/service-name: web}}\naddressType: IPv5\n");
  EXPECT_TRUE(only_error(l, "4:14", "EndpointSlice default/s: addressType",
                         "must be IPv4, IPv6 or FQDN, not 'IPv5'"));
}

TEST(EndpointSliceRules, PortNamesAreUniqueLabels) {
  auto l =
      load(slice("endpoints: [{addresses: [10.0.0.1]}]\nports: [{name: a, port: 80}, {name: a, port: 81}, "
                 "{name: A_, port: 82}]\n"));
  EXPECT_EQ(l.diagnostics.error_count(), 2u) << l.diagnostics.to_string();
  EXPECT_TRUE(
      has(l, Severity::kError, "6:37", "EndpointSlice default/s: ports[1].name", "Duplicate value: 'a'"));
  EXPECT_TRUE(has(l, Severity::kError, "6:58", "EndpointSlice default/s: ports[2].name",
                  "'A_': a lowercase RFC 1123 label"));
}

}  // namespace
}  // namespace metalgate::config
