// What counts among the requests, for the judges and for result.json alike.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "scenario/observe/observations.h"

namespace metalgate::scenario::judge {

// The first second (membership and ARP settle) and requests the end of the run cut off are not counted.
bool counted(const observe::RequestRecord& r);
// 2xx and 3xx: the client got what it asked for (a redirect of the proxy's own included).
bool answered(const observe::RequestRecord& r);
// Sent to a VIP that moved, from 2 s before the move until it recovered (for ever when it never did).
bool in_failover(const observe::RequestRecord& r, const std::vector<observe::Failover>& failovers);
// The p-th percentile (0–1) of `values`: after sorting, the value at index min(n − 1, floor(p · n)), no
// interpolation. Empty when `values` is.
std::optional<std::int64_t> percentile(std::vector<std::int64_t> values, double p);
// A percentile of microseconds in milliseconds, 0 when there are no values (result.json's p50_ms, p99_ms).
double percentile_ms(std::vector<std::int64_t> microseconds, double p);

}  // namespace metalgate::scenario::judge
