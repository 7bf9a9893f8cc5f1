// A generated case: what check/generate/ draws around a base scenario (the user's own, or one built from
// their manifests) before check/case/emit.h writes it as a scenario document. Types only.
//
// Everything points into the base by index (its clients, its pods) or by count (nodes node-1..node-N), so a
// case is valid by construction, and every field shrinks toward a simpler case: fewer nodes, clients and
// episodes, earlier and shorter episodes, the first kind of fault.
#pragma once

#include <cstdint>
#include <vector>

namespace metalgate::check {

// One fault and, `length_ms` later, its recovery: the fault histories of generated cases end with every node,
// link and pod back, so liveness can be asked of their end.
enum class EpisodeKind {
  kCrashOwner,      // crash: owner … restart: all
  kLeaveOwner,      // leave: owner (a graceful stop) … restart: all
  kPartitionOwner,  // partition: [[every node], [owner]] … heal
  kCrashNode,       // crash: node-<target> … restart: all
  kNicDown,         // nic_down: node-<target> … nic_up
  kPartition,       // partition: nodes [target, target + size) apart from the rest … heal
  kBackendCrash,    // backend_crash: pod <target> of the base's pods … backend_restart
  kReloadValid,     // reload: [the base's manifests, valid addition] … reload: [the base's manifests]
  kReloadInvalid,   // reload: [the base's manifests, invalid addition] (refused) … reload: [the base's]
  kLinkDegraded,  // link: {host: node-<target>, loss, delay} … link: {host: node-<target>, loss: 0, delay:
                  // 0ms}
  kLeaveNode,     // leave: node-<target> (a graceful stop) … restart: all
  kBackendUnhealthy,  // backend_unhealthy: pod <target> (503 to everything) … backend_healthy
  kBackendSlow,  // backend_slow: {pod <target>, latency: size × 100 ms} … backend_slow: {its own latency}
};

// Which faults a property's cases suffer: every kind the base allows, or reloads alone (a valid reload must
// fail no request, which no other fault promises).
enum class FaultMix { kEveryKind, kReloadsOnly };

struct Episode {
  EpisodeKind kind = EpisodeKind::kCrashOwner;
  // A node (0-based) or a pod (of the base's pods, in order), modulo their count: drawn before the case's
  // node count, so shrinking the nodes keeps the episodes.
  int target = 0;
  int size = 1;          // kPartition: how many nodes are cut off, 1 + (size - 1) modulo (nodes - 1);
                         // kBackendSlow: the pod's answer time, size × 100 ms (up to 1.5 s)
  int gap_ms = 0;        // after every earlier episode's recovery (the first: after kFirstEpisodeAfterMs)
  int length_ms = 1000;  // from the fault to its recovery
  // kLinkDegraded: within the LAN the speaker's timing is made for (docs/checking.md says why): a share of
  // frames lost each way, and a delay added each way, at least one of them above 0.
  int loss_percent = 0;  // 0-20
  int delay_ms = 0;      // 0-10
  int rate_mbps = 0;     // kLinkDegraded: the link's rate meanwhile (10 or 100 Mbit/s); 0 leaves it
  // Starts gap_ms after the previous episode's fault, while it may still be under way, instead of after
  // every earlier episode is over (shrinks toward false: one after another).
  bool overlaps = false;
};

// The connection options of a client that a case turns around (CaseClient::flips), each one bit.
enum ClientFlip : unsigned {
  kFlipKeepAlive = 1,  // keepalive
  kFlipCookies = 2,    // cookies: send back what Set-Cookie gave
  kFlipResume = 4,     // resume: TLS session resumption (https clients alone)
  // http <-> https, for a client of the controller's frontends (its VIP and default port) when the base
  // serves HTTPS (a certificate is bound): the same requests, over the other frontend.
  kFlipScheme = 8,
  kFlipHttp2 = 16,  // http2: requests as HTTP/2 streams, or HTTP/1.1 (https clients alone)
};

struct CaseClient {
  int base_index = 0;  // the base scenario's clients[base_index], as the user wrote it
  double rate = 1;     // requests (datagrams) per second, replacing the user's
  // ClientFlip bits: the user's choices turned around (shrinks toward 0: as written). Datagram clients have
  // none.
  unsigned flips = 0;
};

struct Case {
  std::uint32_t seed = 1;   // the scenario's seed: the simulator's draws
  int nodes = 3;            // node-1 … node-N
  std::vector<bool> proxy;  // per node: runs the proxy (the controller's pods); at least one does
  // Per node: bit k set = the node carries Base::announce_labels[k] (over its own labels). At least one node
  // may announce the controller's VIP (check/reference/announcers.h).
  std::vector<unsigned> labels;
  std::vector<CaseClient> clients;  // at least one
  std::vector<Episode> episodes;    // in the order they start
};

// When the case starts its first episode (the LAN has settled); how long after the last recovery the system
// must be whole again (the liveness property's `recovers: {within}`: failback, health checks' rise); and the
// tail judged after that.
inline constexpr int kFirstEpisodeAfterMs = 3000;
inline constexpr int kRecoveryWithinMs = 5000;  // at least; Base::recovery_within_ms adds slow health checks
// How long after a node takes the VIP alone every client's requests must go to it: MetalLB's failover bound
// as the seed scenario holds it (a gratuitous ARP request updates a client's ARP entry at once).
inline constexpr int kFailoverBoundMs = 2000;
inline constexpr int kTailAfterRecoveryMs = 4000;

}  // namespace metalgate::check
