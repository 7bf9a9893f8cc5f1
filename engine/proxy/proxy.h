// The HTTP proxy over the runtime port: listens on the configured frontends, runs one HttpSession per client
// connection, and owns the backends (servers, health checks, queues, idle connections), the rate tables and
// the TLS contexts. Same code live (asio), in ns-3 and in the in-memory world.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "engine/proxy/access_log.h"
#include "engine/proxy/backend.h"
#include "engine/proxy/client_session.h"
#include "engine/proxy/deadline_queue.h"
#include "engine/proxy/probe_cache.h"
#include "engine/proxy/proxy_config-t.h"
#include "engine/proxy/rate_limiter.h"
#include "engine/proxy/shared_state.h"
#include "engine/runtime/runtime.h"
#include "engine/stats/registry.h"

namespace metalgate::tls {
class ServerContext;
}
namespace metalgate::l4 {
class TcpService;
class UdpService;
}  // namespace metalgate::l4

namespace metalgate::proxy {

class HttpSession;
class ClientHelloStream;
class AlpnChooser;

struct ProxyOptions {
  AccessLogSink access_log;  // where access lines go (none: not logged)
  // Converts the runtime's clock to Unix time for log dates. The default maps runtime time zero to the Unix
  // epoch, which is what simulations want (dates are then deterministic); live mode passes the wall clock.
  std::function<std::int64_t(runtime::Instant)> unix_ms;
  // Several event loops in one process (nbthread): the state they share (nullptr: this proxy is alone), and
  // whether this loop is the primary one, which runs the health checks and the TCP and UDP services.
  std::shared_ptr<SharedProxyState> shared;
  bool primary = true;
  // The node this proxy runs on: a LoadBalancer Service with externalTrafficPolicy: Local forwards only to
  // endpoints on it.
  std::string node;
  // Where the stats count (stats/registry.h), shared by the node's loops and kept across reloads; this
  // loop's number there. nullptr: the proxy counts into a registry of its own.
  std::shared_ptr<stats::Registry> stats;
  int loop = 0;
};

struct ProxyCounters {
  std::uint64_t connections = 0;
  std::uint64_t requests = 0;
  std::uint64_t responses_by_class[6] = {};  // [1]=1xx … [5]=5xx; [0] other
  std::uint64_t bad_requests = 0;
  std::uint64_t denied = 0;  // allow/deny lists
  std::uint64_t rate_limited = 0;
  std::uint64_t redirects = 0;
  std::uint64_t connect_retries = 0;
  std::uint64_t tls_handshake_failures = 0;
  std::uint64_t bad_proxy_headers = 0;  // connections from a proxy-protocol source reset for their header
  std::uint64_t passed_through =
      0;  // HTTPS connections carried to a server still encrypted (ssl-passthrough)
};

class Proxy {
 public:
  Proxy(runtime::Runtime& rt, std::shared_ptr<const ProxyConfig> config, ProxyOptions options = {});
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Binds every frontend and starts the health checks. On error nothing is left listening (and `previous`
  // keeps what it had).
  //
  // A configuration reload starts the new proxy with the old one as `previous`: a frontend on an address the
  // old proxy already listens on takes that listening socket over, so connections waiting in its accept queue
  // are not reset, and from then on new connections come here. TCP services bind beside the old ones
  // (SO_REUSEPORT). The old proxy then stops accepting and lives on until its open connections end (idle()),
  // as an old HAProxy process finishes its connections after a reload. UDP ports cannot be shared: release
  // them before the new proxy starts, and take them back if it fails to.
  std::error_code start(Proxy* previous = nullptr);

  void release_datagram_ports();
  std::error_code start_datagram_services();
  void stop_accepting();
  // Stopping gracefully (HAProxy's soft-stop): no new connection; idle kept-alive connections close now, the
  // others after their response, which says `Connection: close`; TCP and passthrough connections run to their
  // end. idle() tells when nothing is left. With `keep_accepting`, new connections are still taken (and
  // answered with Connection: close) for that long: a node whose addresses are moving to another is still
  // reached by clients that have not heard the new owner's announcement yet.
  void drain(runtime::Duration keep_accepting = {});
  bool draining() const { return draining_; }
  bool idle() const;
  // The address a frontend ended up bound to (port 0 in tests picks one).
  net::SocketAddress frontend_address(std::size_t index) const;
  // The TCP and UDP services, in the order of config().l4_services (each list on its own).
  std::vector<std::unique_ptr<l4::TcpService>>& tcp_services() { return tcp_services_; }
  std::vector<std::unique_ptr<l4::UdpService>>& udp_services() { return udp_services_; }
  // The ssl-passthrough backends, in the order of config().passthrough_services.
  std::vector<std::unique_ptr<l4::TcpService>>& passthrough_services() { return passthrough_; }

  const ProxyConfig& config() const { return *config_; }
  const ProxyCounters& counters() const { return counters_; }
  ProxyCounters& counters() { return counters_; }
  std::vector<std::unique_ptr<Backend>>& backends() { return backends_; }
  stats::Registry& stats() { return *options_.stats; }
  // This loop's counters of a frontend of config().frontends.
  stats::FrontendCounters& frontend_stats(const Frontend& frontend) {
    return *frontend_stats_[static_cast<std::size_t>(&frontend - config_->frontends.data())];
  }
  Backend* backend(std::size_t index) { return index < backends_.size() ? backends_[index].get() : nullptr; }
  RateTable& rate_table(std::uint32_t index) { return *rate_tables_[index]; }
  // Client connections open now: this loop's, or every loop's when they share state (the global maxconn).
  std::size_t client_connections() const;
  runtime::Runtime& runtime() { return rt_; }
  DeadlineQueue& deadlines() { return deadlines_; }

  // Used by sessions.
  void log_access(const AccessRecord& record);
  bool logs_access() const { return static_cast<bool>(options_.access_log); }
  std::int64_t unix_ms(runtime::Instant t) const;
  void finished(ClientSession* session);  // destroys it after the current callback

 private:
  void accept(std::size_t frontend, runtime::StreamConnectionPtr connection);
  // TLS (on a TLS frontend) and an HTTP session.
  void terminate(std::size_t frontend, runtime::StreamConnectionPtr connection);
  // The session for a connection: HTTP/2 when its TLS handshake agreed on h2, HTTP/1.x otherwise.
  // Returns the session's handler of the connection.
  runtime::StreamHandler& open_session(const Frontend& frontend, runtime::StreamConnectionPtr connection,
                                       std::optional<runtime::Instant> accepted = std::nullopt);
  // Frees a chooser after the current callback (it may be on the stack), and the connections closed
  // before choosing with it.
  void retire(std::unique_ptr<AlpnChooser> chooser);
  // ssl-passthrough: the ClientHello decides between a passthrough backend and terminate().
  void peek_hello(std::size_t frontend, runtime::StreamConnectionPtr connection);
  void start_passthrough();
  // The TLS contexts: this proxy's own from its certificates, or the one every loop shares.
  std::error_code start_tls();
  // Whether a connection from `source` must start with a PROXY protocol header (proxy-protocol).
  bool expects_proxy_header(const net::IpAddress& source) const;
  // Which of this proxy's frontends listens on `bind` now, if one does.
  std::optional<std::size_t> listener_on(const net::SocketAddress& bind) const;
  // A TCP service counts under its own frontend name (ssl-passthrough under the HTTPS frontend's, where
  // HAProxy's controller has its ssl frontend) and its backend's.
  void count_into_registry(l4::TcpService& service, const std::string& frontend);

  runtime::Runtime& rt_;
  DeadlineQueue deadlines_{rt_};  // every session's timeouts, behind one timer
  ProbeCache probes_;             // health probes shared by its backends and services; outlives them
  std::shared_ptr<const ProxyConfig> config_;
  ProxyOptions options_;
  ProxyCounters counters_;
  std::vector<stats::FrontendCounters*> frontend_stats_;  // by config().frontends index
  // A frontend's listening socket and where its connections go; a reload re-points it (see start()).
  struct AcceptTarget {
    Proxy* proxy;
    std::size_t frontend;
  };
  struct FrontendListener {
    runtime::StreamListenerPtr listener;
    std::shared_ptr<AcceptTarget> target;
  };
  std::vector<FrontendListener> listeners_;
  std::vector<std::unique_ptr<Backend>> backends_;
  std::vector<std::shared_ptr<RateTable>> rate_tables_;
  std::unique_ptr<tls::ServerContext> own_tls_;
  tls::ServerContext* tls_ = nullptr;  // own_tls_, or the one every loop shares
  std::vector<std::unique_ptr<l4::TcpService>> tcp_services_;
  std::vector<std::unique_ptr<l4::UdpService>> udp_services_;
  std::vector<std::unique_ptr<l4::TcpService>> passthrough_;
  std::unordered_map<ClientHelloStream*, std::unique_ptr<ClientHelloStream>> peeking_;
  std::vector<std::unique_ptr<ClientHelloStream>> gone_;  // closed while peeking; freed after the callback
  // TLS connections whose handshake has not yet said which HTTP they speak (ALPN), each with the handler
  // that waits for it; then a session of that. Keyed by when they were accepted (AlpnChooser::opened()), so
  // that they are freed in that order.
  struct Choosing {
    std::unique_ptr<AlpnChooser> chooser;
    runtime::StreamConnectionPtr tls;  // freed before its chooser, which is its handler
  };
  std::map<std::uint64_t, Choosing> choosing_;
  std::uint64_t opened_ = 0;  // connections given a session or a protocol choice so far
  // The open sessions in the order they were opened (what ~Proxy and drain() go through).
  std::vector<ClientSession*> sessions_in_order() const;
  std::vector<runtime::StreamConnectionPtr> unchosen_;  // closed before choosing; freed after the callback
  std::vector<std::unique_ptr<AlpnChooser>> chosen_;    // done choosing; freed after the callback
  std::unordered_map<ClientSession*, std::unique_ptr<ClientSession>> sessions_;
  std::vector<std::unique_ptr<ClientSession>> finished_;
  bool sweeping_ = false;
  bool draining_ = false;
  runtime::TimerPtr stop_accepting_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace metalgate::proxy
