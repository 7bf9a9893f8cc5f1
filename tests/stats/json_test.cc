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

}  // namespace
}  // namespace metalgate::stats
