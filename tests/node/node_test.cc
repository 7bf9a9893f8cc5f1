// One node engine, as `serve` and the simulator run it, on the in-memory LAN: start, who announces what,
// reload, and a node that cannot start.
#include "engine/node/node.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "engine/runtime/memory/memory_world.h"
#include "scenario/apps/identity_http_server.h"
#include "tests/node/local_manifests.h"
#include "tests/proxy/proxy_world.h"

namespace metalgate::node {
namespace {

using testing::manifests;

using namespace std::chrono_literals;

const std::vector<std::string> kNames = {"node-a", "node-b", "node-c"};

net::IpAddress address(std::size_t i) {
  return net::IpAddress::v4(192, 168, 1, static_cast<std::uint8_t>(10 + i));
}

// Three nodes on the in-memory LAN, each with its manifests in a directory of its own.
struct NodeLan {
  ~NodeLan() { std::filesystem::remove_all(dir); }

  std::string write(const std::string& text) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "manifests.yaml") << text;
    return (dir / "manifests.yaml").string();
  }
  NodeSpec spec(std::size_t i, const std::string& path, bool proxy = true) const {
    NodeSpec s;
    s.name = kNames[i];
    s.manifests = {path};
    s.proxy = proxy;
    s.layer2.interfaces = {"eth0"};
    s.layer2.membership_address = {address(i), 7946};
    for (std::size_t j = 0; j < kNames.size(); ++j)
      if (j != i) s.layer2.seeds.push_back({address(j), 7946});
    return s;
  }
  // Starts every node (those in `speaker_only` without a proxy) and lets the membership settle.
  void start_all(const std::string& text, std::set<std::string> speaker_only = {},
                 std::function<std::optional<net::IpAddress>(const routing::ResolvedEndpoint&)> place = {}) {
    const auto path = write(text);
    for (std::size_t i = 0; i < kNames.size(); ++i) world.add_host(kNames[i], {address(i)});
    std::shared_ptr<const Configuration> shared;
    for (std::size_t i = 0; i < kNames.size(); ++i) {
      config::Diagnostics d;
      auto s = spec(i, path, !speaker_only.count(kNames[i]));
      s.build.place_endpoint = place;
      auto c = shared ? Result<std::shared_ptr<const Configuration>>(shared)
                      : load_configuration(s, s.manifests, {}, d);
      ASSERT_TRUE(c) << c.error() << d.to_string();
      if (one_configuration) shared = *c;
      auto n = Node::start(world.host(kNames[i]), std::move(s), *c);
      ASSERT_TRUE(n) << n.error();
      nodes.push_back(std::move(*n));
    }
    world.run_for(2s);
  }
  // The owner every node agrees on for the Service's address; "" when they disagree or nobody owns it.
  std::string owner_of(const std::string& service) const {
    net::IpAddress vip;
    for (const auto& a : nodes.front()->configuration().assignments)
      if (a.service == service) vip = a.addresses.front();
    std::set<std::string> seen;
    for (const auto& n : nodes)
      seen.insert(n->layer2()->owners().count(vip) ? n->layer2()->owners().at(vip) : "");
    return seen.size() == 1 ? *seen.begin() : "";
  }
  std::string other_than(const std::string& name) const { return name == kNames[0] ? kNames[1] : kNames[0]; }
  net::IpAddress vip_of(const std::string& service) const {
    for (const auto& r : nodes.front()->configuration().model->services)
      if (r.key == service && !r.addresses.empty()) return r.addresses.front();
    ADD_FAILURE() << service << " has no address";
    return {};
  }

  static inline int lans = 0;
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                               ("metalgate-node-test-" + std::to_string(::getpid()) + "-" + std::to_string(++lans));
  runtime::memory::MemoryWorld world{11};
  std::vector<std::unique_ptr<Node>> nodes;
  bool one_configuration = false;  // every node runs the first one's, as the simulator starts them
};

// The owner the election picks with no restriction: the node the rule must move the address away from.
std::string natural_owner(const std::string& text, const std::string& service) {
  NodeLan lan;
  lan.start_all(text);
  return lan.owner_of(service);
}

TEST(Node, ALocalServiceIsAnnouncedByTheNodeHoldingItsEndpoint) {
  NodeLan lan;
  const std::string free_owner = natural_owner(manifests("Cluster", "node-a"), "default/db");
  ASSERT_FALSE(free_owner.empty());
  const std::string holder = lan.other_than(free_owner);
  lan.start_all(manifests("Local", holder));
  EXPECT_EQ(lan.owner_of("default/db"), holder);
}

TEST(Node, ASpeakerOnlyNodeNeverAnnouncesTheControllersLocalService) {
  NodeLan lan;
  const std::string free_owner = natural_owner(manifests("Cluster", "node-a"), "haproxy-ingress/haproxy-ingress-kubernetes-ingress");
  ASSERT_FALSE(free_owner.empty());
  lan.start_all(manifests("Cluster", "node-a"), {free_owner});
  const std::string owner = lan.owner_of("haproxy-ingress/haproxy-ingress-kubernetes-ingress");
  EXPECT_FALSE(owner.empty());
  EXPECT_NE(owner, free_owner) << "a node without the proxy holds no endpoint of the controller's Service";
}

TEST(Node, AReloadWithErrorsIsRefusedAndTheConfigurationBeforeKeepsServing) {
  NodeLan lan;
  lan.start_all(manifests("Local", "node-b"));
  const auto before = lan.nodes[0]->configuration().model;
  const auto path = lan.write("apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec: {type: LoadBalancer, ports: [{port: 70000}]}\n");
  config::Diagnostics d;
  auto outcome = lan.nodes[0]->reload({path}, d);
  EXPECT_FALSE(outcome.applied);
  EXPECT_NE(outcome.refused.find("error(s) in the manifests"), std::string::npos) << outcome.refused;
  EXPECT_NE(d.to_string().find("manifests.yaml:4:43: error"), std::string::npos) << d.to_string();
  EXPECT_EQ(lan.nodes[0]->configuration().model, before);
  EXPECT_EQ(lan.owner_of("default/db"), "node-b");
}

TEST(Node, AValidReloadMovesTheAddressToTheNewEndpointsNode) {
  NodeLan lan;
  lan.start_all(manifests("Local", "node-b"));
  const auto path = lan.write(manifests("Local", "node-c"));
  for (auto& n : lan.nodes) {
    config::Diagnostics d;
    EXPECT_TRUE(n->reload({path}, d).applied) << d.to_string();
  }
  lan.world.run_for(500ms);
  EXPECT_EQ(lan.owner_of("default/db"), "node-c");
}

TEST(Node, ANodeWhoseInterfaceIsMissingDoesNotStartAndLeavesNoProxyListening) {
  NodeLan lan;
  const auto path = lan.write(manifests("Local", "node-b"));
  auto& host = lan.world.add_host("node-a", {address(0)});
  auto s = lan.spec(0, path);
  s.layer2.interfaces = {"eth9"};
  config::Diagnostics d;
  auto c = load_configuration(s, s.manifests, {}, d);
  ASSERT_TRUE(c) << c.error();
  auto n = Node::start(host, s, *c);
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().find("the speaker cannot start: cannot open interface eth9"), std::string::npos) << n.error();
  // Nothing half-built stays: the proxy's port is free for the next attempt.
  s.layer2.interfaces = {"eth0"};
  auto again = Node::start(host, s, *c);
  EXPECT_TRUE(again) << again.error();
}


// ---------------------------------------------------------------------------------- L2Advertisements

// The pool (labelled tier: front) and one L2Advertisement with `spec`, plus the db Service of manifests().
std::string advertised(const std::string& spec) {
  std::string text = manifests("Cluster", "node-a");
  const std::string pool_end = "---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement";
  text = text.substr(text.find(pool_end));
  text = text.substr(text.find("---\napiVersion: v1"));
  return "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: pool, namespace: metallb-system, "
         "labels: {tier: front}}\nspec: {addresses: [192.168.1.240-192.168.1.250]}\n---\n"
         "apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2, namespace: metallb-system}\n"
         "spec: " + spec + "\n" + text;
}

TEST(L2Advertisements, NodeSelectorsMoveTheAddressToTheSelectedNode) {
  const std::string free_owner = natural_owner(manifests("Cluster", "node-a"), "default/db");
  ASSERT_FALSE(free_owner.empty());
  NodeLan lan;
  const std::string chosen = lan.other_than(free_owner);
  lan.start_all(advertised("{ipAddressPools: [pool], nodeSelectors: [{matchLabels: {kubernetes.io/hostname: " +
                           chosen + "}}]}"));
  EXPECT_EQ(lan.owner_of("default/db"), chosen);
}

TEST(L2Advertisements, APoolSelectedByLabelIsAnnouncedAndOneNoSelectorMatchesIsNot) {
  for (bool matches : {true, false}) {
    NodeLan lan;
    lan.start_all(advertised(std::string("{ipAddressPoolSelectors: [{matchLabels: {tier: ") +
                             (matches ? "front" : "back") + "}}]}"));
    EXPECT_EQ(lan.owner_of("default/db").empty(), !matches) << (matches ? "front" : "back");
  }
}

// MetalLB: "the interface selector won't affect how MetalLB chooses the node": the owner is elected as
// usual and announces on none of its interfaces.
TEST(L2Advertisements, AnOwnerWithoutTheAdvertisementsInterfaceAnnouncesNothing) {
  for (const std::string interfaces : {"[eth0]", "[eth1]"}) {
    NodeLan lan;
    lan.start_all(advertised("{ipAddressPools: [pool], interfaces: " + interfaces + "}"));
    ASSERT_FALSE(lan.owner_of("default/db").empty());
    std::uint64_t sent = 0;
    for (const auto& n : lan.nodes)
      sent += n->layer2()->speaker().core().counters().announcements_sent;
    if (interfaces == "[eth0]")
      EXPECT_GT(sent, 0u);
    else
      EXPECT_EQ(sent, 0u) << "no node has eth1";
  }
}

// ---------------------------------------------------------------------------------- service forwarding

const net::IpAddress kClient = net::IpAddress::v4(192, 168, 1, 100);

// The controller's Service on port 80 and `db` on 5432 with the given spec lines and Endpoints addresses.
std::string forwarding_manifests(const std::string& db_spec, const std::string& db_addresses) {
  return std::string(testing::kPool) + R"(---
apiVersion: v1
kind: Service
metadata: {name: haproxy-ingress-kubernetes-ingress, namespace: haproxy-ingress}
spec:
  type: LoadBalancer
  selector: {app.kubernetes.io/name: kubernetes-ingress}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  type: LoadBalancer
  ports: [{name: pg, port: 5432}]
)" + db_spec + R"(
---
apiVersion: v1
kind: Endpoints
metadata: {name: db, namespace: default}
subsets:
- )" + db_addresses + R"(
  ports: [{name: pg, port: 5432}]
)";
}

// Three nodes, a client, and pods db-0 (10.0.0.5) and db-1 (10.0.0.6) answering HTTP with their names.
// Each pod also answers health checks on port 8008 (200, or 503 for `unready_pod`).
struct ForwardingLan : NodeLan {
  ForwardingLan() = default;
  explicit ForwardingLan(const std::string& text) { start(text); }
  void start(const std::string& text) {
    world.add_host("client", {kClient});
    for (int i = 0; i < 2; ++i) {
      const std::string name = "db-" + std::to_string(i);
      const auto ip = net::IpAddress::v4(10, 0, 0, static_cast<std::uint8_t>(5 + i));
      auto& host = world.add_host(name, {ip});
      pods.push_back(std::make_unique<apps::IdentityHttpServer>(host, net::SocketAddress{ip, 5432}, name, pod_options));
      auto health = pod_options;
      health.healthy = name != unready_pod;
      pods.push_back(std::make_unique<apps::IdentityHttpServer>(host, net::SocketAddress{ip, 8008}, name, health));
    }
    start_all(text, speaker_only, place);
    steer_to_owners();
  }
  // Every node holds every VIP; the client's ARP sends its traffic to the owner's (the in-memory world has no
  // ARP, so it is told).
  void steer_to_owners() {
    for (const auto& r : nodes.front()->configuration().model->services)
      if (!r.addresses.empty()) world.steer(r.addresses.front(), owner_of(r.key));
  }
  // Who answers a request to `to` from the client: the pod's name, or "refused" / "closed" / "no answer".
  std::string ask(const net::SocketAddress& to) {
    proxy::testing::TestClient c(world.host("client"), to);
    c.send(proxy::testing::get("db", "/"));
    std::optional<proxy::testing::Response> r;
    world.run_until([&] { return (r = c.next()).has_value() || c.closed; }, 5s);
    if (r) return r->get("x-served-by").empty() ? "status " + std::to_string(r->status) : r->get("x-served-by");
    if (c.close_reason == std::errc::connection_refused) return "refused";
    return c.closed ? "closed" : "no answer";
  }
  std::vector<std::unique_ptr<apps::IdentityHttpServer>> pods;
  apps::IdentityHttpServer::Options pod_options;
  std::string unready_pod;
  std::function<std::optional<net::IpAddress>(const routing::ResolvedEndpoint&)> place;  // Deployment pods
  std::set<std::string> speaker_only;  // nodes started without the proxy
};

const std::string kController = "haproxy-ingress/haproxy-ingress-kubernetes-ingress";

// The controller's Service is Cluster (no externalTrafficPolicy) and its address's natural owner runs no
// proxy, so the owner must carry the controller's ports to the nodes that do, as kube-proxy would.
struct ClusterControllerLan : ForwardingLan {
  ClusterControllerLan() {
    const auto text = forwarding_manifests("", "addresses: [{ip: 10.0.0.5}]");
    owner = natural_owner(text, kController);
    speaker_only = {owner};
    start(text);
  }
  bool answered_by_a_proxy() {
    const auto got = ask({vip_of(kController), 80});
    return got.rfind("status ", 0) == 0;
  }
  std::string owner;
};

TEST(ServiceForwarding, ALoadBalancerServiceAnswersOnItsOwnAddressThroughWhicheverNodeOwnsIt) {
  ForwardingLan lan(forwarding_manifests("", "addresses: [{ip: 10.0.0.5}]"));
  const auto vip = lan.vip_of("default/db");
  ASSERT_FALSE(lan.owner_of("default/db").empty());
  EXPECT_EQ(lan.ask({vip, 5432}), "db-0");
}

TEST(ServiceForwarding, AnotherServicesAddressDoesNotServeTheIngressRoutesNorTheControllersPortsTheirs) {
  ForwardingLan lan(forwarding_manifests("", "addresses: [{ip: 10.0.0.5}]"));
  const auto db = lan.vip_of("default/db");
  const auto controller = lan.vip_of("haproxy-ingress/haproxy-ingress-kubernetes-ingress");
  ASSERT_NE(lan.ask({controller, 80}).find("status"), std::string::npos) << "the controller's VIP serves HTTP";
  EXPECT_EQ(lan.ask({db, 80}), "refused");
  EXPECT_EQ(lan.ask({controller, 5432}), "refused");
  EXPECT_EQ(lan.ask({db, 6379}), "refused") << "a port no Service exposes";
}

TEST(ServiceForwarding, APortWhoseServiceHasNoReadyEndpointIsRefused) {
  ForwardingLan lan(forwarding_manifests("", "notReadyAddresses: [{ip: 10.0.0.5}]"));
  EXPECT_EQ(lan.ask({lan.vip_of("default/db"), 5432}), "refused");
}

TEST(ServiceForwarding, ClientIpAffinityKeepsAClientOnOneEndpointWhereRoundRobinAlternates) {
  const std::string two = "addresses: [{ip: 10.0.0.5}, {ip: 10.0.0.6}]";
  for (bool affinity : {false, true}) {
    ForwardingLan lan(forwarding_manifests(affinity ? "  sessionAffinity: ClientIP" : "", two));
    std::set<std::string> served;
    for (int i = 0; i < 6; ++i)
      served.insert(lan.ask({lan.vip_of("default/db"), 5432}));
    EXPECT_EQ(served.size(), affinity ? 1u : 2u) << (affinity ? "with" : "without") << " affinity";
  }
}

TEST(ServiceForwarding, WithLocalPolicyTheOwnerForwardsOnlyToItsOwnEndpoints) {
  ForwardingLan lan(forwarding_manifests("  externalTrafficPolicy: Local",
                                         "addresses: [{ip: 10.0.0.5, nodeName: node-b}, {ip: 10.0.0.6, nodeName: node-c}]"));
  const std::string owner = lan.owner_of("default/db");
  ASSERT_TRUE(owner == "node-b" || owner == "node-c") << owner;
  std::set<std::string> served;
  for (int i = 0; i < 6; ++i)
    served.insert(lan.ask({lan.vip_of("default/db"), 5432}));
  EXPECT_EQ(served, std::set<std::string>{owner == "node-b" ? "db-0" : "db-1"});
}

TEST(ServiceForwarding, WhenNoEndpointIsReadyTheServingTerminatingOnesCarryTheTraffic) {
  const std::string slice = R"(---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-x, namespace: default, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{name: pg, port: 5432}]
endpoints:
- {addresses: [10.0.0.5], conditions: {ready: false, serving: true, terminating: true}}
- {addresses: [10.0.0.6], conditions: {ready: false, serving: false, terminating: true}}
)";
  std::string text = forwarding_manifests("", "addresses: [{ip: 10.0.0.9}]");
  text = text.substr(0, text.rfind("---\napiVersion: v1\nkind: Endpoints")) + slice;
  ForwardingLan lan(text);
  std::set<std::string> served;
  for (int i = 0; i < 4; ++i)
    served.insert(lan.ask({lan.vip_of("default/db"), 5432}));
  EXPECT_EQ(served, std::set<std::string>{"db-0"});
}

TEST(ServiceForwarding, TheOwnersCrashMovesTheServiceToAnotherNodeThatForwardsItToo) {
  ForwardingLan lan(forwarding_manifests("", "addresses: [{ip: 10.0.0.5}]"));
  const auto vip = lan.vip_of("default/db");
  const std::string owner = lan.owner_of("default/db");
  for (auto& n : lan.nodes)
    if (n && n->name() == owner) n.reset();
  std::erase(lan.nodes, nullptr);
  lan.world.run_for(5s);
  lan.steer_to_owners();
  EXPECT_NE(lan.owner_of("default/db"), owner);
  EXPECT_EQ(lan.ask({vip, 5432}), "db-0");
}

TEST(ServiceForwarding, ANodeWithoutTheProxyThatWinsAClusterControllerForwardsItsPortsToTheProxies) {
  ClusterControllerLan lan;
  ASSERT_FALSE(lan.owner.empty());
  ASSERT_EQ(lan.owner_of(kController), lan.owner) << "Cluster: a node without the proxy may announce";
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(lan.answered_by_a_proxy())
        << "request " << i << ": " << lan.ask({lan.vip_of(kController), 80});
  EXPECT_EQ(lan.ask({lan.vip_of(kController), 5432}), "refused") << "a port the controller's Service lacks";
}

TEST(ServiceForwarding, AProxyThatCrashesLeavesTheForwardersListAndTheOtherCarriesOn) {
  ClusterControllerLan lan;
  ASSERT_EQ(lan.owner_of(kController), lan.owner);
  const std::string victim = lan.other_than(lan.owner);
  for (auto& n : lan.nodes)
    if (n && n->name() == victim) n.reset();
  std::erase(lan.nodes, nullptr);
  lan.world.run_for(2s);
  lan.steer_to_owners();
  ASSERT_EQ(lan.owner_of(kController), lan.owner);
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(lan.answered_by_a_proxy()) << "request " << i << " went to the crashed proxy";
}

// Every node forwards every Service: nodes of one configuration that run no proxy and follow the same proxies
// serve one proxy configuration, not a copy each (60 MB of a 64-node, 1,000-Service LAN,
// reports/sim-speed.md).
TEST(ServiceForwarding, NodesOfOneConfigurationWithoutTheProxyShareWhatTheyServe) {
  ForwardingLan lan;
  lan.one_configuration = true;
  lan.speaker_only = {kNames[1], kNames[2]};
  lan.start(forwarding_manifests("", "addresses: [{ip: 10.0.0.5}]"));
  ASSERT_EQ(lan.nodes.size(), 3u);
  EXPECT_EQ(lan.nodes[1]->serving(), lan.nodes[2]->serving());
  EXPECT_NE(lan.nodes[0]->serving(), lan.nodes[1]->serving());  // the proxy serves the routes too
  EXPECT_EQ(lan.ask({lan.vip_of("default/db"), 5432}), "db-0");
}

TEST(ServiceForwarding, WithNoProxyLeftTheControllersPortsAreRefused) {
  ClusterControllerLan lan;
  for (auto& n : lan.nodes)
    if (n && n->name() != lan.owner) n.reset();
  std::erase(lan.nodes, nullptr);
  lan.world.run_for(2s);
  lan.steer_to_owners();
  EXPECT_EQ(lan.ask({lan.vip_of(kController), 80}), "refused");
}

TEST(ServiceForwarding, AReloadMovesAServicesPortAndKeepsTheConnectionsOpenOnTheOldOne) {
  ForwardingLan lan(forwarding_manifests("", "addresses: [{ip: 10.0.0.5}]"));
  const auto vip = lan.vip_of("default/db");
  proxy::testing::TestClient open(lan.world.host("client"), {vip, 5432});
  open.send(proxy::testing::get("db", "/first"));
  lan.world.run_until([&] { return open.received.find("db-0 GET /first") != std::string::npos; }, 5s);
  ASSERT_NE(open.received.find("db-0 GET /first"), std::string::npos);

  std::string moved = forwarding_manifests("", "addresses: [{ip: 10.0.0.5}]");
  moved.replace(moved.find("port: 5432}]\n"), 13, "port: 5433, targetPort: 5432}]\n");
  const auto path = lan.write(moved);
  for (auto& n : lan.nodes) {
    config::Diagnostics d;
    ASSERT_TRUE(n->reload({path}, d).applied) << d.to_string();
  }
  lan.world.run_for(1s);
  EXPECT_EQ(lan.ask({vip, 5433}), "db-0");
  EXPECT_EQ(lan.ask({vip, 5432}), "refused");
  open.send(proxy::testing::get("db", "/second"));
  lan.world.run_until([&] { return open.received.find("db-0 GET /second") != std::string::npos; }, 5s);
  EXPECT_NE(open.received.find("db-0 GET /second"), std::string::npos) << "the connection open before the reload";
}

TEST(ServiceForwarding, ADeploymentsReadinessProbeKeepsAPodThatIsNotReadyOutOfTheService) {
  ForwardingLan lan;
  lan.place = [](const routing::ResolvedEndpoint& ep) -> std::optional<net::IpAddress> {
    return ep.name == "db-0" ? net::IpAddress::v4(10, 0, 0, 5) : net::IpAddress::v4(10, 0, 0, 6);
  };
  lan.pod_options.health_path = "/ready";
  lan.pod_options.health_status = 200;
  lan.unready_pod = "db-1";
  lan.start(std::string(testing::kPool) + R"(---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: db}
  ports: [{name: pg, port: 5432}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: postgres
        ports: [{containerPort: 5432}, {name: health, containerPort: 8008}]
        readinessProbe:
          httpGet: {path: /ready, port: health}
          periodSeconds: 1
          failureThreshold: 1
)");
  lan.world.run_for(3s);
  std::set<std::string> served;
  for (int i = 0; i < 6; ++i)
    served.insert(lan.ask({lan.vip_of("default/db"), 5432}));
  EXPECT_EQ(served, std::set<std::string>{"db-0"}) << "db-1's probe on port 8008 fails";
}

}  // namespace
}  // namespace metalgate::node
