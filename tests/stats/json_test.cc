// The stats as JSON (result.json's node counters): the keys json.h promises, with the snapshot's values.
#include "engine/stats/json.h"

#include <gtest/gtest.h>

#include "tests/stats/sample_snapshot.h"

namespace metalgate::stats {
namespace {

TEST(StatsJson, TheSpeakerSumsItsAddressesCountersAndNestsTheMembershipTraffic) {
  const nlohmann::json j = to_json(testing::sample_snapshot());
  const nlohmann::json& speaker = j.at("speaker");
  EXPECT_EQ(speaker.at("requests_received"), 4);
  EXPECT_EQ(speaker.at("gratuitous_sent"), 6);
  const nlohmann::json& m = speaker.at("membership");
  EXPECT_EQ(m.at("datagrams_sent"), 40);
  EXPECT_EQ(m.at("bytes_sent"), 4000);
  EXPECT_EQ(m.at("datagrams_received"), 38);
  EXPECT_EQ(m.at("bytes_received"), 3900);
  EXPECT_EQ(m.at("views_sent"), 2);
  EXPECT_EQ(m.at("views_received"), 1);
}

TEST(StatsJson, ASnapshotWithoutASpeakerHasNoSpeakerKey) {
  Snapshot s = testing::sample_snapshot();
  s.speaker.reset();
  EXPECT_FALSE(to_json(s).contains("speaker"));
}

TEST(StatsJson, RowsKeepTheirGaugesAndWhatTheyCountedAndLeaveOutZeros) {
  Snapshot s = testing::sample_snapshot();
  Row quiet;
  quiet.type = RowType::kBackend;
  quiet.proxy = "default_bulk-000_80";
  quiet.active_servers = 3;
  s.rows.push_back(quiet);
  const nlohmann::json j = to_json(s);
  EXPECT_EQ(j.at("backends").at("default_bulk-000_80"),
            (nlohmann::json{{"active_servers", 3}, {"response_time_ms", -1}}))
      << "a backend that counted nothing is its gauges alone";
  const nlohmann::json& web = j.at("backends").at("default_web_80");
  EXPECT_EQ(web.at("responses"), (nlohmann::json{{"5xx", 3}})) << "only the class that counted";
  EXPECT_FALSE(web.contains("requests"));
  EXPECT_EQ(j.at("servers").at("default_web_80/web \"1\"").at("status"), "DRAIN");
  const nlohmann::json& http = j.at("frontends").at("http");
  EXPECT_EQ(http.at("requests"), 7);
  EXPECT_FALSE(http.contains("h2")) << "no HTTP/2 connection, no h2 group";
  EXPECT_FALSE(http.contains("denied"));
}

TEST(StatsJson, CountersAreTheFieldsThatMayBeLeftOut) {
  EXPECT_TRUE(is_counter("backends", "requests"));
  EXPECT_TRUE(is_counter("servers", "responses.5xx"));
  EXPECT_TRUE(is_counter("frontends", "h2.floods"));
  EXPECT_FALSE(is_counter("backends", "active_servers")) << "a gauge is always there";
  EXPECT_FALSE(is_counter("servers", "status"));
  EXPECT_FALSE(is_counter("backends", "h2.floods")) << "backends have no h2 group";
  EXPECT_FALSE(is_counter("frontends", "responses.6xx"));
  EXPECT_FALSE(is_counter("speaker", "probes")) << "the speaker's row is written whole";
}

}  // namespace
}  // namespace metalgate::stats
