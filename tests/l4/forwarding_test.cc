// Which endpoints a node forwards a LoadBalancer Service's port to (kube-proxy's rule), on its own.
#include "engine/l4/forwarding.h"

#include <gtest/gtest.h>

namespace metalgate::l4 {
namespace {

proxy::ServerConfig server(std::string name, std::string node, bool ready = true) {
  proxy::ServerConfig s;
  s.name = std::move(name);
  s.node = std::move(node);
  s.ready = ready;
  return s;
}

std::vector<std::string> names(const proxy::L4ServiceConfig& c) {
  std::vector<std::string> out;
  for (const auto& s : c.backend.servers)
    out.push_back(s.name);
  return out;
}

proxy::L4ServiceConfig service(bool local, std::vector<proxy::ServerConfig> servers) {
  proxy::L4ServiceConfig c;
  c.service = "default/db";
  c.local_only = local;
  c.backend.servers = std::move(servers);
  return c;
}

using Names = std::vector<std::string>;

TEST(ConfigOnNode, ClusterPolicyForwardsToReadyEndpointsOnEveryNode) {
  auto c = service(false, {server("a", "n1"), server("b", "n2"), server("t", "n1", false)});
  EXPECT_EQ(names(config_on_node(c, "n3")), (Names{"a", "b"}));
}

TEST(ConfigOnNode, LocalPolicyForwardsOnlyToTheNodesOwnEndpoints) {
  auto c = service(true, {server("a", "n1"), server("b", "n2"), server("c", "n1")});
  EXPECT_EQ(names(config_on_node(c, "n1")), (Names{"a", "c"}));
  auto none = config_on_node(c, "n3");
  EXPECT_TRUE(none.backend.servers.empty());
  EXPECT_NE(none.backend.problem.find("no endpoint on node n3"), std::string::npos);
}

TEST(ConfigOnNode, TerminatingServingEndpointsAreUsedOnlyWhenNoneIsReady) {
  auto c = service(false, {server("t1", "n1", false), server("t2", "n2", false)});
  EXPECT_EQ(names(config_on_node(c, "n1")), (Names{"t1", "t2"}));
  // Local: the rule applies to the node's own endpoints (a ready one elsewhere does not count).
  auto local = service(true, {server("r", "n2"), server("t", "n1", false)});
  EXPECT_EQ(names(config_on_node(local, "n1")), (Names{"t"}));
}

// Every node forwards every Service: the node's variant is the configuration itself unless the node changes
// it, so that 256 nodes with 1,000 Services do not keep 256,000 copies (reports/sim-speed.md).
TEST(ConfigOnNode, TheSharedConfigurationIsTheNodesOwnUnlessTheNodeFiltersIt) {
  auto all_ready =
      std::make_shared<const proxy::L4ServiceConfig>(service(false, {server("a", "n1"), server("b", "n2")}));
  EXPECT_EQ(config_on_node(all_ready, "n3"), all_ready);
  auto none_ready = std::make_shared<const proxy::L4ServiceConfig>(
      service(false, {server("t1", "n1", false), server("t2", "n2", false)}));
  EXPECT_EQ(config_on_node(none_ready, "n3"), none_ready);

  auto some_ready = std::make_shared<const proxy::L4ServiceConfig>(
      service(false, {server("a", "n1"), server("t", "n1", false)}));
  auto filtered = config_on_node(some_ready, "n3");
  EXPECT_NE(filtered, some_ready);
  EXPECT_EQ(names(*filtered), (Names{"a"}));
  EXPECT_EQ(names(*some_ready), (Names{"a", "t"}));  // the shared one is left as it was
  auto local =
      std::make_shared<const proxy::L4ServiceConfig>(service(true, {server("a", "n1"), server("b", "n2")}));
  EXPECT_EQ(names(*config_on_node(local, "n2")), (Names{"b"}));
}

TEST(ConfigOnNode, AConfigMapServiceKeepsEveryServerItWasBuiltWith) {
  auto c = service(true, {server("a", "n1"), server("b", "n2")});
  c.service.clear();
  EXPECT_EQ(names(config_on_node(c, "n3")), (Names{"a", "b"}));
}

// ------------------------------------------------------------------ the controller's ports, on a node
// without it

struct ControllerModel {
  explicit ControllerModel(config::TrafficPolicy policy) {
    service.external_traffic_policy = policy;
    service.ports = {{"http", config::Protocol::kTcp, 80, {}, {}},
                     {"dns", config::Protocol::kUdp, 53, {}, {}}};
    model::ResolvedService r;
    r.service = &service;
    r.key = "haproxy-ingress/controller";
    r.is_ingress_controller = true;
    r.addresses = {net::IpAddress::v4(192, 168, 1, 240)};
    model.services.push_back(r);
  }
  config::Service service;
  model::Model model;
};

const std::vector<ProxyPeer> kPeers = {{"node-b", net::IpAddress::v4(192, 168, 1, 12)},
                                       {"node-c", net::IpAddress::v4(192, 168, 1, 13)}};

TEST(ControllerForwards, AClusterControllersEveryPortGoesToEveryProxyAtTheSamePort) {
  ControllerModel m(config::TrafficPolicy::kCluster);
  auto forwards = controller_forwards(m.model, kPeers);
  ASSERT_EQ(forwards.size(), 2u);
  EXPECT_EQ(forwards[0].bind.to_string(), "192.168.1.240:80");
  EXPECT_FALSE(forwards[0].udp);
  EXPECT_EQ(names(forwards[0]), (Names{"node-b", "node-c"}));
  EXPECT_EQ(forwards[0].backend.servers[1].address.to_string(), "192.168.1.13:80");
  EXPECT_TRUE(forwards[1].udp);
  EXPECT_EQ(forwards[1].backend.servers[0].address.to_string(), "192.168.1.12:53");
  EXPECT_FALSE(forwards[0].backend.check.enabled) << "the membership is the proxies' readiness";
}

TEST(ControllerForwards, ALocalControllerIsNeverForwardedByANodeWithoutTheProxy) {
  ControllerModel m(config::TrafficPolicy::kLocal);
  EXPECT_TRUE(controller_forwards(m.model, kPeers).empty());
}

TEST(ControllerForwards, WithNoProxyAliveThePortsHaveNoServerAndSayWhy) {
  ControllerModel m(config::TrafficPolicy::kCluster);
  auto forwards = controller_forwards(m.model, {});
  ASSERT_EQ(forwards.size(), 2u);
  EXPECT_TRUE(forwards[0].backend.servers.empty());
  EXPECT_EQ(forwards[0].backend.problem, "no node runs the proxy");
}

TEST(PeerListeners, AProxyWithAClusterControllerListensOnItsOwnAddressForWhatTheControllerServes) {
  ControllerModel m(config::TrafficPolicy::kCluster);
  const auto vip = net::IpAddress::v4(192, 168, 1, 240), self = net::IpAddress::v4(192, 168, 1, 12);
  proxy::ProxyConfig c;
  c.frontends = {{"http", {vip, 80}, false}, {"https", {vip, 443}, true}};
  auto config_map = service(false, {server("a", "n1")});
  config_map.service.clear();
  config_map.bind = {vip, 5432};
  auto own = service(false, {server("a", "n1")});
  own.bind = {net::IpAddress::v4(192, 168, 1, 241), 6379};
  c.l4_services = {config_map, own};
  c.monitor.stats = {{vip, 1024}};
  auto out = with_peer_listeners(c, m.model, self);
  ASSERT_EQ(out.frontends.size(), 4u);
  EXPECT_EQ(out.frontends[2].bind.to_string(), "192.168.1.12:80");
  EXPECT_TRUE(out.frontends[3].tls);
  ASSERT_EQ(out.l4_services.size(), 3u) << "the ConfigMap's port, not another Service's";
  EXPECT_EQ(out.l4_services[2].bind.to_string(), "192.168.1.12:5432");
  ASSERT_EQ(out.monitor.stats.size(), 2u);
  EXPECT_EQ(with_peer_listeners(out, m.model, self).frontends.size(), 4u) << "nothing twice";
  ControllerModel local(config::TrafficPolicy::kLocal);
  EXPECT_EQ(with_peer_listeners(c, local.model, self).frontends.size(), 2u);
}

TEST(ForwardingOnly, KeepsTheServicesOwnPortsAndDropsTheControllersFrontendsAndConfigMapPorts) {
  proxy::ProxyConfig c;
  c.frontends.resize(2);
  c.monitor.stats = {{net::IpAddress::v4(192, 168, 1, 240), 1024}};
  c.backends.resize(3);
  c.default_backend = 1;
  auto own = service(false, {server("a", "n1")});
  auto config_map = own;
  config_map.service.clear();
  c.l4_services = {own, config_map};
  auto only = forwarding_only(c);
  EXPECT_TRUE(only.frontends.empty());
  EXPECT_TRUE(only.monitor.stats.empty());
  EXPECT_TRUE(only.backends.empty())
      << "no health checks of the routes' pods from a node that routes nothing";
  EXPECT_FALSE(only.default_backend);
  ASSERT_EQ(only.l4_services.size(), 1u);
  EXPECT_EQ(only.l4_services[0].service, "default/db");
  EXPECT_TRUE(only.l4_services[0].backend.check.on_demand)
      << "a forwarder probes the pods of the Services whose traffic reaches it, not every Service's";
}

}  // namespace
}  // namespace metalgate::l4
