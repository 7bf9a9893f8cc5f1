// An in-memory LAN for proxy tests: a proxy host, client hosts and backend hosts whose HTTP servers answer
// with their own identity, all in virtual time. Manifests are the configuration, as in production.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/manifest_loader.h"
#include "engine/http/chunked.h"
#include "engine/http/message.h"
#include "engine/http/parser.h"
#include "engine/model/resolve.h"
#include "engine/proxy/proxy.h"
#include "engine/proxy/proxy_config.h"
#include "engine/runtime/memory/memory_world.h"
#include "scenario/apps/identity_http_server.h"

namespace metalgate::proxy::testing {

using namespace std::chrono_literals;
using runtime::Duration;

struct Response {
  int status = 0;
  std::vector<http::Header> header_list;
  std::map<std::string, std::string> headers;  // lower-case name -> last value
  std::string body;
  std::string head;
  bool has(const std::string& name) const { return headers.count(name) > 0; }
  std::string get(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Takes one complete response off the front of `bytes`; nullopt while incomplete. `until_close` tells that
// the peer has closed, which completes a close-delimited body.
std::optional<Response> take_response(std::string& bytes, bool head_request, bool until_close);

// A backend: the shared identity server ("<name> <method> <path>\n" with X-Served-By), recording every
// request and byte, with its health checks on /health (answered `options.health_status` at once).
class TestHttpServer final : public apps::IdentityHttpServer {
 public:
  TestHttpServer(runtime::Runtime& rt, net::SocketAddress at, std::string name);
};

// A client connection that records what it receives.
class TestClient final : public runtime::StreamHandler {
 public:
  TestClient(runtime::Runtime& rt, net::SocketAddress to);
  void send(std::string_view bytes) { conn->write(runtime::as_bytes(bytes)); }
  void on_connected() override { connected = true; }
  void on_data(runtime::ByteView data) override { received.append(runtime::as_chars(data)); }
  void on_peer_shutdown() override { peer_closed = true; }
  void on_closed(std::error_code reason) override {
    closed = true;
    close_reason = reason;
  }
  std::optional<Response> next(bool head_request = false) {
    return take_response(received, head_request, peer_closed || closed);
  }

  runtime::StreamConnectionPtr conn;
  std::string received;
  bool connected = false, peer_closed = false, closed = false;
  std::error_code close_reason;
};

class ProxyWorld {
 public:
  explicit ProxyWorld(std::uint64_t seed = 7);
  ~ProxyWorld();

  runtime::memory::MemoryWorld world;
  runtime::memory::MemoryHost& proxy_host;
  runtime::memory::MemoryHost& client_host;
  runtime::memory::MemoryHost& client2_host;
  std::map<std::string, std::unique_ptr<TestHttpServer>> servers;  // "web-1", "web-2", "web-3"

  // Starts a proxy from manifest YAML (the backends' Service + Endpoints are added: Service "web", port 80,
  // endpoints web-1..web-3 on :8080) and controller ConfigMap keys. Fails the test on diagnostics errors
  // unless `serve_despite_errors` is set.
  void start(const std::string& ingress_yaml, std::map<std::string, std::string> controller_config = {},
             const std::string& extra_yaml = "");
  // Where clients reach the frontends (they listen on every address of the proxy host).
  net::SocketAddress http_address() const {
    return {*net::IpAddress::parse("10.0.0.1"), proxy->frontend_address(0).port};
  }
  net::SocketAddress https_address() const {
    return {*net::IpAddress::parse("10.0.0.1"), proxy->frontend_address(1).port};
  }

  // One request on a new connection from `client`; runs the world until the response is complete or `limit`.
  std::optional<Response> request(const std::string& raw, Duration limit = 10s, bool from_client2 = false);
  // `count` new connections from the client host to the first loop, each sending `raw` (nothing is run).
  std::vector<std::unique_ptr<TestClient>> send_on_new_clients(int count, const std::string& raw);
  // Runs until `client` has a complete response.
  std::optional<Response> await(TestClient& client, Duration limit = 10s, bool head_request = false);

  // Set before start(): a second event loop of the same proxy, as nbthread 2 runs. It listens on its own
  // host (10.0.0.2), standing for the kernel handing that loop part of the connections, and shares health,
  // server loads, rate tables and TLS with the first loop, which alone runs the health checks.
  bool second_loop = false;
  runtime::memory::MemoryHost* loop2_host = nullptr;
  std::unique_ptr<Proxy> proxy2;
  net::SocketAddress loop2_http_address() const {
    return {*net::IpAddress::parse("10.0.0.2"), proxy2->frontend_address(0).port};
  }

  // Set before start(): serve the configuration even when it has errors (what a bad annotation leaves).
  bool serve_despite_errors = false;

  std::shared_ptr<model::Model> model;
  std::shared_ptr<ProxyConfig> config;
  std::unique_ptr<Proxy> proxy;
  std::shared_ptr<stats::Registry> stats = std::make_shared<stats::Registry>();  // both loops count here
  std::vector<std::string> access_log;
  config::Diagnostics diagnostics;
};

std::string get(const std::string& host, const std::string& path, const std::string& extra = "");

}  // namespace metalgate::proxy::testing
