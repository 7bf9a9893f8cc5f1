// ssl-passthrough in the in-memory world: on the HTTPS frontend, a ClientHello whose SNI names a host of an
// Ingress with ssl-passthrough reaches that host's pod still encrypted (the client sees the pod's certificate
// and the pod's answer); every other connection is terminated by the proxy as before.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/l4/tcp_service.h"
#include "engine/proxy/ssl_passthrough.h"
#include "tests/proxy/proxy_world.h"
#include "tests/tls/tls_pod.h"

namespace metalgate::proxy::testing {
namespace {

using ::testing::HasSubstr;
using tls::testing::make_certificate;
using tls::testing::TestCertificate;
using tls::testing::TlsClient;
using tls::testing::TlsPod;

TEST(PassthroughFor, AnExactHostFirstThenAWildcardOfOneLabel) {
  std::map<std::string, std::size_t, std::less<>> hosts{
      {"shop.example.com", 0}, {"*.example.com", 1}, {"*.pass.example.com", 2}};
  EXPECT_EQ(passthrough_for(hosts, "shop.example.com"), 0u);
  EXPECT_EQ(passthrough_for(hosts, "blog.example.com"), 1u);
  EXPECT_EQ(passthrough_for(hosts, "a.pass.example.com"), 2u);
  EXPECT_EQ(passthrough_for(hosts, "a.b.example.com"), std::nullopt);  // a wildcard stands for one label
  EXPECT_EQ(passthrough_for(hosts, "example.com"), std::nullopt);
  EXPECT_EQ(passthrough_for(hosts, ""), std::nullopt);
}

const std::string kPassIngress = R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: pass
  namespace: default
  annotations:
    haproxy.org/ssl-passthrough: "true"
spec:
  ingressClassName: haproxy
  rules:
  - host: secure.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: secure, port: {number: 443}}}}
  - host: "*.pods.example.com"
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: secure, port: {number: 443}}}}
)";

// The proxy's own HTTPS host, terminated here, and the pod's Service (443 -> 10.0.1.1:8443).
std::string others(const TestCertificate& app) {
  return R"(---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default}
spec:
  ingressClassName: haproxy
  tls: [{hosts: [app.example.com], secretName: app-tls}]
  rules:
  - host: app.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: secure, namespace: default}
spec:
  ports: [{name: https, port: 443, targetPort: 8443}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: secure, namespace: default}
subsets:
- addresses: [{ip: 10.0.1.1, targetRef: {kind: Pod, name: web-1}}]
  ports: [{name: https, port: 8443}]
)" + tls::testing::secret_yaml("app-tls", app, true, "kubernetes.io/tls");
}

class SslPassthrough : public ::testing::Test {
 protected:
  SslPassthrough()
      : pod_cert(make_certificate({"secure.example.com", "*.pods.example.com"})),
        app(make_certificate({"app.example.com"})) {
    pod = std::make_unique<TlsPod>(
        w.world.host("web-1"), net::SocketAddress{*net::IpAddress::parse("10.0.1.1"), 8443}, "pod", pod_cert);
  }
  // One HTTPS request with `sni`, trusting `ca`; the response, or nullopt (then `failure` says why).
  std::optional<Response> https_get(const std::string& sni, const std::string& ca) {
    tls::ClientSettings s;
    s.server_name = sni;
    s.ca_pem = ca;
    TlsClient c(w.client_host, w.https_address(), s);
    c.conn->write(runtime::as_bytes(get(sni, "/orders")));
    std::optional<Response> r;
    w.world.run_until(
        [&] {
          r = take_response(c.received, false, c.peer_closed);
          return r.has_value() || c.closed;
        },
        10s);
    failure = c.failure;
    return r;
  }

  ProxyWorld w;
  TestCertificate pod_cert, app;
  std::unique_ptr<TlsPod> pod;
  std::string failure;
};

TEST_F(SslPassthrough, APassthroughHostReachesItsPodStillEncrypted) {
  w.start(kPassIngress, {}, others(app));
  auto r = https_get("secure.example.com", pod_cert.certificate_pem);  // verified: the pod's certificate
  ASSERT_TRUE(r) << failure;
  EXPECT_EQ(r->body,
            "tls pod GET /orders HTTP/1.1\n");  // the request as the client sent it, no proxy headers
  EXPECT_FALSE(r->has("x-forwarded-proto"));
  EXPECT_EQ(w.proxy->counters().passed_through, 1u);
  ASSERT_EQ(w.proxy->passthrough_services().size(), 1u);
  EXPECT_EQ(w.proxy->passthrough_services()[0]->counters().connections, 1u);
}

TEST_F(SslPassthrough, AWildcardHostPassesItsSubdomains) {
  w.start(kPassIngress, {}, others(app));
  auto r = https_get("db.pods.example.com", pod_cert.certificate_pem);
  ASSERT_TRUE(r) << failure;
  EXPECT_THAT(r->body, HasSubstr("tls pod"));
}

TEST_F(SslPassthrough, OtherHostsAreStillTerminatedByTheProxy) {
  w.start(kPassIngress, {}, others(app));
  auto r = https_get("app.example.com", app.certificate_pem);  // verified: the proxy's certificate
  ASSERT_TRUE(r) << failure;
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("web-"));  // an identity server behind the proxy
  EXPECT_EQ(w.proxy->counters().passed_through, 0u);
  EXPECT_TRUE(pod->requests.empty());
}

TEST_F(SslPassthrough, WithoutTheAnnotationTheProxyTerminatesThePassthroughHostToo) {
  std::string plain = kPassIngress;
  plain.replace(plain.find("haproxy.org/ssl-passthrough: \"true\""), 35,
                "haproxy.org/ssl-passthrough: \"false\"");
  w.start(plain, {}, others(app));
  auto r = https_get("secure.example.com", pod_cert.certificate_pem);
  EXPECT_FALSE(r);  // the proxy answers with its own certificate, which the client does not trust
  EXPECT_TRUE(pod->requests.empty());
}

TEST_F(SslPassthrough, BytesThatAreNoClientHelloAreNotPassedThrough) {
  w.start(kPassIngress, {}, others(app));
  TestClient c(w.client_host, w.https_address());
  c.send("GET / HTTP/1.1\r\nHost: secure.example.com\r\n\r\n");
  w.world.run_for(2s);
  EXPECT_TRUE(c.closed || c.peer_closed);
  EXPECT_EQ(w.proxy->counters().passed_through, 0u);
  EXPECT_EQ(w.proxy->counters().tls_handshake_failures, 1u);
  EXPECT_TRUE(pod->requests.empty());
}

TEST_F(SslPassthrough, AClientThatSendsNothingIsHandedToTlsAfterTimeoutClient) {
  w.start(kPassIngress, {{"timeout-client", "3s"}}, others(app));
  TestClient c(w.client_host, w.https_address());
  w.world.run_for(2s);
  EXPECT_FALSE(w.proxy->idle());  // still waiting for its hello
  w.world.run_for(60s);
  EXPECT_TRUE(c.closed || c.peer_closed);
  w.world.run_for(1s);
  EXPECT_TRUE(w.proxy->idle());
}

TEST_F(SslPassthrough, ARuleWithoutAHostIsAnError) {
  w.serve_despite_errors = true;
  std::string no_host = kPassIngress;
  no_host.replace(no_host.find("host: secure.example.com\n    "), 29, "");
  w.start(no_host, {}, others(app));
  EXPECT_THAT(
      w.diagnostics.to_string(),
      HasSubstr("haproxy.org/ssl-passthrough: a rule of Ingress default/pass has no host: ssl-passthrough "
                "routes by the SNI host name only"));
}

}  // namespace
}  // namespace metalgate::proxy::testing
