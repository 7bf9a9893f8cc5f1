// An HTTP(S) load client that records every request: the simulator's clients and the live twin's run this
// same code. Written against the runtime port only (no ns-3, no Boost.Asio), so it runs in every world.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/runtime.h"
#include "engine/runtime/seeded_random.h"
#include "scenario/observe/observations.h"

namespace metalgate::apps {

// Sends HTTP(S) requests and records each. Open loop (`rate` per second, whatever the answers) or closed
// loop (`concurrency` requests always under way, the next one as soon as one ends). A new connection per
// request, or kept alive and reused, as browsers do. Record times are the runtime's now() in microseconds.
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
    bool http2 = false;                     // https: ALPN h2, each request a stream (one at a time)
    bool keep_alive = false;                // reuse an idle connection to the same host
    bool cookies = false;                   // keep the Set-Cookie values and send them back
    std::function<std::string()> vip_node;  // fills RequestRecord::vip_node, called as each request starts
  };
  HttpLoadClient(runtime::Runtime& rt, Options options);
  ~HttpLoadClient();
  void start();
  // Sends no more; every request still under way is recorded with error observe::kStillRunning and ended
  // now, and its connection dropped.
  void stop();
  const std::vector<scenario::observe::RequestRecord>& records() const { return records_; }

 private:
  struct Request;
  struct Connection;
  void launch(int user = -1);
  void send(Request& r, Connection& c);
  void send_h2(Request& r, Connection& c);
  void finish(Request* r);
  runtime::Runtime& rt_;
  Options options_;
  runtime::SeededRandom random_;
  runtime::TimerPtr ticker_;
  std::vector<runtime::TimerPtr> users_;  // closed loop: one timer per virtual user, for its next request
  std::vector<std::unique_ptr<Request>> in_flight_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::map<std::string, std::string> cookies_;  // name -> value
  std::vector<scenario::observe::RequestRecord> records_;
};

}  // namespace metalgate::apps
