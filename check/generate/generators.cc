#include "check/generate/generators.h"

#include <algorithm>

#include "check/reference/announcers.h"

namespace metalgate::check {

namespace {

int fewest_nodes(const Base& base) {
  return std::min(3, base.max_nodes);
}

// Nodes grow with the size: 3 at the start of a run, up to 16 (or what the LAN has room for) at size 100.
rc::Gen<int> gen_node_count(const Base& base) {
  return rc::gen::withSize([&base](int size) {
    const int most = std::max(fewest_nodes(base), std::min(base.max_nodes, 3 + size / 8));
    return rc::gen::inRange(fewest_nodes(base), most + 1);
  });
}

// Which nodes run the proxy: each with a 3 in 4 chance (shrinks toward every node); at least one does.
std::vector<bool> draw_proxies(int nodes) {
  std::vector<bool> proxy;
  for (int i = 0; i < nodes; ++i)
    proxy.push_back(*rc::gen::weightedElement<bool>({{3, true}, {1, false}}));
  if (std::none_of(proxy.begin(), proxy.end(), [](bool p) { return p; })) proxy[0] = true;
  return proxy;
}

// Which of the base's announce labels each node carries: each one in two (shrinks toward none, which is the
// base's own labels). When no node may announce the controller's VIP then, the first proxy node carries them
// all (a VIP nobody may announce is MetalLB's right answer, but liveness could ask nothing of it).
std::vector<unsigned> draw_labels(const Base& base, Case& c) {
  std::vector<unsigned> labels(c.nodes, 0);
  if (base.announce_labels.empty()) return labels;
  for (auto& l : labels)
    for (std::size_t k = 0; k < base.announce_labels.size() && k < 8; ++k)
      if (*rc::gen::arbitrary<bool>()) l |= 1u << k;
  c.labels = labels;
  const auto may = may_announce_controller_vip(base, c);
  if (std::none_of(may.begin(), may.end(), [](bool b) { return b; })) {
    const auto first_proxy = std::find(c.proxy.begin(), c.proxy.end(), true) - c.proxy.begin();
    labels[first_proxy] = (1u << std::min<std::size_t>(base.announce_labels.size(), 8)) - 1;
  }
  return labels;
}

// Whether the client asks the controller's HTTP or HTTPS frontend as written by default (not a TCP service's
// port, not another Service), on a base that serves HTTPS, so that it may ask the other one.
bool may_switch_scheme(const Base& base, const scenario::ScenarioClient& client) {
  const bool default_port = client.port == (client.https ? 443 : 80);
  return !client.udp && default_port && !client.target && base.model && !base.model->tls.empty();
}

// Which of the client's connection options are turned around: each one in four.
unsigned draw_flips(const Base& base, const scenario::ScenarioClient& client) {
  if (client.udp) return 0;
  unsigned flips = 0;
  for (const unsigned flip : {kFlipKeepAlive, kFlipCookies, kFlipResume, kFlipScheme, kFlipHttp2}) {
    if ((flip == kFlipResume || flip == kFlipHttp2) && !client.https) continue;
    if (flip == kFlipScheme && !may_switch_scheme(base, client)) continue;
    if (*rc::gen::weightedElement<bool>({{3, false}, {1, true}})) flips |= flip;
  }
  return flips;
}

// One to all of the base's clients, each once, at 1-20 requests per second, some of their connection
// options turned around.
std::vector<CaseClient> draw_clients(const Base& base) {
  const int available = static_cast<int>(base.scenario.clients.size());
  const int count = *rc::gen::inRange(1, available + 1);
  std::vector<int> order(available);
  for (int i = 0; i < available; ++i)
    order[i] = i;
  // Which clients: a shuffle's first `count` (shrinks toward the base's order).
  for (int i = 0; i < count; ++i)
    std::swap(order[i], order[*rc::gen::inRange(i, available)]);
  std::vector<CaseClient> clients;
  for (int i = 0; i < count; ++i)
    clients.push_back({order[i], static_cast<double>(*rc::gen::inRange(1, 21)),
                       draw_flips(base, base.scenario.clients[order[i]])});
  std::sort(clients.begin(), clients.end(),
            [](const CaseClient& a, const CaseClient& b) { return a.base_index < b.base_index; });
  return clients;
}

}  // namespace

std::vector<EpisodeKind> episode_kinds(const Base& base, FaultMix mix) {
  const bool reloads = !base.reload_dir.empty();
  if (mix == FaultMix::kReloadsOnly)
    return reloads ? std::vector<EpisodeKind>{EpisodeKind::kReloadValid, EpisodeKind::kReloadInvalid}
                   : std::vector<EpisodeKind>{};
  std::vector<EpisodeKind> kinds = {EpisodeKind::kCrashOwner, EpisodeKind::kLeaveOwner,
                                    EpisodeKind::kCrashNode, EpisodeKind::kNicDown};
  if (fewest_nodes(base) >= 2)
    kinds.insert(kinds.end(), {EpisodeKind::kPartitionOwner, EpisodeKind::kPartition});
  if (!base.pods.empty())
    kinds.insert(kinds.end(),
                 {EpisodeKind::kBackendCrash, EpisodeKind::kBackendUnhealthy, EpisodeKind::kBackendSlow});
  kinds.insert(kinds.end(), {EpisodeKind::kLinkDegraded, EpisodeKind::kLeaveNode});
  if (reloads) kinds.insert(kinds.end(), {EpisodeKind::kReloadValid, EpisodeKind::kReloadInvalid});
  return kinds;
}

rc::Gen<Episode> gen_episode(const Base& base, FaultMix mix) {
  return rc::gen::exec([&base, mix] {
    Episode e;
    e.kind = *rc::gen::elementOf(episode_kinds(base, mix));
    e.target = *rc::gen::inRange(0, 16);
    if (e.kind == EpisodeKind::kPartition || e.kind == EpisodeKind::kBackendSlow)
      e.size = *rc::gen::inRange(1, 16);
    if (e.kind == EpisodeKind::kLinkDegraded) {
      // The envelope docs/checking.md measured with margin: 30 % and 10 ms held on every seed tried.
      e.loss_percent = *rc::gen::inRange(0, 21);
      e.delay_ms = *rc::gen::inRange(e.loss_percent == 0 ? 1 : 0, 11);
      e.rate_mbps = *rc::gen::weightedElement<int>({{2, 0}, {1, 100}, {1, 10}});
    }
    // Whole 100 ms steps: the written scenario reads as a person would write it.
    e.gap_ms = 100 * *rc::gen::inRange(0, 51);
    e.length_ms = 100 * *rc::gen::inRange(1, 81);
    e.overlaps = *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
    return e;
  });
}

rc::Gen<Case> gen_case(const Base& base, FaultMix mix) {
  // Drawn in the order shrinking should go: RapidCheck tries the first draws first, and every run costs a
  // simulation. Fewer faults first, then fewer clients, then fewer nodes; the seed is not shrunk (any seed
  // is as simple as another).
  return rc::gen::exec([&base, mix] {
    Case c;
    const int fewest = mix == FaultMix::kReloadsOnly ? 1 : 0;
    const int episodes =
        *rc::gen::withSize([fewest](int size) { return rc::gen::inRange(fewest, fewest + 2 + size / 25); });
    for (int i = 0; i < episodes; ++i)
      c.episodes.push_back(*gen_episode(base, mix));
    c.clients = draw_clients(base);
    c.nodes = *gen_node_count(base);
    c.proxy = draw_proxies(c.nodes);
    c.labels = draw_labels(base, c);
    c.seed = *rc::gen::noShrink(rc::gen::inRange<std::uint32_t>(1, 1u << 30));
    return c;
  });
}

}  // namespace metalgate::check
