// The server side of one HTTP/2 connection, sans I/O: nghttp2's session API driven with bytes only. Client
// bytes go in through receive(); requests, their bodies and resets come out through ServerEvents; answers go
// in through respond()/send_data()/finish(); the frames to send come out of take_outgoing(). No socket, no
// timer: the caller (proxy/h2_connection) owns both, so the same code runs live, in ns-3 and in memory.
//
// Why nghttp2 rather than our own framing: it is Debian's HTTP/2 library (curl and Apache use it), and it
// already enforces RFC 9113's message rules (pseudo-headers, connection-specific fields, Content-Length
// against DATA) and the flood limits below. What it leaves to us: how many header bytes a request may carry,
// and counting what it refused.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/http2/counters-t.h"
#include "engine/http2/outgoing_body.h"
#include "engine/http2/session_memory.h"
#include "engine/runtime/bytes.h"

struct nghttp2_session;

namespace metalgate::http2 {

// What the server advertises and enforces. Defaults are HAProxy's (tune.h2.*) where it has one.
struct Settings {
  std::uint32_t max_concurrent_streams = 100;  // tune.h2.max-concurrent-streams
  std::uint32_t initial_window_size = 65535;   // tune.h2.initial-window-size
  std::uint32_t max_frame_size = 16384;        // tune.h2.max-frame-size
  std::uint32_t header_table_size = 4096;      // tune.h2.header-table-size
  // A request's decoded header list (names + values + 32 per field, RFC 9113 §6.5.2); past it the stream is
  // refused. HAProxy bounds a request head by tune.bufsize (16 KiB); the proxy's own HTTP/1 limit applies
  // after this one, so this only bounds what is held while decoding.
  std::uint32_t max_header_list_size = 65536;
  std::size_t max_continuations = 8;    // CONTINUATION frames after a HEADERS (CVE-2024-27316)
  std::uint64_t reset_burst = 1000;     // streams a client may reset at once (CVE-2023-44487, rapid reset)
  std::uint64_t reset_rate = 33;        // ... and per second after that; past both, GOAWAY
  std::size_t max_outbound_ack = 1000;  // unsent PING/SETTINGS ACKs before GOAWAY (ping and settings floods)
  std::size_t max_settings = 32;        // entries in one SETTINGS frame
  // SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441): clients may open WebSockets (any Upgrade protocol) as
  // extended CONNECT streams. HAProxy advertises it by default.
  bool extended_connect = true;
};

struct Field {
  std::string name;  // lower case, as HTTP/2 carries it
  std::string value;
};

struct Request {
  std::string method, scheme, authority, path;
  std::vector<Field> headers;  // regular fields, in order; cookie crumbs joined into one field (§8.2.3)
  bool has_body = false;       // no END_STREAM on the HEADERS: DATA follows
  std::string protocol;        // :protocol of an extended CONNECT (RFC 8441 §4), e.g. "websocket"
};

class ServerEvents {
 public:
  virtual ~ServerEvents() = default;
  // A complete request head on a new stream.
  virtual void on_request(std::int32_t stream, Request request) = 0;
  // Body bytes; call ServerSession::consumed() once they are handed on, so the client may send more.
  virtual void on_request_data(std::int32_t stream, runtime::ByteView data) = 0;
  // END_STREAM after body bytes.
  virtual void on_request_end(std::int32_t stream) = 0;
  // The stream is gone: answered and closed (error_code 0) or reset by either side.
  virtual void on_stream_closed(std::int32_t stream, std::uint32_t error_code) = 0;
};

class ServerSession {
 public:
  ServerSession(ServerEvents& events, const Settings& settings);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Client bytes. false: the connection must end (a protocol error or a flood); take_outgoing() then holds
  // the GOAWAY, and the caller closes after writing it.
  bool receive(runtime::ByteView data);
  // Appends the frames ready to send, at most about `limit` bytes, to `out`.
  void take_outgoing(std::string& out, std::size_t limit = 1 << 20);

  // The response head; `end_stream` when no body follows.
  void respond(std::int32_t stream, int status, const std::vector<Field>& headers, bool end_stream);
  // Body bytes (copied, buffered per stream until the client's window lets them out).
  void send_data(std::int32_t stream, runtime::ByteView data);
  // The body is complete; trailers, if any, close the stream after it.
  void finish(std::int32_t stream, std::vector<Field> trailers = {});
  void reset(std::int32_t stream, std::uint32_t error_code);
  // `bytes` of a stream's body have been handed on: WINDOW_UPDATE lets the client send as much again.
  void consumed(std::int32_t stream, std::size_t bytes);
  // Body bytes given to send_data() that have not been framed yet.
  std::size_t buffered(std::int32_t stream) const;

  // Graceful shutdown: GOAWAY naming the last stream taken; those still finish.
  void shut_down();
  // Neither side has anything more to say (after GOAWAY, or an error): close once take_outgoing() is empty.
  bool finished() const;
  std::size_t open_streams() const { return streams_.size(); }
  const Counters& counters() const { return counters_; }
  // No stream open and nothing to send: the frame buffer's pages go back to the kernel (SessionMemory).
  void release_idle_memory();

  struct Callbacks;  // nghttp2's callbacks, in the .cc

 private:
  struct Stream {
    Request request;
    std::size_t header_bytes = 0;
    bool refused = false;  // header list too large: reset once its HEADERS ends
    OutgoingBody body;     // the response's
  };
  Stream* find(std::int32_t stream);
  void count_goaway(std::uint32_t error_code);  // a connection is counted once, for the first reason

  ServerEvents& events_;
  Settings settings_;
  // Outlives session_, deleted in the destructor's body. The deflater has no dynamic table (the
  // constructor): its ring is never written.
  SessionMemory memory_{true};
  nghttp2_session* session_ = nullptr;
  std::map<std::int32_t, Stream> streams_;
  Counters counters_;
  bool goaway_counted_ = false;
};

}  // namespace metalgate::http2
