// Chunked transfer coding (RFC 9112 §7.1), sans I/O: raw bytes in; how many belong to the body, the chunk
// data, the trailer fields, and whether the body ended.
//
// The decoder accepts exactly the RFC's grammar, with the two allowances HAProxy makes as well (a bare LF
// ends a line; whitespace may stand before the end of a chunk line):
//   chunked-body    = *chunk last-chunk trailer-section CRLF
//   chunk           = chunk-size [ chunk-ext ] CRLF chunk-data CRLF      chunk-size = 1*HEXDIG
//   chunk-ext       = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )  ext-val = token / quoted-string
//   trailer-section = *( field-name ":" OWS field-value OWS CRLF )
// Anything else is an error at the byte where it shows, before that byte is counted as consumed.
//
// The proxy never forwards a sender's framing: reframe() appends the same body in canonical framing (a
// chunk per piece of data, no extensions, trailers as "name: value"), so a peer that reads chunk lines
// differently from us (junk after a size, odd extensions) still receives exactly the body we decoded.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/runtime/bytes.h"

namespace metalgate::http {

class ChunkedDecoder {
 public:
  struct Result {
    std::size_t consumed = 0;  // bytes of `input` that are part of this body
    bool done = false;         // the last chunk and trailers have been seen
    bool error = false;
    const char* why = "";
  };
  // The trailer section may hold this much (HAProxy's tune.bufsize bounds it likewise).
  static constexpr std::size_t kMaxTrailerBytes = 16384;

  // `on_data(ByteView)` receives chunk data (without framing), in order, in one or more pieces.
  template <typename OnData>
  Result feed(runtime::ByteView input, OnData&& on_data);
  // feed(), appending the decoded body to `out` in canonical framing; the call that ends the body appends
  // the last chunk, the trailer section and the final CRLF.
  Result reframe(runtime::ByteView input, std::string& out);
  // What feed() would say of `input`, without changing this decoder (a look-ahead at buffered bytes).
  Result check(runtime::ByteView input) const;

  // The trailer fields seen so far, as canonical "name: value\r\n" lines.
  const std::string& trailers() const { return trailers_; }
  bool done() const { return state_ == State::kDone; }
  void reset() { *this = ChunkedDecoder{}; }

 private:
  enum class State : std::uint8_t {
    kSize,           // hex digits of the chunk size
    kLineWs,         // BWS after the size, an extension name, value or quoted string
    kExtNameStart,   // after ';': BWS, then an extension name
    kExtName,        // token bytes of an extension name
    kExtNameWs,      // BWS after an extension name: '=' or the rest of the line
    kExtValueStart,  // after '=': BWS, then a token or a quoted string
    kExtToken,       // token bytes of an extension value
    kExtQuoted,      // inside a quoted-string value
    kExtQuotedPair,  // after a backslash in a quoted string
    kSizeLf,         // LF after the chunk line's CR
    kData,           // remaining_ bytes of data
    kDataCr,         // CR after the data
    kDataLf,         // LF after the data
    kTrailerStart,   // beginning of a trailer line (or the final CRLF)
    kTrailerName,    // token bytes of a trailer field name
    kTrailerValue,   // a trailer field value, up to CR or LF
    kTrailerLf,      // LF ending a trailer line
    kFinalLf,        // LF of the final blank line
    kDone,
  };
  // One byte of framing (every state but kData and kDone): the transitions. nullptr, or why it is refused.
  const char* step(std::uint8_t c);
  const char* chunk_line_rest(std::uint8_t c);  // what may follow a size, an extension or BWS
  const char* trailer_value(std::uint8_t c);
  void end_chunk_line() { state_ = remaining_ > 0 ? State::kData : State::kTrailerStart; }
  const char* end_trailer_line();
  Result fail(std::size_t consumed, const char* why) {
    state_ = State::kDone;
    return {consumed, false, true, why};
  }

  State state_ = State::kSize;
  std::uint8_t size_digits_ = 0;
  std::uint64_t remaining_ = 0;
  std::size_t value_start_ = 0;  // where the current trailer value starts in trailers_
  std::string trailers_;
};

// Appends `data` as one chunk ("<hex size>\r\n<data>\r\n"); nothing when `data` is empty.
void append_chunk(std::string& out, runtime::ByteView data);
// Appends the last chunk, the trailer section (canonical lines) and the final CRLF.
void append_last_chunk(std::string& out, std::string_view trailers);

template <typename OnData>
ChunkedDecoder::Result ChunkedDecoder::feed(runtime::ByteView input, OnData&& on_data) {
  std::size_t i = 0;
  const std::size_t n = input.size();
  while (i < n) {
    if (state_ == State::kDone) return {i, true, false, ""};
    if (state_ == State::kData) {
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
      on_data(input.subspan(i, take));
      remaining_ -= take;
      i += take;
      if (remaining_ == 0) state_ = State::kDataCr;
      continue;
    }
    if (const char* why = step(input[i])) return fail(i, why);
    ++i;
  }
  return {i, state_ == State::kDone, false, ""};
}

}  // namespace metalgate::http
