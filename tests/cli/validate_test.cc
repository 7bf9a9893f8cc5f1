#include "engine/cli/validate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace metalgate::cli {
namespace {

const std::string kSeed = std::string(METALGATE_SOURCE_DIR) + "/scenarios/seed";

TEST(Validate, SeedTextShowsTheAddressRoutesAndMaps) {
  std::ostringstream out, err;
  EXPECT_EQ(run_validate({{kSeed}, false, ""}, out, err), 0) << out.str();
  auto text = out.str();
  EXPECT_NE(text.find("address: 192.168.1.240 from pool haproxy-pool"), std::string::npos) << text;
  EXPECT_NE(text.find("app.example.com/  (Prefix)  -> default/web-app:80"), std::string::npos) << text;
  EXPECT_NE(text.find("advanced.example.com/  (Prefix)  -> default/web-app:80"), std::string::npos) << text;
  EXPECT_NE(text.find("5432 -> default/postgresql:5432"), std::string::npos);
  EXPECT_NE(text.find("6379 -> default/redis:6379"), std::string::npos);
  EXPECT_NE(text.find("53 -> default/coredns-custom:53 -> 2 endpoints"), std::string::npos);
  EXPECT_EQ(err.str(), "");
}

TEST(Validate, SeedJsonIsMachineReadable) {
  std::ostringstream out, err;
  ASSERT_EQ(run_validate({{kSeed}, true, ""}, out, err), 0);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_TRUE(j["valid"].get<bool>());
  EXPECT_EQ(j["services"][0]["addresses"][0], "192.168.1.240");
  EXPECT_EQ(j["routes"].size(), 2u);
  EXPECT_EQ(j["tcpServices"].size(), 2u);
  EXPECT_EQ(j["udpServices"][0]["port"], 53);
}

TEST(Validate, InvalidInputExitsOneWithEveryError) {
  auto dir = std::filesystem::temp_directory_path() / ("metalgate-validate-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "bad.yaml")
      << "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  typ: LoadBalancer\n"
         "  ports: [{port: 0}]\n";
  std::ostringstream out, err;
  EXPECT_EQ(run_validate({{dir.string()}, false, ""}, out, err), 1);
  EXPECT_NE(
      out.str().find(
          "bad.yaml:5:3: error: Service default/s: spec.typ: unknown field 'typ' (did you mean 'type'?)"),
      std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find(
                "bad.yaml:6:18: error: Service default/s: spec.ports[0].port: must be between 1 and 65535"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(err.str(), "metalgate: 2 error(s); the configuration is invalid\n");
  std::filesystem::remove_all(dir);
}

TEST(Validate, StateFileKeepsAddresses) {
  auto dir = std::filesystem::temp_directory_path() / ("metalgate-state-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto state = dir / "state";
  std::ofstream(state) << "haproxy-ingress/haproxy-ingress-kubernetes-ingress 192.168.1.247\n";
  std::ostringstream out, err;
  ASSERT_EQ(run_validate({{kSeed}, false, state.string()}, out, err), 0);
  EXPECT_NE(out.str().find("address: 192.168.1.247 from pool haproxy-pool"), std::string::npos) << out.str();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace metalgate::cli
