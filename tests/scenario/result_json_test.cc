// result.json from hand-made observations: the several_owners section lists every interval in which two nodes
// on one side claimed a VIP, with the nodes, and leaves out claims on two sides of a partition.
#include "scenario/report/result_json.h"

#include <gtest/gtest.h>

namespace metalgate::scenario {
namespace {

using nlohmann::json;
using observe::Claim;

const net::IpAddress kVip = *net::IpAddress::parse("192.168.1.240");
const net::IpAddress kOther = *net::IpAddress::parse("192.168.100.7");

observe::OwnershipSample sample(std::int64_t at_ms, std::map<net::IpAddress, std::vector<Claim>> claims) {
  observe::OwnershipSample s;
  s.at_ms = at_ms;
  s.claims = std::move(claims);
  return s;
}

json document(observe::Observations o) {
  Scenario s;
  s.name = "owners";
  return result_document(s, "simulated", 1, o, {}, {});
}

TEST(ResultJson, SeveralOwnersListsEachIntervalWithItsNodesUntilTheFirstSampleWithout) {
  observe::Observations o;
  o.vip = kVip;
  const Claim a{"node-1", "group:0"}, b{"node-2", "group:0"}, c{"node-3", "group:0"};
  o.samples = {sample(0, {{kVip, {a}}, {kOther, {a}}}),      sample(100, {{kVip, {a}}, {kOther, {a, b}}}),
               sample(200, {{kVip, {a}}, {kOther, {a, c}}}), sample(300, {{kVip, {a}}, {kOther, {c}}}),
               sample(400, {{kVip, {a, b}}, {kOther, {c}}}), sample(500, {{kVip, {a, b}}, {kOther, {c}}})};
  const json several = document(o)["several_owners"];
  ASSERT_EQ(several.size(), 2u) << several.dump();
  // Ordered by VIP, then time; an interval still open at the end closes at the last sample.
  EXPECT_EQ(
      several[0],
      json({{"vip", "192.168.1.240"}, {"from_ms", 400}, {"to_ms", 500}, {"nodes", {"node-1", "node-2"}}}));
  EXPECT_EQ(several[1], json({{"vip", "192.168.100.7"},
                              {"from_ms", 100},
                              {"to_ms", 300},
                              {"nodes", {"node-1", "node-2", "node-3"}}}));
}

TEST(ResultJson, ClaimsOnTwoSidesOfAPartitionAreNotSeveralOwners) {
  observe::Observations o;
  o.vip = kVip;
  o.samples = {sample(0, {{kVip, {{"node-1", "group:0"}, {"node-2", "group:1"}}}}),
               sample(100, {{kVip, {{"node-1", "group:0"}, {"node-2", "nic-down:node-2"}}}})};
  EXPECT_EQ(document(o)["several_owners"], json::array());
}

TEST(ResultJson, ARunWithoutSamplesHasNoSeveralOwners) {
  observe::Observations o;
  EXPECT_EQ(document(o)["several_owners"], json::array());
}

TEST(ResultJson, TheNodesCountersAreMovedIntoTheDocumentNotCopied) {
  observe::Observations o;
  o.node_stats["node-1"] = {{"speaker", {{"probes", 10}}}};
  o.node_stats["node-2"] = {{"backends", {{"default_web_80", {{"active_servers", 3}}}}}};
  Scenario s;
  const json result = result_document(s, "simulated", 1, o, {}, {});
  EXPECT_EQ(result["nodes"]["node-1"]["speaker"]["probes"], 10);
  EXPECT_EQ(result["nodes"]["node-2"]["backends"]["default_web_80"]["active_servers"], 3);
  EXPECT_TRUE(o.node_stats.empty());  // given to the document: a 256-node LAN's are a million rows
}

}  // namespace
}  // namespace metalgate::scenario
