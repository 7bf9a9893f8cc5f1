// ":ssl" in the TCP services ConfigMap: the proxy terminates TLS with the default certificate and the server
// gets plain bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/l4/tcp_service.h"
#include "engine/tls/tls_stream.h"
#include "tests/proxy/proxy_world.h"
#include "tests/tls/test_certificates.h"

namespace metalgate::proxy::testing {
namespace {

std::string indent(const std::string& pem) {
  std::string out;
  std::size_t start = 0;
  while (start < pem.size()) {
    std::size_t end = pem.find('\n', start);
    out += "    " + pem.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

TEST(TlsOffload, TcpServiceWithSslSuffixTerminatesTls) {
  ProxyWorld w;
  auto cert = tls::testing::make_certificate({"db.example.com"});
  // A backend that echoes what it receives, to show the server side is plain text.
  auto& host = w.world.add_host("db", {*net::IpAddress::parse("10.0.5.1")});
  struct Echo : runtime::StreamHandler {
    runtime::StreamConnectionPtr c;
    std::string got;
    void on_data(runtime::ByteView d) override {
      got.append(runtime::as_chars(d));
      c->write(d);
    }
    void on_peer_shutdown() override { c->close(); }
    void on_closed(std::error_code) override {}
  } echo;
  std::error_code ec;
  auto listener = host.listen(
      {*net::IpAddress::parse("10.0.5.1"), 5432}, {},
      [&](runtime::StreamConnectionPtr c) {
        if (echo.c) return;  // the first connection that is not a health check keeps it
        echo.c = std::move(c);
        echo.c->start(echo);
      },
      ec);
  w.start("", {},
          R"(
controller:
  tcpServices: {configMapName: tcp}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tcp, namespace: haproxy-ingress}
data: {"5433": "default/db:5432:ssl"}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default, annotations: {haproxy.org/check: "false"}}
spec: {ports: [{port: 5432}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: db, namespace: default}
subsets: [{addresses: [{ip: 10.0.5.1}], ports: [{port: 5432}]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: certs, namespace: default}
spec:
  ingressClassName: haproxy
  tls: [{hosts: [db.example.com], secretName: db-tls}]
  rules:
  - host: db.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: db, port: {number: 5432}}}}]}
---
apiVersion: v1
kind: Secret
metadata: {name: db-tls, namespace: default}
type: kubernetes.io/tls
stringData:
  tls.crt: |
)" + indent(cert.certificate_pem) +
              "  tls.key: |\n" + indent(cert.private_key_pem));
  ASSERT_EQ(w.proxy->tcp_services().size(), 1u);

  struct Client : runtime::StreamHandler {
    std::string got;
    bool connected = false;
    void on_connected() override { connected = true; }
    void on_data(runtime::ByteView d) override { got.append(runtime::as_chars(d)); }
    void on_peer_shutdown() override {}
    void on_closed(std::error_code) override {}
  } client;
  tls::ClientSettings s;
  s.server_name = "db.example.com";
  s.ca_pem = cert.certificate_pem;
  auto conn = tls::connect_client(w.client_host, {*net::IpAddress::parse("10.0.0.1"), 5433}, client, s);
  conn->write(runtime::as_bytes("SELECT 1;"));
  w.world.run_for(500ms);
  EXPECT_TRUE(client.connected) << "the certificate verified";
  EXPECT_EQ(echo.got, "SELECT 1;") << "the server got plain text";
  EXPECT_EQ(client.got, "SELECT 1;") << "and the answer came back through TLS";
}

}  // namespace
}  // namespace metalgate::proxy::testing
