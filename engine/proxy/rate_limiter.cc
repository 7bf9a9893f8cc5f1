#include "engine/proxy/rate_limiter.h"

#include <algorithm>

#include "engine/mutants/mutants.h"

namespace metalgate::proxy {

void RateTable::rotate(Entry& e, runtime::Instant now) const {
  if (now < e.period_start + period_) return;
  auto elapsed_periods = (now - e.period_start) / period_;
  e.previous = elapsed_periods == 1 ? e.current : 0;
  e.current = 0;
  e.period_start += period_ * elapsed_periods;
}

std::uint32_t RateTable::weighted(const Entry& e, runtime::Instant now) const {
  // HAProxy's freq_ctr: curr + prev × (remaining part of the period). Another event loop's clock may be a
  // hair behind the one that started the period.
  auto into = std::max(now - e.period_start, runtime::Duration::zero());
  auto remaining = period_ - into;
  std::uint64_t carried =
      (static_cast<std::uint64_t>(e.previous) * static_cast<std::uint64_t>(remaining.count()) +
       static_cast<std::uint64_t>(period_.count()) - 1) /
      static_cast<std::uint64_t>(period_.count());
  return e.current + static_cast<std::uint32_t>(carried);
}

std::uint32_t RateTable::count(const net::IpAddress& source, runtime::Instant now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(source);
  if (it == entries_.end()) {
    if (entries_.size() >= capacity_) expire(now);
    if (entries_.size() >= capacity_) {
      // Full of live sources: forget the first one found, as a stick table's LRU eviction would.
      entries_.erase(entries_.begin());
      ++evicted_;
    }
    it = entries_.emplace(source, Entry{now, 0, 0}).first;
  }
  rotate(it->second, now);
  ++it->second.current;
  return weighted(it->second, now) - (METALGATE_MUTANT(kRateLimitOffByOne) ? 1 : 0);
}

std::uint32_t RateTable::rate(const net::IpAddress& source, runtime::Instant now) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(source);
  if (it == entries_.end()) return 0;
  Entry e = it->second;
  rotate(e, now);
  return weighted(e, now);
}

void RateTable::expire(runtime::Instant now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now >= it->second.period_start + 2 * period_)
      it = entries_.erase(it);
    else
      ++it;
  }
}

}  // namespace metalgate::proxy
