// SWIM-style membership and failure detection, sans I/O: datagrams and `now` in, datagrams and events out.
//
// Every probe interval a node pings the next member of a shuffled round; without an ack within probe_timeout
// it asks `indirect_probes` other members to ping on its behalf; without any ack by the end of the interval
// the member is suspected, and declared dead when the suspicion is not refuted within suspicion_timeout. A
// suspected node refutes by raising its incarnation. Updates ride on every message, each repeated a few times
// (gossip). A graceful leave is told to every member at once, so the next owner takes over without waiting
// for detection. A joining node pulls whole views (memberlist's push/pull, in datagrams): its probes ask for
// the view of whoever they reach until its own view stops growing, and a member that first hears from a
// newcomer (or a returning member) pushes its view to it; news then spreads by gossip alone. Defaults and the
// trade-off between failover time and false alarms are in docs/speaker.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/membership/traffic-t.h"
#include "engine/net/ip_address.h"
#include "engine/runtime/bytes.h"
#include "engine/runtime/seeded_random.h"
#include "engine/runtime/time.h"

namespace metalgate::membership {

using namespace std::chrono_literals;

struct MembershipConfig {
  runtime::Duration probe_interval = 30ms;
  runtime::Duration probe_timeout = 12ms;  // direct ack wait; the rest of the interval is for indirect probes
  int indirect_probes = 3;
  runtime::Duration suspicion_timeout = 60ms;
  int gossip_repeats = 4;  // times each update rides on outgoing messages (scaled by log n)
  // Updates ride on every message up to this many bytes (memberlist's UDP buffer): a 1,500-byte Ethernet
  // frame with IPv6 and UDP headers. A fixed 16 updates a message throttled a 250-node cold start, whose 500
  // joins and readies then took seconds to spread while nodes held different views and claimed the same
  // VIPs (reports/sim-speed.md); filling the datagram halves that and the simulation's own cost.
  std::size_t max_message_bytes = 1400;
  std::size_t max_updates_per_message = 255;  // the wire's count is one byte
  // A node that knows nobody knocks on this many of its seeds a round, chosen at random. Knocking on all of
  // them made every node of a 500-node cold start send 499 pings at once, and the switch ports dropped most.
  std::size_t seeds_per_round = 3;
  // A joining node asks for views until its view has not grown for this many probe rounds.
  int view_quiet_rounds = 3;
  // How often to knock on a dead member's door and on the seeds no member has the address of, so healed
  // partitions, restarted nodes and clusters that formed apart find each other again.
  runtime::Duration reconnect_interval = 1s;
  // What this node tells the others about itself: whether it runs the proxy (the ingress controller's
  // Service has its endpoints on exactly those nodes, for externalTrafficPolicy: Local).
  bool runs_proxy = true;
};

// Empty when the timing can work, else why not: the direct probe must leave part of the interval for the
// indirect ones. Every front-end (scenario files, `serve` flags) checks timings with this.
std::string timing_problem(const MembershipConfig& config);

enum class MemberState : std::uint8_t { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3 };
std::string_view to_string(MemberState s);

struct Member {
  std::string name;
  net::SocketAddress address;
  std::uint32_t incarnation = 0;
  MemberState state = MemberState::kAlive;
  // The member has settled (heard the others) and may be elected; a (re)started node is not, for a while, so
  // the others keep owning its addresses instead of handing them over to a node that does not claim them yet.
  bool ready = false;
  bool runs_proxy = true;  // an endpoint of the ingress controller's Service (false: a speaker-only node)
};

struct OutgoingDatagram {
  net::SocketAddress to;
  runtime::Bytes payload;
};

struct MembershipEvent {
  std::string member;
  MemberState state;  // what it became
  std::string reason;
};

class Membership {
 public:
  Membership(std::string self, net::SocketAddress self_address, MembershipConfig config, std::uint64_t seed);
  Membership(const Membership&) = delete;  // self_member_ points into members_
  Membership& operator=(const Membership&) = delete;

  // Starts talking to `seeds` (addresses of other nodes; unknown names are learned from their answers).
  void join(const std::vector<net::SocketAddress>& seeds, runtime::Instant now);
  // Graceful leave: every known member hears it directly.
  void leave(runtime::Instant now);
  // This node is ready to be elected: a new incarnation tells the others.
  void set_ready(runtime::Instant now);

  void on_datagram(const net::SocketAddress& from, runtime::ByteView payload, runtime::Instant now);
  void handle_timeout(runtime::Instant now);
  std::optional<runtime::Instant> next_timeout() const;

  std::vector<OutgoingDatagram> take_outgoing();
  std::vector<MembershipEvent> take_events();

  // Members that count for election: alive or suspected (a suspect is not dead yet), self included, sorted.
  std::vector<std::string> live_members() const;
  // The live members that are ready (self only after set_ready), sorted.
  std::vector<std::string> ready_members() const;
  // Changes whenever a member's state or readiness may have: callers compare it before rebuilding views.
  std::uint64_t view_version() const { return view_version_; }
  const std::map<std::string, Member>& members() const { return members_; }
  // The member of that name, or nullptr: a hash lookup (members() is ordered, for a stable probe order).
  const Member* find(std::string_view name) const;
  std::uint64_t malformed() const { return malformed_; }
  // How often others declared this node dead and it refuted (a partition or a stall they saw and it did
  // not): they elected without it meanwhile, so what it announced may have been announced over.
  std::uint64_t deaths_refuted() const { return deaths_refuted_; }
  // Probe rounds started (one direct ping each) and those that needed indirect pings.
  std::uint64_t probes() const { return probes_; }
  std::uint64_t indirect_probes() const { return indirect_probes_; }
  // Still asking for others' views (joining, and the view grew within the last view_quiet_rounds).
  bool pulling_views() const { return pulling_; }
  // Whole views sent to joining or returning members, and received.
  std::uint64_t views_sent() const { return views_sent_; }
  std::uint64_t views_received() const { return views_received_; }
  const MembershipTraffic& traffic() const { return traffic_; }
  const std::string& self() const { return self_; }

 private:
  enum class Kind : std::uint8_t { kPing = 1, kAck = 2, kPingReq = 3, kLeave = 4, kPull = 5, kView = 6 };
  struct Update {
    Member member;
    int remaining = 0;
    std::uint64_t order = 0;  // newer news goes first among equally told
  };
  struct Probe {
    std::string target;
    std::uint32_t seq = 0;
    runtime::Instant direct_deadline{}, final_deadline{};
    bool indirect_sent = false;
  };
  struct Relay {
    net::SocketAddress requester;
    std::uint32_t requester_seq;
    runtime::Instant expires;
  };

  void send(Kind kind, const net::SocketAddress& to, std::uint32_t seq, const std::string& target = {},
            const net::SocketAddress& target_address = {});
  // Every live member we know, to `to`, in as many datagrams as it takes; at most once a half probe round
  // per member.
  void send_view(const std::string& member, const net::SocketAddress& to, runtime::Instant now);
  // A ping (and a pull while joining) to seeds_per_round seeds chosen at random; with unknown_only, among the
  // seeds no member we know of (in any state) has the address of. A node alone knocks every probe round;
  // every node knocks on the unknown seeds every reconnect_interval. That merges clusters that formed apart:
  // nodes powered on one by one, the first few finding each other before the rest are up, then each side's
  // nodes stop knocking once they know anyone, and neither side ever hears of the other (a 64-node live LAN
  // split into three that way, each with its own owner per VIP). Nothing is sent once every seed is known.
  void knock_on_seeds(bool unknown_only = false);
  // A member we had not heard of: remembered, and the view counts as grown.
  void learned(runtime::Instant now);
  bool apply(const Member& update, runtime::Instant now, const std::string& reason);
  // The same with the update's member looked up already (nullptr: not known yet).
  bool apply(const Member& update, Member* known, runtime::Instant now, const std::string& reason);
  void gossip(const Member& m);
  void set_state(Member& m, MemberState state, const std::string& reason);
  // Starts (or restarts) suspicion of `m`: a deadline, and direct pings so that it can refute at once.
  void suspect(Member& m, runtime::Instant now);
  void start_probe(runtime::Instant now);
  Member* next_probe_target();  // nullptr: nobody to probe

  std::uint64_t view_version_ = 0;
  std::string self_;
  MembershipConfig config_;
  runtime::SeededRandom random_;
  Member* find(std::string_view name);
  // A member known to be there (an invariant of the caller, checked).
  Member& member(std::string_view name);
  Member& add(const Member& m);

  std::map<std::string, Member> members_;  // never erased from: the dead are remembered
  // members_ by name, for lookups: every received datagram looks up its sender and each of its updates, and
  // the ordered map's string compares were a tenth of a 256-node LAN's steady simulation
  // (reports/sim-speed.md). The keys view members_' own keys, which stay put as the map grows.
  std::unordered_map<std::string_view, Member*> by_name_;
  Member* self_member_ = nullptr;  // members_[self_], looked up once
  std::map<std::string, runtime::Instant> suspect_deadlines_;
  std::map<std::string, runtime::Instant> suspect_rechecks_;  // second direct ping to a suspect
  std::vector<Update> updates_;                               // sorted by send(): least told first
  // Where each member's pending update is: a cold start gossips every member to every newcomer, and a scan
  // per update made that cubic in the cluster size.
  std::unordered_map<std::string, std::size_t> update_index_;
  std::uint64_t update_order_ = 0;
  std::vector<std::size_t> pick_;  // send()'s heap of queue positions, kept to spare an allocation a message
  std::vector<Member*> round_;     // this probe round's members still to ping (members_ nodes stay put)
  std::optional<Probe> probe_;
  std::map<std::uint32_t, Relay> relays_;
  std::vector<net::SocketAddress> seeds_;
  // Per seed, whether a member has its address: members are never erased, so a known seed stays known until
  // a member's address changes (then this is cleared). Building the set of every member's address for each
  // reconnect round was about 2 % of a 256-node LAN's simulation.
  std::vector<bool> seed_known_;
  runtime::Instant next_probe_{};
  runtime::Instant next_reconnect_{};
  bool joined_ = false, left_ = false;
  bool pulling_ = false;
  runtime::Instant view_grew_{};
  std::unordered_map<std::string, runtime::Instant> view_sent_;  // when each member last got our view
  std::uint64_t views_sent_ = 0, views_received_ = 0;
  MembershipTraffic traffic_;
  std::uint32_t seq_ = 0;
  std::uint64_t malformed_ = 0;
  std::uint64_t deaths_refuted_ = 0;
  std::uint64_t probes_ = 0, indirect_probes_ = 0;
  std::vector<OutgoingDatagram> outgoing_;
  std::vector<MembershipEvent> events_;
};

}  // namespace metalgate::membership
