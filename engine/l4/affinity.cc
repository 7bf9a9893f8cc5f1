#include "engine/l4/affinity.h"

#include <algorithm>

namespace metalgate::l4 {

std::optional<std::size_t> AffinityTable::find(const net::IpAddress& client, runtime::Instant now) {
  auto it = entries_.find(client);
  if (it == entries_.end()) return std::nullopt;
  if (now - it->second.last >= timeout_) {
    entries_.erase(it);
    return std::nullopt;
  }
  it->second.last = now;
  return it->second.server;
}

void AffinityTable::remember(const net::IpAddress& client, std::size_t server, runtime::Instant now) {
  entries_[client] = {server, now};
  if (entries_.size() >= sweep_at_) sweep(now);
}

void AffinityTable::sweep(runtime::Instant now) {
  std::erase_if(entries_, [&](const auto& e) { return now - e.second.last >= timeout_; });
  sweep_at_ = std::max<std::size_t>(1024, entries_.size() * 2);
}

}  // namespace metalgate::l4
