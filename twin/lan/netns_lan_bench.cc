// netns_lan_bench [HOSTS] [REPETITIONS]: builds a LAN of HOSTS hosts (each with an IPv4 and an IPv6 address)
// and tears it down, REPETITIONS times; prints each run and the median as milliseconds per host. Teardown is
// timed until the destructor returns: the namespaces are unmounted and unlinked, the kernel dismantles them
// (and their veths) afterwards on its own netns cleanup work queue.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "twin/lan/netns_lan.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

metalgate::twin::NetnsHost host(int i) {
  metalgate::twin::NetnsHost h;
  h.name = "h" + std::to_string(i + 1);
  h.address = metalgate::net::IpAddress::v4(10, 77, static_cast<std::uint8_t>(i / 250),
                                            static_cast<std::uint8_t>(i % 250 + 1));
  std::array<std::uint8_t, 16> v6{0xfd, 0x00, 0, 0x77};
  v6[14] = static_cast<std::uint8_t>(i >> 8);
  v6[15] = static_cast<std::uint8_t>(i + 1);
  h.address6 = metalgate::net::IpAddress::v6(v6);
  h.mac = metalgate::net::MacAddress::local(static_cast<std::uint32_t>(i + 1));
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  const int hosts = argc > 1 ? std::atoi(argv[1]) : 64;
  const int repetitions = argc > 2 ? std::atoi(argv[2]) : 5;
  if (hosts <= 0 || repetitions <= 0) {
    std::fprintf(stderr, "usage: netns_lan_bench [HOSTS] [REPETITIONS]\n");
    return 2;
  }
  std::vector<double> build, teardown, per_host;
  for (int r = 0; r < repetitions; ++r) {
    const auto start = Clock::now();
    auto lan = metalgate::twin::NetnsLan::create({});
    if (!lan) {
      std::fprintf(stderr, "netns_lan_bench: %s\n", lan.error().c_str());
      return 1;
    }
    for (int i = 0; i < hosts; ++i) {
      if (auto added = (*lan)->add_host(host(i)); !added) {
        std::fprintf(stderr, "netns_lan_bench: %s\n", added.error().c_str());
        return 1;
      }
    }
    build.push_back(ms_since(start));
    const auto stop = Clock::now();
    lan->reset();
    teardown.push_back(ms_since(stop));
    per_host.push_back((build.back() + teardown.back()) / hosts);
    std::printf("netns_lan run %d: %d hosts, build %.1f ms, teardown %.1f ms, %.2f ms per host\n", r + 1,
                hosts, build.back(), teardown.back(), per_host.back());
  }
  std::printf("netns_lan median: build %.1f ms, teardown %.1f ms, %.2f ms per host\n", median(build),
              median(teardown), median(per_host));
  return 0;
}
