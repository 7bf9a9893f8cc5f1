// server-proto h2: requests to a backend's servers as streams multiplexed on HTTP/2 connections, as
// HAProxy's `proto h2` on a server line does (and so gRPC behind the proxy).
//
// Each ServerConnection of such a backend holds a pipe (H2Upstream::Pipe) instead of a socket: the session
// writes its HTTP/1.1 request into it and reads an HTTP/1.1 response out of it, exactly as over TCP, and the
// pipe carries each request as one stream of a shared connection (http2/h1_bridge.h, the other way round).
// So balancing, maxconn (counted per request, as HAProxy counts streams), retries, timeouts and http-reuse
// stay the session's and the backend's; idle pipes wait in the server's pool like idle connections.
//
// A connection lives while pipes are attached to it, and 5 s after its last one left (HAProxy's
// pool-purge-delay); a new pipe joins the first connection of its server with room under the server's
// SETTINGS_MAX_CONCURRENT_STREAMS, else a new connection opens. Callbacks reach sessions only from the connection's own flush, never inside
// an nghttp2 call.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/http2/client_session.h"
#include "engine/proxy/proxy_config-t.h"
#include "engine/runtime/runtime.h"

namespace metalgate::proxy {

class Backend;
class H2Pool;

class H2Upstream final : public runtime::StreamHandler, public http2::ClientEvents {
 public:
  class Pipe;

  H2Upstream(H2Pool& pool, runtime::Runtime& rt);
  ~H2Upstream() override;

  // The socket (or TLS stream) this connection runs on, made by the pool with this as its handler.
  void connect(runtime::StreamConnectionPtr stream) { stream_ = std::move(stream); }
  std::unique_ptr<Pipe> attach();
  void detach(Pipe* pipe);
  std::size_t pipes() const { return pipes_.size(); }
  // Another pipe fits: the connection is not closing and has fewer pipes than the server allows streams.
  bool has_room() const;
  http2::ClientSession& session() { return session_; }
  runtime::StreamConnection* stream() { return stream_.get(); }
  runtime::Runtime& runtime() { return rt_; }
  bool connected() const { return connected_; }
  // Sends what the session has ready, then lets the pipes deliver and hear of drained writes. Only from the
  // loop's own callbacks; request_flush() posts one from anywhere else.
  void flush();
  void request_flush();
  // Binds a submitted stream to the pipe that carries it.
  void bind(std::int32_t stream, Pipe* pipe) { streams_[stream] = pipe; }
  void unbind(std::int32_t stream) { streams_.erase(stream); }

  // The socket's.
  void on_connected() override;
  void on_data(runtime::ByteView data) override;
  void on_peer_shutdown() override;
  void on_closed(std::error_code reason) override;
  void on_write_drained() override { flush(); }

  // The session's.
  void on_response(std::int32_t stream, int status, std::vector<http2::Field> fields, bool end) override;
  void on_response_data(std::int32_t stream, runtime::ByteView data) override;
  void on_response_end(std::int32_t stream, std::vector<http2::Field> trailers) override;
  void on_stream_closed(std::int32_t stream, std::uint32_t error_code) override;

 private:
  Pipe* pipe_of(std::int32_t stream);
  // The connection is over: every pipe hears `reason`, and the pool forgets it.
  void fail(std::error_code reason);

  H2Pool& pool_;
  runtime::Runtime& rt_;
  http2::ClientSession session_;
  runtime::StreamConnectionPtr stream_;
  runtime::TimerPtr idle_timer_;  // armed while no pipe is attached
  std::map<std::uint64_t, Pipe*> pipes_;  // by the order they attached (deterministic flushes)
  std::map<std::int32_t, Pipe*> streams_;
  std::uint64_t next_pipe_ = 0;
  std::string out_;
  bool connected_ = false;
  bool failed_ = false;
  bool receiving_ = false, flushing_ = false, flush_again_ = false, flush_posted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// One server's HTTP/2 connections.
class H2Pool {
 public:
  H2Pool(Backend& backend, std::size_t server) : backend_(backend), server_(server) {}
  ~H2Pool();
  // A stream connection for a ServerConnection: a pipe on a connection with room, opened when none has.
  runtime::StreamConnectionPtr open_pipe();
  // A connection ended (failed or its last pipe left): freed once the current callbacks return.
  void retire(H2Upstream* upstream);
  Backend& backend() { return backend_; }
  std::size_t server() const { return server_; }

 private:
  Backend& backend_;
  std::size_t server_;
  std::vector<std::unique_ptr<H2Upstream>> upstreams_;
  std::vector<std::unique_ptr<H2Upstream>> retired_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace metalgate::proxy
