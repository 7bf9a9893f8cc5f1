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

TEST(ConfigOnNode, AConfigMapServiceKeepsEveryServerItWasBuiltWith) {
  auto c = service(true, {server("a", "n1"), server("b", "n2")});
  c.service.clear();
  EXPECT_EQ(names(config_on_node(c, "n3")), (Names{"a", "b"}));
}

}  // namespace
}  // namespace metalgate::l4
