// HAProxy's names of a health check's outcome (check_status in the CSV, the state label of
// haproxy_server_check_status), and how the proxy's last-check text maps to them.
#pragma once

#include <string_view>
#include <vector>

#include "engine/stats/counters-t.h"

namespace metalgate::stats {

// "L7OK" for kL7Ok; "" for kNone (no check ran).
std::string_view to_string(CheckStatus status);
// The status a last-check text starts with ("L4TOUT check timed out" → kL4Timeout); UDP probes report as
// layer 4. Unknown words: kNone.
CheckStatus check_status_named(std::string_view word);
// Every state HAProxy 2.6's exporter lists for haproxy_server_check_status, in its order.
const std::vector<std::string_view>& prometheus_check_states();

}  // namespace metalgate::stats
