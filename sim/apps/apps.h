// What runs on simulated hosts besides the engine: backends that answer with their pod's identity (HTTP on a
// TCP port, a responder on a UDP port), and HTTP clients that record every request. Written against the
// runtime port, so they also run in the in-memory world.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/runtime/runtime.h"
#include "engine/runtime/seeded_random.h"

namespace metalgate::sim {

// HTTP/1.1 server: every request gets 200 "<pod> <method> <path>" with X-Served-By: <pod>, after `latency`;
// 503 to everything (health checks included) while unhealthy.
class IdentityHttpServer {
 public:
  IdentityHttpServer(runtime::Runtime& rt, net::SocketAddress at, std::string pod, runtime::Duration latency);
  ~IdentityHttpServer();
  std::uint64_t requests() const { return requests_; }
  void set_latency(runtime::Duration latency) { latency_ = latency; }
  void set_healthy(bool healthy) { healthy_ = healthy; }

 private:
  struct Conn;
  runtime::Runtime& rt_;
  std::string pod_;
  runtime::Duration latency_;
  runtime::StreamListenerPtr listener_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::uint64_t requests_ = 0;
  bool healthy_ = true;
};

// UDP: answers each datagram with "<pod>:" followed by the datagram.
class IdentityUdpServer {
 public:
  IdentityUdpServer(runtime::Runtime& rt, net::SocketAddress at, std::string pod);

 private:
  std::string pod_;
  runtime::DatagramSocketPtr socket_;
};

struct RequestRecord {
  std::int64_t start_us = 0;
  std::int64_t end_us = 0;
  int status = 0;         // 0: no response (refused, reset, timed out)
  std::string served_by;  // X-Served-By of the response
  std::string client;     // the client's name (filled in by whoever runs the clients)
  std::string vip_node;   // whose MAC the client's ARP cache held for the target when the request started
  std::string host;       // Host header sent
  std::string path;
  std::string error;
  bool reused = false;  // sent on a kept-alive connection
};

// Sends HTTP(S) requests and records each. Open loop (`rate` per second, whatever the answers) or closed
// loop (`concurrency` requests always under way, the next one as soon as one ends). A new connection per
// request, or kept alive and reused, as browsers do.
class HttpLoadClient {
 public:
  struct Target {
    std::string host;
    std::string path = "/";
    double weight = 1;
  };
  struct Options {
    net::SocketAddress target;
    std::string host;
    std::string path = "/";
    std::vector<Target> mix;  // when given: each request draws one by weight (host and path above unused)
    double rate = 10;
    int concurrency = 0;        // > 0: closed loop, `rate` unused
    runtime::Duration think{};  // closed loop: pause between one request's end and the user's next
    runtime::Duration timeout = std::chrono::seconds(2);
    bool https = false;                     // TLS with SNI = host (the certificate is not verified)
    bool resume_sessions = true;            // https: resume the last session (abbreviated handshake)
    bool keep_alive = false;                // reuse an idle connection to the same host
    bool cookies = false;                   // keep the Set-Cookie values and send them back
    std::function<std::string()> vip_node;  // fills RequestRecord::vip_node
  };
  HttpLoadClient(runtime::Runtime& rt, Options options);
  ~HttpLoadClient();
  void start();
  void stop();
  const std::vector<RequestRecord>& records() const { return records_; }

 private:
  struct Request;
  struct Connection;
  void launch(int user = -1);
  void send(Request& r, Connection& c);
  void finish(Request* r);
  runtime::Runtime& rt_;
  Options options_;
  runtime::SeededRandom random_;
  runtime::TimerPtr ticker_;
  std::vector<runtime::TimerPtr> users_;  // closed loop: one timer per virtual user, for its next request
  std::vector<std::unique_ptr<Request>> in_flight_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::map<std::string, std::string> cookies_;  // name -> value
  std::vector<RequestRecord> records_;
};

// Sends one datagram at `rate` per second from one source port (one flow) and records each answer
// ("<pod>:<payload>", as IdentityUdpServer sends) or its absence after `timeout`.
class UdpLoadClient {
 public:
  struct Options {
    net::SocketAddress target;
    net::SocketAddress source;
    double rate = 10;
    runtime::Duration timeout = std::chrono::seconds(2);
  };
  UdpLoadClient(runtime::Runtime& rt, Options options);
  void start();
  void stop();
  const std::vector<RequestRecord>& records() const { return records_; }

 private:
  void launch();
  void expire();
  runtime::Runtime& rt_;
  Options options_;
  runtime::DatagramSocketPtr socket_;
  runtime::TimerPtr ticker_;
  std::uint64_t next_ = 0;
  std::map<std::string, RequestRecord> pending_;  // payload -> its record
  std::vector<RequestRecord> records_;
};

}  // namespace metalgate::sim
