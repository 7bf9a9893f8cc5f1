#include "tests/runtime/tcp_counters.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace metalgate::testing {

TcpCounters tcp_counters(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return {};
  return {info.tcpi_segs_in, info.tcpi_data_segs_in};
}

}  // namespace metalgate::testing
