// TLS termination as a stream over any stream, sans I/O: OpenSSL runs on a BIO of our own that reads the
// bytes the wrapped connection delivered and collects the records it writes; ciphertext comes from and goes
// to the wrapped connection, plaintext goes to and from the handler. So TLS works in every world
// of the runtime port (live, ns-3, in-memory) from the same code.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/result.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/stream.h"

namespace metalgate::tls {

struct Certificate {
  std::vector<std::string> hosts;  // SNI names ("*.example.com" allowed); empty: only as the default
  std::string certificate_pem;     // leaf first, then the chain
  std::string private_key_pem;
  std::string source;  // for errors: "Secret default/app-tls-secret"
};

// TLS 1.2 suites offered by default: Mozilla's "intermediate" profile (guidelines 5.8), forward secrecy
// with AEAD only. No CBC suite (LUCKY13), no static RSA key exchange, no DHE (it needs DH parameters;
// Mozilla dropped it in 5.8). The HAProxy controller's own default list still carries CBC and static-RSA
// suites; docs/proxy.md says where metalgate differs and why.
inline constexpr const char* kIntermediateCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// What a server offers: versions, suites, resumption.
struct Offer {
  int min_version = 0x0303;                   // TLS1_2_VERSION
  std::string ciphers = kIntermediateCiphers;  // TLS 1.2 and below, OpenSSL cipher-list syntax
  std::string ciphersuites;                   // TLS 1.3; empty: OpenSSL's own, in its order
  bool session_tickets = true;                // keys rotate with the process (see docs/proxy.md)
};

// The first element of a cipher list (TLS 1.2, `ciphersuites` false) or ciphersuite list (TLS 1.3) that
// names nothing OpenSSL knows, or empty when each one does. OpenSSL itself skips unknown names silently.
std::string unknown_cipher(const std::string& list, bool ciphersuites);

struct ServerSettings {
  std::vector<Certificate> certificates;  // the first is the default (no SNI, or an unknown name)
  Offer offer;
  std::vector<std::string> alpn{"http/1.1"};
  // Non-empty: clients must show a certificate that chains to one of these (mutual TLS); the handshake
  // fails without one.
  std::string client_ca_pem;
};

// Certificates and settings, loaded once; SNI picks the certificate per connection.
class ServerContext {
 public:
  // nullptr with `error` naming the certificate's source when a PEM does not load or key and certificate
  // do not match.
  static Result<std::unique_ptr<ServerContext>> create(const ServerSettings& settings);
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

// A TLS client (to servers, for health checks and tests): trusts `ca_pem` (or nothing is verified when empty).
struct ClientSettings {
  std::string server_name;  // SNI
  std::string ca_pem;
  // A certificate (leaf first, then its chain) and its key to show a server that asks for one (mutual TLS).
  std::string certificate_pem;
  std::string private_key_pem;
  int min_version = 0;  // 0: OpenSSL's default
  int max_version = 0;
  int security_level = -1;  // -1: OpenSSL's default; tests lower it to offer old protocol versions
  std::string ciphers;      // TLS 1.2 suites to offer; empty: OpenSSL's default list
  std::vector<std::string> alpn;
  // Offer the last session ticket this thread got from the same server name and address, as browsers do:
  // an abbreviated handshake, without the certificate.
  bool resume_sessions = false;
};
// Connects and handshakes; `handler` hears on_connected once the handshake is done (or on_closed).
runtime::StreamConnectionPtr connect_client(runtime::Runtime& rt, const net::SocketAddress& remote,
                                            runtime::StreamHandler& handler, const ClientSettings& settings,
                                            std::function<void(const std::string&)> on_failure = {},
                                            const runtime::ConnectOptions& options = {});

// What keeps `cert` from serving as a client certificate (not PEM, key not matching), or empty.
std::string client_key_pair_problem(const Certificate& cert);
// Whether `pem` holds at least one certificate (a CA bundle to trust).
bool has_certificate(const std::string& pem);

}  // namespace metalgate::tls
