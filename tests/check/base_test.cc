// The base of generated cases: loaded as `metalgate sim` loads a scenario, and refused with the manifests'
// own errors when `metalgate sim` would refuse to run it.
#include "check/case/base.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "check/case/case-t.h"
#include "tests/check/seed_base.h"

namespace metalgate::check {
namespace {

namespace fs = std::filesystem;

TEST(Base, TheSeedLoadsWithItsPodsSpareAddressesAndModel) {
  const Base& base = seed_base();
  std::size_t pods = 0;
  for (const auto& b : base.scenario.backends)
    pods += b.addresses.size();
  EXPECT_EQ(base.pods.size(), pods) << "every backend's pods, in order";
  EXPECT_EQ(base.pods.front(), "web-app-0");
  EXPECT_EQ(base.max_nodes, 16);
  ASSERT_TRUE(base.model);
  EXPECT_NE(base.model->ingress_controller(), nullptr);
}

TEST(Base, RecoveryBoundIsTheFailoverBoundAndTheSlowestHealthChecksWayBackUp) {
  // The seed's values: backend-check-interval 5000 (the timeout too) and rise 2. A server DOWN after a heal
  // waits out a check in flight, then needs two passing checks 5 s apart.
  EXPECT_EQ(seed_base().recovery_within_ms, kFailoverBoundMs + 5000 + 2 * 5000);
}

TEST(Base, ManifestsWithAnErrorAreRefusedWithTheirOwnFileLineAndColumn) {
  const fs::path dir = fs::temp_directory_path() / ("metalgate-base-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy(std::string(METALGATE_SOURCE_DIR) + "/scenarios/seed", dir / "seed", fs::copy_options::recursive);
  // The pool's address becomes no address at all.
  const fs::path pools = dir / "seed" / "metallb-config.yaml";
  std::stringstream text;
  text << std::ifstream(pools).rdbuf();
  std::string yaml = text.str();
  const auto at = yaml.find("192.168.1.240");
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, 13, "192.168.1.999");
  std::ofstream(pools) << yaml;
  std::stringstream scenario;
  scenario << std::ifstream(std::string(METALGATE_SOURCE_DIR) + "/scenarios/seed.yaml").rdbuf();
  config::Diagnostics d;
  const auto base = load_base_text(scenario.str(), (dir / "seed.yaml").string(), d);
  EXPECT_FALSE(base) << "metalgate sim would refuse every case";
  EXPECT_NE(d.to_string().find("metallb-config.yaml:"), std::string::npos) << d.to_string();
  EXPECT_NE(d.to_string().find("the manifests do not validate"), std::string::npos) << d.to_string();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace metalgate::check
