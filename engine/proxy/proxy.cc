#include "engine/proxy/proxy.h"

#include <algorithm>

#include "engine/l4/forwarding.h"
#include "engine/l4/tcp_service.h"
#include "engine/l4/udp_service.h"
#include "engine/proxy/h2_connection.h"
#include "engine/proxy/http_session.h"
#include "engine/proxy/proxy_protocol.h"
#include "engine/proxy/ssl_passthrough.h"
#include "engine/runtime/wrapped_stream.h"
#include "engine/tls/tls_stream.h"

namespace metalgate::proxy {

namespace {

// A connection from a proxy-protocol source (HAProxy's `tcp-request connection expect-proxy layer4`): its
// PROXY header is read and taken off before anything reaches its handler (the HTTP session, or the TLS layer
// under it), and from then on peer_address() is the client the header names (the connection's own for v1
// UNKNOWN and v2 LOCAL). A connection whose first bytes are not a valid header is reset, as HAProxy does;
// `on_error` hears why, then the handler hears on_closed. Everything else passes straight through.
class ProxyHeaderStream final : public runtime::WrappedStream {
 public:
  ProxyHeaderStream(runtime::StreamConnectionPtr raw, std::function<void(const std::string&)> on_error)
      : WrappedStream(std::move(raw)), on_error_(std::move(on_error)) {}

  net::SocketAddress peer_address() const override { return source_.value_or(raw_->peer_address()); }

  void on_data(runtime::ByteView data) override {
    if (!reading_header_) return handler_->on_data(data);
    header_.append(runtime::as_chars(data));
    const proxy_protocol::Header h = proxy_protocol::parse(header_);
    if (h.status == proxy_protocol::Status::kNeedMore) return raw_->ack_promptly();
    if (h.status == proxy_protocol::Status::kError) {
      if (on_error_) on_error_(h.error);
      raw_->reset();
      return handler_->on_closed(std::make_error_code(std::errc::protocol_error));
    }
    reading_header_ = false;
    source_ = h.source;
    std::string rest = header_.substr(h.length);
    std::string().swap(header_);
    if (!rest.empty()) handler_->on_data(runtime::as_bytes(rest));
  }

 private:
  std::function<void(const std::string&)> on_error_;
  bool reading_header_ = true;
  std::string header_;  // the header's bytes while incomplete
  std::optional<net::SocketAddress> source_;
};

}  // namespace

// The handler of a TLS connection until its session is chosen by the protocol its handshake agreed on
// (ALPN), which is known when the first plaintext arrives: `choose` then gives the connection to a session,
// whose start() makes that session the TLS stream's handler (TlsStream::start again only swaps handlers),
// and gives that handler the bytes that decided. A connection that sends nothing is given to a session at
// timeout-http-request all the same, which then times it out as it times out any silent connection. Once
// the choice is made nothing of this stays with the connection: no layer between the TLS stream and its
// session (about 330 bytes per idle HTTP/2 connection with the timer it had, h2_vs_haproxy.sh). Until then
// its deadline waits in the proxy's DeadlineQueue, as the sessions' do, not in a timer of its own.
class AlpnChooser final : public runtime::StreamHandler, public DeadlineOwner {
 public:
  // Returns the chosen session's handler.
  using Choose = std::function<runtime::StreamHandler&(AlpnChooser&)>;
  AlpnChooser(DeadlineQueue& deadlines, runtime::Instant now, std::uint64_t opened, Choose on_choose,
              std::function<void(AlpnChooser&)> on_gone)
      : deadlines_(deadlines),
        choose_(std::move(on_choose)),
        gone_(std::move(on_gone)),
        accepted_(now),
        opened_(opened) {}
  ~AlpnChooser() { forget_deadline(); }
  AlpnChooser(const AlpnChooser&) = delete;
  AlpnChooser& operator=(const AlpnChooser&) = delete;

  runtime::Instant accepted() const { return accepted_; }
  std::uint64_t opened() const { return opened_; }
  void begin(runtime::StreamConnection& tls, runtime::Duration request_timeout) {
    tls_ = &tls;
    deadline_ = deadlines_.add(accepted_ + request_timeout, this);
    tls.start(*this);
  }

  void on_data(runtime::ByteView data) override {
    if (!chosen_) choose().on_data(data);
  }
  void on_peer_shutdown() override {
    if (!chosen_) tls_->close();
    gone();
  }
  void on_closed(std::error_code) override { gone(); }
  void on_write_drained() override {}  // the handshake's flight left; no session to tell yet
  void on_deadline() override {        // timeout-http-request: a session times the connection out
    deadline_.reset();                 // the queue has let go of the entry
    if (!chosen_) choose();
  }

 private:
  runtime::StreamHandler& choose() {
    chosen_ = true;
    forget_deadline();
    return choose_(*this);
  }
  void gone() {
    if (chosen_) return;
    chosen_ = true;
    forget_deadline();
    gone_(*this);
  }
  void forget_deadline() {
    if (deadline_) deadlines_.remove(*deadline_);
    deadline_.reset();
  }

  DeadlineQueue& deadlines_;
  Choose choose_;
  std::function<void(AlpnChooser&)> gone_;
  runtime::Instant accepted_;
  std::uint64_t opened_;
  std::optional<DeadlineQueue::Handle> deadline_;  // in the proxy's queue until the choice
  runtime::StreamConnection* tls_ = nullptr;       // beside this in Proxy::choosing_
  bool chosen_ = false;                            // or gone
};

namespace {

// A backend counts into this loop's blocks of its name and its servers' names.
void count_backend_into(Backend& backend, stats::Registry& registry, int loop) {
  std::vector<stats::ServerCounters*> servers;
  for (const ServerState& s : backend.servers())
    servers.push_back(&registry.server(loop, backend.name(), s.config.name));
  backend.count_into(&registry.backend(loop, backend.name()), std::move(servers));
}

}  // namespace

Proxy::Proxy(runtime::Runtime& rt, std::shared_ptr<const ProxyConfig> config, ProxyOptions options)
    : rt_(rt), config_(std::move(config)), options_(std::move(options)) {
  auto* shared = options_.shared.get();
  if (!options_.stats) options_.stats = std::make_shared<stats::Registry>();
  for (const Frontend& fe : config_->frontends)
    frontend_stats_.push_back(&options_.stats->frontend(options_.loop, fe.name));
  for (std::size_t i = 0; i < config_->backends.size(); ++i) {
    backends_.push_back(
        std::make_unique<Backend>(rt_, std::shared_ptr<const BackendConfig>(config_, &config_->backends[i]),
                                  shared ? shared->servers(i) : nullptr, options_.primary));
    backends_.back()->share_probes(&probes_);
    count_backend_into(*backends_.back(), *options_.stats, options_.loop);
  }
  for (std::size_t i = 0; i < config_->rate_periods.size(); ++i)
    rate_tables_.push_back(shared ? shared->rate_table(i)
                                  : std::make_shared<RateTable>(std::chrono::duration_cast<runtime::Duration>(
                                        config_->rate_periods[i])));
}

Proxy::~Proxy() {
  *alive_ = false;
  listeners_.clear();
  peeking_.clear();
  gone_.clear();
  if (options_.shared) options_.shared->client_connections -= choosing_.size();
  choosing_.clear();  // in accept order
  unchosen_.clear();
  chosen_.clear();
  passthrough_.clear();
  tcp_services_.clear();
  udp_services_.clear();
  // Sessions go first: they hand their connections back to the backends.
  if (options_.shared) options_.shared->client_connections -= sessions_.size();
  for (ClientSession* s : sessions_in_order())
    sessions_.erase(s);
  finished_.clear();
}

std::error_code Proxy::start(Proxy* previous) {
  // Listeners taken over from `previous` (its index, ours), given back if this start fails.
  std::vector<std::pair<std::size_t, std::size_t>> taken;
  std::vector<std::pair<l4::TcpService*, l4::TcpService*>> services_taken;  // ours, theirs
  auto give_back = [&] {
    for (auto [theirs, ours] : taken) {
      previous->listeners_[theirs] = std::move(listeners_[ours]);
      *previous->listeners_[theirs].target = {previous, theirs};
    }
    for (auto [ours, theirs] : services_taken)
      ours->give_back(*theirs);
    listeners_.clear();
  };
  if (auto ec = start_tls()) return ec;
  for (std::size_t i = 0; i < config_->frontends.size(); ++i) {
    if (auto j = previous ? previous->listener_on(config_->frontends[i].bind) : std::nullopt) {
      listeners_.push_back(std::move(previous->listeners_[*j]));
      *listeners_.back().target = {this, i};
      taken.emplace_back(*j, i);
      continue;
    }
    std::error_code ec;
    runtime::ListenOptions lo;
    lo.reuse_port = true;
    lo.delay_ack = true;  // HTTP: a request's ACK rides on its response (HttpSession asks for prompt ACKs)
    auto target = std::make_shared<AcceptTarget>(AcceptTarget{this, i});
    auto listener = rt_.listen(
        config_->frontends[i].bind, lo,
        [target](runtime::StreamConnectionPtr c) { target->proxy->accept(target->frontend, std::move(c)); },
        ec);
    if (ec) {
      rt_.logger().log(runtime::LogLevel::kError, "proxy", "listen-failed",
                       {{"frontend", config_->frontends[i].name},
                        {"address", config_->frontends[i].bind.to_string()},
                        {"error", ec.message()}});
      give_back();
      return ec;
    }
    listeners_.push_back({std::move(listener), std::move(target)});
  }
  for (const auto& l4 : config_->l4_services) {
    if (!options_.primary) break;  // the TCP and UDP services run in the primary loop only
    if (l4.udp) continue;          // start_datagram_services()
    if (l4.ssl && !tls_)
      rt_.logger().log(runtime::LogLevel::kWarning, "proxy", "tcp-ssl-without-certificate",
                       {{"service", l4.name}});
    l4::TcpService::LogSink sink;
    if (options_.access_log)
      sink = [this, alive = alive_](std::string_view line) {
        if (*alive) options_.access_log(line);
      };
    auto svc = std::make_unique<l4::TcpService>(
        rt_, l4::config_on_node(std::shared_ptr<const L4ServiceConfig>(config_, &l4), options_.node), tls_,
        std::move(sink), [this](runtime::Instant t) { return unix_ms(t); });
    l4::TcpService* theirs = nullptr;
    if (previous)
      for (auto& old : previous->tcp_services_)
        if (old->config().bind == l4.bind) theirs = old.get();
    count_into_registry(*svc, l4.name);
    svc->backend().share_probes(&probes_);
    auto ec = svc->start(theirs);
    if (!ec && theirs) services_taken.emplace_back(svc.get(), theirs);
    tcp_services_.push_back(std::move(svc));
    if (ec) {
      rt_.logger().log(runtime::LogLevel::kError, "proxy", "listen-failed",
                       {{"service", l4.name}, {"address", l4.bind.to_string()}, {"error", ec.message()}});
      give_back();
      tcp_services_.clear();
      return ec;
    }
  }
  if (auto ec = start_datagram_services()) {
    give_back();
    tcp_services_.clear();
    return ec;
  }
  start_passthrough();
  for (auto& b : backends_)
    b->start_checks();
  return {};
}

std::error_code Proxy::start_tls() {
  if (options_.shared) {
    tls_ = options_.shared->tls();
  } else if (!config_->tls.certificates.empty()) {
    auto made = make_tls_context(*config_);
    if (!made) {
      rt_.logger().log(runtime::LogLevel::kError, "proxy", "tls-config", {{"error", made.error()}});
      return std::make_error_code(std::errc::invalid_argument);
    }
    own_tls_ = std::move(*made);
    tls_ = own_tls_.get();
  }
  return {};
}

void Proxy::start_passthrough() {
  for (const auto& p : config_->passthrough_services) {
    l4::TcpService::LogSink sink;
    if (options_.access_log)
      sink = [this, alive = alive_](std::string_view line) {
        if (*alive) options_.access_log(line);
      };
    auto unix_time = [this](runtime::Instant t) { return unix_ms(t); };
    passthrough_.push_back(std::make_unique<l4::TcpService>(rt_, p, nullptr, std::move(sink), unix_time));
    count_into_registry(*passthrough_.back(), "https");
    passthrough_.back()->backend().share_probes(&probes_);
    passthrough_.back()->start_unlistened();
  }
}

std::error_code Proxy::start_datagram_services() {
  udp_services_.clear();
  for (const auto& l4 : config_->l4_services) {
    if (!options_.primary || !l4.udp) continue;  // the primary loop runs them
    auto svc = std::make_unique<l4::UdpService>(
        rt_, l4::config_on_node(std::shared_ptr<const L4ServiceConfig>(config_, &l4), options_.node));
    svc->backend().share_probes(&probes_);
    if (auto ec = svc->start()) {
      rt_.logger().log(runtime::LogLevel::kError, "proxy", "listen-failed",
                       {{"service", l4.name}, {"address", l4.bind.to_string()}, {"error", ec.message()}});
      udp_services_.clear();
      return ec;
    }
    udp_services_.push_back(std::move(svc));
  }
  return {};
}

void Proxy::release_datagram_ports() {
  udp_services_.clear();
}

void Proxy::stop_accepting() {
  listeners_.clear();
  for (auto& svc : tcp_services_)
    svc->stop_listening();
  udp_services_.clear();
}

void Proxy::drain(runtime::Duration keep_accepting) {
  if (keep_accepting > runtime::Duration::zero()) {
    stop_accepting_timer_ = rt_.create_timer([this] { stop_accepting(); });
    stop_accepting_timer_->arm(keep_accepting);
  } else {
    stop_accepting();
  }
  draining_ = true;
  // A session that closes leaves sessions_ (Proxy::finished); one that closed already is not drained.
  for (ClientSession* session : sessions_in_order())
    if (sessions_.count(session)) session->drain();
}

bool Proxy::idle() const {
  if (!sessions_.empty() || !peeking_.empty() || !choosing_.empty()) return false;
  for (const auto* list : {&tcp_services_, &passthrough_})
    for (const auto& svc : *list)
      if (svc->sessions() > 0) return false;
  return true;
}

net::SocketAddress Proxy::frontend_address(std::size_t index) const {
  return listeners_.at(index).listener->local_address();
}

std::optional<std::size_t> Proxy::listener_on(const net::SocketAddress& bind) const {
  for (std::size_t j = 0; j < listeners_.size() && j < config_->frontends.size(); ++j)
    if (listeners_[j].listener && config_->frontends[j].bind == bind) return j;
  return std::nullopt;
}

void Proxy::accept(std::size_t frontend, runtime::StreamConnectionPtr connection) {
  if (config_->maxconn && client_connections() >= config_->maxconn) {
    connection->close();  // HAProxy would leave it in the backlog; refusing keeps memory bounded
    return;
  }
  ++counters_.connections;
  if (expects_proxy_header(connection->peer_address().ip)) {
    // Before TLS: the load balancer's header precedes the ClientHello.
    const std::string peer = connection->peer_address().to_string();
    connection = std::make_unique<ProxyHeaderStream>(
        std::move(connection), [this, alive = alive_, peer](const std::string& why) {
          if (!*alive) return;
          ++counters_.bad_proxy_headers;
          rt_.logger().log(runtime::LogLevel::kDebug, "proxy", "bad-proxy-header",
                           {{"client", peer}, {"reason", why}});
        });
  }
  if (config_->frontends[frontend].tls && !passthrough_.empty())
    return peek_hello(frontend, std::move(connection));
  terminate(frontend, std::move(connection));
}

void Proxy::count_into_registry(l4::TcpService& service, const std::string& frontend) {
  service.count_into(&options_.stats->frontend(options_.loop, frontend));
  count_backend_into(service.backend(), *options_.stats, options_.loop);
}

void Proxy::peek_hello(std::size_t frontend, runtime::StreamConnectionPtr connection) {
  auto decided = [this, frontend](ClientHelloStream& s, const tls::ClientHelloPeek& peek) {
    auto it = peeking_.find(&s);
    runtime::StreamConnectionPtr c = std::move(it->second);
    peeking_.erase(it);
    std::optional<std::size_t> to;
    if (peek.status == tls::ClientHelloPeek::Status::kHello)
      to = passthrough_for(config_->passthrough_hosts, peek.server_name);
    if (!to) return terminate(frontend, std::move(c));
    ++counters_.passed_through;
    passthrough_[*to]->adopt(std::move(c));
  };
  auto gone = [this](ClientHelloStream& s) {
    auto it = peeking_.find(&s);
    gone_.push_back(std::move(it->second));
    peeking_.erase(it);
    if (gone_.size() == 1)
      rt_.post([this, alive = alive_] {
        if (*alive) gone_.clear();
      });
  };
  auto inspect = std::chrono::duration_cast<runtime::Duration>(config_->frontend_timeouts.client);
  auto peek = std::make_unique<ClientHelloStream>(rt_, std::move(connection), inspect, decided, gone);
  ClientHelloStream* raw = peek.get();
  peeking_.emplace(raw, std::move(peek));
  raw->begin();
}

void Proxy::terminate(std::size_t frontend, runtime::StreamConnectionPtr connection) {
  const Frontend& fe = config_->frontends[frontend];
  if (fe.tls && !tls_) return connection->reset();  // ssl-passthrough alone: no certificate to answer with
  if (options_.shared) ++options_.shared->client_connections;
  if (fe.tls) {
    connection = tls_->wrap(rt_, std::move(connection), [this, alive = alive_](const std::string& why) {
      if (!*alive) return;
      ++counters_.tls_handshake_failures;
      rt_.logger().log(runtime::LogLevel::kDebug, "proxy", "tls-handshake-failed", {{"reason", why}});
    });
  }
  if (!fe.tls ||
      std::find(config_->tls.alpn.begin(), config_->tls.alpn.end(), "h2") == config_->tls.alpn.end())
    return void(open_session(fe, std::move(connection)));
  auto choose = [this, &fe](AlpnChooser& s) -> runtime::StreamHandler& {
    auto it = choosing_.find(s.opened());
    runtime::StreamConnectionPtr c = std::move(it->second.tls);
    retire(std::move(it->second.chooser));  // on the stack: the caller goes on with the session's handler
    choosing_.erase(it);
    return open_session(fe, std::move(c), s.accepted());
  };
  auto gone = [this](AlpnChooser& s) {
    auto it = choosing_.find(s.opened());
    if (it == choosing_.end()) return;
    unchosen_.push_back(std::move(it->second.tls));
    retire(std::move(it->second.chooser));
    choosing_.erase(it);
    if (options_.shared) --options_.shared->client_connections;
  };
  auto chooser = std::make_unique<AlpnChooser>(deadlines_, rt_.now(), ++opened_, choose, gone);
  AlpnChooser* raw = chooser.get();
  runtime::StreamConnection& tls = *connection;
  choosing_.emplace(raw->opened(), Choosing{std::move(chooser), std::move(connection)});
  raw->begin(tls, std::chrono::duration_cast<runtime::Duration>(config_->frontend_timeouts.http_request));
}

void Proxy::retire(std::unique_ptr<AlpnChooser> chooser) {
  chosen_.push_back(std::move(chooser));
  if (chosen_.size() == 1)
    rt_.post([this, alive = alive_] {
      if (!*alive) return;
      chosen_.clear();
      unchosen_.clear();
    });
}

runtime::StreamHandler& Proxy::open_session(const Frontend& fe, runtime::StreamConnectionPtr connection,
                                            std::optional<runtime::Instant> accepted) {
  if (connection->application_protocol() == "h2") {
    auto session = std::make_unique<H2Connection>(*this, fe, std::move(connection));
    H2Connection* raw = session.get();
    raw->opened = ++opened_;
    sessions_.emplace(raw, std::move(session));
    raw->start(accepted);
    return *raw;
  }
  auto session = std::make_unique<HttpSession>(*this, fe, std::move(connection));
  HttpSession* raw = session.get();
  raw->opened = ++opened_;
  sessions_.emplace(raw, std::move(session));
  raw->start(accepted);
  return *raw;
}

std::vector<ClientSession*> Proxy::sessions_in_order() const {
  std::vector<ClientSession*> out;
  out.reserve(sessions_.size());
  for (const auto& [session, owned] : sessions_)
    out.push_back(session);
  std::sort(out.begin(), out.end(),
            [](const ClientSession* a, const ClientSession* b) { return a->opened < b->opened; });
  return out;
}

bool Proxy::expects_proxy_header(const net::IpAddress& source) const {
  const auto& sources = config_->proxy_protocol_sources;
  return std::any_of(sources.begin(), sources.end(), [&](const net::Cidr& c) { return c.contains(source); });
}

void Proxy::finished(ClientSession* session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  finished_.push_back(std::move(it->second));
  sessions_.erase(it);
  if (options_.shared) --options_.shared->client_connections;
  if (!sweeping_) {
    sweeping_ = true;
    rt_.post([this, alive = alive_] {
      if (!*alive) return;
      finished_.clear();
      sweeping_ = false;
    });
  }
}

std::size_t Proxy::client_connections() const {
  return options_.shared ? options_.shared->client_connections.load() : sessions_.size() + choosing_.size();
}

void Proxy::log_access(const AccessRecord& record) {
  if (options_.access_log) options_.access_log(format_access_record(record));
}

std::int64_t Proxy::unix_ms(runtime::Instant t) const {
  if (options_.unix_ms) return options_.unix_ms(t);
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace metalgate::proxy
