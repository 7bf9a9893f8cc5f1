// What the membership protocol put on the wire and took off it: the cost of joining and of staying joined
// (reports/sim-speed.md measures a cold start's with these). Apart from membership.h so that the stats
// snapshot carries it without the protocol.
#pragma once

#include <cstdint>

namespace metalgate::membership {

struct MembershipTraffic {
  std::uint64_t datagrams_sent = 0, bytes_sent = 0;
  std::uint64_t datagrams_received = 0, bytes_received = 0;  // well-formed or not
};

}  // namespace metalgate::membership
