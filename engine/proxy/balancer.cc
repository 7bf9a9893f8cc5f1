#include "engine/proxy/balancer.h"

#include "engine/mutants/mutants.h"

namespace metalgate::proxy {

namespace {
bool usable(const ServerLoad& s) {
  return s.up && s.weight > 0 && s.has_room();
}
}  // namespace

std::optional<std::size_t> Balancer::pick(const std::vector<ServerLoad>& servers,
                                          const net::IpAddress& client, bool* all_full) {
  if (all_full) *all_full = false;
  bool any_up = false;
  for (const auto& s : servers)
    any_up |= s.up && s.weight > 0;
  if (!any_up) return std::nullopt;
  std::optional<std::size_t> chosen;
  switch (algorithm_) {
    case Balance::kRoundRobin:
      chosen = round_robin(servers);
      break;
    case Balance::kLeastConn:
      chosen = least_conn(servers);
      break;
    case Balance::kSource:
      chosen = source(servers, client);
      break;
  }
  if (!chosen && all_full) *all_full = true;
  return chosen;
}

// Smooth weighted round robin: every pick adds each server's weight to its counter and takes the largest,
// which then pays back the total. Weights 5:1:1 give a a b a c a a, interleaved as HAProxy's roundrobin does.
std::optional<std::size_t> Balancer::round_robin(const std::vector<ServerLoad>& servers) {
  current_weight_.resize(servers.size(), 0);
  std::int64_t total = 0;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    if (!usable(servers[i])) continue;
    if (METALGATE_MUTANT(kRoundRobinSkipsServer) && i + 1 == servers.size() && best) continue;
    current_weight_[i] += servers[i].weight;
    total += servers[i].weight;
    if (!best || current_weight_[i] > current_weight_[*best]) best = i;
  }
  if (best) current_weight_[*best] -= total;
  return best;
}

std::optional<std::size_t> Balancer::least_conn(const std::vector<ServerLoad>& servers) {
  std::optional<std::size_t> best;
  std::size_t n = servers.size();
  // Compare (active + queued) / weight without division: a/wa < b/wb  <=>  a*wb < b*wa.
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = (next_tie_ + k) % n;
    if (!usable(servers[i])) continue;
    if (!best) {
      best = i;
      continue;
    }
    const auto& a = servers[i];
    const auto& b = servers[*best];
    std::int64_t la = static_cast<std::int64_t>(a.active + a.queued) * b.weight;
    std::int64_t lb = static_cast<std::int64_t>(b.active + b.queued) * a.weight;
    if (METALGATE_MUTANT(kLeastconnPicksBusier) ? la > lb : la < lb) best = i;
  }
  if (best) next_tie_ = (*best + 1) % n;
  return best;
}

std::optional<std::size_t> Balancer::source(const std::vector<ServerLoad>& servers,
                                            const net::IpAddress& client) {
  // FNV-1a over the address bytes, then a point on the running servers' cumulative weights (HAProxy's
  // map-based hash: a server going down moves only the clients that hashed to it… and shifts the rest,
  // exactly as `hash-type map-based` does).
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < client.byte_length(); ++i) {
    h ^= client.bytes()[i];
    h *= 1099511628211ull;
  }
  std::int64_t total = 0;
  for (const auto& s : servers)
    if (s.up && s.weight > 0) total += s.weight;
  if (total == 0) return std::nullopt;
  std::int64_t point = static_cast<std::int64_t>(h % static_cast<std::uint64_t>(total));
  for (std::size_t i = 0; i < servers.size(); ++i) {
    if (!(servers[i].up && servers[i].weight > 0)) continue;
    if (point < servers[i].weight)
      return servers[i].has_room() ? std::optional<std::size_t>(i) : std::nullopt;
    point -= servers[i].weight;
  }
  return std::nullopt;
}

}  // namespace metalgate::proxy
