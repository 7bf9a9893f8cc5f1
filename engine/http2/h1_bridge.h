// An HTTP/2 stream in the proxy's HTTP/1.1 terms, sans I/O: a request becomes the HTTP/1.1 head (and body
// framing) that the proxy's HTTP session reads, and what that session answers is read back into a response
// head, body and trailers for the stream.
//
// Why a bridge rather than a second session: every per-request feature (routing, balancing, persistence, rate
// limits, allow/deny, header rules, compression, redirects, HSTS, access logs, timeouts, maxconn and queues)
// lives in proxy/http_session on the HTTP/1 message, and each stream runs one such session, so HTTP/2
// requests get exactly the verdicts HTTP/1.1 requests get. It costs a head's serialization and parse per
// request (HAProxy's legacy HTTP mode did the same before HTX).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/http/chunked.h"
#include "engine/http/message-t.h"
#include "engine/http2/server_session.h"
#include "engine/runtime/bytes.h"

namespace metalgate::http2 {

struct H1Request {
  std::string head;      // request line, fields, framing and the blank line
  bool chunked = false;  // a body of unknown length follows: frame each DATA as a chunk
  bool tunnel = false;   // an extended CONNECT: once switched, the stream's DATA are the tunnel's bytes
};

// The HTTP/1.1 form of `r`: :authority becomes Host (it wins over a host field, RFC 9113 §8.3.1), a body
// without content-length is sent chunked. An extended CONNECT (RFC 8441 §5) becomes the Upgrade request it
// stands for: GET with `connection: upgrade` and `upgrade: <:protocol>`; a WebSocket one without a
// Sec-WebSocket-Key (HTTP/2 clients send none) is given `new_key`, as HAProxy gives one.
H1Request to_h1(const Request& r, std::string_view new_key = {});

// Reads the HTTP/1.1 response a session writes for one stream.
class ResponseReader {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void on_head(int status, std::vector<Field> fields, bool end_stream) = 0;
    virtual void on_body(runtime::ByteView data) = 0;
    virtual void on_end(std::vector<Field> trailers) = 0;
  };

  // `tunnel`: the request was an extended CONNECT. Its 101 Switching Protocols becomes the stream's 200
  // (RFC 8441 §5) and what follows the tunnel's bytes; a 2xx that does not switch becomes 502, since the
  // client would take it for an open tunnel.
  explicit ResponseReader(bool request_was_head, bool tunnel = false)
      : request_was_head_(request_was_head), tunnel_(tunnel) {}
  // false: nothing an HTTP/2 stream can carry (a bad head, 101 Switching Protocols to a plain request, bad
  // chunking); the stream is to be reset.
  bool feed(runtime::ByteView data, Sink& sink);
  // The session closed the stream's connection: a body delimited by close ends here. false when the
  // response was cut short (no head, or less body than framed).
  bool close(Sink& sink);
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State : std::uint8_t { kHead, kBody, kTunnel, kDone };
  bool feed_head(Sink& sink);
  bool feed_body(runtime::ByteView data, Sink& sink);

  bool request_was_head_;
  bool tunnel_;
  State state_ = State::kHead;
  std::string head_;  // head bytes while incomplete
  http::BodyFraming framing_ = http::BodyFraming::kNone;
  std::uint64_t left_ = 0;  // of a Content-Length body
  http::ChunkedDecoder chunks_;
};

// ------------------------------------------------------------------ towards servers (server-proto h2)
// The same bridge the other way round: the HTTP/1.1 request a session writes to its server connection is
// read into a stream's request, and the stream's response is written back as HTTP/1.1 for it to read.

// Reads the HTTP/1.1 requests a session writes, one after the other (each after the previous response).
class RequestReader {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void on_request(Request request, bool end_stream) = 0;
    virtual void on_request_body(runtime::ByteView data) = 0;
    // The body is complete; a chunked body's trailers (gRPC clients send none, but HTTP/1.1 may) close it.
    virtual void on_request_end(std::vector<Field> trailers) = 0;
  };
  // `scheme`: what :scheme says ("https" when the connection to the server is TLS).
  explicit RequestReader(std::string scheme) : scheme_(std::move(scheme)) {}
  // false: nothing an HTTP/2 stream can carry (a bad head, bad chunking, bytes past the body).
  // An Upgrade request (GET with `connection: upgrade`) becomes an extended CONNECT with the Upgrade
  // protocol as :protocol (RFC 8441 §5); the bytes after its head are the tunnel's, sent as they come.
  // Except h2c, which an HTTP/2 server has no use for: that request goes as it is, without its Upgrade.
  bool feed(runtime::ByteView data, Sink& sink);
  // Between requests: the last one's body is complete (or none started).
  bool idle() const { return state_ == State::kHead && head_.empty(); }
  // The last request's Sec-WebSocket-Key, which HTTP/2 does not carry: its response's 101 needs the accept.
  const std::string& websocket_key() const { return websocket_key_; }

 private:
  enum class State : std::uint8_t { kHead, kBody, kTunnel };
  bool feed_head(Sink& sink);
  bool feed_body(runtime::ByteView data, Sink& sink);

  std::string scheme_;
  State state_ = State::kHead;
  std::string head_;
  bool chunked_ = false;
  std::uint64_t left_ = 0;
  http::ChunkedDecoder chunks_;
  std::string websocket_key_;
};

// Writes one stream's response as the HTTP/1.1 response a session reads: Content-Length when the server
// gave one (or the head ended the stream), chunked otherwise, so that trailers (gRPC's grpc-status) travel
// in the chunked body's trailer section.
//
// For an extended CONNECT (`upgrade` names its :protocol) a 2xx is the switch: it is written as the
// 101 Switching Protocols the HTTP/1.1 side waits for, with Sec-WebSocket-Accept for `websocket_key`, and the
// stream's DATA after it as they are.
class ResponseWriter {
 public:
  explicit ResponseWriter(bool request_was_head, std::string upgrade = {}, std::string websocket_key = {})
      : request_was_head_(request_was_head), upgrade_(std::move(upgrade)), key_(std::move(websocket_key)) {}
  void head(int status, const std::vector<Field>& fields, bool end_stream, std::string& out);
  void body(runtime::ByteView data, std::string& out);
  void end(const std::vector<Field>& trailers, std::string& out);
  // The 101 went out: the stream is a tunnel.
  bool switched() const { return switched_; }

 private:
  bool request_was_head_;
  std::string upgrade_, key_;
  bool switched_ = false;
  bool chunked_ = false;
  bool ended_ = false;
};

}  // namespace metalgate::http2
