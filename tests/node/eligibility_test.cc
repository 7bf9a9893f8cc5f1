// MetalLB's rule for who may announce a Service, on its own (engine/speaker/eligibility).
#include "engine/speaker/eligibility.h"

#include <gtest/gtest.h>

#include "engine/config/manifest_loader.h"
#include "engine/model/resolve.h"
#include "tests/node/local_manifests.h"

namespace metalgate::speaker {
namespace {

const config::Labels kNoLabels;

Layer2Assignment local(std::set<std::string> endpoint_nodes) {
  Layer2Assignment a;
  a.service = "default/db";
  a.local_traffic_policy = true;
  a.nodes_with_ready_endpoints = std::move(endpoint_nodes);
  return a;
}

TEST(MayAnnounce, WithClusterPolicyEveryNodeMayAnnounce) {
  Layer2Assignment a;
  EXPECT_TRUE(may_announce(a, {"node-a", kNoLabels, true}));
  EXPECT_TRUE(may_announce(a, {"node-b", kNoLabels, false}));
}

TEST(MayAnnounce, WithLocalPolicyOnlyNodesHoldingAReadyEndpointMayAnnounce) {
  auto a = local({"node-b"});
  EXPECT_TRUE(may_announce(a, {"node-b", kNoLabels, false}));
  EXPECT_FALSE(may_announce(a, {"node-a", kNoLabels, true}));
}

TEST(MayAnnounce, TheControllersLocalServiceMayBeAnnouncedByTheNodesRunningTheProxy) {
  auto a = local({});
  a.endpoints_are_proxies = true;
  EXPECT_TRUE(may_announce(a, {"node-a", kNoLabels, true}));
  EXPECT_FALSE(may_announce(a, {"node-b", kNoLabels, false}));
}

TEST(MayAnnounce, NodeSelectorsStillApplyToNodesHoldingEndpoints) {
  auto a = local({"node-a", "node-b"});
  a.node_selectors.push_back(config::LabelSelector{{{"rack", "r1"}}, {}});
  const config::Labels r1{{"rack", "r1"}}, r2{{"rack", "r2"}};
  EXPECT_TRUE(may_announce(a, {"node-a", r1, true}));
  EXPECT_FALSE(may_announce(a, {"node-b", r2, true}));
}

model::Model resolve(const std::string& yaml) {
  config::ManifestSet set;
  config::Diagnostics d;
  config::load_manifest_text(yaml, "test.yaml", set, d);
  config::finish_manifest_set(set, d);
  auto m = model::resolve_model(std::move(set), {}, d);
  EXPECT_FALSE(d.has_errors()) << d.to_string();
  return m;
}

const std::string kPoolAndLocalDb = std::string(node::testing::kPool) + R"(---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: db}
  ports: [{name: pg, port: 5432}]
)";

TEST(Layer2Assignments, EndpointsNameTheNodesOfALocalServiceAndNotReadyOnesDoNotCount) {
  auto m = resolve(std::string(kPoolAndLocalDb) + R"(---
apiVersion: v1
kind: Endpoints
metadata: {name: db, namespace: default}
subsets:
- addresses: [{ip: 10.0.0.5, nodeName: node-b}]
  notReadyAddresses: [{ip: 10.0.0.6, nodeName: node-c}]
  ports: [{name: pg, port: 5432}]
)");
  auto a = layer2_assignments(m);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].local_traffic_policy);
  EXPECT_FALSE(a[0].endpoints_are_proxies);
  EXPECT_EQ(a[0].nodes_with_ready_endpoints, (std::set<std::string>{"node-b"}));
}

TEST(Layer2Assignments, AWorldsPlacementNamesTheNodesOfADeploymentsPods) {
  auto m = resolve(std::string(kPoolAndLocalDb) + R"(---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: pg, image: postgres, ports: [{containerPort: 5432}]}]}
)");
  EXPECT_TRUE(layer2_assignments(m)[0].nodes_with_ready_endpoints.empty()) << "pods nobody placed run nowhere";
  auto placed = layer2_assignments(m, [](const routing::ResolvedEndpoint& ep) {
    return ep.name == "db-1" ? std::string("node-c") : std::string();
  });
  EXPECT_EQ(placed[0].nodes_with_ready_endpoints, (std::set<std::string>{"node-c"}));
}

}  // namespace
}  // namespace metalgate::speaker
