// TLS from the proxy to its servers (server-ssl, server-ca, server-crt), in the in-memory world: each backend
// pod here speaks only TLS, so a request is answered only when the proxy encrypts, verifies and shows its
// certificate as the annotations say; health checks speak TLS too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/tls/tls_stream.h"
#include "tests/proxy/proxy_world.h"
#include "tests/tls/test_certificates.h"
#include "tests/tls/tls_pod.h"

namespace metalgate::proxy::testing {
namespace {

using ::testing::HasSubstr;
using tls::testing::make_certificate;
using tls::testing::TestCertificate;
using tls::testing::TlsPod;

std::string secret(const std::string& name, const TestCertificate& c, bool with_key) {
  return tls::testing::secret_yaml(name, c, with_key);
}

// The "secure" Service: port 443 to the TLS pod at 10.0.1.1:8443.
const std::string kSecureService = R"(
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
)";

std::string ingress(const std::string& annotations) {
  return R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: secure
  namespace: default
  annotations:
)" + annotations +
         R"(
spec:
  ingressClassName: haproxy
  rules:
  - host: secure.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: secure, port: {number: 443}}}}
)";
}

class ServerTls : public ::testing::Test {
 protected:
  ServerTls()
      : pod_cert(make_certificate({"secure.default.svc"})),
        proxy_cert(make_certificate({"metalgate-client"})),
        stranger(make_certificate({"stranger"})) {}
  void start_pod(std::string client_ca = "") {
    pod = std::make_unique<TlsPod>(w.world.host("web-1"),
                                   net::SocketAddress{*net::IpAddress::parse("10.0.1.1"), 8443}, "web-1",
                                   pod_cert, std::move(client_ca));
  }
  void start(const std::string& annotations) {
    w.start(ingress(annotations), {},
            kSecureService + secret("pod-ca", pod_cert, false) + secret("stranger-ca", stranger, false) +
                secret("proxy-client", proxy_cert, true));
  }
  std::optional<Response> get_secure() { return w.request(get("secure.example.com", "/orders")); }

  ProxyWorld w;
  TestCertificate pod_cert, proxy_cert, stranger;
  std::unique_ptr<TlsPod> pod;
};

TEST_F(ServerTls, WithoutServerSslAPodThatSpeaksOnlyTlsCannotBeReached) {
  start_pod();
  start("    haproxy.org/check: \"false\"");
  auto r = get_secure();
  ASSERT_TRUE(r);
  EXPECT_NE(r->status, 200);
  EXPECT_GE(pod->handshakes_failed, 1);  // plaintext HTTP is no ClientHello
}

TEST_F(ServerTls, ServerSslEncryptsTheRequestWithoutVerifyingThePod) {
  start_pod();
  start("    haproxy.org/check: \"false\"\n    haproxy.org/server-ssl: \"true\"");
  auto r = get_secure();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "tls web-1 GET /orders HTTP/1.1\n");
}

TEST_F(ServerTls, ServerCaVerifiesThePodAndTurnsTlsOnByItself) {
  start_pod();
  start("    haproxy.org/check: \"false\"\n    haproxy.org/server-ca: default/pod-ca");
  auto r = get_secure();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("tls web-1"));
}

TEST_F(ServerTls, APodWhoseCertificateTheServerCaDidNotSignGetsNoRequest) {
  start_pod();
  start("    haproxy.org/check: \"false\"\n    haproxy.org/server-ca: stranger-ca");  // bare name: its
                                                                                      // namespace
  auto r = get_secure();
  ASSERT_TRUE(r);
  EXPECT_NE(r->status, 200);
  EXPECT_TRUE(pod->requests.empty());
}

TEST_F(ServerTls, ServerCrtShowsTheProxysCertificateToAPodThatAsksForOne) {
  start_pod(proxy_cert.certificate_pem);  // the pod trusts the proxy's (self-signed) certificate only
  start(
      "    haproxy.org/check: \"false\"\n    haproxy.org/server-ca: pod-ca\n"
      "    haproxy.org/server-crt: default/proxy-client");
  auto r = get_secure();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("tls web-1"));
}

TEST_F(ServerTls, APodThatAsksForACertificateRefusesAProxyWithoutServerCrt) {
  start_pod(proxy_cert.certificate_pem);
  start("    haproxy.org/check: \"false\"\n    haproxy.org/server-ssl: \"true\"");
  auto r = get_secure();
  ASSERT_TRUE(r);
  EXPECT_NE(r->status, 200);
  EXPECT_TRUE(pod->requests.empty());
}

TEST_F(ServerTls, HealthChecksSpeakTlsToo) {
  start_pod();
  start(
      "    haproxy.org/check-http: /health\n    haproxy.org/check-interval: 1s\n"
      "    haproxy.org/server-ssl: \"true\"");
  w.world.run_for(5s);  // checks in plaintext would fail and take the only server down
  EXPECT_GE(pod->requests.size(), 2u);
  EXPECT_EQ(pod->requests.front(), "GET /health HTTP/1.0");
  auto r = get_secure();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTls, ASecretThatDoesNotExistIsAnErrorAtItsAnnotation) {
  start_pod();
  w.serve_despite_errors = true;
  start("    haproxy.org/server-ca: default/nowhere");
  EXPECT_TRUE(w.diagnostics.has_errors());
  EXPECT_THAT(
      w.diagnostics.to_string(),
      HasSubstr("Ingress default/secure: metadata.annotations.haproxy.org/server-ca: Secret default/nowhere "
                "does not exist"));
}

TEST_F(ServerTls, AServerCrtWhoseKeyDoesNotMatchIsAnError) {
  start_pod();
  w.serve_despite_errors = true;
  TestCertificate mixed{proxy_cert.certificate_pem, stranger.private_key_pem};
  w.start(ingress("    haproxy.org/server-crt: mixed"), {}, kSecureService + secret("mixed", mixed, true));
  EXPECT_THAT(w.diagnostics.to_string(), HasSubstr("Secret default/mixed: tls.key does not match tls.crt"));
}

}  // namespace
}  // namespace metalgate::proxy::testing
