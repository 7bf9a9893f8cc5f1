// Test parts for TLS beyond the proxy's own frontend, in the in-memory world: a pod that speaks only TLS
// (optionally asking for a client certificate), a TLS client, and the YAML of a Secret holding a certificate.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/runtime.h"
#include "engine/tls/tls_stream.h"
#include "tests/tls/test_certificates.h"

namespace metalgate::tls::testing {

// An HTTPS pod: answers every request head with "tls <name> <request line>\n" and closes its side.
class TlsPod {
 public:
  TlsPod(runtime::Runtime& rt, net::SocketAddress at, std::string name, const TestCertificate& cert,
         std::string client_ca = "");
  ~TlsPod();
  int handshakes_failed = 0;
  std::vector<std::string> requests;  // request lines, in order

 private:
  struct Conn;
  void accept(runtime::StreamConnectionPtr raw);
  runtime::Runtime& rt_;
  std::string name_;
  std::unique_ptr<ServerContext> ctx_;
  runtime::StreamListenerPtr listener_;
  std::vector<std::unique_ptr<Conn>> conns_;
};

// A TLS client connection that records what it receives and why a handshake failed.
class TlsClient final : public runtime::StreamHandler {
 public:
  TlsClient(runtime::Runtime& rt, net::SocketAddress to, const ClientSettings& settings);
  void on_connected() override { connected = true; }
  void on_data(runtime::ByteView d) override { received.append(runtime::as_chars(d)); }
  void on_peer_shutdown() override { peer_closed = true; }
  void on_closed(std::error_code) override { closed = true; }
  runtime::StreamConnectionPtr conn;
  std::string received, failure;
  bool connected = false, closed = false, peer_closed = false;
};

// A Secret in namespace default with the certificate as tls.crt (and its key as tls.key when `with_key`).
std::string secret_yaml(const std::string& name, const TestCertificate& c, bool with_key,
                        const std::string& type = "Opaque");

}  // namespace metalgate::tls::testing
