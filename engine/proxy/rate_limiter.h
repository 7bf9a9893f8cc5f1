// Per-source request rates over a sliding window, as HAProxy's stick tables count http_req_rate(period): the
// rate is this period's count plus the previous period's count weighted by how much of it still overlaps
// the window. A request is counted, then refused when the rate exceeds the limit, so with a limit of N the
// (N+1)th request within one period is the first refused. Sans I/O: `now` comes in. The proxy's event loops
// share one table (nbthread), so each call takes the table's lock: uncontended, it costs a few nanoseconds.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "engine/net/ip_address.h"
#include "engine/runtime/time.h"

namespace metalgate::proxy {

class RateTable {
 public:
  RateTable(runtime::Duration period, std::size_t capacity = 100000) : period_(period), capacity_(capacity) {}

  // Counts one request from `source` and returns the rate including it.
  std::uint32_t count(const net::IpAddress& source, runtime::Instant now);
  // The rate without counting.
  std::uint32_t rate(const net::IpAddress& source, runtime::Instant now) const;
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }
  std::uint64_t evicted() const {
    std::lock_guard lock(mutex_);
    return evicted_;
  }

 private:
  struct Entry {
    runtime::Instant period_start{};
    std::uint32_t current = 0;
    std::uint32_t previous = 0;
  };
  void rotate(Entry& e, runtime::Instant now) const;
  std::uint32_t weighted(const Entry& e, runtime::Instant now) const;
  void expire(runtime::Instant now);

  mutable std::mutex mutex_;
  runtime::Duration period_;
  std::size_t capacity_;
  std::unordered_map<net::IpAddress, Entry> entries_;
  std::uint64_t evicted_ = 0;
};

}  // namespace metalgate::proxy
