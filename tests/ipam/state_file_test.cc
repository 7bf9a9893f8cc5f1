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
  AllocationResult r;
  r.assigned["default/web"] = {
      {*net::IpAddress::parse("10.0.0.1"), *net::IpAddress::parse("fd00::1")}, "a", false};
  r.assigned["ns/db"] = {{*net::IpAddress::parse("10.0.0.2")}, "a", false};
  ASSERT_FALSE(write_state_file(path("state"), r));
  std::string error;
  auto back = read_state_file(path("state"), error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back["default/web"], r.assigned["default/web"].addresses);
  EXPECT_FALSE(std::filesystem::exists(path("state") + ".tmp." + std::to_string(::getpid())));
}

TEST_F(StateFileTest, MissingFileIsAnEmptyState) {
  std::string error;
  EXPECT_TRUE(read_state_file(path("absent"), error).empty());
  EXPECT_EQ(error, "");
}

TEST_F(StateFileTest, MalformedLinesNameTheirPlace) {
  std::ofstream(path("bad")) << "# header\ndefault/web 10.0.0.1\ndefault/x not-an-ip\n";
  std::string error;
  EXPECT_TRUE(read_state_file(path("bad"), error).empty());
  EXPECT_EQ(error, path("bad") + ":3: 'not-an-ip' is not an IP address");
}

TEST_F(StateFileTest, UnwritableDirectoryIsAnError) {
  AllocationResult r;
  EXPECT_TRUE(write_state_file(path("no/such/dir/state"), r));
}

}  // namespace
}  // namespace metalgate::ipam
