#include "engine/proxy/backend.h"

#include <algorithm>
#include <cstdlib>

#include "engine/http2/client_session.h"
#include "engine/mutants/mutants.h"
#include "engine/proxy/h2_upstream.h"
#include "engine/proxy/health.h"
#include "engine/proxy/probe_cache.h"
#include "engine/stats/check_status.h"
#include "engine/tls/tls_stream.h"

namespace metalgate::proxy {

// ------------------------------------------------------------------------------------------ ServerConnection

namespace {

// ALPN names what the connection will carry: HTTP/1.1, or HTTP/2 under server-proto h2 (the controller's
// `alpn h2` on such servers).
tls::ClientSettings client_settings(const ServerTls& t, ServerProtocol protocol) {
  tls::ClientSettings settings;
  settings.ca_pem = t.ca_pem;
  settings.certificate_pem = t.certificate_pem;
  settings.private_key_pem = t.private_key_pem;
  settings.alpn = {protocol == ServerProtocol::kHttp2 ? "h2" : "http/1.1"};
  return settings;
}

}  // namespace

ServerConnection::~ServerConnection() = default;

void ServerConnection::connect(runtime::Runtime& rt, const net::SocketAddress& address,
                               const runtime::ConnectOptions& options) {
  if (backend_.config().protocol == ServerProtocol::kHttp2) {
    stream_ = backend_.open_h2_pipe(server_);
    stream_->start(*this);
  } else if (const auto& tls = backend_.config().tls) {
    stream_ = tls::connect_client(rt, address, *this, client_settings(*tls, ServerProtocol::kHttp1),
                                  backend_.tls_failure_logger(server_), options);
  } else {
    stream_ = rt.connect(address, *this, options);
  }
}

void ServerConnection::on_connected() {
  connected_ = true;
  if (owner_) owner_->on_server_connected();
}

void ServerConnection::on_data(runtime::ByteView data) {
  if (owner_) return owner_->on_server_data(data);
  backend_.drop_idle(this);  // an idle server has nothing to say: the connection is unusable
}

// Unattached, the connection is idle: in the pool, or kept by a session for its next request. Either way
// a server that closed it must not get another request on it.
void ServerConnection::on_peer_shutdown() {
  if (owner_) return owner_->on_server_shutdown();
  connected_ = false;
  backend_.drop_idle(this);
}

void ServerConnection::on_closed(std::error_code reason) {
  if (owner_) return owner_->on_server_closed(reason);
  connected_ = false;
  backend_.drop_idle(this);
}

void ServerConnection::on_write_drained() {
  if (owner_) owner_->on_server_drained();
}

// ------------------------------------------------------------------------------------------ health checks

namespace {

class CheckHandler final : public runtime::StreamHandler {
 public:
  explicit CheckHandler(std::function<void(bool, std::string)> done) : done_(std::move(done)) {}
  std::function<void(runtime::StreamConnection&)> on_up;
  std::string response;
  bool http = false;

  void on_connected() override { on_up_called(); }
  void on_data(runtime::ByteView data) override {
    response.append(runtime::as_chars(data));
    auto eol = response.find('\n');
    if (eol == std::string::npos) {
      if (response.size() > 1024) finish(false, "L7RSP invalid status line");
      return;
    }
    // "HTTP/1.x NNN": 2xx and 3xx pass, as HAProxy's httpchk decides by default.
    if (response.size() < 12 || response.compare(0, 7, "HTTP/1.") != 0)
      return finish(false, "L7RSP invalid status line");
    int status = std::atoi(response.c_str() + 9);
    finish(status >= 200 && status < 400,
           (status >= 200 && status < 400 ? "L7OK " : "L7STS ") + std::to_string(status));
  }
  void on_peer_shutdown() override { finish(false, "L7RSP connection closed before the status line"); }
  void on_closed(std::error_code reason) override { finish(false, "L4CON " + reason.message()); }

  runtime::StreamConnection* stream = nullptr;

 private:
  void on_up_called() {
    if (on_up && stream) on_up(*stream);
  }
  void finish(bool passed, std::string what) {
    if (finished_) return;
    finished_ = true;
    done_(passed, std::move(what));
  }
  std::function<void(bool, std::string)> done_;
  bool finished_ = false;
};

// An HTTP check of an HTTP/2 backend (server-proto h2, whose servers may speak nothing else, as gRPC servers
// do): the preface, the check's request as one stream, its :status. HAProxy checks a `proto h2` server in
// HTTP/2 likewise (check-proto defaults to the server's proto).
class H2CheckHandler final : public runtime::StreamHandler, public http2::ClientEvents {
 public:
  H2CheckHandler(http2::Request request, std::function<void(bool, std::string)> done)
      : request_(std::move(request)), done_(std::move(done)), session_(*this, http2::Settings{}) {}
  runtime::StreamConnection* stream = nullptr;

  void on_connected() override {
    session_.submit(request_, /*end_stream=*/true);
    flush();
  }
  void on_data(runtime::ByteView data) override {
    if (!session_.receive(data)) return finish(false, "L7RSP invalid HTTP/2");
    if (!finished_) flush();  // SETTINGS and PING acknowledgements
  }
  void on_peer_shutdown() override { finish(false, "L7RSP connection closed before the status line"); }
  void on_closed(std::error_code reason) override { finish(false, "L4CON " + reason.message()); }

  void on_response(std::int32_t, int status, std::vector<http2::Field>, bool) override {
    const bool passed = status >= 200 && status < 400;
    finish(passed, (passed ? "L7OK " : "L7STS ") + std::to_string(status));
  }
  void on_response_data(std::int32_t id, runtime::ByteView data) override {
    session_.consumed(id, data.size());
  }
  void on_response_end(std::int32_t, std::vector<http2::Field>) override {}
  void on_stream_closed(std::int32_t, std::uint32_t error_code) override {
    finish(false,
           "L7RSP stream reset before the status line (HTTP/2 error " + std::to_string(error_code) + ")");
  }

 private:
  void flush() {
    std::string out;
    session_.take_outgoing(out);
    if (!out.empty() && stream) stream->write(runtime::as_bytes(out));
  }
  void finish(bool passed, std::string what) {
    if (finished_) return;
    finished_ = true;
    done_(passed, std::move(what));
  }
  http2::Request request_;
  std::function<void(bool, std::string)> done_;
  http2::ClientSession session_;
  bool finished_ = false;
};

}  // namespace

// ------------------------------------------------------------------------------------------ Backend

Backend::Backend(runtime::Runtime& rt, const BackendConfig& config, SharedServer* shared, bool runs_checks)
    : Backend(rt, std::make_shared<const BackendConfig>(config), shared, runs_checks) {}

Backend::Backend(runtime::Runtime& rt, std::shared_ptr<const BackendConfig> config, SharedServer* shared,
                 bool runs_checks)
    : rt_(rt),
      config_(std::move(config)),
      shared_(shared),
      runs_checks_(runs_checks),
      balancer_(config_->balance) {
  servers_.reserve(config_->servers.size());
  for (std::size_t i = 0; i < config_->servers.size(); ++i) {
    servers_.emplace_back(config_->servers[i]);
    servers_[i].load.weight = config_->servers[i].weight;
    servers_[i].load.maxconn = config_->servers[i].maxconn;
    servers_[i].health = initial_health(config_->check.rise);
  }
  loads_.resize(servers_.size());
  own_stats_ = std::make_unique<stats::BackendCounters>();
  std::vector<stats::ServerCounters*> servers;
  for (std::size_t i = 0; i < servers_.size(); ++i)
    servers.push_back(own_server_stats_.emplace_back(std::make_unique<stats::ServerCounters>()).get());
  count_into(own_stats_.get(), std::move(servers));
}

void Backend::count_into(stats::BackendCounters* backend, std::vector<stats::ServerCounters*> servers) {
  stats_ = backend;
  server_stats_ = std::move(servers);
  if (backend == own_stats_.get()) return;
  own_stats_.reset();
  own_server_stats_.clear();
  own_server_stats_.shrink_to_fit();
}

Backend::~Backend() {
  for (auto& s : servers_) {
    for (auto& c : s.idle)
      c->attach(nullptr);
    if (probes_ && !s.probe_key.empty()) probes_->abandoned(s.probe_key);
  }
}

bool Backend::any_up() const {
  for (std::size_t i = 0; i < servers_.size(); ++i)
    if (load(i).up) return true;
  return false;
}

ServerLoad Backend::load(std::size_t server) const {
  ServerLoad l = servers_[server].load;
  if (shared_) {
    l.up = shared_[server].up.load(std::memory_order_relaxed);
    l.active = shared_[server].active.load(std::memory_order_relaxed);
  }
  l.up = l.up && admin(server) == AdminState::kReady;  // drain and maint take no balanced request
  return l;
}

AdminState Backend::admin(std::size_t server) const {
  return shared_ ? shared_[server].admin.load(std::memory_order_relaxed) : servers_[server].admin;
}

void Backend::set_admin(std::size_t server, AdminState state) {
  servers_[server].admin = state;
  if (shared_) shared_[server].admin.store(state, std::memory_order_relaxed);
  if (state == AdminState::kMaint) servers_[server].idle.clear();
  rt_.logger().log(runtime::LogLevel::kInfo, "proxy", "server-admin-state",
                   {{"backend", config_->name},
                    {"server", servers_[server].config.name},
                    {"state", std::string(to_string(state))}});
  if (state == AdminState::kReady) serve_queue();
}

std::string_view to_string(AdminState s) {
  switch (s) {
    case AdminState::kReady:
      return "ready";
    case AdminState::kDrain:
      return "drain";
    case AdminState::kMaint:
      return "maint";
  }
  return "?";
}

void Backend::start_checks() {
  // On demand, choose() starts them; not when loops share the servers' state, as only this loop checks.
  if (config_->check.on_demand && !shared_) return;
  begin_checks();
}

void Backend::begin_checks() {
  if (!config_->check.enabled || !runs_checks_ || checks_begun_) return;
  checks_begun_ = true;
  auto interval = std::chrono::duration_cast<runtime::Duration>(config_->check.interval);
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    servers_[i].check_timer = rt_.create_timer([this, i] {
      ServerState& s = servers_[i];
      if (s.check_stream || s.check_datagram) return finish_check(i, false, "L4TOUT check timed out");
      run_check(i);
    });
    // Spread the first checks over one interval, as HAProxy does, so that servers are not probed in bursts.
    auto offset = runtime::Duration(static_cast<std::int64_t>(
        rt_.random().below(static_cast<std::uint64_t>(std::max<std::int64_t>(interval.count(), 1)))));
    servers_[i].check_timer->arm(offset);
  }
}

void Backend::run_check(std::size_t i) {
  ServerState& s = servers_[i];
  s.check_started = rt_.now();
  std::string key = probes_ ? probe_key(i) : std::string();
  if (!key.empty()) {
    const ProbeCache::Verdict* verdict = nullptr;
    const auto fresh = std::chrono::duration_cast<runtime::Duration>(config_->check.interval) / 2;
    switch (probes_->ask(key, rt_.now(), fresh, &verdict)) {
      case ProbeCache::Ask::kUse:
        return finish_check(i, verdict->passed, verdict->what);
      case ProbeCache::Ask::kWait:
        return s.check_timer->arm(kProbeWait);
      case ProbeCache::Ask::kRun:
        s.probe_key = std::move(key);
        break;
    }
  }
  probe(i);
}

// What makes two checks of a server the same probe; empty (never shared) over TLS, whose settings (SNI, CA,
// client certificate) are the backend's own.
std::string Backend::probe_key(std::size_t i) const {
  const HealthCheck& check = config_->check;
  if (config_->tls) return {};
  net::SocketAddress target = servers_[i].config.address;
  if (check.udp) return "udp " + target.to_string() + "\n" + check.udp_send + "\n" + check.udp_expect;
  if (check.port) target.port = *check.port;
  if (!check.http) return "tcp " + target.to_string();
  const bool h2 = config_->protocol == ServerProtocol::kHttp2;
  return (h2 ? "h2 " : "http ") + target.to_string() + " " + check.method + " " + check.uri;
}

void Backend::probe(std::size_t i) {
  ServerState& s = servers_[i];
  if (config_->check.udp) {
    // A UDP probe: one datagram out, any answer that starts with the expected bytes passes.
    std::error_code ec;
    net::SocketAddress any{s.config.address.ip.is_v4() ? net::IpAddress::v4(0) : net::IpAddress::v6({}), 0};
    s.check_datagram = rt_.open_datagram(
        any,
        [this, i](const net::SocketAddress& from, const net::SocketAddress&, runtime::ByteView payload) {
          ServerState& st = servers_[i];
          if (!st.check_datagram || from != st.config.address) return;
          std::string_view got = runtime::as_chars(payload);
          if (got.substr(0, config_->check.udp_expect.size()) == config_->check.udp_expect)
            finish_check(i, true, "UDPOK");
        },
        ec);
    if (ec) return finish_check(i, false, "UDP " + ec.message());
    s.check_datagram->send_to(s.config.address, runtime::as_bytes(config_->check.udp_send));
    s.check_timer->arm(std::chrono::duration_cast<runtime::Duration>(
        config_->check.timeout.value_or(config_->check.interval)));
    return;
  }
  const HealthCheck& check = config_->check;
  net::SocketAddress target = s.config.address;
  if (check.port) target.port = *check.port;
  auto done = [this, i](bool passed, std::string what) { finish_check(i, passed, std::move(what)); };
  const bool h2 = check.http && config_->protocol == ServerProtocol::kHttp2;
  runtime::StreamConnection** check_stream = nullptr;  // the handler's view of its connection
  if (h2) {
    auto handler = std::make_unique<H2CheckHandler>(
        http2::Request{
            check.method, config_->tls ? "https" : "http", target.to_string(), check.uri, {}, false, {}},
        done);
    check_stream = &handler->stream;
    s.check_handler = std::move(handler);
  } else {
    auto handler = std::make_unique<CheckHandler>(done);
    handler->on_up = [this, i, http = check.http,
                      request = check.method + " " + check.uri +
                                " HTTP/1.0\r\nConnection: close\r\n\r\n"](runtime::StreamConnection& stream) {
      if (!http) return finish_check(i, true, "L4OK");
      stream.write(runtime::as_bytes(request));
    };
    check_stream = &handler->stream;
    s.check_handler = std::move(handler);
  }
  if (config_->tls)
    s.check_stream = tls::connect_client(
        rt_, target, *s.check_handler,
        client_settings(*config_->tls, h2 ? ServerProtocol::kHttp2 : ServerProtocol::kHttp1),
        tls_failure_logger(i));
  else
    s.check_stream = rt_.connect(target, *s.check_handler);
  *check_stream = s.check_stream.get();
  auto timeout = std::chrono::duration_cast<runtime::Duration>(check.timeout.value_or(check.interval));
  s.check_timer->arm(timeout);
}

void Backend::finish_check(std::size_t i, bool passed, std::string what) {
  ServerState& s = servers_[i];
  if (!s.probe_key.empty()) {
    probes_->finished(s.probe_key, {passed, what, rt_.now()});
    s.probe_key.clear();
  }
  // The check's objects may be the caller: let them go after this callback returns.
  if (s.check_stream) {
    // A reset, as HAProxy ends its checks once the verdict is in: a FIN would leave the connection in
    // TIME_WAIT on this node for a minute (a port and a socket per check; at 1,000 Services' checks, tens of
    // thousands, and in the simulated world a list every segment walks).
    s.check_stream->reset();
    auto stream = std::make_shared<runtime::StreamConnectionPtr>(std::move(s.check_stream));
    auto handler = std::make_shared<std::unique_ptr<runtime::StreamHandler>>(std::move(s.check_handler));
    rt_.post([stream, handler] {});
  }
  if (s.check_datagram) {
    auto socket = std::make_shared<runtime::DatagramSocketPtr>(std::move(s.check_datagram));
    rt_.post([socket] {});  // the probe's socket may be the caller
  }
  s.last_check = std::move(what);
  bool changed = record_check(s.health, passed, config_->check.rise, config_->check.fall);
  count_check(i, passed, changed);
  s.load.up = s.health.up;
  if (shared_) shared_[i].up.store(s.health.up, std::memory_order_relaxed);
  if (changed) {
    rt_.logger().log(s.health.up ? runtime::LogLevel::kInfo : runtime::LogLevel::kWarning, "proxy",
                     s.health.up ? "server-up" : "server-down",
                     {{"backend", config_->name}, {"server", s.config.name}, {"check", s.last_check}});
    if (!s.health.up) s.idle.clear();
    if (on_state_change) on_state_change(i, s.health.up);
    if (s.health.up) serve_queue();
  }
  s.check_timer->arm(std::chrono::duration_cast<runtime::Duration>(config_->check.interval));
}

// What a check's outcome is in the stats: HAProxy's check_status (the first word of last_check), its HTTP
// code and duration, failures and transitions to DOWN.
void Backend::count_check(std::size_t i, bool passed, bool changed) {
  const ServerState& s = servers_[i];
  stats::ServerCounters& c = *server_stats_[i];
  const std::string_view word = std::string_view(s.last_check).substr(0, s.last_check.find(' '));
  c.check_status.store(stats::check_status_named(word), std::memory_order_relaxed);
  const std::size_t space = s.last_check.find(' ');
  int code = 0;
  if (word.substr(0, 2) == "L7" && space != std::string::npos)
    code = std::atoi(s.last_check.c_str() + space + 1);
  c.check_code.store(code, std::memory_order_relaxed);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(rt_.now() - s.check_started);
  c.check_duration_ms.store(took.count(), std::memory_order_relaxed);
  if (!passed) c.check_failures.add();
  if (changed) {
    if (!s.health.up) c.check_up_down.add();
    c.last_change_ns.store(rt_.now().time_since_epoch().count(), std::memory_order_relaxed);
  }
}

std::optional<std::size_t> Backend::choose(const net::IpAddress& client, bool* all_full,
                                           std::optional<std::size_t> avoid) {
  if (!checks_begun_) begin_checks();
  // As HAProxy: roundrobin and leastconn avoid it; a map-based hash (balance source) maps the client to the
  // same server whatever failed.
  const std::size_t none = servers_.size();
  const std::size_t avoided = avoid && balancer_.algorithm() != Balance::kSource ? *avoid : none;
  bool alternative = false;
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    loads_[i] = load(i);
    alternative |= avoided != none && i != avoided && loads_[i].up && loads_[i].has_room();
  }
  if (alternative) loads_[avoided].up = false;
  return balancer_.pick(loads_, client, all_full);
}

std::optional<std::size_t> Backend::find_server(std::string_view name) const {
  if (METALGATE_MUTANT(kPersistenceCookieIgnored)) return std::nullopt;
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i].config.name != name) continue;
    ServerLoad l = load(i);
    const bool health_up = shared_ ? shared_[i].up.load(std::memory_order_relaxed) : servers_[i].load.up;
    // A draining server still takes the clients its cookie sends; one in maintenance takes none.
    if (health_up && admin(i) != AdminState::kMaint && l.has_room()) return i;
  }
  return std::nullopt;
}

void Backend::acquire(std::size_t server) {
  ++servers_[server].load.active;
  ++servers_[server].requests;
  server_stats_[server]->sessions.add();
  if (shared_) shared_[server].active.fetch_add(1, std::memory_order_relaxed);
}

void Backend::release(std::size_t server) {
  --servers_[server].load.active;
  server_stats_[server]->sessions.sub();
  if (shared_) shared_[server].active.fetch_sub(1, std::memory_order_relaxed);
  serve_queue();
}

void Backend::enqueue(QueuedRequest* request, const net::IpAddress& client) {
  queue_.push_back({request, client});
  stats_->queue.add();
  if (!shared_) return;
  if (!queue_retry_)
    queue_retry_ = rt_.create_timer([this] {
      serve_queue();
      if (!queue_.empty()) queue_retry_->arm(kQueueRetry);
    });
  queue_retry_->arm(kQueueRetry);
}

void Backend::dequeue(QueuedRequest* request) {
  auto it = std::find_if(queue_.begin(), queue_.end(),
                         [request](const Waiting& w) { return w.request == request; });
  if (it != queue_.end()) {
    queue_.erase(it);
    stats_->queue.sub();
  }
}

void Backend::serve_queue() {
  while (!queue_.empty()) {
    bool all_full = false;
    for (std::size_t i = 0; i < servers_.size(); ++i)
      loads_[i] = load(i);
    // In arrival order, each to the server the balancer picks for its client (its own one under balance
    // source).
    std::optional<std::size_t> server = balancer_.pick(loads_, queue_.front().client, &all_full);
    if (!server) return;
    QueuedRequest* next = queue_.front().request;
    queue_.pop_front();
    stats_->queue.sub();
    next->on_server_slot(*server);
  }
}

ServerConnectionPtr Backend::take_idle(std::size_t server) {
  auto& idle = servers_[server].idle;
  if (idle.empty()) return nullptr;
  ServerConnectionPtr c = std::move(idle.back());
  idle.pop_back();
  c->idle_ = false;
  ++connections_reused_;
  stats_->connection_reuses.add();
  return c;
}

void Backend::park(ServerConnectionPtr connection) {
  ServerState& s = servers_[connection->server()];
  connection->attach(nullptr);
  const ServerLoad now = load(connection->server());
  // As many idle connections as requests are in flight, so a steady load of N concurrent requests (an h2
  // client's 1,000 streams) finds one for each next request instead of connecting anew; the floor keeps a
  // burst's connections when the load drops. Measured: with h2load's 1,000 streams to one server and a flat
  // cap of 256, one request in ten connected anew, 11% of the proxy's CPU.
  const std::size_t cap = std::max(kMaxIdlePerServer, static_cast<std::size_t>(std::max(0, now.active)));
  if (!now.up || s.idle.size() >= cap || config_->http_reuse == HttpReuse::kNever ||
      !connection->connected()) {
    // Its exchange is complete, nothing is in flight: end it with RST, as HAProxy ends server connections,
    // so the proxy keeps no TIME_WAIT socket and the server three fewer segments per connection.
    connection->stream().reset();
    return;
  }
  connection->idle_ = true;
  s.idle.push_back(std::move(connection));
}

std::function<void(const std::string&)> Backend::tls_failure_logger(std::size_t server) {
  return [this, name = servers_[server].config.name](const std::string& why) {
    rt_.logger().log(runtime::LogLevel::kDebug, "proxy", "server-tls-failed",
                     {{"backend", config_->name}, {"server", name}, {"reason", why}});
  };
}

ServerConnectionPtr Backend::open(std::size_t server, ServerEvents* owner, bool we_speak_first) {
  auto c = std::make_unique<ServerConnection>(*this, server);
  c->attach(owner);
  if (config_->protocol != ServerProtocol::kHttp2) {  // an h2 connection counts when its socket opens
    ++connections_opened_;
    stats_->connection_attempts.add();
  }
  runtime::ConnectOptions options;
  options.delay_ack = we_speak_first;
  c->connect(rt_, servers_[server].config.address, options);
  return c;
}

void Backend::drop_idle(ServerConnection* connection) {
  auto& idle = servers_[connection->server()].idle;
  auto it = std::find_if(idle.begin(), idle.end(), [&](const auto& p) { return p.get() == connection; });
  if (it == idle.end()) return;
  (*it)->stream().close();
  graveyard_.push_back(std::move(*it));
  idle.erase(it);
  if (!burying_) {
    burying_ = true;
    rt_.post([this] {
      graveyard_.clear();
      burying_ = false;
    });
  }
}

runtime::StreamConnectionPtr Backend::open_h2_pipe(std::size_t server) {
  if (h2_pools_.size() < servers_.size()) h2_pools_.resize(servers_.size());
  if (!h2_pools_[server]) h2_pools_[server] = std::make_unique<H2Pool>(*this, server);
  return h2_pools_[server]->open_pipe();
}

runtime::StreamConnectionPtr Backend::connect_h2(std::size_t server, runtime::StreamHandler& handler) {
  ++connections_opened_;
  stats_->connection_attempts.add();
  runtime::ConnectOptions options;
  options.delay_ack = true;  // the preface and the first request go at once
  const net::SocketAddress& address = servers_[server].config.address;
  if (config_->tls)
    return tls::connect_client(rt_, address, handler, client_settings(*config_->tls, ServerProtocol::kHttp2),
                               tls_failure_logger(server), options);
  return rt_.connect(address, handler, options);
}

}  // namespace metalgate::proxy
