// Property 7, rate limit: per source, what one proxy's rate table lets through in each of its periods,
// checked in memory against engine/proxy's RateTable and the proxy's rule (a request is denied when the rate
// it brings the source to exceeds the limit: http_session.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "check/case/base.h"

namespace metalgate::check {

// One request: when (ms since the first), from which source.
struct RateRequest {
  std::int64_t at_ms = 0;
  int source = 0;
};

// What HAProxy's http_req_rate with a deny promises, written apart from the table's arithmetic. Periods run
// from each source's first request. (a) No period lets more than `limit` through: denied requests count too,
// so the period's own count alone exceeds the limit first (so more than `limit` in a period get a denial).
// (b) A source that never sends more than limit/2 in a period is never denied: the previous period can add
// at most its own count. `allowed[i]` is the table's answer to requests[i]. Empty when they hold.
std::optional<std::string> rate_limit_violation(const std::vector<RateRequest>& requests,
                                                const std::vector<bool>& allowed, std::int64_t limit,
                                                std::int64_t period_ms);

// Whether each request is let through; the engine's is a RateTable and the proxy's comparison.
using RateDecider = std::function<std::vector<bool>(const std::vector<RateRequest>&, std::int64_t limit,
                                                    std::int64_t period_ms)>;
std::vector<bool> engine_rate_decisions(const std::vector<RateRequest>& requests, std::int64_t limit,
                                        std::int64_t period_ms);

// Called inside a RapidCheck property: draws a limit, a period and bursty request times from 1–3 sources,
// and fails with RC_FAIL naming the rule broken and the history.
void rate_limit_property(const Base& base);
void rate_limit_property(const Base& base, const RateDecider& decide);

}  // namespace metalgate::check
