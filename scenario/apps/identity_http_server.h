// A backend that answers every HTTP/1.1 request with its own identity: 200 "<name> <method> <path>\n" with
// X-Served-By: <name>. The simulator runs one on every pod's TCP port; the proxy tests run them as their
// servers and shape the answers through Options. Written against the runtime port only, so it runs in every
// world.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "engine/runtime/runtime.h"

namespace metalgate::apps {

class IdentityHttpServer {
 public:
  // Read as each request arrives: a change applies to the requests that follow.
  struct Options {
    runtime::Duration latency{};  // before each answer (health checks at `health_path` are answered at once)
    bool healthy = true;          // false: 503 to every request, health checks included
    int status = 200;             // of the answers while healthy
    std::string body{};           // instead of the identity line
    std::string content_type = "text/plain";
    bool chunked = false;         // the body as two chunks instead of under Content-Length
    bool close_after = false;     // Connection: close after every answer
    bool silent = false;          // takes requests in and never answers them (health checks excepted)
    std::vector<std::pair<std::string, std::string>> extra_headers{};
    std::string raw_response{};  // sent as it is instead of an answer (health checks excepted)
    std::string health_path{};   // requests for it (but POST) are health checks; empty: no path is special
    int health_status = 200;     // their status while healthy; their body is "health"
    bool record = false;         // keep every request head and body and every byte received, for tests
  };

  IdentityHttpServer(runtime::Runtime& rt, net::SocketAddress at, std::string name, Options options);
  // The simulator's backend: every request (health checks too) answered after `latency`.
  IdentityHttpServer(runtime::Runtime& rt, net::SocketAddress at, std::string name,
                     runtime::Duration latency);
  ~IdentityHttpServer();

  Options options;
  // With Options::record: every request head and body (health checks apart) and every byte received on
  // every connection, in arrival order. Tests read and clear them.
  std::vector<std::string> heads, bodies;
  std::string raw;

  const std::string& name() const { return name_; }
  // Why it is not listening, if it is not (the address is taken, say).
  const std::error_code& listen_error() const { return listen_error_; }
  void set_latency(runtime::Duration latency) { options.latency = latency; }
  void set_healthy(bool healthy) { options.healthy = healthy; }

  std::uint64_t accepted() const { return accepted_; }  // connections
  std::uint64_t requests() const { return requests_; }  // health checks apart
  std::uint64_t health_checks() const { return health_checks_; }
  int open_connections() const;

  void stop();               // closes the listener and resets every connection
  void close_connections();  // closes every connection (FIN), as a server's keep-alive timeout does

 private:
  struct Conn;
  struct Request;
  std::string answer(const Request& request) const;
  std::string response(int status, const std::string& body, bool keep, bool head_only) const;

  runtime::Runtime& rt_;
  std::string name_;
  std::error_code listen_error_;
  runtime::StreamListenerPtr listener_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::uint64_t accepted_ = 0, requests_ = 0, health_checks_ = 0;
};

}  // namespace metalgate::apps
