// The admin commands on one node of the in-memory LAN, as the socket hands them lines: what each shows, that
// set server state takes a server out of balancing and back, and that a wrong line says what is expected.
#include "engine/admin/commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/l4/tcp_service.h"
#include "engine/runtime/memory/memory_world.h"
#include "tests/node/local_manifests.h"

namespace metalgate::admin {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

struct OneNode {
  OneNode() {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "m.yaml") << node::testing::manifests("Cluster", "node-a");
    world.add_host("node-a", {net::IpAddress::v4(192, 168, 1, 10)});
    node::NodeSpec s;
    s.name = "node-a";
    s.manifests = {(dir / "m.yaml").string()};
    s.layer2.interfaces = {"eth0"};
    s.layer2.membership_address = {net::IpAddress::v4(192, 168, 1, 10), 7946};
    config::Diagnostics d;
    auto c = node::load_configuration(s, s.manifests, {}, d);
    EXPECT_TRUE(c) << d.to_string();
    auto n = node::Node::start(world.host("node-a"), std::move(s), *c);
    EXPECT_TRUE(n) << n.error();
    the = std::move(*n);
    world.run_for(1s);
  }
  ~OneNode() {
    the.reset();
    std::filesystem::remove_all(dir);
  }
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("metalgate-admin-test-" + std::to_string(::getpid()));
  runtime::memory::MemoryWorld world{5};
  std::unique_ptr<node::Node> the;
};

TEST(AdminCommands, HelpListsEveryCommand) {
  OneNode n;
  const std::string help = run_command(*n.the, "help");
  for (const char* c : {"show info", "show stat", "show servers state", "set server BACKEND/SERVER state",
                        "show vips", "show members", "show claims", "show counters"})
    EXPECT_THAT(help, HasSubstr(c));
}

TEST(AdminCommands, ShowVipsNamesTheOwnerAndShowMembersTheNode) {
  OneNode n;
  const std::string vips = run_command(*n.the, "show vips");
  EXPECT_THAT(vips, StartsWith("# address owner here\n"));
  EXPECT_THAT(vips, HasSubstr(" node-a yes\n"));  // alone, it owns every address
  EXPECT_THAT(run_command(*n.the, "show members"), HasSubstr("node-a 192.168.1.10:7946 alive "));
  EXPECT_THAT(run_command(*n.the, "show info"), HasSubstr("Node: node-a\n"));
}

TEST(AdminCommands, ShowClaimsListsWhatTheSpeakerAnswersForAndShowCountersIsOneJsonObject) {
  OneNode n;
  const std::string claims = run_command(*n.the, "show claims");
  std::string expected;
  for (const auto& a : n.the->layer2()->speaker().core().owned_addresses())
    expected += a.to_string() + "\n";
  EXPECT_FALSE(expected.empty());  // alone for a second, it claims every address
  EXPECT_EQ(claims, expected);
  const std::string counters = run_command(*n.the, "show counters");
  ASSERT_FALSE(counters.empty());
  EXPECT_EQ(counters.back(), '\n');
  const auto parsed = nlohmann::json::parse(counters);
  EXPECT_TRUE(parsed.contains("speaker")) << counters;
}

TEST(AdminCommands, ShowStatIsHaproxysCsvWithARowPerFrontendBackendAndServer) {
  OneNode n;
  const std::string csv = run_command(*n.the, "show stat");
  EXPECT_THAT(csv, StartsWith("# pxname,svname,qcur,qmax,scur,smax,slim,stot,"));
  EXPECT_THAT(csv, HasSubstr("\nhttp,FRONTEND,"));
  EXPECT_THAT(csv, HasSubstr(",BACKEND,"));
  auto& b = n.the->proxy()->tcp_services().front()->backend();
  EXPECT_THAT(csv, HasSubstr("\n" + b.name() + "," + b.servers()[0].config.name + ","));
}

TEST(AdminCommands, SetServerStateChangesWhatShowServersStateSaysAndWhetherItIsBalanced) {
  OneNode n;
  // default/db's own port (a LoadBalancer Service forwarded as TCP): its backend is listed and set like any.
  auto& services = n.the->proxy()->tcp_services();
  ASSERT_FALSE(services.empty());
  auto& b = services.front()->backend();
  ASSERT_FALSE(b.servers().empty());
  const std::string target = b.name() + "/" + b.servers()[0].config.name;
  EXPECT_EQ(run_command(*n.the, "set server " + target + " state maint"), "");
  EXPECT_EQ(b.admin(0), proxy::AdminState::kMaint);
  EXPECT_FALSE(b.load(0).up);
  EXPECT_THAT(run_command(*n.the, "show servers state"), HasSubstr(" maint "));
  EXPECT_EQ(run_command(*n.the, "set server " + target + " state drain"), "");
  EXPECT_FALSE(b.load(0).up);
  EXPECT_EQ(run_command(*n.the, "set server " + target + " state ready"), "");
  EXPECT_EQ(b.admin(0), proxy::AdminState::kReady);
}

TEST(AdminCommands, AWrongLineIsAnErrorThatSaysWhatIsExpected) {
  OneNode n;
  EXPECT_EQ(run_command(*n.the, ""), "error: empty command (help lists them)\n");
  EXPECT_EQ(run_command(*n.the, "show nothing"), "error: unknown command 'show nothing' (help lists them)\n");
  EXPECT_EQ(run_command(*n.the, "set server x state ready"), "error: 'x' is not BACKEND/SERVER\n");
  EXPECT_EQ(run_command(*n.the, "set server a/b state"),
            "error: usage: set server BACKEND/SERVER state ready|drain|maint\n");
  EXPECT_EQ(run_command(*n.the, "set server nowhere/x state maint"),
            "error: no backend 'nowhere' (show servers state lists them)\n");
}

}  // namespace
}  // namespace metalgate::admin
