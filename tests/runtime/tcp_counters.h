// What the kernel counted on a TCP socket, for tests that check the wire (kept apart: <linux/tcp.h>, which
// has these counters, clashes with the <netinet/tcp.h> that Boost.Asio includes).
#pragma once

#include <cstdint>

namespace metalgate::testing {

struct TcpCounters {
  std::uint32_t segs_in = 0;       // every segment received, bare ACKs and FINs included
  std::uint32_t data_segs_in = 0;  // segments that carried data
};

TcpCounters tcp_counters(int fd);

}  // namespace metalgate::testing
