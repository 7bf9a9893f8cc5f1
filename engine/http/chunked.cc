#include "engine/http/chunked.h"

#include <cstdio>

#include "engine/http/chars.h"

namespace metalgate::http {

using chars::is_ows;
using chars::is_token;

const char* ChunkedDecoder::step(std::uint8_t c) {
  switch (state_) {
    case State::kSize:
      if (int digit = chars::hex_value(c); digit >= 0) {
        if (++size_digits_ > 15) return "chunk size too large";
        remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(digit);
        return nullptr;
      }
      if (size_digits_ == 0) return "chunk size is not hexadecimal";
      return chunk_line_rest(c);
    case State::kLineWs:
      return chunk_line_rest(c);
    case State::kExtNameStart:
      if (is_ows(c)) return nullptr;
      if (!is_token(c)) return "chunk extension name is not a token";
      state_ = State::kExtName;
      return nullptr;
    case State::kExtName:
    case State::kExtNameWs:
      if (c == '=') {
        state_ = State::kExtValueStart;
        return nullptr;
      }
      if (state_ == State::kExtName && is_token(c)) return nullptr;
      if (is_ows(c)) {
        state_ = State::kExtNameWs;
        return nullptr;
      }
      return chunk_line_rest(c);
    case State::kExtValueStart:
      if (is_ows(c)) return nullptr;
      if (c == '"') {
        state_ = State::kExtQuoted;
        return nullptr;
      }
      if (!is_token(c)) return "chunk extension value is neither a token nor a quoted string";
      state_ = State::kExtToken;
      return nullptr;
    case State::kExtToken:
      return is_token(c) ? nullptr : chunk_line_rest(c);
    case State::kExtQuoted:
      if (c == '"')
        state_ = State::kLineWs;
      else if (c == '\\')
        state_ = State::kExtQuotedPair;
      else if (!chars::is_qdtext(c))
        return "invalid byte in a quoted chunk extension";
      return nullptr;
    case State::kExtQuotedPair:
      if (!chars::is_quotable(c)) return "invalid quoted-pair in a chunk extension";
      state_ = State::kExtQuoted;
      return nullptr;
    case State::kSizeLf:
      if (c != '\n') return "CR without LF after the chunk size";
      end_chunk_line();
      return nullptr;
    case State::kDataCr:
    case State::kDataLf:
      if (c == '\r' && state_ == State::kDataCr) {
        state_ = State::kDataLf;
        return nullptr;
      }
      if (c != '\n') return "chunk data longer than its size";
      state_ = State::kSize;
      size_digits_ = 0;
      return nullptr;
    case State::kTrailerStart:
      if (c == '\r') {
        state_ = State::kFinalLf;
        return nullptr;
      }
      if (c == '\n') {
        state_ = State::kDone;
        return nullptr;
      }
      if (!is_token(c)) return "trailer field name is not a token";
      trailers_ += static_cast<char>(c);
      state_ = State::kTrailerName;
      return nullptr;
    case State::kTrailerName:
      if (c == ':') {
        trailers_ += ": ";
        value_start_ = trailers_.size();
        state_ = State::kTrailerValue;
        return nullptr;
      }
      if (!is_token(c)) return "trailer field name is not a token";
      trailers_ += static_cast<char>(c);
      return trailers_.size() > kMaxTrailerBytes ? "trailer section too large" : nullptr;
    case State::kTrailerValue:
      return trailer_value(c);
    case State::kTrailerLf:
      if (c != '\n') return "CR without LF in a trailer";
      return end_trailer_line();
    case State::kFinalLf:
      if (c != '\n') return "CR without LF after the last chunk";
      state_ = State::kDone;
      return nullptr;
    case State::kData:
    case State::kDone:
      break;
  }
  return "chunked decoder misused";  // feed() never steps these states
}

const char* ChunkedDecoder::chunk_line_rest(std::uint8_t c) {
  if (is_ows(c)) {
    state_ = State::kLineWs;
  } else if (c == ';') {
    state_ = State::kExtNameStart;
  } else if (c == '\r') {
    state_ = State::kSizeLf;
  } else if (c == '\n') {
    end_chunk_line();
  } else {
    return "invalid byte in a chunk line";
  }
  return nullptr;
}

const char* ChunkedDecoder::trailer_value(std::uint8_t c) {
  if (c == '\r') {
    state_ = State::kTrailerLf;
    return nullptr;
  }
  if (c == '\n') return end_trailer_line();
  if (!chars::is_value_byte(c)) return "control byte in a trailer value";
  if (is_ows(c) && trailers_.size() == value_start_) return nullptr;  // leading OWS
  trailers_ += static_cast<char>(c);
  return trailers_.size() > kMaxTrailerBytes ? "trailer section too large" : nullptr;
}

const char* ChunkedDecoder::end_trailer_line() {
  while (trailers_.size() > value_start_ && is_ows(static_cast<unsigned char>(trailers_.back())))
    trailers_.pop_back();
  trailers_ += "\r\n";
  state_ = State::kTrailerStart;
  return nullptr;
}

ChunkedDecoder::Result ChunkedDecoder::reframe(runtime::ByteView input, std::string& out) {
  const bool was_done = done();
  Result r = feed(input, [&out](runtime::ByteView piece) { append_chunk(out, piece); });
  if (r.done && !was_done) append_last_chunk(out, trailers_);
  return r;
}

ChunkedDecoder::Result ChunkedDecoder::check(runtime::ByteView input) const {
  ChunkedDecoder copy = *this;
  return copy.feed(input, [](runtime::ByteView) {});
}

void append_chunk(std::string& out, runtime::ByteView data) {
  if (data.empty()) return;
  char size[24];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<std::size_t>(n));
  out.append(runtime::as_chars(data));
  out.append("\r\n");
}

void append_last_chunk(std::string& out, std::string_view trailers) {
  out.append("0\r\n");
  out.append(trailers);
  out.append("\r\n");
}

}  // namespace metalgate::http
