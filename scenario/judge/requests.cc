#include "scenario/judge/requests.h"

#include <algorithm>

namespace metalgate::scenario::judge {

bool counted(const observe::RequestRecord& r) {
  return r.start_us >= 1000000 && r.error != observe::kStillRunning;
}

bool answered(const observe::RequestRecord& r) {
  return r.status >= 200 && r.status < 400;
}

bool in_failover(const observe::RequestRecord& r, const std::vector<observe::Failover>& failovers) {
  for (const auto& f : failovers) {
    if (!f.vip.is_unspecified() && !r.target.is_unspecified() && r.target != f.vip)
      continue;  // another VIP's
    std::int64_t end = f.recovered_ms < 0 ? INT64_MAX : f.recovered_ms;
    if (r.start_us / 1000 >= f.fault_ms - 2000 && r.start_us / 1000 <= end) return true;  // incl. timeouts
  }
  return false;
}

std::optional<std::int64_t> percentile(std::vector<std::int64_t> values, double p) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1,
                         static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

double percentile_ms(std::vector<std::int64_t> microseconds, double p) {
  auto at = percentile(std::move(microseconds), p);
  return at ? static_cast<double>(*at) / 1000.0 : 0.0;
}

}  // namespace metalgate::scenario::judge
