#include "check/properties/rate_limit.h"

#include <rapidcheck.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "engine/proxy/rate_limiter.h"

namespace metalgate::check {

namespace {

std::string history(const std::vector<RateRequest>& requests, const std::vector<bool>& allowed) {
  std::ostringstream out;
  for (std::size_t i = 0; i < requests.size(); ++i)
    out << " " << requests[i].at_ms << "ms:s" << requests[i].source << (allowed[i] ? "+" : "-");
  return out.str();
}

// Gaps between requests: bursts (0 ms), paces around the limit, pauses of about a period and longer.
rc::Gen<std::vector<RateRequest>> gen_requests(std::int64_t limit, std::int64_t period_ms) {
  return rc::gen::exec([limit, period_ms] {
    const int sources = *rc::gen::inRange(1, 4);
    const int count = *rc::gen::inRange(1, static_cast<int>(4 * limit + 8));
    const std::int64_t pace = std::max<std::int64_t>(1, period_ms / limit);
    std::vector<RateRequest> requests;
    std::int64_t at = 0;
    for (int i = 0; i < count; ++i) {
      const std::int64_t gap = *rc::gen::weightedElement<std::int64_t>(
          {{4, 0}, {4, pace}, {2, pace / 2}, {2, pace + pace / 2}, {1, period_ms}, {1, 3 * period_ms}});
      at += gap;
      requests.push_back({at, *rc::gen::inRange(0, sources)});
    }
    return requests;
  });
}

}  // namespace

std::optional<std::string> rate_limit_violation(const std::vector<RateRequest>& requests,
                                                const std::vector<bool>& allowed, std::int64_t limit,
                                                std::int64_t period_ms) {
  // Per source and period (from its first request): requests and those let through.
  std::map<int, std::int64_t> first;
  std::map<std::pair<int, std::int64_t>, std::pair<std::int64_t, std::int64_t>> periods;
  std::map<int, std::int64_t> most_sent, denials;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    const std::int64_t start = first.try_emplace(r.source, r.at_ms).first->second;
    auto& [sent, through] = periods[{r.source, (r.at_ms - start) / period_ms}];
    ++sent;
    through += allowed[i] ? 1 : 0;
    denials[r.source] += allowed[i] ? 0 : 1;
  }
  for (const auto& [key, counts] : periods) {
    const auto [sent, through] = counts;
    const std::string where =
        "source s" + std::to_string(key.first) + ", period " + std::to_string(key.second);
    if (through > limit)
      return "no period lets more than the limit through: " + where + " let " + std::to_string(through) +
             " through, limit " + std::to_string(limit);
    most_sent[key.first] = std::max(most_sent[key.first], sent);
  }
  for (const auto& [source, most] : most_sent)
    if (2 * most <= limit && denials[source] > 0)
      return "a source within half the limit in every period is never denied: s" + std::to_string(source) +
             " sent at most " + std::to_string(most) + " a period and was denied " +
             std::to_string(denials[source]) + " times";
  return std::nullopt;
}

std::vector<bool> engine_rate_decisions(const std::vector<RateRequest>& requests, std::int64_t limit,
                                        std::int64_t period_ms) {
  proxy::RateTable table{std::chrono::milliseconds(period_ms)};
  std::vector<bool> allowed;
  const runtime::Instant origin{};
  for (const auto& r : requests) {
    const auto source = net::IpAddress::v4(10, 0, 0, static_cast<std::uint8_t>(1 + r.source));
    allowed.push_back(table.count(source, origin + std::chrono::milliseconds(r.at_ms)) <= limit);
  }
  return allowed;
}

void rate_limit_property(const Base& base) {
  rate_limit_property(base, engine_rate_decisions);
}

void rate_limit_property(const Base&, const RateDecider& decide) {
  const std::int64_t limit = *rc::gen::inRange(1, 21);
  const std::int64_t period_ms = 100 * *rc::gen::inRange(1, 101);
  const auto requests = *gen_requests(limit, period_ms);
  const auto allowed = decide(requests, limit, period_ms);
  if (auto v = rate_limit_violation(requests, allowed, limit, period_ms))
    RC_FAIL(*v + "\n  limit " + std::to_string(limit) + " per " + std::to_string(period_ms) +
            "ms; requests (time:source, + through, - denied):" + history(requests, allowed));
}

}  // namespace metalgate::check
