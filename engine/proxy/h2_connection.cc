#include "engine/proxy/h2_connection.h"

#include <nghttp2/nghttp2.h>

#include "engine/http/chunked.h"
#include "engine/http/websocket.h"
#include "engine/http2/h1_bridge.h"
#include "engine/proxy/http_session.h"
#include "engine/proxy/proxy.h"

namespace metalgate::proxy {

namespace {

// Frames wait for the socket while this much is queued towards the client (the HTTP/1 session's bound).
constexpr std::size_t kHighWater = 256 * 1024;

http2::Settings settings_for(const ProxyConfig& config) {
  http2::Settings s;
  // A request's header list may be as large as an HTTP/1 head may be, with HTTP/2's 32 bytes per field; the
  // HTTP/1 parser then judges the head the bridge writes against the same limit.
  s.max_header_list_size =
      static_cast<std::uint32_t>(config.limits.max_head_bytes + 32 * config.limits.max_headers);
  return s;
}

}  // namespace

// ------------------------------------------------------------------------------------------ the pipe

// One stream as a StreamConnection for its HttpSession: what the connection delivers is the request in
// HTTP/1.1; what the session writes is read back (http2::ResponseReader) into the stream.
class H2Connection::Pipe final : public runtime::StreamConnection, public http2::ResponseReader::Sink {
 public:
  // `tunnel`: an extended CONNECT, whose DATA go to the session as they are (after the switch, the tunnel's).
  Pipe(H2Connection& c, std::int32_t id, bool head, bool chunked, bool tunnel)
      : c_(c), id_(id), reader_(head, tunnel), chunked_(chunked) {}
  ~Pipe() override {
    // Request bytes its session never read still hold the client's connection window: give them back (a
    // pipe dies after its stream's last flush, so the WINDOW_UPDATE needs one of its own).
    if (held_raw_ > 0) {
      c_.session().consumed(id_, held_raw_);
      c_.request_flush();
    }
    if (!closed_) c_.session().reset(id_, NGHTTP2_INTERNAL_ERROR);
  }

  // From the connection: the request head as it is, then body bytes (chunk-framed when chunked).
  void deliver_head(runtime::ByteView head) { hand_on(head, 0); }
  void deliver(runtime::ByteView data) {
    if (closed_) return c_.session().consumed(id_, data.size());
    if (chunked_ && !data.empty()) {
      std::string chunk;
      http::append_chunk(chunk, data);
      return hand_on(runtime::as_bytes(chunk), data.size());
    }
    hand_on(data, data.size());
  }
  void end_request() {
    if (closed_) return;
    if (chunked_) {
      std::string last;
      http::append_last_chunk(last, {});
      hand_on(runtime::as_bytes(last), 0);
    }
    ended_ = true;
    if (held_.empty() && handler_) handler_->on_peer_shutdown();
  }
  bool request_ended() const { return ended_; }
  // The stream was reset or the connection ended under the session.
  void abort(std::error_code why) {
    if (closed_) return;
    closed_ = true;
    if (handler_) handler_->on_closed(why);
  }
  // Called by the connection's flush, outside any call of the session: bytes held while it did not read go
  // to it now, and it hears that its backlog went.
  void pump() {
    if (reading_ && !held_.empty()) release_held();
    if (!closed_ && waits_drain_ && handler_ && write_backlog() == 0) {
      waits_drain_ = false;
      handler_->on_write_drained();
    }
  }
  bool closed() const { return closed_; }

  // StreamConnection.
  void start(runtime::StreamHandler& handler) override { handler_ = &handler; }
  void write(runtime::ByteView data) override {
    if (closed_) return;
    if (!reader_.feed(data, *this)) return fail();
    if (write_backlog() > 0) waits_drain_ = true;
    c_.request_flush();
  }
  std::size_t write_backlog() const override { return c_.session().buffered(id_); }
  void shutdown_write() override { finish_response(); }
  void close() override {
    if (closed_) return;
    finish_response();
    closed_ = true;
  }
  void reset() override {
    if (closed_) return;
    closed_ = true;
    c_.session().reset(id_, NGHTTP2_INTERNAL_ERROR);
    c_.request_flush();
  }
  // Never calls the session back from inside its own call: held bytes go on in the next flush (pump).
  void set_reading(bool enabled) override {
    reading_ = enabled;
    if (enabled && !held_.empty()) c_.request_flush();
  }
  void forward_to(runtime::StreamConnection*) override {}  // only tunnels forward, and HTTP/2 has none here
  net::SocketAddress local_address() const override { return c_.client().local_address(); }
  net::SocketAddress peer_address() const override { return c_.client().peer_address(); }
  std::string_view application_protocol() const override { return "h2"; }

  // ResponseReader::Sink.
  void on_head(int status, std::vector<http2::Field> fields, bool end_stream) override {
    c_.session().respond(id_, status, fields, end_stream);
  }
  void on_body(runtime::ByteView data) override { c_.session().send_data(id_, data); }
  void on_end(std::vector<http2::Field> trailers) override { c_.session().finish(id_, std::move(trailers)); }

 private:
  // `raw`: how many of the client's bytes this is (chunk framing is ours), to give back as window.
  void hand_on(runtime::ByteView data, std::size_t raw) {
    if (!reading_ || !held_.empty() || !handler_) {
      held_.append(runtime::as_chars(data));
      held_raw_ += raw;
      return;
    }
    handler_->on_data(data);
    c_.session().consumed(id_, raw);
  }
  void release_held() {
    if (held_.empty() || !handler_) return;
    std::string bytes;
    bytes.swap(held_);
    const std::size_t raw = held_raw_;
    held_raw_ = 0;
    handler_->on_data(runtime::as_bytes(bytes));
    c_.session().consumed(id_, raw);
    c_.request_flush();  // the WINDOW_UPDATE for them
    if (ended_ && !closed_ && held_.empty()) handler_->on_peer_shutdown();
  }
  void finish_response() {
    if (closed_ || finished_) return;
    finished_ = true;
    if (!reader_.close(*this)) return fail();
    c_.request_flush();
  }
  void fail() {
    closed_ = true;
    c_.session().reset(id_, NGHTTP2_INTERNAL_ERROR);
    c_.request_flush();
  }

  H2Connection& c_;
  const std::int32_t id_;
  http2::ResponseReader reader_;
  const bool chunked_;
  runtime::StreamHandler* handler_ = nullptr;
  std::string held_;  // request bytes while the session does not read
  std::size_t held_raw_ = 0;
  bool reading_ = true;
  bool ended_ = false;     // the client's END_STREAM came
  bool finished_ = false;  // the response is complete
  bool closed_ = false;    // the session closed or reset it, or it was aborted under it
  bool waits_drain_ = false;
};

// ------------------------------------------------------------------------------------------ the connection

H2Connection::H2Connection(Proxy& proxy, const Frontend& frontend, runtime::StreamConnectionPtr client)
    : proxy_(proxy),
      frontend_(frontend),
      rt_(proxy.runtime()),
      client_(std::move(client)),
      session_(*this, settings_for(proxy.config())) {
  auto& fe = proxy_.frontend_stats(frontend_);
  fe.sessions.add();
  fe.sessions_total.add();
  fe.h2.connections.add();
  fe.session_rate.add(runtime::milliseconds_of(rt_.now()));
}

H2Connection::~H2Connection() {
  *alive_ = false;
  report_counters();
  proxy_.frontend_stats(frontend_).sessions.sub();
  streams_.clear();  // each session's pipe resets its stream in a session_ still alive
  buried_.clear();
  drop_deadline();
}

void H2Connection::start(std::optional<runtime::Instant> accepted) {
  client_->start(*this);
  const runtime::Duration waited = rt_.now() - accepted.value_or(rt_.now());
  set_deadline(std::max(runtime::Duration::zero(), std::chrono::duration_cast<runtime::Duration>(
                                                       proxy_.config().frontend_timeouts.http_request) -
                                                       waited));
  if (proxy_.draining()) drain();
  flush();  // our SETTINGS go first
}

void H2Connection::drain() {
  if (closed_ || draining_) return;
  draining_ = true;
  session_.shut_down();
  flush();
  if (streams_.empty()) close(false);
}

void H2Connection::arm_idle_timer() {
  if (first_stream_) return;  // before the first stream, start() set the request timeout
  if (streams_.empty() && !closed_)
    set_deadline(
        std::chrono::duration_cast<runtime::Duration>(proxy_.config().frontend_timeouts.http_keep_alive));
  else
    set_deadline(std::nullopt);
}

void H2Connection::set_deadline(std::optional<runtime::Duration> after) {
  due_ = after ? std::optional<runtime::Instant>(rt_.now() + *after) : std::nullopt;
  if (!due_ || (deadline_ && (*deadline_)->first <= *due_)) return;
  if (deadline_) proxy_.deadlines().remove(*deadline_);
  deadline_ = proxy_.deadlines().add(*due_, this);
}

void H2Connection::drop_deadline() {
  due_.reset();
  if (deadline_) proxy_.deadlines().remove(*deadline_);
  deadline_.reset();
}

void H2Connection::on_deadline() {
  deadline_.reset();  // the queue has let go of the entry
  if (!due_) return;
  if (rt_.now() < *due_) {
    deadline_ = proxy_.deadlines().add(*due_, this);
    return;
  }
  due_.reset();
  drain();  // GOAWAY, then close once it is out
}

// ------------------------------------------------------------------------------------------ client events

void H2Connection::on_data(runtime::ByteView data) {
  if (closed_) return;
  proxy_.frontend_stats(frontend_).bytes_in.add(data.size());
  receiving_ = true;
  const bool ok = session_.receive(data);
  receiving_ = false;
  flush();
  report_counters();
  if (!ok && !closed_) close(false);  // after the GOAWAY went out
}

void H2Connection::on_peer_shutdown() {
  peer_shut_ = true;
  // No frame can come any more: a request whose END_STREAM has not come never will. Its stream is reset
  // (CANCEL), which its session hears as a client gone mid-request, as an HTTP/1.1 client's FIN mid-body;
  // the answers to complete requests still go out on the open half.
  for (const auto& [id, s] : streams_)
    if (!s.pipe->request_ended()) session_.reset(id, NGHTTP2_CANCEL);
  if (streams_.empty()) return close(false);
  flush();
}

void H2Connection::on_closed(std::error_code reason) {
  if (closed_) return;
  closed_ = true;
  for (auto& [id, s] : streams_)
    s.pipe->abort(reason);
  drop_deadline();
  proxy_.finished(this);
}

void H2Connection::on_write_drained() {
  flush();
}

// ------------------------------------------------------------------------------------------ streams

void H2Connection::on_request(std::int32_t id, http2::Request request) {
  std::string key;  // an RFC 8441 WebSocket carries none; the HTTP/1.1 server needs one
  if (request.method == "CONNECT" && http::is_websocket(request.protocol)) {
    runtime::SeededRandom& random = rt_.random();
    const std::uint64_t a = random.next_u64();
    key = http::websocket_key(a, random.next_u64());
  }
  http2::H1Request h1 = http2::to_h1(request, key);
  auto pipe = std::make_unique<Pipe>(*this, id, request.method == "HEAD", h1.chunked, h1.tunnel);
  Pipe* raw = pipe.get();
  if (first_stream_) set_deadline(std::nullopt);
  Stream& s = streams_[id];
  s.pipe = raw;
  s.session = std::make_unique<HttpSession>(proxy_, frontend_, std::move(pipe), true);
  if (!first_stream_) s.session->continues_session();
  first_stream_ = false;
  arm_idle_timer();
  s.session->start();
  raw->deliver_head(runtime::as_bytes(h1.head));
  if (!request.has_body) raw->end_request();
}

void H2Connection::on_request_data(std::int32_t id, runtime::ByteView data) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return session_.consumed(id, data.size());
  it->second.pipe->deliver(data);
}

void H2Connection::on_request_end(std::int32_t id) {
  if (auto it = streams_.find(id); it != streams_.end()) it->second.pipe->end_request();
}

void H2Connection::on_stream_closed(std::int32_t id, std::uint32_t error_code) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream s = std::move(it->second);
  streams_.erase(it);
  // Closed before its session closed it: the client reset it (or the answer went out and the session has
  // not yet noticed, which it then learns as an abort after a complete response).
  s.pipe->abort(
      std::make_error_code(error_code == 0 ? std::errc::connection_aborted : std::errc::connection_reset));
  bury(std::move(s));
  arm_idle_timer();
  // Called while frames are being taken (the stream's last one among them): the connection may close only
  // after they are written, at the end of the flush.
  request_flush();
}

void H2Connection::bury(Stream stream) {
  buried_.push_back(std::move(stream));
  if (buried_.size() == 1)
    rt_.post([this, alive = alive_] {
      if (*alive) std::vector<Stream>().swap(buried_);  // an idle connection keeps no block for it
    });
}

// ------------------------------------------------------------------------------------------ output

void H2Connection::request_flush() {
  if (flushing_) {
    flush_again_ = true;
    return;
  }
  if (receiving_ || flush_posted_ || closed_) return;  // on_data flushes after receiving
  flush_posted_ = true;
  rt_.post([this, alive = alive_] {
    if (!*alive) return;
    flush_posted_ = false;
    flush();
  });
}

void H2Connection::flush() {
  if (closed_ || receiving_ || flushing_) return;
  flushing_ = true;
  std::vector<std::int32_t> ids;
  do {
    flush_again_ = false;
    while (!closed_ && client_->write_backlog() < kHighWater) {
      out_.clear();
      session_.take_outgoing(out_, kHighWater);  // may close streams (on_stream_closed)
      if (out_.empty()) break;
      proxy_.frontend_stats(frontend_).bytes_out.add(out_.size());
      client_->write(runtime::as_bytes(out_));
    }
    ids.clear();
    for (const auto& [id, s] : streams_)
      ids.push_back(id);
    for (std::int32_t id : ids)  // a session may write, close or reset its stream meanwhile
      if (auto it = streams_.find(id); it != streams_.end() && !closed_) it->second.pipe->pump();
  } while (flush_again_ && !closed_);
  flushing_ = false;
  if (out_.capacity() > 64 * 1024) std::string().swap(out_);  // a large burst's buffer is not kept idle
  if (streams_.empty() && !closed_) {
    std::string().swap(out_);  // nor does an idle connection keep any
    session_.release_idle_memory();
  }
  if (!closed_ && (session_.finished() || (streams_.empty() && (draining_ || peer_shut_)))) close(false);
}

void H2Connection::report_counters() {
  const http2::Counters& now = session_.counters();
  stats::Http2Counters& fe = proxy_.frontend_stats(frontend_).h2;
  auto add = [](stats::Counter& c, std::uint64_t n, std::uint64_t& was) {
    if (n > was) c.add(n - was);
    was = n;
  };
  add(fe.streams, now.streams, reported_.streams);
  add(fe.resets_received, now.resets_received, reported_.resets_received);
  add(fe.stream_errors, now.stream_errors, reported_.stream_errors);
  add(fe.headers_too_large, now.headers_too_large, reported_.headers_too_large);
  add(fe.connection_errors, now.connection_errors, reported_.connection_errors);
  add(fe.floods, now.floods, reported_.floods);
}

void H2Connection::close(bool reset) {
  if (closed_) return;
  closed_ = true;
  for (auto& [id, s] : streams_)
    s.pipe->abort(std::make_error_code(std::errc::connection_aborted));
  drop_deadline();
  if (reset)
    client_->reset();
  else
    client_->close();
  proxy_.finished(this);
}

}  // namespace metalgate::proxy
