// What one HTTP/2 connection refused and why, counted as it happens; the proxy adds them into the frontend's
// stats. Types only.
#pragma once

#include <cstdint>

namespace metalgate::http2 {

struct Counters {
  std::uint64_t streams = 0;          // requests received
  std::uint64_t resets_received = 0;  // RST_STREAM from the client
  // Streams refused for their message (RST_STREAM PROTOCOL_ERROR sent): invalid or missing pseudo-headers,
  // connection-specific fields, upper-case names, Content-Length against DATA.
  std::uint64_t stream_errors = 0;
  std::uint64_t headers_too_large = 0;  // header list past Settings::max_header_list_size
  // Connections ended for a protocol error (GOAWAY other than NO_ERROR and ENHANCE_YOUR_CALM).
  std::uint64_t connection_errors = 0;
  // Connections ended for abuse (GOAWAY ENHANCE_YOUR_CALM): rapid resets, PING or SETTINGS floods,
  // CONTINUATION floods.
  std::uint64_t floods = 0;
};

}  // namespace metalgate::http2
