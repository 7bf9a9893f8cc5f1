// The node engine in the ns-3 world, as the simulator runs it: externalTrafficPolicy: Local decides who
// announces, with the same rule and the same code as `serve` (tests/node for the in-memory world,
// network-namespaces/local_service_test.sh live).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "engine/node/node.h"
#include "ns3/simulator.h"
#include "sim/lan/switched_lan.h"
#include "tests/node/local_manifests.h"

namespace metalgate::sim {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kNames = {"node-a", "node-b", "node-c"};
const std::string kController = "haproxy-ingress/haproxy-ingress-kubernetes-ingress";

// Runs three nodes (those in `speaker_only` without a proxy) for 3 simulated seconds and returns the owner each
// node names for `service`'s address, and which node's speaker claims it.
struct Owners {
  std::set<std::string> named;    // what the nodes' views say; one entry when they agree
  std::set<std::string> claimed;  // which speakers announce it
};

Owners run(const std::string& manifests, const std::string& service, const std::set<std::string>& speaker_only = {}) {
  const auto dir = std::filesystem::temp_directory_path() / ("metalgate-node-ns3-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "manifests.yaml") << manifests;
  Owners out;
  {
    SwitchedLan lan;
    for (std::size_t i = 0; i < kNames.size(); ++i)
      lan.add_host(kNames[i], *net::IpAddress::parse("192.168.1." + std::to_string(10 + i)), 100 + i);
    lan.finish();
    std::vector<std::unique_ptr<node::Node>> nodes;
    for (std::size_t i = 0; i < kNames.size(); ++i) {
      node::NodeSpec spec;
      spec.name = kNames[i];
      spec.manifests = {(dir / "manifests.yaml").string()};
      spec.proxy = !speaker_only.count(kNames[i]);
      spec.layer2.interfaces = {"eth0"};
      spec.layer2.membership_address = {*net::IpAddress::parse("192.168.1." + std::to_string(10 + i)), 7946};
      for (std::size_t j = 0; j < kNames.size(); ++j)
        if (j != i) spec.layer2.seeds.push_back({*net::IpAddress::parse("192.168.1." + std::to_string(10 + j)), 7946});
      config::Diagnostics d;
      auto c = node::load_configuration(spec, spec.manifests, {}, d);
      EXPECT_TRUE(c) << c.error() << d.to_string();
      auto n = node::Node::start(lan.host(kNames[i]), std::move(spec), *c);
      EXPECT_TRUE(n) << n.error();
      if (n) nodes.push_back(std::move(*n));
    }
    ns3::Simulator::Stop(ns3::Seconds(3));
    ns3::Simulator::Run();
    for (const auto& n : nodes)
      for (const auto& a : n->configuration().assignments) {
        if (a.service != service) continue;
        const auto& owners = n->layer2()->owners();
        out.named.insert(owners.count(a.addresses.front()) ? owners.at(a.addresses.front()) : "");
        if (n->layer2()->speaker().core().owns(a.addresses.front())) out.claimed.insert(n->name());
      }
    nodes.clear();
  }
  ns3::Simulator::Destroy();
  std::filesystem::remove_all(dir);
  return out;
}

TEST(NodeInNs3, ALocalServiceIsAnnouncedOnlyByTheNodeHoldingItsEndpoint) {
  auto free = run(node::testing::manifests("Cluster", "node-a"), "default/db");
  ASSERT_EQ(free.named.size(), 1u);
  const std::string natural = *free.named.begin();
  const std::string holder = natural == kNames[0] ? kNames[1] : kNames[0];
  auto local = run(node::testing::manifests("Local", holder), "default/db");
  EXPECT_EQ(local.named, std::set<std::string>{holder});
  EXPECT_EQ(local.claimed, std::set<std::string>{holder});
}

TEST(NodeInNs3, ANodeWithoutAProxyNeverAnnouncesTheControllersLocalService) {
  auto free = run(node::testing::manifests("Cluster", "node-a"), kController);
  ASSERT_EQ(free.named.size(), 1u);
  const std::string natural = *free.named.begin();
  auto owners = run(node::testing::manifests("Cluster", "node-a"), kController, {natural});
  ASSERT_EQ(owners.named.size(), 1u);
  EXPECT_NE(*owners.named.begin(), natural);
  EXPECT_EQ(owners.claimed, owners.named);
}

}  // namespace
}  // namespace metalgate::sim
