// The twin's app spec as JSON (what the runner writes, what an app process reads) and a client's records
// file.
#include "twin/apps/app_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/scenario/temp_file.h"

namespace metalgate::twin {
namespace {

using nlohmann::json;
using scenario::observe::RequestRecord;
using ::testing::HasSubstr;

net::IpAddress ip(const char* text) {
  return *net::IpAddress::parse(text);
}

AppSpec pod_spec() {
  AppSpec spec;
  spec.epoch_ns = 123456789012;
  PodAppSpec pod;
  pod.name = "web-1";
  pod.address = ip("10.0.0.21");
  pod.ports = {{80, false}, {5353, true}};
  pod.latency_ms = 7;
  pod.control_file = "/run/x/web-1.control";
  spec.pod = pod;
  return spec;
}

AppSpec client_spec() {
  AppSpec spec;
  spec.epoch_ns = 42;
  ClientAppSpec c;
  c.name = "browser";
  c.address = ip("fd00::31");
  c.target = {ip("fd00::100"), 443};
  c.https = true;
  c.host = "shop.example";
  c.path = "/cart";
  c.mix = {{"a.example", "/x", 2.5}, {"b.example", "/y", 1}};
  c.rate = 25;
  c.concurrency = 3;
  c.think_ms = 15;
  c.timeout_ms = 900;
  c.keep_alive = c.cookies = true;
  c.resume = false;
  c.seed = 18446744073709551615ull;
  c.node_of_mac = {{"02:00:00:00:00:0a", "node-a"}};
  c.records_file = "/run/x/browser.records";
  spec.client = c;
  return spec;
}

// The error of reading `j`, which must fail.
std::string error_of(const json& j) {
  auto spec = app_spec_from_json(j);
  EXPECT_FALSE(spec.ok()) << j.dump();
  return spec.error();
}

TEST(AppSpec, APodSpecComesBackFromItsJsonUnchanged) {
  auto back = app_spec_from_json(to_json(pod_spec()));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(to_json(*back), to_json(pod_spec()));
  ASSERT_TRUE(back->pod.has_value());
  EXPECT_FALSE(back->client.has_value());
  EXPECT_EQ(back->epoch_ns, 123456789012);
  EXPECT_EQ(back->pod->address, ip("10.0.0.21"));
  ASSERT_EQ(back->pod->ports.size(), 2u);
  EXPECT_TRUE(back->pod->ports[1].udp);
  EXPECT_EQ(back->pod->ports[1].number, 5353);
}

TEST(AppSpec, AClientSpecComesBackFromItsJsonUnchanged) {
  auto back = app_spec_from_json(to_json(client_spec()));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(to_json(*back), to_json(client_spec()));
  ASSERT_TRUE(back->client.has_value());
  EXPECT_EQ(back->client->target, (net::SocketAddress{ip("fd00::100"), 443}));
  EXPECT_EQ(back->client->seed, 18446744073709551615ull);
  ASSERT_EQ(back->client->mix.size(), 2u);
  EXPECT_EQ(back->client->mix[0].weight, 2.5);
}

TEST(AppSpec, OptionalFieldsTakeTheDefaultsTheHeaderStates) {
  auto back = app_spec_from_json(json::parse(R"({"epoch_ns": 5, "client": {"name": "c", "address": "10.0.0.9",
      "target": "10.0.0.100:80", "records_file": "r"}})"));
  ASSERT_TRUE(back.ok()) << back.error();
  const ClientAppSpec& c = *back->client;
  EXPECT_EQ(c.path, "/");
  EXPECT_EQ(c.rate, 10);
  EXPECT_EQ(c.timeout_ms, 2000);
  EXPECT_TRUE(c.resume);
  EXPECT_FALSE(c.udp || c.https || c.keep_alive || c.cookies);
  EXPECT_EQ(c.seed, 1u);
}

TEST(AppSpec, MacsAreReadBackInTheFormTheNeighbourLookupWrites) {
  json j = to_json(client_spec());
  j["client"]["node_of_mac"] = {{"02:AB:00:00:00:0A", "node-b"}};
  auto back = app_spec_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->client->node_of_mac.at("02:ab:00:00:00:0a"), "node-b");
}

TEST(AppSpec, AMissingFieldIsNamedByItsPath) {
  json j = to_json(client_spec());
  j["client"].erase("target");
  EXPECT_THAT(error_of(j), HasSubstr("client.target: missing"));
  j = to_json(pod_spec());
  j.erase("epoch_ns");
  EXPECT_THAT(error_of(j), HasSubstr("epoch_ns: missing"));
  j = to_json(pod_spec());
  j["pod"]["ports"][1].erase("number");
  EXPECT_THAT(error_of(j), HasSubstr("pod.ports[1].number: missing"));
}

TEST(AppSpec, AWrongValueIsNamedWithWhatItShouldBe) {
  json j = to_json(pod_spec());
  j["pod"]["address"] = "10.0.0.300";
  EXPECT_THAT(error_of(j), HasSubstr("pod.address: must be an IP address"));
  j = to_json(pod_spec());
  j["pod"]["ports"][0]["number"] = 70000;
  EXPECT_THAT(error_of(j), HasSubstr("pod.ports[0].number: must be a port number"));
  j = to_json(client_spec());
  j["client"]["keep_alive"] = "yes";
  EXPECT_THAT(error_of(j), HasSubstr("client.keep_alive: must be true or false, not \"yes\""));
  j = to_json(client_spec());
  j["client"]["node_of_mac"] = {{"not-a-mac", "node-a"}};
  EXPECT_THAT(error_of(j), HasSubstr("client.node_of_mac.not-a-mac: not a MAC address"));
  j = to_json(client_spec());
  j["client"]["mix"][1]["weight"] = "heavy";
  EXPECT_THAT(error_of(j), HasSubstr("client.mix[1].weight: must be a number"));
}

TEST(AppSpec, AnUnknownFieldIsRefusedByName) {
  json j = to_json(client_spec());
  j["client"]["timeout"] = 5;
  EXPECT_THAT(error_of(j), HasSubstr("client.timeout: unknown field"));
}

TEST(AppSpec, ExactlyOneOfPodAndClientIsGiven) {
  json both = to_json(pod_spec());
  both["client"] = to_json(client_spec())["client"];
  EXPECT_THAT(error_of(both), HasSubstr("only one of them"));
  EXPECT_THAT(error_of(json{{"epoch_ns", 1}}), HasSubstr("pod, client: one of them is needed"));
}

std::vector<RequestRecord> sample_records() {
  RequestRecord answered;
  answered.start_us = 1500;
  answered.end_us = 2750;
  answered.status = 200;
  answered.served_by = "web-0";
  answered.client = "browser";
  answered.vip_node = "node-a";
  answered.host = "shop.example";
  answered.path = "/cart";
  answered.reused = true;
  answered.connection_opened_us = 700;
  answered.target = ip("10.0.0.100");
  RequestRecord cut_off;
  cut_off.start_us = 9000;
  cut_off.end_us = 9100;
  cut_off.error = std::string(scenario::observe::kStillRunning);
  cut_off.target = ip("fd00::100");
  return {answered, cut_off};
}

TEST(Records, ARecordsFileComesBackRecordForRecordStillRunningOnesIncluded) {
  std::string text;
  for (const auto& r : sample_records())
    text += to_json(r).dump() + "\n";
  auto back = read_records(scenario::testing::write_temp("records.jsonl", text));
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_EQ(back->size(), 2u);
  for (std::size_t i = 0; i < back->size(); ++i)
    EXPECT_EQ(to_json((*back)[i]), to_json(sample_records()[i]));
  EXPECT_EQ((*back)[1].error, scenario::observe::kStillRunning);
  EXPECT_EQ((*back)[0].target, ip("10.0.0.100"));
  EXPECT_EQ((*back)[0].connection_opened_us, 700);
  EXPECT_EQ((*back)[1].connection_opened_us, -1) << "not known";
}

TEST(Records, ABadLineIsNamedByFileLineAndField) {
  json record = to_json(sample_records()[0]);
  record.erase("status");
  auto file =
      scenario::testing::write_temp("bad.jsonl", to_json(sample_records()[1]).dump() + "\n" + record.dump());
  auto back = read_records(file);
  ASSERT_FALSE(back.ok());
  EXPECT_THAT(back.error(), HasSubstr("bad.jsonl:2: status: missing"));
  back = read_records(scenario::testing::write_temp("garbled.jsonl", "{\"start_us\": 1"));
  EXPECT_THAT(back.error(), HasSubstr("garbled.jsonl:1: not JSON"));
  EXPECT_FALSE(read_records("/nonexistent/records.jsonl").ok());
}

}  // namespace
}  // namespace metalgate::twin
