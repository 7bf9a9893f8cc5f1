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

namespace metalgate::sim {

// HTTP/1.1 server: every request gets 200 "<pod> <method> <path>" with X-Served-By: <pod>, after `latency`.
class IdentityHttpServer {
 public:
  IdentityHttpServer(runtime::Runtime& rt, net::SocketAddress at, std::string pod, runtime::Duration latency);
  ~IdentityHttpServer();
  std::uint64_t requests() const { return requests_; }

 private:
  struct Conn;
  runtime::Runtime& rt_;
  std::string pod_;
  runtime::Duration latency_;
  runtime::StreamListenerPtr listener_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::uint64_t requests_ = 0;
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
  std::string error;
};

// Opens a new connection per request at `rate` per second and records each.
class HttpLoadClient {
 public:
  struct Options {
    net::SocketAddress target;
    std::string host;
    std::string path = "/";
    double rate = 10;
    runtime::Duration timeout = std::chrono::seconds(2);
    bool https = false;  // TLS with SNI = host (the certificate is not verified)
  };
  HttpLoadClient(runtime::Runtime& rt, Options options);
  ~HttpLoadClient();
  void start();
  void stop();
  const std::vector<RequestRecord>& records() const { return records_; }

 private:
  struct Request;
  void launch();
  void finish(Request* r);
  runtime::Runtime& rt_;
  Options options_;
  runtime::TimerPtr ticker_;
  std::vector<std::unique_ptr<Request>> in_flight_;
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
