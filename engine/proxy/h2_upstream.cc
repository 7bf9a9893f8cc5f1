#include "engine/proxy/h2_upstream.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <optional>

#include "engine/http2/h1_bridge.h"
#include "engine/proxy/backend.h"

namespace metalgate::proxy {

namespace {

// Frames wait for the socket while this much is queued towards the server (as towards clients).
constexpr std::size_t kHighWater = 256 * 1024;
// Pipes per connection even when a server allows more streams (HAProxy's tune.h2.be.max-concurrent-streams
// is unlimited; a bound keeps one connection's head-of-line blocking small).
constexpr std::uint32_t kMaxPipes = 100;
// How long a connection without pipes stays open for the next request (HAProxy's pool-purge-delay).
constexpr runtime::Duration kPoolPurgeDelay = std::chrono::seconds(5);

}  // namespace

// ------------------------------------------------------------------------------------------ the pipe

// What a ServerConnection of an h2 backend runs on: its session's HTTP/1.1 requests become streams of the
// upstream connection, their responses HTTP/1.1 again. Between requests it carries no stream.
class H2Upstream::Pipe final : public runtime::StreamConnection, public http2::RequestReader::Sink {
 public:
  Pipe(H2Upstream& up, std::uint64_t key, bool tls) : up_(&up), key_(key), reader_(tls ? "https" : "http") {}
  ~Pipe() override {
    *alive_ = false;
    // Body bytes its session never read still hold the connection's window: give them back, or every
    // stream cancelled while its client was slow would shrink the window the others share.
    if (up_ && held_raw_ > 0) {
      up_->session().consumed(stream_of_held_, held_raw_);
      up_->request_flush();  // the WINDOW_UPDATE (the stream may be over, with no flush of its own to come)
    }
    cancel_stream();
    if (up_) up_->detach(this);
  }
  std::uint64_t key() const { return key_; }
  const std::shared_ptr<bool>& alive() const { return alive_; }

  // From the connection (inside nghttp2 calls: held until pump()).
  void response_head(int status, const std::vector<http2::Field>& fields, bool end) {
    writer_.head(status, fields, end, held_);
  }
  void response_data(runtime::ByteView data) {
    writer_.body(data, held_);
    held_raw_ += data.size();
  }
  void response_end(const std::vector<http2::Field>& trailers) {
    writer_.end(trailers, held_);
    response_done_ = true;
  }
  void stream_closed(std::uint32_t error_code) {
    stream_ = -1;
    if (response_done_) return;
    error_ = std::make_error_code(error_code == NGHTTP2_REFUSED_STREAM ? std::errc::connection_refused
                                                                        : std::errc::connection_reset);
  }
  // The connection ended: the pipe is on its own, and its session hears `reason` after what it holds.
  void orphan(std::error_code reason) {
    up_ = nullptr;
    stream_ = -1;
    if (!error_) error_ = reason;
    reading_ = true;
  }
  // Outside nghttp2's calls: tells the session what happened since the last pump.
  void pump();

  // StreamConnection.
  void start(runtime::StreamHandler& handler) override { handler_ = &handler; }
  void write(runtime::ByteView data) override {
    if (closed_ || !up_ || error_) return;
    if (!reader_.feed(data, *this)) {
      cancel_stream();
      error_ = std::make_error_code(std::errc::protocol_error);
    }
    if (write_backlog() > 0) waits_drain_ = true;
    if (up_) up_->request_flush();
  }
  std::size_t write_backlog() const override {
    return up_ && stream_ >= 0 ? up_->session().buffered(stream_) : 0;
  }
  // A request's end is its framing's, which the stream carries; a tunnel's is the client's FIN.
  void shutdown_write() override {
    if (!up_ || stream_ < 0 || !writer_.switched()) return;
    up_->session().finish(stream_);
    up_->request_flush();
  }
  void close() override {
    if (!response_done_) cancel_stream();
    closed_ = true;
  }
  void reset() override {
    cancel_stream();
    closed_ = true;
  }
  void set_reading(bool enabled) override {
    reading_ = enabled;
    if (enabled && !held_.empty() && up_) up_->request_flush();
  }
  void forward_to(runtime::StreamConnection*) override {}  // the session relays a tunnel's bytes itself
  net::SocketAddress local_address() const override {
    return up_ && up_->stream() ? up_->stream()->local_address() : net::SocketAddress{};
  }
  net::SocketAddress peer_address() const override {
    return up_ && up_->stream() ? up_->stream()->peer_address() : net::SocketAddress{};
  }
  std::string_view application_protocol() const override { return "h2"; }

  // RequestReader::Sink.
  void on_request(http2::Request request, bool end_stream) override {
    if (stream_ >= 0 || pending_) return fail_write();  // a second request before the first one's response
    writer_ = http2::ResponseWriter(request.method == "HEAD", request.protocol, reader_.websocket_key());
    response_done_ = false;
    if (!request.protocol.empty() && !up_->session().settings_received()) {
      pending_ = std::move(request);  // whether the server takes an extended CONNECT is in its SETTINGS
      return;
    }
    submit(request, end_stream);
  }
  void submit(const http2::Request& request, bool end_stream) {
    if (!request.protocol.empty() && !up_->session().extended_connect()) {
      // RFC 8441 §3: without SETTINGS_ENABLE_CONNECT_PROTOCOL the server cannot take it. 502, as HAProxy.
      up_->runtime().logger().log(runtime::LogLevel::kWarning, "proxy", "h2-server-refuses-upgrade",
                                  {{"upgrade", request.protocol}});
      return fail_write();
    }
    stream_ = up_->session().submit(request, end_stream);
    if (stream_ < 0) return fail_write(std::errc::connection_refused);  // GOAWAY came: another connection
    up_->bind(stream_, this);
    stream_of_held_ = stream_;
  }
  void on_request_body(runtime::ByteView data) override {
    if (stream_ >= 0) up_->session().send_data(stream_, data);
  }
  void on_request_end(std::vector<http2::Field> trailers) override {
    if (stream_ >= 0) up_->session().finish(stream_, std::move(trailers));
  }

 private:
  void cancel_stream() {
    if (!up_ || stream_ < 0) return;
    up_->session().reset(stream_, NGHTTP2_CANCEL);
    up_->unbind(stream_);
    stream_ = -1;
    up_->request_flush();
  }
  void fail_write(std::errc why = std::errc::protocol_error) {
    cancel_stream();
    error_ = std::make_error_code(why);
  }
  bool deliver_held();

  H2Upstream* up_;
  const std::uint64_t key_;
  http2::RequestReader reader_;
  http2::ResponseWriter writer_{false};
  runtime::StreamHandler* handler_ = nullptr;
  std::int32_t stream_ = -1;          // the stream carrying the current request, while open
  std::int32_t stream_of_held_ = -1;  // whose window the held body bytes take
  std::string held_;                  // response bytes (HTTP/1.1) the session has not been given
  std::size_t held_raw_ = 0;          // of which body bytes of the stream, to give back as window
  std::optional<std::error_code> error_;
  std::optional<http2::Request> pending_;  // an extended CONNECT waiting for the server's SETTINGS
  bool told_connected_ = false;
  bool told_end_ = false;  // a tunnel's end from the server was passed on as the peer's FIN
  bool response_done_ = true;
  bool reading_ = true;
  bool waits_drain_ = false;
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

bool H2Upstream::Pipe::deliver_held() {
  if (held_.empty() || !reading_) return true;
  auto alive = alive_;
  std::string bytes;
  bytes.swap(held_);
  const std::size_t raw = std::exchange(held_raw_, 0);
  if (up_) {
    up_->session().consumed(stream_of_held_, raw);
    if (raw > 0) up_->request_flush();  // the WINDOW_UPDATE
  }
  handler_->on_data(runtime::as_bytes(bytes));
  return *alive && !closed_;
}

void H2Upstream::Pipe::pump() {
  if (!handler_ || closed_) return;
  auto alive = alive_;
  if (!told_connected_ && up_ && up_->connected()) {
    told_connected_ = true;
    handler_->on_connected();
    if (!*alive || closed_) return;
  }
  if (pending_ && up_ && up_->session().settings_received()) {
    http2::Request request = std::move(*pending_);
    pending_.reset();
    submit(request, false);
    // The HEADERS go out now: the SETTINGS may have been the server's last bytes for a while (with its ACK
    // of ours in the same read), and live no write-drained callback comes to flush them later.
    if (up_) up_->request_flush();
  }
  if (!deliver_held()) return;
  if (error_ && held_.empty()) {
    closed_ = true;
    return handler_->on_closed(*error_);
  }
  if (response_done_ && writer_.switched() && !told_end_ && held_.empty()) {
    told_end_ = true;  // the server ended its side of the tunnel
    handler_->on_peer_shutdown();
    if (!*alive || closed_) return;
  }
  if (waits_drain_ && write_backlog() == 0) {
    waits_drain_ = false;
    handler_->on_write_drained();
  }
}

// ------------------------------------------------------------------------------------------ the connection

H2Upstream::H2Upstream(H2Pool& pool, runtime::Runtime& rt)
    : pool_(pool), rt_(rt), session_(*this, http2::Settings{}) {}

H2Upstream::~H2Upstream() {
  *alive_ = false;
  for (auto& [key, pipe] : pipes_)
    pipe->orphan(std::make_error_code(std::errc::connection_aborted));
}

std::unique_ptr<H2Upstream::Pipe> H2Upstream::attach() {
  auto pipe = std::make_unique<Pipe>(*this, next_pipe_++, pool_.backend().config().tls.has_value());
  pipes_[pipe->key()] = pipe.get();
  if (idle_timer_) idle_timer_->cancel();
  request_flush();  // tells it of the connection when already up
  return pipe;
}

void H2Upstream::detach(Pipe* pipe) {
  pipes_.erase(pipe->key());
  if (!pipes_.empty() || failed_) return;
  // The last pipe left: the connection waits for the next request a while, as HAProxy keeps idle server
  // connections for pool-purge-delay.
  if (!idle_timer_)
    idle_timer_ = rt_.create_timer([this] {
      if (!pipes_.empty() || failed_) return;
      failed_ = true;
      if (stream_) stream_->close();
      pool_.retire(this);
    });
  idle_timer_->arm(kPoolPurgeDelay);
}

bool H2Upstream::has_room() const {
  if (failed_ || session_.closing()) return false;
  return pipes_.size() < std::min(kMaxPipes, session_.max_streams());
}

H2Upstream::Pipe* H2Upstream::pipe_of(std::int32_t stream) {
  auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : it->second;
}

void H2Upstream::on_connected() {
  connected_ = true;
  flush();
}

void H2Upstream::on_data(runtime::ByteView data) {
  if (failed_) return;
  receiving_ = true;
  const bool ok = session_.receive(data);
  receiving_ = false;
  flush();
  // After the GOAWAY went out: ours for an error, or the server's once its last stream is done.
  if (!ok || session_.finished()) fail(std::make_error_code(std::errc::protocol_error));
}

void H2Upstream::on_peer_shutdown() {
  fail(std::make_error_code(std::errc::connection_reset));
}

void H2Upstream::on_closed(std::error_code reason) {
  fail(reason);
}

void H2Upstream::fail(std::error_code reason) {
  if (failed_) return;
  failed_ = true;
  connected_ = false;
  std::vector<std::pair<Pipe*, std::shared_ptr<bool>>> pipes;
  for (auto& [key, pipe] : pipes_) {
    pipe->orphan(reason);
    pipes.emplace_back(pipe, pipe->alive());
  }
  pipes_.clear();
  streams_.clear();
  if (idle_timer_) idle_timer_->cancel();
  if (stream_) stream_->close();
  pool_.retire(this);
  for (auto& [pipe, alive] : pipes)  // each session may end others' pipes as it hears
    if (*alive) pipe->pump();
}

// ------------------------------------------------------------------------------------------ streams

void H2Upstream::on_response(std::int32_t stream, int status, std::vector<http2::Field> fields, bool end) {
  if (Pipe* p = pipe_of(stream)) p->response_head(status, fields, end);
}

void H2Upstream::on_response_data(std::int32_t stream, runtime::ByteView data) {
  if (Pipe* p = pipe_of(stream))
    p->response_data(data);
  else
    session_.consumed(stream, data.size());  // its session went away: the window is the connection's too
}

void H2Upstream::on_response_end(std::int32_t stream, std::vector<http2::Field> trailers) {
  if (Pipe* p = pipe_of(stream)) p->response_end(trailers);
}

void H2Upstream::on_stream_closed(std::int32_t stream, std::uint32_t error_code) {
  Pipe* p = pipe_of(stream);
  if (!p) return;
  streams_.erase(stream);
  p->stream_closed(error_code);
  request_flush();
}

// ------------------------------------------------------------------------------------------ output

void H2Upstream::request_flush() {
  if (flushing_) {
    flush_again_ = true;
    return;
  }
  if (receiving_ || flush_posted_ || failed_) return;  // on_data flushes after receiving
  flush_posted_ = true;
  rt_.post([this, alive = alive_] {
    if (!*alive) return;
    flush_posted_ = false;
    flush();
  });
}

void H2Upstream::flush() {
  if (failed_ || receiving_ || flushing_ || !stream_) return;
  flushing_ = true;
  std::vector<std::uint64_t> keys;
  do {
    flush_again_ = false;
    while (!failed_ && stream_->write_backlog() < kHighWater) {
      out_.clear();
      session_.take_outgoing(out_, kHighWater);
      if (out_.empty()) break;
      stream_->write(runtime::as_bytes(out_));
    }
    keys.clear();
    for (const auto& [key, pipe] : pipes_)
      keys.push_back(key);
    for (std::uint64_t key : keys)  // a session may end its pipe or another one meanwhile
      if (auto it = pipes_.find(key); it != pipes_.end() && !failed_) it->second->pump();
  } while (flush_again_ && !failed_);
  flushing_ = false;
  if (out_.capacity() > 64 * 1024) std::string().swap(out_);
  if (streams_.empty() && !failed_) session_.release_idle_memory();
}

// ------------------------------------------------------------------------------------------ the pool

H2Pool::~H2Pool() {
  *alive_ = false;
}

runtime::StreamConnectionPtr H2Pool::open_pipe() {
  for (auto& up : upstreams_)
    if (up->has_room()) return up->attach();
  auto up = std::make_unique<H2Upstream>(*this, backend_.runtime());
  up->connect(backend_.connect_h2(server_, *up));
  upstreams_.push_back(std::move(up));
  return upstreams_.back()->attach();
}

void H2Pool::retire(H2Upstream* upstream) {
  auto it = std::find_if(upstreams_.begin(), upstreams_.end(), [&](auto& u) { return u.get() == upstream; });
  if (it == upstreams_.end()) return;
  retired_.push_back(std::move(*it));
  upstreams_.erase(it);
  if (retired_.size() == 1)
    backend_.runtime().post([this, alive = alive_] {
      if (*alive) retired_.clear();
    });
}

}  // namespace metalgate::proxy
