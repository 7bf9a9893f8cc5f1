// One client connection speaking HTTP/2 (its TLS handshake agreed on "h2"). Each stream runs an HttpSession
// of its own over a Pipe, a stream connection in memory that carries the request to the session as HTTP/1.1
// and the session's answer back into the stream (http2/h1_bridge.h says why). The connection owns the
// nghttp2 session (http2/server_session.h), the client's socket and an idle deadline; the per-request work,
// timeouts and logs are the sessions'.
//
// Flow control: a stream's request body reaches its session only while the session reads, and the client
// gets window for exactly the bytes handed on. A response waits in its stream (Pipe::write_backlog) until the
// client's window and the socket's send queue take it; the session holds its server back meanwhile, as it
// does for an HTTP/1.1 client.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/http2/server_session.h"
#include "engine/proxy/client_session.h"
#include "engine/proxy/deadline_queue.h"
#include "engine/proxy/proxy_config-t.h"
#include "engine/runtime/runtime.h"

namespace metalgate::proxy {

class Proxy;
class HttpSession;

class H2Connection final : public ClientSession,
                           public runtime::StreamHandler,
                           public http2::ServerEvents,
                           public DeadlineOwner {
 public:
  H2Connection(Proxy& proxy, const Frontend& frontend, runtime::StreamConnectionPtr client);
  ~H2Connection() override;

  // `accepted`: when the connection was accepted; the first request must come within timeout-http-request
  // of it.
  void start(std::optional<runtime::Instant> accepted = std::nullopt);
  // GOAWAY: the streams under way finish, then the connection closes.
  void drain() override;

  // The client's connection.
  void on_data(runtime::ByteView data) override;
  void on_peer_shutdown() override;
  void on_closed(std::error_code reason) override;
  void on_write_drained() override;

  // The nghttp2 session's.
  void on_request(std::int32_t stream, http2::Request request) override;
  void on_request_data(std::int32_t stream, runtime::ByteView data) override;
  void on_request_end(std::int32_t stream) override;
  void on_stream_closed(std::int32_t stream, std::uint32_t error_code) override;

  // The proxy's deadline queue's: idle past timeout-http-request before the first stream,
  // timeout-http-keep-alive after one.
  void on_deadline() override;

  // Sends what the session has ready and lets the streams' sessions read and write on; closes when all is
  // said. Only from the loop's own callbacks, never inside a session's call.
  void flush();
  // What the pipes call: a flush soon (after the current receive, or as a task posted to the loop).
  void request_flush();
  http2::ServerSession& session() { return session_; }
  runtime::StreamConnection& client() { return *client_; }

  class Pipe;

 private:
  struct Stream {
    Pipe* pipe = nullptr;  // owned by the session
    std::unique_ptr<HttpSession> session;
  };
  void close(bool reset);
  // Adds what the session counted since the last call into the frontend's stats.
  void report_counters();
  void arm_idle_timer();
  // The idle deadline `after` from now (none: no deadline). Its queue entry moves only to an earlier time;
  // one left for an earlier deadline finds nothing due and re-arms (as HttpSession::rearm), so streams that
  // come and go do not each take an entry out of the queue and put one back.
  void set_deadline(std::optional<runtime::Duration> after);
  void drop_deadline();  // entry included: before the connection goes
  // Frees ended streams' sessions after the current callback (they may be on the stack).
  void bury(Stream stream);

  Proxy& proxy_;
  const Frontend& frontend_;
  runtime::Runtime& rt_;
  runtime::StreamConnectionPtr client_;
  http2::ServerSession session_;
  std::map<std::int32_t, Stream> streams_;
  std::vector<Stream> buried_;
  // The idle deadline's entry in the proxy's queue: a map node instead of a timer of its own with its
  // pending wait (deadline_queue.h).
  std::optional<DeadlineQueue::Handle> deadline_;
  std::optional<runtime::Instant> due_;  // the deadline itself
  std::string out_;         // frames on their way to the socket (reused)
  http2::Counters reported_;
  bool receiving_ = false;  // inside session_.receive(): flush after it
  bool flushing_ = false, flush_again_ = false, flush_posted_ = false;
  bool closed_ = false;
  bool peer_shut_ = false;
  bool draining_ = false;
  bool first_stream_ = true;  // the session's first request (http-reuse safe keeps it off idle connections)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards tasks posted to the loop
};

}  // namespace metalgate::proxy
