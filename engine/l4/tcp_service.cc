#include "engine/l4/tcp_service.h"

#include <algorithm>

#include "engine/proxy/access_log.h"
#include "engine/tls/tls_stream.h"

namespace metalgate::l4 {

using runtime::ByteView;
using runtime::Duration;
using std::chrono::duration_cast;

namespace {
constexpr std::size_t kHighWater = 256 * 1024;
Duration dur(std::chrono::milliseconds ms) {
  return duration_cast<Duration>(ms);
}
}  // namespace

class TcpSession final : public runtime::StreamHandler,
                         public proxy::ServerEvents,
                         public proxy::QueuedRequest {
 public:
  TcpSession(TcpService& service, runtime::StreamConnectionPtr client)
      : svc_(service), rt_(service.runtime()), client_(std::move(client)) {
    svc_.frontend_stats().sessions.add();
    svc_.frontend_stats().sessions_total.add();
    svc_.frontend_stats().session_rate.add(runtime::milliseconds_of(rt_.now()));
  }

  ~TcpSession() override {
    svc_.frontend_stats().sessions.sub();
    *alive_ = false;
    if (queued_) svc_.backend().dequeue(this);
    if (holds_slot_) svc_.backend().release(*server_);
    if (conn_) conn_->attach(nullptr);
  }

  void start() {
    t_start_ = rt_.now();
    client_ip_ = client_->peer_address();
    timer_ = rt_.create_timer([this] { on_timer(); });
    client_->start(*this);
    proxy::Backend& b = svc_.backend();
    if (!b.any_up()) return refuse();
    bool all_full = false;
    server_ = svc_.choose(client_ip_.ip, &all_full);
    if (!server_) {
      if (!all_full) return refuse();
      queued_ = true;
      b.enqueue(this, client_ip_.ip);
      arm(dur(b.config().timeouts.queue));
      return;
    }
    b.acquire(*server_);
    holds_slot_ = true;
    connect();
  }

  // Client side.
  void on_data(ByteView data) override {
    if (done_) return;
    svc_.mutable_counters().bytes_in += data.size();
    bytes_in_ += data.size();
    if (!established_) {
      pending_.append(runtime::as_chars(data));
      if (pending_.size() > kHighWater) client_->set_reading(false), client_paused_ = true;
      return;
    }
    conn_->stream().write(data);
    touch();
    if (conn_->stream().write_backlog() > kHighWater && !client_paused_)
      client_->set_reading(false), client_paused_ = true;
  }
  void on_peer_shutdown() override {
    client_eof_ = true;
    if (established_) conn_->stream().shutdown_write();
    maybe_finish();
  }
  void on_closed(std::error_code) override {
    // The client reset or failed: the server hears a reset too.
    if (done_) return;
    client_gone_ = true;
    end('C', established_ ? 'D' : 'C', /*reset=*/true);
  }
  void on_write_drained() override {
    if (server_paused_ && conn_) {
      server_paused_ = false;
      conn_->stream().set_reading(true);
    }
    maybe_finish();
  }

  // Server side.
  void on_server_connected() override {
    if (done_) return;
    established_ = true;
    t_connected_ = rt_.now();
    if (!pending_.empty()) {
      conn_->stream().write(runtime::as_bytes(pending_));
      std::string().swap(pending_);
    }
    if (client_paused_) {
      client_paused_ = false;
      client_->set_reading(true);
    }
    if (client_eof_) conn_->stream().shutdown_write();
    // From here on bytes go socket to socket: splice(2) live, a copy elsewhere; this session only counts.
    client_->forward_to(&conn_->stream());
    conn_->stream().forward_to(client_.get());
    touch();
  }
  void on_forwarded(std::size_t bytes) override {  // client -> server
    svc_.mutable_counters().bytes_in += bytes;
    bytes_in_ += bytes;
    touch();
    if (conn_->stream().write_backlog() > kHighWater && !client_paused_)
      client_->set_reading(false), client_paused_ = true;
  }
  void on_server_forwarded(std::size_t bytes) override {  // server -> client
    svc_.mutable_counters().bytes_out += bytes;
    bytes_out_ += bytes;
    touch();
    if (client_->write_backlog() > kHighWater && !server_paused_)
      conn_->stream().set_reading(false), server_paused_ = true;
  }
  void on_server_data(ByteView data) override {
    if (done_) return;
    svc_.mutable_counters().bytes_out += data.size();
    bytes_out_ += data.size();
    client_->write(data);
    touch();
    if (client_->write_backlog() > kHighWater && !server_paused_)
      conn_->stream().set_reading(false), server_paused_ = true;
  }
  void on_server_shutdown() override {
    server_eof_ = true;
    client_->shutdown_write();
    maybe_finish();
  }
  void on_server_closed(std::error_code) override {
    if (done_) return;
    if (!established_) return retry_or_fail();
    end('S', 'D', /*reset=*/true);
  }
  void on_server_drained() override {
    if (client_paused_) {
      client_paused_ = false;
      client_->set_reading(true);
    }
    maybe_finish();
  }
  void on_server_slot(std::size_t server) override {
    queued_ = false;
    server_ = server;
    svc_.backend().acquire(server);
    holds_slot_ = true;
    connect();
  }

 private:
  void connect() {
    t_dispatched_ = rt_.now();
    ++attempts_;
    conn_ = svc_.backend().open(*server_, this, /*we_speak_first=*/false);  // the server may (MySQL, SMTP)
    arm(dur(svc_.backend().config().timeouts.connect));
  }

  void retry_or_fail() {
    ++svc_.mutable_counters().connect_failures;
    proxy::Backend& b = svc_.backend();
    if (conn_) {
      conn_->attach(nullptr);
      conn_.reset();
    }
    if (attempts_ <= b.config().timeouts.connect_retries) {
      ++retries_;
      if (attempts_ == b.config().timeouts.connect_retries && b.servers().size() > 1) {
        bool all_full = false;
        if (auto other = b.choose(client_ip_.ip, &all_full); other && *other != *server_) {
          b.release(*server_);
          server_ = other;
          b.acquire(*server_);
        }
      }
      return connect();
    }
    end('S', 'C', /*reset=*/false);
  }

  // No server: a LoadBalancer Service's port resets, as kube-proxy rejects; a ConfigMap's closes, as HAProxy.
  void refuse() {
    ++svc_.mutable_counters().no_server;
    end('S', 'C', /*reset=*/!svc_.config().service.empty());
  }

  // Inactivity: HAProxy's tunnel timeout once both sides are connected.
  void touch() { arm(dur(svc_.backend().config().timeouts.tunnel)); }
  void arm(Duration after) {
    deadline_ = rt_.now() + after;
    if (!timer_->armed() || armed_for_ > *deadline_) {
      armed_for_ = *deadline_;
      timer_->arm(after);
    }
  }
  void on_timer() {
    if (done_ || !deadline_) return;
    if (rt_.now() < *deadline_) {
      armed_for_ = *deadline_;
      timer_->arm(*deadline_ - rt_.now());
      return;
    }
    if (queued_) {
      svc_.backend().dequeue(this);
      queued_ = false;
      ++svc_.mutable_counters().no_server;
      return end('s', 'Q', false);
    }
    if (!established_) return retry_or_fail();
    end('s', 'D', false);  // idle too long: close both sides
  }

  void maybe_finish() {
    if (done_ || !client_eof_ || !server_eof_) return;
    if (client_->write_backlog() > 0 || (conn_ && conn_->stream().write_backlog() > 0)) return;
    end('-', '-', false);
  }

  void end(char t0, char t1, bool reset) {
    if (done_) return;
    done_ = true;
    term_[0] = t0;
    term_[1] = t1;
    client_->forward_to(nullptr);
    if (conn_) {
      conn_->stream().forward_to(nullptr);
      conn_->attach(nullptr);
      if (reset)
        conn_->stream().reset();
      else
        conn_->stream().close();
    }
    if (!client_gone_) {
      if (reset)
        client_->reset();
      else
        client_->close();
    }
    if (holds_slot_) {
      holds_slot_ = false;
      svc_.backend().release(*server_);
    }
    timer_->cancel();
    count();
    log();
    svc_.finished(this);
  }

  // Into the stats: the frontend's bytes, and the backend's and server's connection, bytes and times.
  void count() {
    stats::FrontendCounters& fe = svc_.frontend_stats();
    fe.bytes_in.add(bytes_in_);
    fe.bytes_out.add(bytes_out_);
    proxy::Backend& b = svc_.backend();
    auto ms = [](runtime::Instant a, runtime::Instant z) {
      return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(z - a).count());
    };
    for (stats::ServiceCounters* c :
         {static_cast<stats::ServiceCounters*>(&b.stats()),
          server_ ? static_cast<stats::ServiceCounters*>(&b.server_stats(*server_)) : nullptr}) {
      if (!c || !server_) continue;
      c->sessions_total.add();
      c->session_rate.add(runtime::milliseconds_of(t_start_));
      c->bytes_in.add(bytes_in_);
      c->bytes_out.add(bytes_out_);
      c->retries.add(retries_);
      if (!established_) c->connection_errors.add();
      if (established_) c->connect_ms.add(ms(t_dispatched_, t_connected_));
      c->total_ms.add(ms(t_start_, rt_.now()));
      c->last_session_ns.store(t_start_.time_since_epoch().count(), std::memory_order_relaxed);
    }
  }

  void log() {
    if (!svc_.logging()) return;
    const auto now = rt_.now();
    auto ms = [](runtime::Instant a, runtime::Instant b) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
    };
    std::string server = server_ ? svc_.backend().servers()[*server_].config.name : "<NOSRV>";
    char buf[256];
    long long tw = t_dispatched_ >= t_start_ ? ms(t_start_, t_dispatched_) : -1;
    long long tc = established_ ? ms(t_dispatched_, t_connected_) : -1;
    std::snprintf(buf, sizeof buf, " %lld/%lld/%lld %llu %c%c %zu/%zu/%d/%d/%u %d/%zu", tw, tc,
                  static_cast<long long>(ms(t_start_, now)), static_cast<unsigned long long>(bytes_out_),
                  term_[0], term_[1], svc_.sessions(), svc_.sessions(),
                  server_ ? svc_.backend().servers()[*server_].load.active : 0,
                  server_ ? svc_.backend().servers()[*server_].load.active : 0, retries_, 0,
                  svc_.backend().queued());
    std::string line = client_ip_.to_string() + " [" + proxy::format_log_date(svc_.unix_ms(t_start_)) + "] " +
                       svc_.config().name + " " + svc_.backend().name() + "/" + server + buf;
    svc_.log(line);
  }

  TcpService& svc_;
  runtime::Runtime& rt_;
  runtime::StreamConnectionPtr client_;
  net::SocketAddress client_ip_;
  proxy::ServerConnectionPtr conn_;
  runtime::TimerPtr timer_;
  std::optional<runtime::Instant> deadline_;
  runtime::Instant armed_for_{};
  std::optional<std::size_t> server_;
  std::string pending_;  // client bytes before the server connection is up
  bool established_ = false, client_eof_ = false, server_eof_ = false, done_ = false, client_gone_ = false;
  bool queued_ = false, holds_slot_ = false, client_paused_ = false, server_paused_ = false;
  int attempts_ = 0;
  unsigned retries_ = 0;
  std::uint64_t bytes_in_ = 0, bytes_out_ = 0;
  char term_[2] = {'-', '-'};
  runtime::Instant t_start_{}, t_dispatched_{}, t_connected_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

TcpService::TcpService(runtime::Runtime& rt, const proxy::L4ServiceConfig& config, tls::ServerContext* tls,
                       LogSink log, std::function<std::int64_t(runtime::Instant)> unix_ms)
    : TcpService(rt, std::make_shared<const proxy::L4ServiceConfig>(config), tls, std::move(log),
                 std::move(unix_ms)) {}

TcpService::TcpService(runtime::Runtime& rt, std::shared_ptr<const proxy::L4ServiceConfig> config,
                       tls::ServerContext* tls, LogSink log,
                       std::function<std::int64_t(runtime::Instant)> unix_ms)
    : rt_(rt),
      config_(std::move(config)),
      tls_(tls),
      log_(std::move(log)),
      unix_ms_(std::move(unix_ms)),
      backend_(rt, std::shared_ptr<const proxy::BackendConfig>(config_, &config_->backend)) {
  if (config_->client_ip_affinity)
    affinity_.emplace(std::chrono::duration_cast<runtime::Duration>(*config_->client_ip_affinity));
}

TcpService::~TcpService() {
  *alive_ = false;
  listener_.reset();
  sessions_.clear();
  finished_.clear();
}

std::optional<std::size_t> TcpService::choose(const net::IpAddress& client, bool* all_full) {
  if (affinity_) {
    if (auto s = affinity_->find(client, rt_.now())) {
      if (const auto load = backend_.load(*s); load.up && load.has_room()) return s;
    }
  }
  auto s = backend_.choose(client, all_full);
  if (s && affinity_) affinity_->remember(client, *s, rt_.now());
  return s;
}

std::error_code TcpService::start(TcpService* previous) {
  // A LoadBalancer Service's port without a server here is not listened on: the kernel refuses connections
  // to it at once, as kube-proxy rejects them.
  if (!config_->service.empty() && config_->backend.servers.empty()) return {};
  if (previous && previous->listener_ && previous->config_->bind == config_->bind) {
    listener_ = std::move(previous->listener_);
    target_ = std::move(previous->target_);
    *target_ = this;
  } else {
    std::error_code ec;
    runtime::ListenOptions lo;
    lo.reuse_port = true;
    target_ = std::make_shared<TcpService*>(this);
    listener_ = rt_.listen(
        config_->bind, lo,
        [target = target_](runtime::StreamConnectionPtr c) { (*target)->accept(std::move(c)); }, ec);
    if (ec) return ec;
  }
  backend_.start_checks();
  return {};
}

void TcpService::give_back(TcpService& previous) {
  if (!listener_ || previous.listener_) return;
  previous.listener_ = std::move(listener_);
  previous.target_ = std::move(target_);
  *previous.target_ = &previous;
}

void TcpService::accept(runtime::StreamConnectionPtr c) {
  ++counters_.connections;
  if (config_->ssl && tls_) c = tls_->wrap(rt_, std::move(c));
  auto s = std::make_unique<TcpSession>(*this, std::move(c));
  TcpSession* raw = s.get();
  sessions_.emplace(raw, std::move(s));
  raw->start();
}

void TcpService::finished(TcpSession* session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  finished_.push_back(std::move(it->second));
  sessions_.erase(it);
  if (finished_.size() == 1)
    rt_.post([this, alive = alive_] {
      if (*alive) finished_.clear();
    });
}

}  // namespace metalgate::l4
