#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/ipam/state_file.h"

namespace metalgate::ipam {
namespace {

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("metalgate-state-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(StateFileTest, RoundTripsAllocations) {
  PreviousAllocations r;
  r["default/web"] = {*net::IpAddress::parse("10.0.0.1"), *net::IpAddress::parse("fd00::1")};
  r["ns/db"] = {*net::IpAddress::parse("10.0.0.2")};
  r["ns/pending"] = {};
  ASSERT_FALSE(write_state_file(path("state"), r));
  auto back = read_state_file(path("state"));
  ASSERT_TRUE(back) << back.error();
  ASSERT_EQ(back->size(), 2u) << "a Service without an address has no line";
  EXPECT_EQ((*back)["default/web"], r["default/web"]);
  EXPECT_FALSE(std::filesystem::exists(path("state") + ".tmp." + std::to_string(::getpid())));
}

TEST_F(StateFileTest, MissingFileIsAnEmptyState) {
  auto state = read_state_file(path("absent"));
  ASSERT_TRUE(state) << state.error();
  EXPECT_TRUE(state->empty());
}

TEST_F(StateFileTest, MalformedLinesNameTheirPlace) {
  std::ofstream(path("bad")) << "# header\ndefault/web 10.0.0.1\ndefault/x not-an-ip\n";
  auto state = read_state_file(path("bad"));
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error(), path("bad") + ":3: 'not-an-ip' is not an IP address");
}

TEST_F(StateFileTest, UnwritableDirectoryIsAnError) {
  EXPECT_TRUE(write_state_file(path("no/such/dir/state"), PreviousAllocations{}));
}

}  // namespace
}  // namespace metalgate::ipam
