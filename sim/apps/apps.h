// What runs on simulated hosts besides the engine: backends that answer with their pod's identity (HTTP on a
// TCP port, a responder on a UDP port; scenario/apps has them), and HTTP and UDP clients that record every
// request. Written against the runtime port, so they also run in the in-memory world.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/runtime/runtime.h"
#include "engine/runtime/seeded_random.h"
#include "scenario/apps/identity_http_server.h"
#include "scenario/apps/udp_responder.h"
#include "scenario/observe/observations.h"

namespace metalgate::sim {

// The backends: the world-neutral apps, under the names the scenario runner knows them by.
using IdentityHttpServer = apps::IdentityHttpServer;
using IdentityUdpServer = apps::UdpResponder;

// Defined with the scenario layer's observations: every world's clients record the same.
using RequestRecord = scenario::observe::RequestRecord;

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
// ("<pod>:<payload>", as UdpResponder sends) or its absence after `timeout`.
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
