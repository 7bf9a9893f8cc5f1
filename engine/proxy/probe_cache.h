// Health probes shared by the backends of one proxy. Backends that check the same server the same way (the
// same address and port, protocol, request and expectation) take one probe's verdict instead of each opening
// a connection of its own: a Service's pods are the servers of every backend that routes to them, and with
// 1,000 LoadBalancer Services over the same pods a proxy opened 600 check connections a second to three pods
// (reports/sim-speed.md). Each backend keeps its own timers, rise/fall counting, stats and logs; only the
// probe is shared. HAProxy leaves this to `track`, written by hand; here it is implicit and bounded: a
// verdict is reused only while younger than half the asking backend's interval, so a server's failure
// reaches every backend at most half an interval later than its own probe would have seen it.
//
// Sans I/O: keys, instants and verdicts in, what to do out.
#pragma once

#include <string>
#include <unordered_map>

#include "engine/runtime/runtime.h"

namespace metalgate::proxy {

class ProbeCache {
 public:
  struct Verdict {
    bool passed = false;
    std::string what;  // as a check's last_check: "L4OK", "L7STS 503", …
    runtime::Instant at{};
  };
  enum class Ask {
    kRun,   // no fresh verdict and none coming: probe, then finished() or abandoned()
    kWait,  // another backend's probe is under way: ask again shortly
    kUse,   // *verdict is fresh: take it
  };

  // What a backend about to probe `key` at `now` does; `fresh` is how old a verdict it may take. kRun marks
  // the probe as under way until finished() or abandoned().
  Ask ask(const std::string& key, runtime::Instant now, runtime::Duration fresh, const Verdict** verdict);
  void finished(const std::string& key, Verdict verdict);
  // The probe's backend went away before its verdict (a reload): the next asker runs it.
  void abandoned(const std::string& key);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Verdict last;
    bool has_verdict = false;
    bool running = false;
  };
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace metalgate::proxy
