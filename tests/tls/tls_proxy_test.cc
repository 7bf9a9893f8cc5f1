// TLS termination in the proxy, in the in-memory world: SNI picks the certificate, old protocol versions are
// refused, HTTP is redirected to HTTPS for hosts of spec.tls, HSTS and X-Forwarded-Proto on the TLS side.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "engine/tls/tls_stream.h"
#include "tests/proxy/proxy_world.h"
#include "tests/tls/test_certificates.h"
#include "tests/tls/tls_pod.h"

namespace metalgate::proxy::testing {
namespace {

using ::testing::HasSubstr;
using tls::testing::make_certificate;
using tls::testing::TlsClient;

std::string tls_secret(const std::string& name, const tls::testing::TestCertificate& c) {
  return tls::testing::secret_yaml(name, c, true, "kubernetes.io/tls");
}

class TlsProxy : public ::testing::Test {
 protected:
  void SetUp() override {
    app = make_certificate({"app.example.com"});
    api = make_certificate({"api.example.com", "*.api.example.com"});
    std::string yaml = R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: default
  annotations:
    haproxy.org/hsts: "true"
    haproxy.org/hsts-max-age: "31536000"
    haproxy.org/hsts-include-subdomains: "true"
spec:
  ingressClassName: haproxy
  tls:
  - hosts: [app.example.com]
    secretName: app-tls
  - hosts: [api.example.com, "*.api.example.com"]
    secretName: api-tls
  rules:
  - host: app.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
  - host: api.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
)";
    w.start(yaml, controller_config(), tls_secret("app-tls", app) + tls_secret("api-tls", api));
  }
  virtual std::map<std::string, std::string> controller_config() const {
    return {{"ssl-options", "no-sslv3 no-tlsv10 no-tlsv11"}};
  }
  // Whether a TLS 1.2 client offering only `ciphers` completes a handshake.
  bool tls12_handshake(const std::string& ciphers) {
    tls::ClientSettings s;
    s.server_name = "app.example.com";
    s.max_version = TLS1_2_VERSION;
    s.ciphers = ciphers;
    TlsClient c(w.client_host, w.https_address(), s);
    w.world.run_for(1s);
    return c.connected;
  }

  std::optional<Response> https_get(const std::string& sni, const std::string& ca, const std::string& host) {
    tls::ClientSettings s;
    s.server_name = sni;
    s.ca_pem = ca;
    TlsClient c(w.client_host, w.https_address(), s);
    c.conn->write(runtime::as_bytes(get(host, "/secure")));
    std::optional<Response> r;
    w.world.run_until(
        [&] {
          r = take_response(c.received, false, false);
          return r.has_value() || c.closed;
        },
        10s);
    last_failure = c.failure;
    return r;
  }

  ProxyWorld w;
  tls::testing::TestCertificate app, api;
  std::string last_failure;
};

TEST_F(TlsProxy, SniChoosesTheCertificateAndTheRequestIsServed) {
  auto r = https_get("app.example.com", app.certificate_pem, "app.example.com");
  ASSERT_TRUE(r) << last_failure;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get("strict-transport-security"), "max-age=31536000; includeSubDomains");
  r = https_get("api.example.com", api.certificate_pem, "api.example.com");
  ASSERT_TRUE(r) << last_failure;
  EXPECT_EQ(r->status, 200);
  r = https_get("v2.api.example.com", api.certificate_pem, "api.example.com");
  ASSERT_TRUE(r) << "wildcard certificate: " << last_failure;
  // The wrong certificate for the name fails verification on the client.
  EXPECT_FALSE(https_get("api.example.com", app.certificate_pem, "api.example.com"));
  EXPECT_THAT(last_failure, HasSubstr("certificate verify failed"));
}

TEST_F(TlsProxy, NoSniGetsTheDefaultCertificate) {
  auto r = https_get("", app.certificate_pem, "app.example.com");
  ASSERT_TRUE(r) << last_failure;
  EXPECT_EQ(r->status, 200);
}

TEST_F(TlsProxy, TheServerLearnsTheRequestCameOverTls) {
  ASSERT_TRUE(https_get("app.example.com", app.certificate_pem, "app.example.com"));
  std::string head;
  for (auto& [n, s] : w.servers)
    if (!s->heads.empty()) head = s->heads.back();
  EXPECT_THAT(head, HasSubstr("X-Forwarded-Proto: https\r\n"));
  EXPECT_THAT(w.access_log.back(), HasSubstr(" https~ "));
}

TEST_F(TlsProxy, Tls10And11AreRefused) {
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    tls::ClientSettings s;
    s.server_name = "app.example.com";
    s.max_version = version;
    s.security_level = 0;  // the client offers it; the server must be the one to refuse
    auto failures = w.proxy->counters().tls_handshake_failures;
    TlsClient c(w.client_host, w.https_address(), s);
    c.conn->write(runtime::as_bytes(get("app.example.com", "/")));
    w.world.run_for(1s);
    EXPECT_FALSE(c.connected) << version;
    EXPECT_TRUE(c.closed) << version;
    EXPECT_EQ(w.proxy->counters().tls_handshake_failures, failures + 1) << "the server refused " << version;
  }
  tls::ClientSettings ok;
  ok.server_name = "app.example.com";
  ok.max_version = TLS1_2_VERSION;
  TlsClient c(w.client_host, w.https_address(), ok);
  w.world.run_for(1s);
  EXPECT_TRUE(c.connected) << "TLS 1.2 is allowed: " << c.failure;
}

// Mozilla's intermediate profile: forward secrecy and AEAD only, so no CBC suite (LUCKY13) and no static
// RSA key exchange, whatever a client offers.
TEST_F(TlsProxy, Tls12OffersOnlyForwardSecretAeadSuitesByDefault) {
  for (const char* cbc : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA256"})
    EXPECT_FALSE(tls12_handshake(cbc)) << cbc;
  for (const char* aead : {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                           "ECDHE-ECDSA-CHACHA20-POLY1305"})
    EXPECT_TRUE(tls12_handshake(aead)) << aead;
}

// A browser may first meet the site through an answer the proxy makes itself; it must learn HSTS there too.
TEST_F(TlsProxy, AnswersTheProxyMakesItselfCarryTheRoutesHsts) {
  for (auto& [n, s] : w.servers)
    s->stop();
  auto unavailable = https_get("app.example.com", app.certificate_pem, "app.example.com");
  ASSERT_TRUE(unavailable) << last_failure;
  EXPECT_EQ(unavailable->status, 503);
  EXPECT_EQ(unavailable->get("strict-transport-security"), "max-age=31536000; includeSubDomains");
}

// HSTS set in the controller ConfigMap (as the seed does) covers requests no Ingress routes.
class TlsProxyWithGlobalHsts : public TlsProxy {
  std::map<std::string, std::string> controller_config() const override {
    return {{"hsts", "true"}, {"hsts-max-age", "63072000"}};
  }
};

TEST_F(TlsProxyWithGlobalHsts, TheProxysOwn404CarriesTheConfigMapsHsts) {
  auto not_found = https_get("app.example.com", app.certificate_pem, "unknown.example.com");
  ASSERT_TRUE(not_found) << last_failure;
  EXPECT_EQ(not_found->status, 404);
  EXPECT_EQ(not_found->get("strict-transport-security"), "max-age=63072000");
}

// The controller's way to change suites: ssl-default-bind-* lines of a global-config-snippet.
class TlsProxyWithCbcSnippet : public TlsProxy {
  std::map<std::string, std::string> controller_config() const override {
    return {{"global-config-snippet",
             "ssl-default-bind-ciphers ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256\n"
             "ssl-default-bind-options no-tls-tickets ssl-min-ver TLSv1.2\n"}};
  }
};

TEST_F(TlsProxyWithCbcSnippet, GlobalConfigSnippetSetsTheTls12Suites) {
  EXPECT_TRUE(tls12_handshake("ECDHE-ECDSA-AES128-SHA"));
  EXPECT_TRUE(tls12_handshake("ECDHE-ECDSA-AES128-GCM-SHA256"));
  EXPECT_FALSE(tls12_handshake("ECDHE-ECDSA-CHACHA20-POLY1305")) << "not in the configured list";
  EXPECT_FALSE(w.config->tls.offer.session_tickets);
}

TEST_F(TlsProxy, PlainHttpIsRedirectedForHostsOfSpecTls) {
  auto r = w.request(get("app.example.com", "/login?next=/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->get("location"), "https://app.example.com/login?next=/");
  EXPECT_FALSE(r->has("strict-transport-security")) << "HSTS only over TLS";
}

class TlsProxyWithRedirectCode : public TlsProxy {
  std::map<std::string, std::string> controller_config() const override { return {{"ssl-redirect-code", "301"}}; }
};

TEST_F(TlsProxyWithRedirectCode, SslRedirectCodeSetsTheRedirectStatus) {
  auto r = w.request(get("app.example.com", "/a?b=c"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 301);
  EXPECT_EQ(r->get("location"), "https://app.example.com/a?b=c");
}

TEST_F(TlsProxy, ManyRequestsOnOneTlsConnection) {
  tls::ClientSettings s;
  s.server_name = "app.example.com";
  s.ca_pem = app.certificate_pem;
  TlsClient c(w.client_host, w.https_address(), s);
  for (int i = 0; i < 20; ++i) {
    c.conn->write(runtime::as_bytes(get("app.example.com", "/n" + std::to_string(i))));
    std::optional<Response> r;
    w.world.run_until(
        [&] {
          r = take_response(c.received, false, false);
          return r.has_value() || c.closed;
        },
        10s);
    ASSERT_TRUE(r) << i;
    EXPECT_THAT(r->body, HasSubstr("/n" + std::to_string(i)));
  }
}

}  // namespace
}  // namespace metalgate::proxy::testing
