// The protocol-neutral HTTP message the proxy works on: what the HTTP/1 parser produces and the serializer
// consumes. Types only (message.h has the functions). Names and values are views into the connection's input
// buffer (zero copy), valid until that buffer is compacted, which the proxy does only after forwarding the
// head.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace metalgate::http {

enum class Version : std::uint8_t { kHttp10, kHttp11 };

struct Header {
  std::string_view name;   // as received; compare case-insensitively
  std::string_view value;  // leading and trailing whitespace removed, obs-fold unfolded
};

// How the body that follows a head is delimited.
enum class BodyFraming : std::uint8_t {
  kNone,           // no body (GET without length, 1xx/204/304, HEAD responses)
  kContentLength,  // exactly content_length bytes
  kChunked,        // Transfer-Encoding: chunked
  kUntilClose,     // responses only: the body ends when the server closes
};

// What the parser derives from the headers so the proxy never scans them twice.
struct MessageFacts {
  BodyFraming framing = BodyFraming::kNone;
  std::uint64_t content_length = 0;
  bool keep_alive = true;           // the sender wants the connection kept (version + Connection header)
  bool close_after = false;         // the message must end the connection (CL+TE smuggling defence)
  bool has_content_length = false;  // a Content-Length header is present (and must be dropped when TE wins)
  bool upgrade = false;             // Connection: upgrade with an Upgrade header
  bool expect_continue = false;     // Expect: 100-continue
};

struct RequestHead {
  std::string_view method;
  std::string_view target;  // origin-form "/path?query", absolute-form, "*" or authority-form (CONNECT)
  Version version = Version::kHttp11;
  std::vector<Header> headers;
  std::string_view host;  // the Host header (or the absolute-form authority); empty when absent
  MessageFacts facts;
  std::size_t head_length = 0;  // bytes of the head, terminating blank line included

  std::string_view path() const;  // the target without query string or scheme/authority
  bool absolute_form() const;     // "scheme://authority/…": its authority is `host`, whatever Host says
  bool is_head() const { return method == "HEAD"; }
};

struct ResponseHead {
  Version version = Version::kHttp11;
  int status = 0;
  std::string_view reason;
  std::vector<Header> headers;
  MessageFacts facts;
  std::size_t head_length = 0;
};

struct Limits {
  std::size_t max_head_bytes = 16384;  // the seed's request-buffer-size (HAProxy's tune.bufsize)
  std::size_t max_headers = 101;       // HAProxy's tune.http.maxhdr
};

enum class ParseOutcome : std::uint8_t { kIncomplete, kComplete, kError };

struct ParseError {
  int status = 400;        // what to answer the peer (400 for requests; the proxy answers 502 for responses)
  std::string reason;      // for the log: what was wrong and where
  std::size_t offset = 0;  // byte offset in the head where the problem was found
};

}  // namespace metalgate::http
