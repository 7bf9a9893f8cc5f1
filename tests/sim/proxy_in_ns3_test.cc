// The HTTP proxy and a TCP service inside ns-3, from manifests: the same engine code as live, on simulated
// nodes. A client reaches the proxy node's VIP (on its loopback, announced by nobody here: the client's ARP
// is filled as if the speaker had answered), and the backends answer with their own names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/config/manifest_loader.h"
#include "engine/l4/tcp_service.h"
#include "engine/model/resolve.h"
#include "engine/proxy/proxy.h"
#include "engine/proxy/proxy_config.h"
#include "ns3/arp-cache.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/simulator.h"
#include "sim/lan/switched_lan.h"
#include "tests/proxy/proxy_world.h"

namespace metalgate::sim {
namespace {

using namespace std::chrono_literals;
using proxy::testing::TestClient;
using proxy::testing::TestHttpServer;

net::IpAddress ip(const std::string& s) {
  return *net::IpAddress::parse(s);
}

const char* kManifests = R"(
controller:
  service:
    tcpPorts: [{name: echo, port: 7000, targetPort: 7000}]
  tcpServices: {configMapName: tcp}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tcp, namespace: haproxy-ingress}
data: {"7000": "default/web:80"}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets: [{addresses: [{ip: 10.0.0.21, targetRef: {kind: Pod, name: web-1}}, {ip: 10.0.0.22, targetRef: {kind: Pod, name: web-2}}], ports: [{port: 8080}]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default, annotations: {haproxy.org/check-interval: 1s}}
spec:
  ingressClassName: haproxy
  rules:
  - host: app.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
)";

bool run_until(const std::function<bool()>& done, runtime::Duration limit) {
  const ns3::Time end = ns3::Simulator::Now() + ns3::NanoSeconds(limit.count());
  while (!done() && ns3::Simulator::Now() < end) {
    ns3::Simulator::Stop(ns3::MilliSeconds(5));
    ns3::Simulator::Run();
  }
  return done();
}

TEST(ProxyInNs3, HttpRoutesAndBalancesAndTcpServicesForwardOnTheSimulatedLan) {
  {
    LanOptions options;
    options.seed = 3;
    SwitchedLan lan(options);
    auto& proxy_host = lan.add_host("proxy", ip("10.0.0.11"), 1);
    auto& web1 = lan.add_host("web-1", ip("10.0.0.21"), 2);
    auto& web2 = lan.add_host("web-2", ip("10.0.0.22"), 3);
    auto& client = lan.add_host("client", ip("10.0.0.100"), 4);
    lan.finish();
    const net::IpAddress vip = ip("10.0.0.240");
    ASSERT_FALSE(proxy_host.add_local_address(vip));
    auto cache =
        lan.device("client")->GetNode()->GetObject<ns3::Ipv4L3Protocol>()->GetInterface(1)->GetArpCache();
    auto* entry = cache->Add(ns3::Ipv4Address(vip.v4_host_order()));
    entry->SetMacAddress(lan.device("proxy")->GetAddress());
    entry->MarkPermanent();

    TestHttpServer s1(web1, {ip("10.0.0.21"), 8080}, "web-1");
    TestHttpServer s2(web2, {ip("10.0.0.22"), 8080}, "web-2");

    config::Diagnostics d;
    config::ManifestSet set;
    config::load_manifest_text(kManifests, "sim.yaml", set, d);
    config::finish_manifest_set(set, d);
    auto model = std::make_shared<model::Model>(model::resolve_model(std::move(set), {}, d));
    proxy::BuildOptions bo;
    bo.listen_address = net::IpAddress::v4(0);
    bo.http_port = 80;
    auto cfg = std::make_shared<proxy::ProxyConfig>(proxy::build_proxy_config(model, bo, d));
    ASSERT_FALSE(d.has_errors()) << d.to_string();
    std::vector<std::string> log;
    proxy::ProxyOptions po;
    po.access_log = [&](std::string_view line) { log.emplace_back(line); };
    proxy::Proxy p(proxy_host, cfg, po);
    ASSERT_FALSE(p.start());

    std::map<std::string, int> served;
    for (int i = 0; i < 6; ++i) {
      TestClient c(client, {vip, 80});
      c.send(proxy::testing::get("app.example.com", "/hello"));
      std::optional<proxy::testing::Response> r;
      ASSERT_TRUE(run_until(
          [&] {
            if (!r) r = c.next();
            return r.has_value();
          },
          5s))
          << "request " << i << " connections=" << p.counters().connections
          << " requests=" << p.counters().requests << " client connected=" << c.connected
          << " closed=" << c.closed << " got=" << c.received << " web1=" << s1.requests()
          << " web2=" << s2.requests() << " log=" << (log.empty() ? "" : log.back());
      EXPECT_EQ(r->status, 200);
      ++served[r->get("x-served-by")];
    }
    EXPECT_EQ(served, (std::map<std::string, int>{{"web-1", 3}, {"web-2", 3}}));
    TestClient unknown(client, {vip, 80});
    unknown.send(proxy::testing::get("other.example.com", "/"));
    std::optional<proxy::testing::Response> r;
    ASSERT_TRUE(run_until(
        [&] {
          if (!r) r = unknown.next();
          return r.has_value();
        },
        5s));
    EXPECT_EQ(r->status, 404);

    // The TCP service forwards bytes both ways (the backends speak HTTP, which is just bytes here).
    TestClient tcp(client, {vip, 7000});
    tcp.send(proxy::testing::get("anything", "/raw"));
    ASSERT_TRUE(run_until([&] { return tcp.received.find("GET /raw") != std::string::npos; }, 5s));
    EXPECT_EQ(p.tcp_services()[0]->counters().connections, 1u);
    EXPECT_THAT(log.front(), ::testing::HasSubstr("default_web_80/web-"));
  }
  ns3::Simulator::Destroy();
}

}  // namespace
}  // namespace metalgate::sim
