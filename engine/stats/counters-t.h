// The counters the proxy keeps for the stats page, the CSV, `show stat` and /metrics: one block per frontend,
// backend and server, per event loop. Each block has one writer, the loop it belongs to; readers in any
// thread sum the loops' blocks (registry.h). HAProxy keeps its counters the same way, per thread, summed on
// read.
#pragma once

#include <atomic>
#include <cstdint>

namespace metalgate::stats {

// A count one thread writes and any thread reads. A relaxed load and store, not an atomic add: with a single
// writer nothing is lost, and the hot path pays no locked instruction.
class Counter {
 public:
  void add(std::uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

// A level (sessions open, requests queued) and the highest it reached; one writer, as Counter.
class Gauge {
 public:
  void add(std::int64_t n = 1) {
    const std::int64_t v = v_.load(std::memory_order_relaxed) + n;
    v_.store(v, std::memory_order_relaxed);
    if (v > max_.load(std::memory_order_relaxed)) max_.store(v, std::memory_order_relaxed);
  }
  void sub(std::int64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  std::int64_t get() const { return v_.load(std::memory_order_relaxed); }
  std::int64_t max() const { return max_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> v_{0};
  std::atomic<std::int64_t> max_{0};
};

// Events per second, as HAProxy's freq_ctr: this second's count and the last one's, read as
// last * (the part of this second still to come) + this. `now_ms` is runtime time (runtime/time.h) in ms. One
// writer, as Counter; max() is the highest rate read at an event.
class Rate {
 public:
  void add(std::int64_t now_ms) {
    const std::int64_t second = now_ms / 1000, at = second_.load(std::memory_order_relaxed);
    if (second != at) {
      prev_.store(second == at + 1 ? curr_.load(std::memory_order_relaxed) : 0, std::memory_order_relaxed);
      curr_.store(0, std::memory_order_relaxed);
      second_.store(second, std::memory_order_relaxed);
    }
    curr_.store(curr_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const std::uint64_t r = read(now_ms);
    if (r > max_.load(std::memory_order_relaxed)) max_.store(r, std::memory_order_relaxed);
  }
  std::uint64_t read(std::int64_t now_ms) const {
    const std::int64_t second = now_ms / 1000, at = second_.load(std::memory_order_relaxed);
    const auto to_come = static_cast<std::uint64_t>(1000 - now_ms % 1000);
    const std::uint64_t curr = curr_.load(std::memory_order_relaxed),
                        prev = prev_.load(std::memory_order_relaxed);
    if (second == at) return prev * to_come / 1000 + curr;
    if (second == at + 1) return curr * to_come / 1000;
    return 0;
  }
  std::uint64_t max() const { return max_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> second_{0};
  std::atomic<std::uint64_t> curr_{0}, prev_{0}, max_{0};
};

// HAProxy's time averages (qtime, ctime, rtime, ttime): the mean of the last 1024 samples, kept as HAProxy's
// swrate does (a sum that loses 1/1024 of itself per sample once 1024 are in), exact below that.
class SlidingAverage {
 public:
  static constexpr std::uint64_t kWindow = 1024;
  void add(std::uint64_t sample_ms) {
    const std::uint64_t n = count_.load(std::memory_order_relaxed);
    std::uint64_t sum = sum_.load(std::memory_order_relaxed);
    sum = n < kWindow ? sum + sample_ms : sum - sum / kWindow + sample_ms;
    sum_.store(sum, std::memory_order_relaxed);
    count_.store(n + 1, std::memory_order_relaxed);
  }
  std::uint64_t sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t samples() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// HTTP responses by class, as HAProxy's hrsp_1xx … hrsp_5xx and hrsp_other ([0]).
struct HttpCounters {
  Counter requests;
  Counter responses[6];
};

// A frontend's HTTP/2 connections and what they refused (http2/counters-t.h says what each counts).
struct Http2Counters {
  Counter connections, streams, resets_received, stream_errors, headers_too_large, connection_errors, floods;
};

struct FrontendCounters {
  Gauge sessions;  // open now, and the most at once
  Counter sessions_total;
  Rate session_rate, request_rate;
  Counter bytes_in, bytes_out;
  Counter denied;          // dreq: denied by an allow/deny list or a rate limit
  Counter request_errors;  // ereq: requests that could not be parsed
  HttpCounters http;
  Http2Counters h2;
};

// What a backend and a server share (HAProxy reports the same fields for both).
struct ServiceCounters {
  Counter sessions_total;  // requests (HTTP) or connections (TCP) sent here: lbtot
  Rate session_rate;
  Counter bytes_in, bytes_out;
  Counter connection_errors;  // econ
  Counter response_errors;    // eresp: the server closed or timed out before its response ended
  Counter retries;            // wretr
  Counter redispatches;       // wredis
  HttpCounters http;
  SlidingAverage queue_ms, connect_ms, response_ms, total_ms;
  std::atomic<std::int64_t> last_session_ns{-1};  // runtime time (runtime/time.h) of the last one; -1: none
};

struct BackendCounters : ServiceCounters {
  Gauge queue;  // requests waiting for a server slot
  Counter connection_attempts, connection_reuses;
};

// HAProxy's check_status codes that metalgate produces.
enum class CheckStatus : std::uint8_t {
  kNone,
  kL4Ok,
  kL4Timeout,
  kL4Refused,
  kL7Ok,
  kL7Timeout,
  kL7Response,
  kL7Status
};

struct ServerCounters : ServiceCounters {
  Gauge sessions;  // requests holding a slot on this server in this loop
  // Written by the loop that runs the health checks; the others leave them at zero, so a sum reads them.
  Counter check_failures;  // chkfail
  Counter check_up_down;   // chkdown: transitions to DOWN
  std::atomic<CheckStatus> check_status{CheckStatus::kNone};
  std::atomic<int> check_code{0};  // the check's HTTP status
  std::atomic<std::int64_t> check_duration_ms{-1};
  std::atomic<std::int64_t> last_change_ns{0};  // runtime time of the last UP/DOWN change
};

}  // namespace metalgate::stats
