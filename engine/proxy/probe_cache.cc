#include "engine/proxy/probe_cache.h"

namespace metalgate::proxy {

ProbeCache::Ask ProbeCache::ask(const std::string& key, runtime::Instant now, runtime::Duration fresh,
                                const Verdict** verdict) {
  Entry& e = entries_[key];
  if (e.has_verdict && now - e.last.at <= fresh) {
    *verdict = &e.last;
    return Ask::kUse;
  }
  if (e.running) return Ask::kWait;
  e.running = true;
  return Ask::kRun;
}

void ProbeCache::finished(const std::string& key, Verdict verdict) {
  Entry& e = entries_[key];
  e.last = std::move(verdict);
  e.has_verdict = true;
  e.running = false;
}

void ProbeCache::abandoned(const std::string& key) {
  if (auto it = entries_.find(key); it != entries_.end()) it->second.running = false;
}

}  // namespace metalgate::proxy
