// A base for manifests alone: the tutorial's manifests give a scenario that loads, with pods for every
// Deployment the user wrote, a client per routed host (HTTPS where a certificate is bound) and per TCP/UDP
// service; manifests that do not validate give their errors and no base.
#include "check/case/from_manifests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "check/case/base.h"

namespace metalgate::check {
namespace {

TEST(ScenarioForManifests, TheTutorialsManifestsGiveABaseThatLoads) {
  config::Diagnostics d;
  const auto text = scenario_for_manifests(std::string(METALGATE_SOURCE_DIR) + "/scenarios/seed", d);
  ASSERT_TRUE(text) << d.to_string();
  const auto base = load_base_text(*text, "/tmp/base.yaml", d);
  ASSERT_TRUE(base) << d.to_string() << *text;
  const auto& s = base->scenario;
  EXPECT_EQ(s.nodes.size(), 3u);
  EXPECT_EQ(s.subnet.to_string(), "192.168.1.0/24") << "the controller's address is 192.168.1.240";
  std::vector<std::string> deployments;
  for (const auto& b : s.backends)
    deployments.push_back(b.deployment);
  EXPECT_THAT(deployments, ::testing::UnorderedElementsAre("default/web-app", "default/postgresql",
                                                           "default/redis", "default/coredns-custom"))
      << "not the controller's own Deployment, which the Helm values make";
  int https = 0, tcp = 0, udp = 0;
  for (const auto& c : s.clients) {
    https += c.https ? 1 : 0;
    tcp += !c.https && !c.udp && (c.port == 5432 || c.port == 6379) ? 1 : 0;
    udp += c.udp ? 1 : 0;
  }
  EXPECT_EQ(https, 2) << "app.example.com and advanced.example.com, both with certificates";
  EXPECT_EQ(tcp, 2);
  EXPECT_EQ(udp, 1);
  EXPECT_EQ(base->max_nodes, 16);
}

TEST(ScenarioForManifests, ManifestsThatDoNotValidateGiveTheirErrorsAndNoBase) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("metalgate-bad-manifests-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "pool.yaml")
      << "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\n"
         "spec: {addresses: [not-an-address]}\n";
  config::Diagnostics d;
  EXPECT_FALSE(scenario_for_manifests(dir.string(), d));
  EXPECT_TRUE(d.has_errors());
  EXPECT_THAT(d.to_string(), ::testing::HasSubstr("pool.yaml:4:"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace metalgate::check
