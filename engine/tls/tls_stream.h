// TLS termination as a stream over any stream, sans I/O: OpenSSL runs on memory BIOs, ciphertext comes from
// and goes to the wrapped connection, plaintext goes to and from the handler. So TLS works in every world
// of the runtime port (live, ns-3, in-memory) from the same code.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/runtime.h"
#include "engine/runtime/stream.h"

namespace metalgate::tls {

struct Certificate {
  std::vector<std::string> hosts;  // SNI names ("*.example.com" allowed); empty: only as the default
  std::string certificate_pem;     // leaf first, then the chain
  std::string private_key_pem;
  std::string source;  // for errors: "Secret default/app-tls-secret"
};

struct ServerSettings {
  std::vector<Certificate> certificates;  // the first is the default (no SNI, or an unknown name)
  int min_version = 0x0303;               // TLS1_2_VERSION
  std::vector<std::string> alpn{"http/1.1"};
};

// Certificates and settings, loaded once; SNI picks the certificate per connection.
class ServerContext {
 public:
  // nullptr with `error` naming the certificate's source when a PEM does not load or key and certificate
  // do not match.
  static std::unique_ptr<ServerContext> create(const ServerSettings& settings, std::string& error);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // Wraps an accepted connection of `rt`. `on_failure` hears why a handshake failed (before the handler's
  // on_closed). ClientHellos are answered from rt's background lane (Runtime::post_background).
  runtime::StreamConnectionPtr wrap(runtime::Runtime& rt, runtime::StreamConnectionPtr raw,
                                    std::function<void(const std::string&)> on_failure = {});

  struct Impl;

 private:
  explicit ServerContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A TLS client for tests and health checks: trusts `ca_pem` (or nothing is verified when empty).
struct ClientSettings {
  std::string server_name;  // SNI
  std::string ca_pem;
  int min_version = 0;  // 0: OpenSSL's default
  int max_version = 0;
  int security_level = -1;  // -1: OpenSSL's default; tests lower it to offer old protocol versions
  std::vector<std::string> alpn;
  // Offer the last session ticket this thread got from the same server name and address, as browsers do:
  // an abbreviated handshake, without the certificate.
  bool resume_sessions = false;
};
// Connects and handshakes; `handler` hears on_connected once the handshake is done (or on_closed).
runtime::StreamConnectionPtr connect_client(runtime::Runtime& rt, const net::SocketAddress& remote,
                                            runtime::StreamHandler& handler, const ClientSettings& settings,
                                            std::function<void(const std::string&)> on_failure = {});

}  // namespace metalgate::tls
