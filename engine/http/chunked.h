// Chunked transfer coding (RFC 9112 §7.1), sans I/O: raw bytes in; how many belong to the body, where the
// chunk data is, and whether the body ended. The proxy forwards the raw bytes as they are (zero copy) and
// uses the data spans only when it must transform the body (compression).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

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

  // `on_data(ByteView)` receives chunk data (without framing), in order.
  template <typename OnData>
  Result feed(runtime::ByteView input, OnData&& on_data);

  bool done() const { return state_ == State::kDone; }
  void reset() { *this = ChunkedDecoder{}; }

 private:
  enum class State : std::uint8_t {
    kSize,          // hex digits of the chunk size
    kExtension,     // ";ext" after the size, up to CRLF
    kSizeLf,        // LF after the size line's CR
    kData,          // remaining_ bytes of data
    kDataCr,        // CR after the data
    kDataLf,        // LF after the data
    kTrailerStart,  // beginning of a trailer line (or the final CRLF)
    kTrailer,       // inside a trailer line
    kTrailerLf,     // LF ending a trailer line
    kFinalLf,       // LF of the final blank line
    kDone,
  };
  Result fail(std::size_t consumed, const char* why) {
    state_ = State::kDone;
    return {consumed, false, true, why};
  }

  State state_ = State::kSize;
  std::uint64_t remaining_ = 0;
  int size_digits_ = 0;
};

template <typename OnData>
ChunkedDecoder::Result ChunkedDecoder::feed(runtime::ByteView input, OnData&& on_data) {
  std::size_t i = 0;
  const std::size_t n = input.size();
  while (i < n) {
    const std::uint8_t c = input[i];
    switch (state_) {
      case State::kSize: {
        int digit = -1;
        if (c >= '0' && c <= '9')
          digit = c - '0';
        else if (c >= 'a' && c <= 'f')
          digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
          digit = c - 'A' + 10;
        if (digit >= 0) {
          if (++size_digits_ > 15) return fail(i, "chunk size too large");
          remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(digit);
          ++i;
          break;
        }
        if (size_digits_ == 0) return fail(i, "chunk size is not hexadecimal");
        if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kExtension;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == '\n') {
          state_ = remaining_ > 0 ? State::kData : State::kTrailerStart;
        } else {
          return fail(i, "invalid byte after the chunk size");
        }
        ++i;
        break;
      }
      case State::kExtension:
        if (c == '\r')
          state_ = State::kSizeLf;
        else if (c == '\n')
          state_ = remaining_ > 0 ? State::kData : State::kTrailerStart;
        else if (c < 0x20 && c != '\t')
          return fail(i, "control byte in a chunk extension");
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return fail(i, "CR without LF after the chunk size");
        state_ = remaining_ > 0 ? State::kData : State::kTrailerStart;
        ++i;
        break;
      case State::kData: {
        std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
        on_data(input.subspan(i, take));
        remaining_ -= take;
        i += take;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c == '\r')
          state_ = State::kDataLf;
        else if (c == '\n')
          state_ = State::kSize, size_digits_ = 0;
        else
          return fail(i, "chunk data longer than its size");
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') return fail(i, "chunk data longer than its size");
        state_ = State::kSize;
        size_digits_ = 0;
        ++i;
        break;
      case State::kTrailerStart:
        if (c == '\r')
          state_ = State::kFinalLf;
        else if (c == '\n') {
          state_ = State::kDone;
          return {i + 1, true, false, ""};
        } else
          state_ = State::kTrailer;
        ++i;
        break;
      case State::kTrailer:
        if (c == '\r')
          state_ = State::kTrailerLf;
        else if (c == '\n')
          state_ = State::kTrailerStart;
        else if (c == 0)
          return fail(i, "NUL byte in a trailer");
        ++i;
        break;
      case State::kTrailerLf:
        if (c != '\n') return fail(i, "CR without LF in a trailer");
        state_ = State::kTrailerStart;
        ++i;
        break;
      case State::kFinalLf:
        if (c != '\n') return fail(i, "CR without LF after the last chunk");
        state_ = State::kDone;
        return {i + 1, true, false, ""};
      case State::kDone:
        return {i, true, false, ""};
    }
  }
  return {i, state_ == State::kDone, false, ""};
}

}  // namespace metalgate::http
