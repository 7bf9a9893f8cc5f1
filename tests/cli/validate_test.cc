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
  EXPECT_NE(text.find("HTTPS offers h2, http/1.1 (ALPN, tls-alpn); servers are spoken to in HTTP/1.1"),
            std::string::npos)
      << text;
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
  EXPECT_EQ(j["https"]["alpn"], nlohmann::json::array({"h2", "http/1.1"}));
  EXPECT_EQ(j["https"]["serverProtocol"], "http/1.1");
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

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(Validate, TwoIngressesOnOneServiceGetOneWarningNamingBothFilesAndTheCheckIntervalUsed) {
  auto dir = std::filesystem::temp_directory_path() / ("metalgate-conflict-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "svc.yaml") << "apiVersion: v1\nkind: Service\nmetadata: {name: web-app}\nspec:\n"
                                     "  selector: {app: web-app}\n  ports: [{name: http, port: 80}]\n";
  auto ingress = [](const std::string& name, const std::string& host, const std::string& interval) {
    return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
           "\n  annotations:\n    haproxy.org/check-interval: " + interval +
           "\nspec:\n  ingressClassName: haproxy\n  rules:\n  - host: \"" + host +
           "\"\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n"
           "          service: {name: web-app, port: {number: 80}}\n";
  };
  std::ofstream(dir / "web-ingress.yaml") << ingress("web-app-ingress", "app.example.com", "5s");
  std::ofstream(dir / "shop.yaml") << ingress("web-shop", "*.shop.example.com", "1s");
  std::ostringstream out, err;
  EXPECT_EQ(run_validate({{dir.string()}, false, ""}, out, err), 0) << out.str();
  std::string web = (dir / "web-ingress.yaml").string() + ":6:5",
              shop = (dir / "shop.yaml").string() + ":6:5";
  std::string expected = web +
                         ": warning: Service default/web-app port 80: check-interval is 5s from Ingress "
                         "default/web-app-ingress (" +
                         web + "); Ingress default/web-shop (" + shop +
                         ") sets 1s. A backend has one health check: the oldest Ingress's setting is used "
                         "(creationTimestamp, then namespace/name).";
  EXPECT_EQ(occurrences(out.str(), expected), 1u) << out.str();
  EXPECT_EQ(occurrences(out.str(), "check-interval is"), 1u) << "resolve and build report it once";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace metalgate::cli
