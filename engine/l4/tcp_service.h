// TCP services from the controller's TCP services ConfigMap: a listener per port, each connection balanced to
// one of the Service's endpoints (the same Backend as HTTP: roundrobin/leastconn/source, health checks,
// per-server maxconn with a queue) and then bytes both ways. Half-close is passed on in each direction, a
// reset as a reset; connect failures are retried (the last try on another server), and an idle connection
// ends after `timeout-tunnel`. One line per connection in HAProxy's TCP log format.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "engine/l4/affinity.h"
#include "engine/proxy/backend.h"
#include "engine/proxy/proxy_config-t.h"
#include "engine/runtime/runtime.h"
#include "engine/stats/counters-t.h"

namespace metalgate::tls {
class ServerContext;
}

namespace metalgate::l4 {

class TcpSession;

struct TcpServiceCounters {
  std::uint64_t connections = 0;
  std::uint64_t no_server = 0;  // refused: no server up, or the queue timed out
  std::uint64_t connect_failures = 0;
  std::uint64_t bytes_in = 0, bytes_out = 0;
};

class TcpService {
 public:
  using LogSink = std::function<void(std::string_view)>;
  TcpService(runtime::Runtime& rt, const proxy::L4ServiceConfig& config, tls::ServerContext* tls, LogSink log,
             std::function<std::int64_t(runtime::Instant)> unix_ms);
  // Without a copy of `config` (a proxy's services point into its configuration; proxy::Backend says why).
  TcpService(runtime::Runtime& rt, std::shared_ptr<const proxy::L4ServiceConfig> config,
             tls::ServerContext* tls, LogSink log, std::function<std::int64_t(runtime::Instant)> unix_ms);
  ~TcpService();

  // With `previous` (a reload): takes over its listening socket when it listens on the same address, so that
  // connections waiting to be accepted are not reset (see proxy::Proxy::start).
  std::error_code start(TcpService* previous = nullptr);
  // Without a listener of its own (ssl-passthrough: the HTTPS frontend hands it connections whose ClientHello
  // names one of its hosts): the health checks only.
  void start_unlistened() { backend_.start_checks(); }
  // A connection accepted elsewhere, carried as one of its own.
  void adopt(runtime::StreamConnectionPtr c) { accept(std::move(c)); }
  // Hands a socket taken over by start() back, when the reload it belonged to fails.
  void give_back(TcpService& previous);
  // Where it listens (its configured address when it does not: a Service port without a server here).
  net::SocketAddress address() const { return listener_ ? listener_->local_address() : config_->bind; }
  bool listening() const { return listener_ != nullptr; }
  // A server for a new connection from `client`: the one its affinity names (sessionAffinity: ClientIP) while
  // that one is up with room, else the balancer's choice (nullopt, *all_full: every up server is full).
  std::optional<std::size_t> choose(const net::IpAddress& client, bool* all_full);
  proxy::Backend& backend() { return backend_; }
  const TcpServiceCounters& counters() const { return counters_; }
  // Where its frontend counts for the stats (this loop's block of its name); its own block until then.
  void count_into(stats::FrontendCounters* frontend) {
    frontend_stats_ = frontend;
    if (frontend != own_frontend_stats_.get()) own_frontend_stats_.reset();  // a proxy's registry counts now
  }
  stats::FrontendCounters& frontend_stats() { return *frontend_stats_; }
  std::size_t sessions() const { return sessions_.size(); }
  // Takes no new connections; those open go on to their end (a configuration reload drains this service).
  void stop_listening() { listener_.reset(); }

  // Used by sessions.
  runtime::Runtime& runtime() { return rt_; }
  const proxy::L4ServiceConfig& config() const { return *config_; }
  TcpServiceCounters& mutable_counters() { return counters_; }
  bool logging() const { return static_cast<bool>(log_); }
  void log(std::string_view line) {
    if (log_) log_(line);
  }
  std::int64_t unix_ms(runtime::Instant t) const {
    return unix_ms_ ? unix_ms_(t) : t.time_since_epoch().count() / 1000000;
  }
  void finished(TcpSession* session);

 private:
  runtime::Runtime& rt_;
  std::shared_ptr<const proxy::L4ServiceConfig> config_;  // never null
  tls::ServerContext* tls_;
  LogSink log_;
  std::function<std::int64_t(runtime::Instant)> unix_ms_;
  proxy::Backend backend_;
  std::optional<AffinityTable> affinity_;
  void accept(runtime::StreamConnectionPtr c);

  runtime::StreamListenerPtr listener_;
  std::shared_ptr<TcpService*> target_;  // where listener_'s connections go; re-pointed by a takeover
  TcpServiceCounters counters_;
  std::unique_ptr<stats::FrontendCounters> own_frontend_stats_ = std::make_unique<stats::FrontendCounters>();
  stats::FrontendCounters* frontend_stats_ = own_frontend_stats_.get();
  std::unordered_map<TcpSession*, std::unique_ptr<TcpSession>> sessions_;
  std::vector<std::unique_ptr<TcpSession>> finished_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace metalgate::l4
