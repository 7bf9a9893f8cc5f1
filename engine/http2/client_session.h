// The client side of one HTTP/2 connection to a server, sans I/O: nghttp2's session API driven with bytes
// only, the mirror of server_session.h. Requests go in through submit()/send_data()/finish(); the server's
// bytes go in through receive(); responses, their bodies, trailers and resets come out through
// ClientEvents; the frames to send come out of take_outgoing(). The caller (proxy/h2_upstream) owns the
// socket, so the same code runs live, in ns-3 and in memory.
//
// Many streams share the connection (server-proto h2). Past the server's SETTINGS_MAX_CONCURRENT_STREAMS,
// nghttp2 holds new requests until a stream ends, so submit() never fails for that reason.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/http2/outgoing_body.h"
#include "engine/http2/server_session.h"
#include "engine/http2/session_memory.h"
#include "engine/runtime/bytes.h"

namespace metalgate::http2 {

class ClientEvents {
 public:
  virtual ~ClientEvents() = default;
  // The final response head (1xx interim heads are not reported); `end_stream`: no body follows, and
  // on_response_end comes right after.
  virtual void on_response(std::int32_t stream, int status, std::vector<Field> fields, bool end_stream) = 0;
  // Body bytes; call ClientSession::consumed() once they are handed on, so the server may send more.
  virtual void on_response_data(std::int32_t stream, runtime::ByteView data) = 0;
  // The body ended, with the trailers that closed it (gRPC's grpc-status), if any.
  virtual void on_response_end(std::int32_t stream, std::vector<Field> trailers) = 0;
  // The stream is gone: complete (error_code 0 after on_response_end) or reset by either side, or refused
  // by a GOAWAY (REFUSED_STREAM: the server never saw it, so it may be sent again).
  virtual void on_stream_closed(std::int32_t stream, std::uint32_t error_code) = 0;
};

class ClientSession {
 public:
  // `settings`: what we accept from the server (window, frame size, header list size); its flood limits
  // apply to the server as they do to clients.
  ClientSession(ClientEvents& events, const Settings& settings);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // A new stream: its id, or -1 when the connection can take no more (GOAWAY received, ids exhausted).
  // `end_stream`: no body follows.
  std::int32_t submit(const Request& request, bool end_stream);
  // Body bytes (copied, buffered per stream until the server's window lets them out).
  void send_data(std::int32_t stream, runtime::ByteView data);
  // The request body is complete; trailers, if any, close the stream after it.
  void finish(std::int32_t stream, std::vector<Field> trailers = {});
  void reset(std::int32_t stream, std::uint32_t error_code);
  // `bytes` of a response body have been handed on: WINDOW_UPDATE lets the server send as much again.
  void consumed(std::int32_t stream, std::size_t bytes);
  // Body bytes given to send_data() that have not been framed yet.
  std::size_t buffered(std::int32_t stream) const;

  // Server bytes. false: the connection must end (a flood, a bad preface). Other protocol errors queue
  // nghttp2's own GOAWAY: finished() holds once take_outgoing() has given it.
  bool receive(runtime::ByteView data);
  // Appends the frames ready to send, at most about `limit` bytes, to `out`.
  void take_outgoing(std::string& out, std::size_t limit = 1 << 20);
  // New streams are refused (the server sent GOAWAY, or the connection failed).
  bool closing() const { return closing_; }
  // Nothing more to send or receive: the connection may close (after a GOAWAY either way and the last
  // stream, or a protocol error).
  bool finished() const;
  std::size_t open_streams() const { return streams_.size(); }
  // The server's SETTINGS_MAX_CONCURRENT_STREAMS (unlimited until its SETTINGS came).
  std::uint32_t max_streams() const;
  // The server's first SETTINGS came: what it allows is known.
  bool settings_received() const { return settings_received_; }
  // It takes extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441): a request with a :protocol.
  bool extended_connect() const;
  // No stream open and nothing to send: the frame buffer's pages go back to the kernel (SessionMemory).
  void release_idle_memory();

  struct Callbacks;  // nghttp2's callbacks, in the .cc

 private:
  struct Stream {
    OutgoingBody body;                     // the request's
    int pending_status = 0;                // :status of the head being decoded
    int status = 0;                        // the final response's, once its head is complete
    std::vector<Field> response_fields;    // its head while decoding
    std::vector<Field> response_trailers;  // the server's trailers while decoding
  };
  Stream* find(std::int32_t stream);

  ClientEvents& events_;
  SessionMemory memory_;  // outlives session_, deleted in the destructor's body
  nghttp2_session* session_ = nullptr;
  std::map<std::int32_t, Stream> streams_;
  bool closing_ = false;
  bool settings_received_ = false;
};

}  // namespace metalgate::http2
