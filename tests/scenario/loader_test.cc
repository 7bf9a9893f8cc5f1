// The scenario loader and the kind tables: errors point at file:line:column and the field, name the choices
// from the tables, and what loads is what the file says.
#include "scenario/schema/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "scenario/kinds/expectation_kinds.h"
#include "scenario/kinds/fault_kinds.h"
#include "tests/scenario/temp_file.h"

namespace metalgate::scenario {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using scenario::testing::write_temp;

// A small LAN (two proxy nodes and a speaker, three web pods, a browser) with `faults` and `expect` as given.
std::string lan_with(const std::string& name, const std::string& faults, const std::string& expect,
                     const std::string& extra = "") {
  return write_temp(name + ".yaml", "name: " + name + R"(
seed: 3
duration: 12s
lan: {subnet: 192.168.1.0/24}
nodes:
  - {name: node-1, address: 192.168.1.11, roles: [speaker, proxy]}
  - {name: node-2, address: 192.168.1.12, roles: [speaker, proxy]}
  - {name: node-3, address: 192.168.1.13, roles: [speaker]}
manifests: [)" + std::string(METALGATE_SOURCE_DIR) + R"(/scenarios/seed]
backends:
  - {deployment: default/web-app, addresses: [192.168.1.31, 192.168.1.32, 192.168.1.33]}
clients:
  - {name: browser, address: 192.168.1.100, https: {host: app.example.com, rate: 8}}
faults:
)" + faults + "expect:\n" + expect + extra);
}

std::string errors_of(const std::string& path) {
  config::Diagnostics d;
  load_scenario(path, d);
  return d.to_string();
}

TEST(ScenarioLoader, ErrorsNameFileLineAndField) {
  std::string bad = write_temp("bad.yaml", R"(name: bad
duration: 10s
lan: {subnet: 10.0.0.0/24}
nodes:
  - {name: n1, address: 10.0.0.1, rolez: [speaker]}
  - {name: n2, address: 10.1.0.2}
clients:
  - {name: c, address: 10.0.0.9, http: {host: a.example, rate: fast}}
faults:
  - {at: 5s, crash: nobody}
expect:
  - success_ratio: {min: 2}
)");
  config::Diagnostics d;
  load_scenario(bad, d);
  std::string text = d.to_string();
  EXPECT_GE(d.error_count(), 5u) << text;
  EXPECT_THAT(text, HasSubstr("bad.yaml:5:"));
  EXPECT_THAT(text, HasSubstr("rolez"));
  EXPECT_THAT(text, HasSubstr("roles"));  // the closest known key
  EXPECT_THAT(text, HasSubstr("10.1.0.2 is outside the LAN's subnet"));
  EXPECT_THAT(text, HasSubstr("'fast' is not a rate"));
  EXPECT_THAT(text, HasSubstr("no node is named 'nobody'"));
  EXPECT_THAT(text, HasSubstr("'2' is not a ratio"));
}

TEST(ScenarioLoader, SpeakerTimingErrorsNameTheField) {
  std::string text =
      errors_of(lan_with("bad-speaker", "", "  - single_owner: {}\n",
                         "speaker: {probe_interval: 10ms, probe_timeout: 20ms, suspicion: 1s, join_grace: soon}\n"));
  EXPECT_THAT(
      text,
      HasSubstr("speaker.probe_timeout: the probe timeout (20ms) must be shorter than the probe interval"));
  EXPECT_THAT(text, HasSubstr("suspicion"));
  EXPECT_THAT(text, HasSubstr("'soon' is not a duration"));
}

TEST(ScenarioLoader, FaultAndExpectationParametersAreChecked) {
  std::string text = errors_of(lan_with("bad-faults",
                                        "  - {at: 1s, partition: [[node-1], [nobody]]}\n"
                                        "  - {at: 1s, link: {host: browser}}\n"
                                        "  - {at: 1s, backend_slow: {pod: web-app-9, latency: 1s}}\n"
                                        "  - {at: 1s, heal: now}\n",
                                        "  - sticky: {client: ghost}\n  - success_ratio: {min: 1, exclude: [phantom]}\n"));
  EXPECT_THAT(text, HasSubstr("no host (node, pod or client) is named 'nobody'"));
  EXPECT_THAT(text, HasSubstr("a link fault sets loss, delay or rate"));
  EXPECT_THAT(text, HasSubstr("no pod is named 'web-app-9'"));
  EXPECT_THAT(text, HasSubstr("heal takes no argument"));
  EXPECT_THAT(text, HasSubstr("no HTTP client is named 'ghost'"));
  EXPECT_THAT(text, HasSubstr("no client is named 'phantom'"));
  EXPECT_THAT(text, HasSubstr("bad-faults.yaml:15:37: error: scenario: faults[0].partition[1][0]"));
}

TEST(ScenarioLoader, ACounterExpectationNeedsAPathABoundAndAKnownNode) {
  std::string text = errors_of(lan_with("bad-counter", "",
                                        "  - counter: {path: backends.x.requests}\n"
                                        "  - counter: {node: node-9, path: speaker.probes, min: 1}\n"
                                        "  - counter: {max: -1}\n"));
  EXPECT_THAT(text, HasSubstr("a counter needs min, max or both"));
  EXPECT_THAT(text, HasSubstr("no node is named 'node-9'"));
  EXPECT_THAT(text, HasSubstr("expect[2].counter.path"));
  EXPECT_THAT(text, HasSubstr("'-1' is not a count of 0 or more"));
}

TEST(ScenarioLoader, AnUnknownExpectationIsAnErrorNamingEveryKindOfTheTable) {
  config::Diagnostics d;
  Scenario s = load_scenario(lan_with("unknown-expectation", "", "  - failovr: {max: 2s}\n"), d);
  const std::string text = d.to_string();
  EXPECT_TRUE(d.has_errors());
  EXPECT_TRUE(s.expectations.empty()) << "it is not read as a failover (or anything else)";
  EXPECT_THAT(text, HasSubstr("unknown-expectation.yaml:16:"));
  EXPECT_THAT(text, HasSubstr("expect[0].failovr: unknown expectation 'failovr'; one of: " + expectation_kind_names()));
  EXPECT_THAT(text, HasSubstr("(did you mean 'failover'?)"));
  for (const auto& kind : expectation_kinds())
    EXPECT_THAT(text, HasSubstr(std::string(kind.name)));
}

TEST(ScenarioLoader, AnUnknownFaultIsAnErrorNamingEveryKindOfTheTable) {
  const std::string text = errors_of(lan_with("unknown-fault", "  - {at: 1s, explode: node-1}\n", ""));
  EXPECT_THAT(text, HasSubstr("faults[0].explode: unknown fault 'explode'; one of: crash, restart, leave,"));
  for (const auto& kind : fault_kinds())
    EXPECT_THAT(text, HasSubstr(std::string(kind.name)));
}

TEST(ScenarioLoader, AFaultIsExactlyOneKind) {
  EXPECT_THAT(errors_of(lan_with("two-kinds", "  - {at: 1s, crash: node-1, leave: node-2}\n", "")),
              HasSubstr("a fault is one kind: 'crash' is given already"));
  EXPECT_THAT(errors_of(lan_with("no-kind", "  - {at: 1s}\n", "")),
              HasSubstr("a fault is one of crash (NODE, owner or {owner: SERVICE}), restart (NODE or all)"));
}

TEST(ScenarioLoader, EveryFaultKindOfTheTableLoadsWithItsParameters) {
  config::Diagnostics d;
  Scenario s = load_scenario(
      lan_with("all-faults",
               "  - {at: 1s, crash: owner}\n  - {at: 2s, restart: all}\n  - {at: 2s, leave: node-2}\n"
               "  - {at: 3s, nic_down: node-1}\n  - {at: 4s, nic_up: node-1}\n"
               "  - {at: 5s, partition: [[node-3], [owner, browser]]}\n  - {at: 6s, heal: true}\n"
               "  - {at: 6s, link: {host: browser, loss: 0.1, delay: 5us, rate: 10Mbps}}\n"
               "  - {at: 7s, backend_crash: web-app-0}\n  - {at: 8s, backend_restart: web-app-0}\n"
               "  - {at: 8s, backend_slow: {pod: web-app-1, latency: 300ms}}\n"
               "  - {at: 9s, backend_unhealthy: web-app-2}\n  - {at: 9s, backend_healthy: web-app-2}\n"
               "  - {at: 10s, reload: [" + std::string(METALGATE_SOURCE_DIR) + "/scenarios/seed]}\n",
               ""),
      d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(s.faults.size(), fault_kinds().size());
  for (std::size_t i = 0; i < s.faults.size(); ++i)
    EXPECT_EQ(s.faults[i].kind, fault_kinds()[i].name);
  EXPECT_EQ(s.faults[0].node, "owner");
  EXPECT_THAT(s.faults[5].groups, ElementsAre(ElementsAre("node-3"), ElementsAre("owner", "browser")));
  EXPECT_EQ(s.faults[7].loss, 0.1);
  EXPECT_EQ(s.faults[7].delay, std::chrono::microseconds(5));
  EXPECT_EQ(s.faults[7].rate, "10Mbps");
  EXPECT_EQ(s.faults[10].latency, std::chrono::milliseconds(300));
  EXPECT_EQ(s.faults[13].manifests.size(), 1u);
}

TEST(ScenarioLoader, NodesKnowTheirLineAndAnnounceOnEth0UnlessTold) {
  config::Diagnostics d;
  Scenario s = load_scenario(write_temp("interfaces.yaml", R"(name: interfaces
duration: 10s
lan: {subnet: 10.0.0.0/24}
nodes:
  - {name: n1, address: 10.0.0.1}
  - {name: n2, address: 10.0.0.2, interfaces: [eth0, eth1]}
)"),
                             d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(s.nodes.size(), 2u);
  EXPECT_THAT(s.nodes[0].interfaces, ElementsAre("eth0"));
  EXPECT_THAT(s.nodes[1].interfaces, ElementsAre("eth0", "eth1"));
  EXPECT_EQ(s.nodes[0].where.line, 5);
  EXPECT_EQ(s.nodes[1].where.line, 6);
  EXPECT_THAT(s.nodes[1].where.file, HasSubstr("interfaces.yaml"));
}

TEST(ScenarioLoader, ANodeWithoutInterfacesIsAnError) {
  EXPECT_THAT(errors_of(write_temp("no-interfaces.yaml", R"(name: x
duration: 10s
lan: {subnet: 10.0.0.0/24}
nodes:
  - {name: n1, address: 10.0.0.1, interfaces: []}
)")),
              HasSubstr("no-interfaces.yaml:5:47: error: scenario: nodes[0].interfaces: a node announces on at least one interface"));
}

// scenarios/services' LAN (three nodes, its manifests) with `backends`, `clients` and `faults` as given.
std::string services_lan(const std::string& name, const std::string& backends, const std::string& clients,
                         const std::string& faults = "") {
  const std::string manifests = std::string(METALGATE_SOURCE_DIR) + "/scenarios/services";
  return write_temp(name + ".yaml", "name: " + name + R"(
duration: 20s
lan: {subnet: 192.168.1.0/24}
nodes:
  - {name: node-1, address: 192.168.1.11}
  - {name: node-2, address: 192.168.1.12}
  - {name: node-3, address: 192.168.1.13}
manifests: [)" + manifests + "]\nbackends:\n" + backends + "clients:\n" + clients +
                                        "faults:\n" + faults);
}

const std::string kApiBackend = "  - {deployment: default/api, addresses: [192.168.1.51]}\n";

TEST(ScenarioLoader, AClientTargetsALoadBalancerServiceByNameAtItsFirstIpv4Address) {
  config::Diagnostics d;
  Scenario s = load_scenario(
      services_lan("target-by-name", kApiBackend,
                   "  - {name: psql, address: 192.168.1.101, http: {host: pg, port: 5432, target: "
                   "default/postgresql}}\n"
                   "  - {name: dns, address: 192.168.1.104, udp: {port: 53, target: default/dns}}\n"
                   "  - {name: by-address, address: 192.168.1.105, http: {host: a, target: 192.168.1.250}}\n"
                   "  - {name: default-target, address: 192.168.1.106, http: {host: a}}\n"),
      d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(s.clients.size(), 4u);
  EXPECT_EQ(s.clients[0].target, net::IpAddress::parse("192.168.1.241"));
  EXPECT_EQ(s.clients[0].target_service, "default/postgresql");
  EXPECT_EQ(s.clients[1].target, net::IpAddress::parse("192.168.1.243"));
  EXPECT_EQ(s.clients[2].target, net::IpAddress::parse("192.168.1.250"));
  EXPECT_EQ(s.clients[2].target_service, "");
  EXPECT_EQ(s.clients[3].target, std::nullopt) << "the world's default: the controller's first VIP";
}

TEST(ScenarioLoader, AnUnknownTargetServiceIsAnErrorAtTheFieldSuggestingTheClosestName) {
  const std::string text = errors_of(services_lan(
      "unknown-target", kApiBackend,
      "  - {name: psql, address: 192.168.1.101, http: {host: pg, port: 5432, target: default/postgresq}}\n"));
  EXPECT_THAT(text, HasSubstr("unknown-target.yaml:12:"));
  EXPECT_THAT(text,
              HasSubstr("clients[0].http.target: no LoadBalancer Service is named 'default/postgresq' in the "
                        "manifests (did you mean 'default/postgresql'?)"));
}

TEST(ScenarioLoader, Http2IsAnHttpsClientsOptionAndReadAsWritten) {
  const std::string text = errors_of(services_lan(
      "h2-plain", kApiBackend, "  - {name: web, address: 192.168.1.101, http: {host: w, http2: true}}\n"));
  EXPECT_THAT(text,
              HasSubstr("clients[0].http.http2: http2 is for https clients (HTTP/2 is agreed in TLS, ALPN)"));
}

TEST(ScenarioLoader, ATargetServiceWithoutAVipOrWrittenAsNeitherIsAnError) {
  const std::string text =
      errors_of(services_lan("targets-without-vip", kApiBackend,
                             "  - {name: web, address: 192.168.1.101, http: {host: w, target: default/web}}\n"
                             "  - {name: bare, address: 192.168.1.102, http: {host: w, target: postgresql}}\n"
                             "  - {name: v6, address: 192.168.1.103, http: {host: w, target: 'fd00::1'}}\n"));
  EXPECT_THAT(text, HasSubstr("clients[0].http.target: Service 'default/web' is not a LoadBalancer"));
  EXPECT_THAT(text, HasSubstr("clients[1].http.target: 'postgresql' is neither an IPv4 address nor a Service "
                              "(namespace/name)"));
  EXPECT_THAT(text, HasSubstr("clients[2].http.target: 'fd00::1' is an IPv6 address: the LAN's hosts have one "
                              "only with lan.subnet6"));
}

// lan.subnet6: every host's IPv6 address is the prefix and its IPv4 address's last byte read as hex digits, and
// a client may target an IPv6 VIP.
TEST(ScenarioLoader, ASubnet6GivesEveryHostAnIpv6AddressThatReadsLikeItsIpv4One) {
  config::Diagnostics d;
  Scenario s = load_scenario(std::string(METALGATE_SOURCE_DIR) + "/scenarios/dual-stack.yaml", d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_TRUE(s.subnet6);
  EXPECT_EQ(address6_of(s, *net::IpAddress::parse("192.168.1.11")), net::IpAddress::parse("fd00:1::11"));
  EXPECT_EQ(address6_of(s, *net::IpAddress::parse("192.168.1.255")), net::IpAddress::parse("fd00:1::255"));
  EXPECT_EQ(address6_of(s, *net::IpAddress::parse("192.168.1.7")), net::IpAddress::parse("fd00:1::7"));
  EXPECT_EQ(s.clients[1].target, net::IpAddress::parse("fd00:1::240"));
  s.subnet6.reset();
  EXPECT_EQ(address6_of(s, *net::IpAddress::parse("192.168.1.11")), std::nullopt);
}

TEST(ScenarioLoader, ABackendsServerIsIdentityOrARealOneWithTheClosestNameSuggested) {
  config::Diagnostics d;
  Scenario s = load_scenario(std::string(METALGATE_SOURCE_DIR) + "/scenarios/data-services.yaml", d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  EXPECT_EQ(s.backends[0].server, "identity");
  EXPECT_EQ(s.backends[1].server, "postgresql");
  const std::string text = errors_of(services_lan(
      "bad-server", "  - {deployment: default/api, addresses: [192.168.1.51], server: redsi}\n",
      "  - {name: b, address: 192.168.1.101, http: {host: a}}\n"));
  EXPECT_THAT(text, HasSubstr("backends[0].server: 'redsi' is not identity, redis, postgresql or dnsmasq (did you "
                              "mean 'redis'?)"));
}

TEST(ScenarioLoader, ASubnet6MustBeAnIpv6PrefixBesideAnIpv4SubnetOfAtMostA24) {
  auto lan = [](const std::string& fields) {
    return errors_of(write_temp("subnet6.yaml", "name: s\nduration: 10s\nlan: {" + fields +
                                                    "}\nnodes:\n  - {name: n, address: 10.0.0.1}\n"));
  };
  EXPECT_THAT(lan("subnet: 10.0.0.0/24, subnet6: 10.1.0.0/16"),
              HasSubstr("lan.subnet6: '10.1.0.0/16' is not an IPv6 prefix of /112 or shorter"));
  EXPECT_THAT(lan("subnet: 10.0.0.0/16, subnet6: 'fd00::/64'"),
              HasSubstr("the IPv4 subnet must be a /24 or smaller, not 10.0.0.0/16"));
  EXPECT_EQ(lan("subnet: 10.0.0.0/24, subnet6: 'fd00::/64'"), "");
}

TEST(ScenarioLoader, APendingTargetServiceIsAnErrorSayingWhyItHasNoAddress) {
  const std::string manifests = write_temp("one-address.yaml", R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: tiny, namespace: metallb-system}
spec: {addresses: [10.0.0.240/32]}
---
apiVersion: v1
kind: Service
metadata: {name: first, namespace: default}
spec: {type: LoadBalancer, selector: {app: a}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: second, namespace: default}
spec: {type: LoadBalancer, selector: {app: b}, ports: [{port: 81}]}
)");
  const std::string text = errors_of(write_temp("pending-target.yaml", R"(name: pending
duration: 10s
lan: {subnet: 10.0.0.0/24}
nodes: [{name: n1, address: 10.0.0.1}]
manifests: [)" + manifests + R"(]
clients:
  - {name: c, address: 10.0.0.9, http: {host: a, target: default/second}}
)"));
  EXPECT_THAT(text, HasSubstr("pending-target.yaml:7:"));
  EXPECT_THAT(text,
              HasSubstr("clients[0].http.target: LoadBalancer Service default/second has no address: "));
}

TEST(ScenarioLoader, AFaultNamesTheOwnerOfAServicesVip) {
  config::Diagnostics d;
  Scenario s = load_scenario(services_lan("owner-of", kApiBackend, "",
                                          "  - {at: 5s, crash: {owner: default/redis}}\n"
                                          "  - {at: 6s, leave: {owner: 192.168.1.243}}\n"
                                          "  - {at: 7s, nic_down: owner}\n"),
                             d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(s.faults.size(), 3u);
  EXPECT_EQ(s.faults[0].node, "owner");
  EXPECT_EQ(s.faults[0].owner_of, "default/redis");
  EXPECT_EQ(s.faults[0].owner_vip, net::IpAddress::parse("192.168.1.241"))
      << "shared with default/postgresql";
  EXPECT_EQ(s.faults[1].owner_vip, net::IpAddress::parse("192.168.1.243"));
  EXPECT_EQ(s.faults[2].owner_vip, std::nullopt) << "the controller's VIP, as before";
}

TEST(ScenarioLoader, AFaultNamingTheOwnerOfAnUnknownServiceIsAnError) {
  const std::string text = errors_of(services_lan("owner-of-unknown", kApiBackend, "",
                                                  "  - {at: 5s, crash: {owner: default/rediss}}\n"
                                                  "  - {at: 6s, crash: {owner: redis}}\n"
                                                  "  - {at: 7s, crash: {ownr: default/redis}}\n"));
  EXPECT_THAT(text,
              HasSubstr("faults[0].crash.owner: no LoadBalancer Service is named 'default/rediss' in the "
                        "manifests (did you mean 'default/redis'?)"));
  EXPECT_THAT(text,
              HasSubstr("faults[1].crash.owner: 'redis' is neither a VIP nor a Service (namespace/name)"));
  EXPECT_THAT(text, HasSubstr("ownr"));
}

TEST(ScenarioLoader, BackendPodsRunOnTheNodesListedInOrder) {
  config::Diagnostics d;
  Scenario s = load_scenario(
      services_lan(
          "backend-nodes",
          "  - {deployment: default/api, addresses: [192.168.1.51, 192.168.1.52], nodes: [node-2, node-3]}\n"
          "  - {deployment: default/web, addresses: [192.168.1.31]}\n",
          ""),
      d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(s.backends.size(), 2u);
  EXPECT_THAT(s.backends[0].nodes, ElementsAre("node-2", "node-3"));
  EXPECT_TRUE(s.backends[1].nodes.empty()) << "on no node unless told";
}

TEST(ScenarioLoader, BackendNodesMustBeScenarioNodesOnePerAddress) {
  const std::string text = errors_of(services_lan(
      "bad-backend-nodes",
      "  - {deployment: default/api, addresses: [192.168.1.51, 192.168.1.52], nodes: [node-22, node-3]}\n"
      "  - {deployment: default/web, addresses: [192.168.1.31], nodes: [node-1, node-2]}\n",
      ""));
  EXPECT_THAT(text, HasSubstr("backends[0].nodes[0]: no node is named 'node-22' (did you mean 'node-2'?)"));
  EXPECT_THAT(text,
              HasSubstr("backends[1].nodes: names 2 node(s) for 1 address(es): pod i runs on the i-th node"));
}

TEST(ScenarioLoader, ASuccessRatioOfOneClientNamesAClientOfAnyKind) {
  config::Diagnostics d;
  Scenario s = load_scenario(lan_with("ratio-of-one", "", "  - success_ratio: {min: 0.9, client: browser}\n"), d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  EXPECT_EQ(s.expectations[0].client, "browser");
  const std::string text = errors_of(lan_with("ratio-of-ghost", "",
                                              "  - success_ratio: {min: 0.9, client: ghost}\n"
                                              "  - success_ratio: {min: 0.9, client: browser, exclude: [browser]}\n"));
  EXPECT_THAT(text, HasSubstr("expect[0].success_ratio.client: no client is named 'ghost'"));
  EXPECT_THAT(text, HasSubstr("expect[1].success_ratio.exclude: a ratio of one client excludes no other"));
}

TEST(ScenarioLoader, ASuccessRatioFromIsADurationLikeEveryOther) {
  config::Diagnostics d;
  Scenario s = load_scenario(lan_with("ratio-from", "", "  - success_ratio: {min: 0.9, from: 5s}\n"), d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  EXPECT_EQ(s.expectations[0].from, std::chrono::milliseconds(5000));
  const std::string text = errors_of(lan_with("ratio-from-bad", "", "  - success_ratio: {min: 0.9, from: soon}\n"));
  EXPECT_THAT(text, HasSubstr("expect[0].success_ratio.from"));
}

TEST(FaultKinds, AWorldMissingAnActionIsToldWhichKinds) {
  auto missing = missing_fault_actions([](std::string_view kind) { return kind != "heal" && kind != "reload"; });
  EXPECT_THAT(missing, ElementsAre("heal", "reload"));
  EXPECT_TRUE(missing_fault_actions([](std::string_view) { return true; }).empty());
}

TEST(ExpectationKinds, EveryRowHasAParserAndAJudge) {
  for (const auto& kind : expectation_kinds()) {
    EXPECT_NE(kind.parse, nullptr) << kind.name;
    EXPECT_NE(kind.judge, nullptr) << kind.name;
    EXPECT_EQ(find_expectation_kind(kind.name), &kind);
  }
  EXPECT_EQ(find_expectation_kind("nonsense"), nullptr);
}

}  // namespace
}  // namespace metalgate::scenario
