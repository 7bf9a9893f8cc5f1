// The seed manifests end to end: what the tutorial promises must come out of the model.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace metalgate::model
