// A backend at run time: its servers' health, load and idle connections, the balancer, the queue of requests
// waiting for a server slot, and the health checks, all over the runtime port.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/proxy/balancer.h"
#include "engine/proxy/health-t.h"
#include "engine/proxy/proxy_config-t.h"
#include "engine/proxy/shared_state.h"
#include "engine/runtime/runtime.h"
#include "engine/stats/counters-t.h"

namespace metalgate::proxy {

class ProbeCache;

class Backend;
class H2Pool;

std::string_view to_string(AdminState s);

// What a session hears from the backend connection it holds.
class ServerEvents {
 public:
  virtual ~ServerEvents() = default;
  virtual void on_server_connected() = 0;
  virtual void on_server_data(runtime::ByteView data) = 0;
  virtual void on_server_shutdown() = 0;
  virtual void on_server_closed(std::error_code reason) = 0;
  virtual void on_server_drained() = 0;
  virtual void on_server_forwarded(std::size_t bytes) { (void)bytes; }
};

// One connection to a server. Held by one session at a time, or idle in its server's pool.
class ServerConnection final : public runtime::StreamHandler {
 public:
  ServerConnection(Backend& backend, std::size_t server) : backend_(backend), server_(server) {}
  ~ServerConnection() override;

  runtime::StreamConnection& stream() { return *stream_; }
  std::size_t server() const { return server_; }
  Backend& backend() { return backend_; }
  bool connected() const { return connected_; }
  // How many requests it has carried (0 for a fresh one).
  std::uint32_t uses = 0;

  void attach(ServerEvents* owner) { owner_ = owner; }
  void connect(runtime::Runtime& rt, const net::SocketAddress& address,
               const runtime::ConnectOptions& options);

  // StreamHandler
  void on_connected() override;
  void on_data(runtime::ByteView data) override;
  void on_peer_shutdown() override;
  void on_closed(std::error_code reason) override;
  void on_write_drained() override;
  void on_forwarded(std::size_t bytes) override {
    if (owner_) owner_->on_server_forwarded(bytes);
  }

 private:
  friend class Backend;
  Backend& backend_;
  std::size_t server_;
  runtime::StreamConnectionPtr stream_;
  ServerEvents* owner_ = nullptr;
  bool connected_ = false;
  bool idle_ = false;
};
using ServerConnectionPtr = std::unique_ptr<ServerConnection>;

struct ServerState {
  explicit ServerState(const ServerConfig& c) : config(c) {}
  // In the backend's configuration, which the backend holds. A copy here cost 250 bytes a node and Service
  // (16 MB of a 64-node, 1,000-Service simulated LAN, where every node forwards every Service).
  const ServerConfig& config;
  ServerLoad load;
  HealthState health;
  AdminState admin = AdminState::kReady;
  std::vector<ServerConnectionPtr> idle;  // reusable connections, most recent last
  std::uint64_t requests = 0;
  std::uint64_t failed_connects = 0;
  std::string last_check;  // "L7OK 200", "L4CON refused", … for logs and stats
  runtime::Instant check_started{};
  // The key of the shared probe this server's check runs now for the backends of its proxy (ProbeCache),
  // or empty.
  std::string probe_key;
  // Health checking.
  runtime::TimerPtr check_timer;
  runtime::StreamConnectionPtr check_stream;
  runtime::DatagramSocketPtr check_datagram;
  std::unique_ptr<runtime::StreamHandler> check_handler;
  std::string check_response;
};

// A request waiting for a server slot (per-server maxconn reached everywhere).
class QueuedRequest {
 public:
  virtual ~QueuedRequest() = default;
  virtual void on_server_slot(std::size_t server) = 0;
};

class Backend {
 public:
  // `shared`: the servers' state shared with the other event loops (one entry per server), or nullptr for a
  // proxy alone in its process. With it, only the loop with `runs_checks` checks health; the others read.
  Backend(runtime::Runtime& rt, const BackendConfig& config, SharedServer* shared = nullptr,
          bool runs_checks = true);
  // The same without a copy of `config`: a proxy's backends and services point into its configuration. A
  // node forwards every Service of the cluster, and a copy per node and Service was a sixth of a 256-node
  // simulated LAN's memory (reports/sim-speed.md).
  Backend(runtime::Runtime& rt, std::shared_ptr<const BackendConfig> config, SharedServer* shared = nullptr,
          bool runs_checks = true);
  ~Backend();

  const BackendConfig& config() const { return *config_; }
  const std::string& name() const { return config_->name; }
  std::vector<ServerState>& servers() { return servers_; }
  const std::vector<ServerState>& servers() const { return servers_; }
  bool any_up() const;

  // Starts the health checks (when enabled; with check.on_demand, at the first choose()); until a check says
  // otherwise every server is up.
  void start_checks();
  // Checks share their probes with the other backends of `probes` that check a server the same way
  // (probe_cache.h); without it each backend probes its servers itself. Set before the first check runs.
  void share_probes(ProbeCache* probes) { probes_ = probes; }
  // A server's state for routing: its own, or, when loops share it, what the checking loop published and
  // the requests every loop has in flight.
  ServerLoad load(std::size_t server) const;

  // Chooses a server for a request from `client`; nullopt with *all_full when every up server is at maxconn.
  // `avoid`: a server that just failed; another one is chosen when one is up with room (HAProxy's redispatch;
  // not under balance source, whose map-based hash ignores it there too).
  std::optional<std::size_t> choose(const net::IpAddress& client, bool* all_full,
                                    std::optional<std::size_t> avoid = std::nullopt);
  // The operator's state of a server (shared by every loop); kDrain and kMaint take it out of balancing.
  void set_admin(std::size_t server, AdminState state);
  AdminState admin(std::size_t server) const;
  // The server named by a persistence cookie, if it exists, is up (draining counts) and has room.
  std::optional<std::size_t> find_server(std::string_view name) const;

  // Server slots: a request holds one from dispatch until its response ends.
  void acquire(std::size_t server);
  void release(std::size_t server);

  // The queue (FIFO, like HAProxy's backend queue). `client` picks the server as choose() does, so under
  // balance source a queued request goes to its own server when that server frees a slot.
  void enqueue(QueuedRequest* request, const net::IpAddress& client);
  void dequeue(QueuedRequest* request);
  std::size_t queued() const { return queue_.size(); }

  // Connection reuse: an idle connection to `server`, or nullptr.
  ServerConnectionPtr take_idle(std::size_t server);
  // Keeps a finished connection for reuse (or closes it when the pool is full: more idle connections than
  // kMaxIdlePerServer and than requests in flight to the server).
  void park(ServerConnectionPtr connection);
  // A new connection to `server`. `we_speak_first`: the owner writes as soon as connected (HTTP), so the
  // handshake's ACK may wait for those bytes; never for TCP services, whose server may speak first.
  ServerConnectionPtr open(std::size_t server, ServerEvents* owner, bool we_speak_first);

  // Where this backend and its servers count for the stats (registry.h): this loop's blocks. Until then
  // (a Backend alone in a unit test) they count into blocks of their own.
  void count_into(stats::BackendCounters* backend, std::vector<stats::ServerCounters*> servers);
  stats::BackendCounters& stats() { return *stats_; }
  stats::ServerCounters& server_stats(std::size_t server) { return *server_stats_[server]; }

  std::uint64_t connections_opened() const { return connections_opened_; }
  std::uint64_t connections_reused() const { return connections_reused_; }
  void count_reuse() { ++connections_reused_; }

  // What a failed TLS handshake with `server` is logged as (server-ssl).
  std::function<void(const std::string&)> tls_failure_logger(std::size_t server);
  // Called by ServerConnection when an idle one closes or misbehaves.
  void drop_idle(ServerConnection* connection);
  // Called when a health check changes a server's state (for logs and to move queued requests).
  std::function<void(std::size_t server, bool up)> on_state_change;

  // server-proto h2: the stream connection a ServerConnection to `server` runs on, a pipe on one of the
  // server's HTTP/2 connections (h2_upstream.h); and the socket such a connection runs on, `handler` its.
  runtime::StreamConnectionPtr open_h2_pipe(std::size_t server);
  runtime::StreamConnectionPtr connect_h2(std::size_t server, runtime::StreamHandler& handler);
  runtime::Runtime& runtime() { return rt_; }

  static constexpr std::size_t kMaxIdlePerServer = 256;

 private:
  void begin_checks();
  void run_check(std::size_t server);
  void probe(std::size_t server);
  std::string probe_key(std::size_t server) const;
  void finish_check(std::size_t server, bool passed, std::string what);
  void count_check(std::size_t server, bool passed, bool changed);
  void serve_queue();

  runtime::Runtime& rt_;
  std::shared_ptr<const BackendConfig> config_;  // never null
  SharedServer* shared_ = nullptr;
  bool runs_checks_ = true;
  bool checks_begun_ = false;
  ProbeCache* probes_ = nullptr;
  // A check that finds another backend's probe of its server under way asks again after this.
  static constexpr runtime::Duration kProbeWait = std::chrono::milliseconds(10);
  // With shared state, a slot freed in another loop or a server brought up by the checking loop is no event
  // here: queued requests look again at this interval until they are served or time out.
  runtime::TimerPtr queue_retry_;
  static constexpr runtime::Duration kQueueRetry = std::chrono::milliseconds(5);
  std::vector<ServerState> servers_;
  std::vector<ServerLoad> loads_;  // scratch for the balancer
  Balancer balancer_;
  struct Waiting {
    QueuedRequest* request;
    net::IpAddress client;
  };
  std::deque<Waiting> queue_;
  std::uint64_t connections_opened_ = 0;
  std::uint64_t connections_reused_ = 0;
  // Where the backend counts until count_into() points it elsewhere (a proxy's registry), then released.
  std::unique_ptr<stats::BackendCounters> own_stats_;
  std::vector<std::unique_ptr<stats::ServerCounters>> own_server_stats_;
  stats::BackendCounters* stats_ = nullptr;
  std::vector<stats::ServerCounters*> server_stats_;
  std::vector<ServerConnectionPtr> graveyard_;  // dropped from inside their own callbacks
  bool burying_ = false;
  // server-proto h2: per server, created at its first request. Declared after servers_ so that it goes
  // first: its connections let go of the pipes idle connections still hold.
  std::vector<std::unique_ptr<H2Pool>> h2_pools_;
};

}  // namespace metalgate::proxy
