// A UDP load client that records every datagram's answer: the simulator's clients and the live twin's run
// this same code. Written against the runtime port only (no ns-3, no Boost.Asio), so it runs in every world.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "engine/runtime/runtime.h"
#include "scenario/observe/observations.h"

namespace metalgate::apps {

// Sends one datagram at `rate` per second from one source port (one flow) and records each answer
// ("<pod>:<payload>", as UdpResponder sends) or its absence after `timeout`. Record times are the runtime's
// now() in microseconds.
class UdpLoadClient {
 public:
  struct Options {
    net::SocketAddress target;
    net::SocketAddress source;
    double rate = 10;
    runtime::Duration timeout = std::chrono::seconds(2);
    // Whose MAC the client's ARP cache holds for the target when a datagram is sent
    // (RequestRecord::vip_node), as for the HTTP clients; unset: not known.
    std::function<std::string()> vip_node;
  };
  UdpLoadClient(runtime::Runtime& rt, Options options);
  void start();
  // Why start() could not open the source port (it is taken, say); then it must not run.
  const std::error_code& open_error() const { return open_error_; }
  // Sends no more; datagrams past their timeout are recorded as timed out, the others with error
  // observe::kStillRunning and end_us 0.
  void stop();
  const std::vector<scenario::observe::RequestRecord>& records() const { return records_; }

 private:
  void launch();
  void expire();
  runtime::Runtime& rt_;
  Options options_;
  runtime::DatagramSocketPtr socket_;
  std::error_code open_error_;
  runtime::TimerPtr ticker_;
  std::uint64_t next_ = 0;
  std::map<std::string, scenario::observe::RequestRecord> pending_;  // payload -> its record
  std::vector<scenario::observe::RequestRecord> records_;
};

}  // namespace metalgate::apps
