// The stats and metrics listeners in the in-memory world: which page each path gives on which listener,
// stats.auth asked for and checked, and only GET and HEAD answered.
#include "engine/stats/stats_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/runtime/memory/memory_world.h"
#include "tests/proxy/proxy_world.h"

namespace metalgate::stats {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

struct World {
  explicit World(std::optional<std::string> user = std::nullopt) {
    config.stats = {{net::IpAddress::v4(10, 0, 0, 1), 1024}};
    config.metrics = {{net::IpAddress::v4(10, 0, 0, 1), 9101}};
    config.user = user;
    config.password = "s3cret";
    auto s = StatsServer::start(host, config, [](Page p) {
      return std::string(p == Page::kHtml ? "<html>page" : p == Page::kCsv ? "# pxname," : "haproxy_metrics");
    });
    EXPECT_TRUE(s) << s.error();
    server = std::move(*s);
  }
  proxy::testing::Response ask(std::uint16_t port, const std::string& request) {
    proxy::testing::TestClient c(client, {net::IpAddress::v4(10, 0, 0, 1), port});
    c.send(request);
    world.run_until([&] { return c.closed || c.peer_closed; }, 5s);
    auto r = c.next();
    EXPECT_TRUE(r.has_value()) << c.received;
    return r.value_or(proxy::testing::Response{});
  }
  runtime::memory::MemoryWorld world{3};
  runtime::memory::MemoryHost& host = world.add_host("proxy", {net::IpAddress::v4(10, 0, 0, 1)});
  runtime::memory::MemoryHost& client = world.add_host("client", {net::IpAddress::v4(10, 0, 0, 100)});
  proxy::MonitorConfig config;
  std::unique_ptr<StatsServer> server;
};

std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: stats\r\n" + extra + "\r\n";
}

TEST(StatsServer, TheStatsListenerServesThePageItsCsvAndMetrics) {
  World w;
  auto page = w.ask(1024, get("/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.get("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.body, "<html>page");
  EXPECT_EQ(w.ask(1024, get("/stats;csv")).body, "# pxname,");
  EXPECT_EQ(w.ask(1024, get("/;csv")).body, "# pxname,");
  auto metrics = w.ask(1024, get("/metrics"));
  EXPECT_EQ(metrics.body, "haproxy_metrics");
  EXPECT_THAT(metrics.get("content-type"), HasSubstr("text/plain; version=0.0.4"));
}

TEST(StatsServer, TheMetricsListenerServesMetricsOnly) {
  World w;
  EXPECT_EQ(w.ask(9101, get("/metrics")).body, "haproxy_metrics");
  EXPECT_EQ(w.ask(9101, get("/")).status, 404);
}

TEST(StatsServer, StatsAuthAsksForCredentialsAndLetsOnlyTheRightOnesIn) {
  World w("admin");
  auto refused = w.ask(1024, get("/"));
  EXPECT_EQ(refused.status, 401);
  EXPECT_THAT(refused.get("www-authenticate"), HasSubstr("Basic realm="));
  // admin:wrong, then admin:s3cret
  EXPECT_EQ(w.ask(1024, get("/", "Authorization: Basic YWRtaW46d3Jvbmc=\r\n")).status, 401);
  EXPECT_EQ(w.ask(1024, get("/", "Authorization: Basic YWRtaW46czNjcmV0\r\n")).body, "<html>page");
  EXPECT_EQ(w.ask(9101, get("/metrics")).status, 200);  // the metrics port has no auth (its own Service)
}

TEST(StatsServer, OnlyGetAndHeadAreAnswered) {
  World w;
  auto post = w.ask(1024, "POST / HTTP/1.1\r\nHost: stats\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.get("allow"), "GET, HEAD");
}

}  // namespace
}  // namespace metalgate::stats
