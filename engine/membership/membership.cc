#include "engine/membership/membership.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>
#include <set>
#include <span>
#include <utility>

namespace metalgate::membership {

std::string_view to_string(MemberState s) {
  switch (s) {
    case MemberState::kAlive:
      return "alive";
    case MemberState::kSuspect:
      return "suspect";
    case MemberState::kDead:
      return "dead";
    case MemberState::kLeft:
      return "left";
  }
  return "?";
}

std::string timing_problem(const MembershipConfig& config) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  if (config.probe_timeout < config.probe_interval) return {};
  return "the probe timeout (" + std::to_string(duration_cast<milliseconds>(config.probe_timeout).count()) +
         "ms) must be shorter than the probe interval (" +
         std::to_string(duration_cast<milliseconds>(config.probe_interval).count()) +
         "ms): indirect probes need the rest of the interval";
}

namespace {

// Wire format, big-endian: "MG" 2 | kind u8 | seq u32 | sender name, incarnation u32, flags u8 | target name,
// address | update count u8 | updates (name, address, incarnation u32, state u8, flags u8). Names are
// u8-length-prefixed; an address is family u8 (4 or 6), 16 address bytes, port u16. Flags: bit 0 ready, bit 1
// runs no proxy (a speaker-only node: not an endpoint of the ingress controller's Service). A pull (kind 5)
// asks for the receiver's view and carries gossip like a ping; a view (kind 6) carries part of the sender's
// view as its updates. Nodes of an older release count both as malformed and drop them; pings stay as they
// were, so a joining node of this release still probes them.
class Writer {
 public:
  // Sized for a message's fixed part and a few updates: the pushes below then never reallocate.
  explicit Writer(std::size_t updates) { out.reserve(40 + 32 * updates); }
  void u8(std::uint8_t v) { out.push_back(v); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void name(const std::string& s) {
    u8(static_cast<std::uint8_t>(std::min<std::size_t>(s.size(), 255)));
    out.insert(out.end(), s.begin(),
               s.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(s.size(), 255)));
  }
  void address(const net::SocketAddress& a) {
    u8(a.ip.is_v4() ? 4 : 6);
    out.insert(out.end(), a.ip.bytes().begin(), a.ip.bytes().end());
    u16(a.port);
  }
  runtime::Bytes out;
};

class Reader {
 public:
  explicit Reader(runtime::ByteView b) : b_(b) {}
  bool ok() const { return ok_; }
  bool done() const { return at_ == b_.size(); }
  std::uint8_t u8() {
    if (at_ + 1 > b_.size()) return fail();
    return b_[at_++];
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>((u8() << 8) | u8()); }
  std::uint32_t u32() { return (static_cast<std::uint32_t>(u16()) << 16) | u16(); }
  std::string name() {
    std::size_t n = u8();
    if (!ok_ || at_ + n > b_.size()) return fail(), std::string();
    std::string s(reinterpret_cast<const char*>(b_.data() + at_), n);
    at_ += n;
    return s;
  }
  net::SocketAddress address() {
    std::uint8_t family = u8();
    if (!ok_ || (family != 4 && family != 6) || at_ + 18 > b_.size()) return fail(), net::SocketAddress{};
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), b_.data() + at_, 16);
    at_ += 16;
    net::IpAddress ip =
        family == 4 ? net::IpAddress::v4(bytes[0], bytes[1], bytes[2], bytes[3]) : net::IpAddress::v6(bytes);
    return {ip, u16()};
  }

 private:
  std::uint8_t fail() {
    ok_ = false;
    return 0;
  }
  runtime::ByteView b_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace

Membership::Membership(std::string self, net::SocketAddress self_address, MembershipConfig config,
                       std::uint64_t seed)
    : self_(std::move(self)), config_(config), random_(seed) {
  self_member_ = &add(Member{self_, self_address, 0, MemberState::kAlive});
  self_member_->runs_proxy = config_.runs_proxy;
}

const Member* Membership::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

Member* Membership::find(std::string_view name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

Member& Membership::member(std::string_view name) {
  Member* m = find(name);
  if (!m) std::abort();  // a name taken from members_ or the probe round, both only ever grow
  return *m;
}

Member& Membership::add(const Member& m) {
  auto [it, fresh] = members_.try_emplace(m.name, m);
  if (fresh) by_name_.emplace(it->first, &it->second);
  return it->second;
}

namespace {

std::uint8_t flags_of(const Member& m) {
  return static_cast<std::uint8_t>((m.ready ? 1 : 0) | (m.runs_proxy ? 0 : 2));
}

void set_flags(Member& m, std::uint8_t flags) {
  m.ready = flags & 1;
  m.runs_proxy = !(flags & 2);
}

constexpr std::uint8_t kKnownFlags = 3;

}  // namespace

void Membership::join(const std::vector<net::SocketAddress>& seeds, runtime::Instant now) {
  seeds_ = seeds;
  seed_known_.clear();  // of the seeds before, if any
  joined_ = true;
  left_ = false;
  pulling_ = true;
  view_grew_ = now;
  next_probe_ = now;
  next_reconnect_ = now + config_.reconnect_interval;
  gossip(*self_member_);
  handle_timeout(now);
}

void Membership::set_ready(runtime::Instant now) {
  (void)now;
  Member& me = *self_member_;
  if (me.ready) return;
  me.ready = true;
  ++view_version_;
  ++me.incarnation;  // only a newer incarnation of a live member is news to the others
  gossip(me);
}

void Membership::leave(runtime::Instant now) {
  (void)now;
  if (left_) return;
  Member& me = *self_member_;
  set_state(me, MemberState::kLeft, "graceful leave");
  gossip(me);
  // Everyone hears it directly: the next owner takes over without waiting for failure detection.
  for (const auto& [name, m] : members_)
    if (name != self_ && (m.state == MemberState::kAlive || m.state == MemberState::kSuspect))
      send(Kind::kLeave, m.address, ++seq_);
  left_ = true;
  probe_.reset();
}

void Membership::set_state(Member& m, MemberState state, const std::string& reason) {
  if (m.state == state) return;
  m.state = state;
  ++view_version_;
  events_.push_back({m.name, state, reason});
  if (state != MemberState::kSuspect) {
    suspect_deadlines_.erase(m.name);
    suspect_rechecks_.erase(m.name);
  }
}

void Membership::suspect(Member& m, runtime::Instant now) {
  suspect_deadlines_[m.name] = now + config_.suspicion_timeout;
  suspect_rechecks_[m.name] = now + config_.suspicion_timeout / 2;
  gossip(m);
  // Tell the suspect directly (the ping carries the suspicion): gossip alone may not reach it before the
  // deadline. Its ack carries its refutation straight back.
  send(Kind::kPing, m.address, ++seq_);
}

void Membership::gossip(const Member& m) {
  int n = static_cast<int>(members_.size());
  int repeats = config_.gossip_repeats * std::max(1, static_cast<int>(std::ceil(std::log2(n + 1))));
  auto [it, fresh] = update_index_.try_emplace(m.name, updates_.size());
  if (fresh)
    updates_.push_back({m, repeats, ++update_order_});
  else
    updates_[it->second] = {m, repeats, ++update_order_};
}

bool Membership::apply(const Member& u, runtime::Instant now, const std::string& reason) {
  return apply(u, find(u.name), now, reason);
}

bool Membership::apply(const Member& u, Member* known, runtime::Instant now, const std::string& reason) {
  if (known == self_member_) {
    Member& me = *self_member_;
    // Suspected, declared dead, or said to have left (a restart after a graceful leave): refute.
    if (left_ || u.state == MemberState::kAlive) return false;
    if (u.incarnation < me.incarnation) return false;
    if (u.state == MemberState::kDead) ++deaths_refuted_;
    me.incarnation = u.incarnation + 1;  // refute: we are alive, with a newer incarnation
    gossip(me);
    return false;
  }
  if (!known) {
    Member m = u;
    auto state = m.state;
    m.state = MemberState::kDead;  // placeholder so set_state reports the transition
    auto& stored = add(m);
    if (state == MemberState::kDead) {
      stored.state = state;  // learned of a member already gone: remember it, no event
    } else {
      set_state(stored, state, reason.empty() ? "joined" : reason);
      if (state == MemberState::kSuspect) suspect(stored, now);
      learned(now);
    }
    gossip(stored);
    return true;
  }
  Member& e = *known;
  bool gone = e.state == MemberState::kDead || e.state == MemberState::kLeft;
  bool accept = false;
  switch (u.state) {
    case MemberState::kAlive:
      accept = u.incarnation > e.incarnation;
      break;
    case MemberState::kSuspect:
      accept = !gone && (e.state == MemberState::kAlive ? u.incarnation >= e.incarnation
                                                        : u.incarnation > e.incarnation);
      break;
    case MemberState::kDead:
    case MemberState::kLeft:
      accept = gone ? u.incarnation > e.incarnation : u.incarnation >= e.incarnation;
      break;
  }
  if (!accept) {
    // A member we hold as gone speaks with an old incarnation: it restarted after our news went quiet. Tell
    // it again, so that it refutes with a newer one and rejoins.
    if (gone && u.state == MemberState::kAlive) gossip(e);
    return false;
  }
  e.incarnation = u.incarnation;
  if (e.ready != u.ready || e.runs_proxy != u.runs_proxy) ++view_version_;
  e.ready = u.ready;
  e.runs_proxy = u.runs_proxy;
  if (u.state == MemberState::kAlive) {
    if (!(e.address == u.address)) seed_known_.clear();
    e.address = u.address;
  }
  bool rejoined = gone && u.state == MemberState::kAlive;
  set_state(e, u.state, rejoined ? "rejoined" : reason);
  if (u.state == MemberState::kSuspect)
    suspect(e, now);
  else
    gossip(e);
  if (rejoined) learned(now);
  return true;
}

namespace {

// The bytes an update takes on the wire (Writer: name, address, incarnation, state, flags).
std::size_t update_bytes(const Member& m) {
  return 1 + std::min<std::size_t>(m.name.size(), 255) + 1 + m.address.ip.bytes().size() + 2 + 4 + 1 + 1;
}

}  // namespace

namespace {

void write_header(Writer& w, std::uint8_t kind, std::uint32_t seq, const Member& me,
                  const std::string& target, const net::SocketAddress& target_address) {
  w.u8('M');
  w.u8('G');
  w.u8(2);
  w.u8(kind);
  w.u32(seq);
  w.name(me.name);
  w.u32(me.incarnation);
  w.u8(flags_of(me));
  w.name(target);
  w.address(target_address);
}

void write_update(Writer& w, const Member& m) {
  w.name(m.name);
  w.address(m.address);
  w.u32(m.incarnation);
  w.u8(static_cast<std::uint8_t>(m.state));
  w.u8(flags_of(m));
}

}  // namespace

void Membership::send(Kind kind, const net::SocketAddress& to, std::uint32_t seq, const std::string& target,
                      const net::SocketAddress& target_address) {
  Writer w(std::min(updates_.size(), config_.max_updates_per_message));
  write_header(w, static_cast<std::uint8_t>(kind), seq, *self_member_, target, target_address);
  // The least-told updates first (the newest among equals), as many as the datagram holds. A heap finds them
  // without ordering the whole queue: a cold start queues hundreds, and sorting them all for every message
  // was a third of a 500-node simulation's time.
  auto before = [this](std::size_t a, std::size_t b) {
    const Update& x = updates_[a];
    const Update& y = updates_[b];
    return x.remaining != y.remaining ? x.remaining < y.remaining : x.order < y.order;
  };
  pick_.resize(updates_.size());
  std::iota(pick_.begin(), pick_.end(), std::size_t{0});
  std::make_heap(pick_.begin(), pick_.end(), before);
  auto heap_end = pick_.end();
  std::size_t count = 0, bytes = w.out.size() + 1;
  while (heap_end != pick_.begin() && count < config_.max_updates_per_message &&
         bytes + update_bytes(updates_[pick_.front()].member) <= config_.max_message_bytes) {
    bytes += update_bytes(updates_[pick_.front()].member);
    std::pop_heap(pick_.begin(), heap_end--, before);
    ++count;
  }
  w.u8(static_cast<std::uint8_t>(count));
  // The told ones are pick_'s tail, the first popped last: read backwards, in place (no allocation a
  // message).
  const std::span<std::size_t> told(heap_end, pick_.end());
  for (auto i = told.rbegin(); i != told.rend(); ++i) {
    write_update(w, updates_[*i].member);
    --updates_[*i].remaining;
  }
  // Told often enough: out of the queue, the last entry moved into the gap (the order is by count and age).
  std::sort(told.begin(), told.end(), std::greater<>());
  for (std::size_t i : told) {
    if (updates_[i].remaining > 0) continue;
    update_index_.erase(updates_[i].member.name);
    if (i + 1 != updates_.size()) {
      updates_[i] = std::move(updates_.back());
      update_index_[updates_[i].member.name] = i;
    }
    updates_.pop_back();
  }
  outgoing_.push_back({to, std::move(w.out)});
}

void Membership::send_view(const std::string& member, const net::SocketAddress& to, runtime::Instant now) {
  auto [sent, fresh] = view_sent_.try_emplace(member, now);
  if (!fresh && now < sent->second + config_.probe_interval / 2) return;
  sent->second = now;
  ++views_sent_;
  std::vector<const Member*> view;
  for (const auto& [name, m] : members_)
    if (name != member && (m.state == MemberState::kAlive || m.state == MemberState::kSuspect))
      view.push_back(&m);
  for (std::size_t at = 0; at < view.size();) {
    Writer w(std::min(view.size() - at, config_.max_updates_per_message));
    write_header(w, static_cast<std::uint8_t>(Kind::kView), ++seq_, *self_member_, {}, {});
    std::size_t count = 0, bytes = w.out.size() + 1;
    while (at + count < view.size() && count < config_.max_updates_per_message &&
           (count == 0 || bytes + update_bytes(*view[at + count]) <= config_.max_message_bytes))
      bytes += update_bytes(*view[at + count++]);
    w.u8(static_cast<std::uint8_t>(count));
    for (std::size_t i = 0; i < count; ++i)
      write_update(w, *view[at + i]);
    at += count;
    outgoing_.push_back({to, std::move(w.out)});
  }
}

void Membership::learned(runtime::Instant now) {
  view_grew_ = now;
}

void Membership::on_datagram(const net::SocketAddress& from, runtime::ByteView payload,
                             runtime::Instant now) {
  ++traffic_.datagrams_received;
  traffic_.bytes_received += payload.size();
  Reader r(payload);
  bool magic = r.u8() == 'M' && r.u8() == 'G' && r.u8() == 2;
  auto kind = static_cast<Kind>(r.u8());
  std::uint32_t seq = r.u32();
  std::string sender = r.name();
  std::uint32_t sender_incarnation = r.u32();
  auto sender_flags = r.u8();
  if (sender_flags > kKnownFlags) magic = false;
  std::string target = r.name();
  net::SocketAddress target_address = r.address();
  std::vector<Member> updates(r.u8());
  for (auto& m : updates) {
    m.name = r.name();
    m.address = r.address();
    m.incarnation = r.u32();
    auto state = r.u8();
    m.state = static_cast<MemberState>(state);
    auto flags = r.u8();
    set_flags(m, flags);
    if (state > 3 || flags > kKnownFlags) magic = false;
  }
  if (!magic || !r.ok() || !r.done() || sender.empty() || kind < Kind::kPing || kind > Kind::kView) {
    ++malformed_;
    return;
  }
  if (left_ || sender == self_) return;

  // The sender is alive (or leaving): that is an update in itself.
  Member about_sender{sender, from, sender_incarnation,
                      kind == Kind::kLeave ? MemberState::kLeft : MemberState::kAlive};
  set_flags(about_sender, sender_flags);
  Member* known = find(sender);  // the one lookup of the sender: members_ nodes stay put
  const bool stranger = !known || known->state == MemberState::kDead || known->state == MemberState::kLeft;
  if (!apply(about_sender, known, now, kind == Kind::kLeave ? "left" : "")) {
    // A member we hold as gone talks to us: tell it, so it can refute with a higher incarnation.
    if (known && kind != Kind::kLeave &&
        (known->state == MemberState::kDead || known->state == MemberState::kLeft))
      gossip(*known);
  }
  if (!updates.empty()) {
    const std::string reason = "gossip from " + sender;
    for (const auto& u : updates)
      apply(u, now, reason);
  }

  switch (kind) {
    case Kind::kPing:
      send(Kind::kAck, from, seq);
      break;
    case Kind::kAck:
      if (probe_ && probe_->seq == seq) probe_.reset();
      if (auto relay = relays_.find(seq); relay != relays_.end()) {
        send(Kind::kAck, relay->second.requester, relay->second.requester_seq);
        relays_.erase(relay);
      }
      break;
    case Kind::kPingReq: {
      std::uint32_t relay_seq = ++seq_;
      relays_[relay_seq] = {from, seq, now + config_.probe_interval};
      send(Kind::kPing, target_address, relay_seq);
      break;
    }
    case Kind::kLeave:
      break;
    case Kind::kView:
      ++views_received_;
      break;
    case Kind::kPull:
      break;
  }
  // A newcomer (or a member back from the dead) gets our whole view at once, and so does whoever asks.
  const bool alive = (known ? *known : member(sender)).state == MemberState::kAlive;
  if (alive && (kind == Kind::kPull || (stranger && kind != Kind::kView))) send_view(sender, from, now);
}

void Membership::knock_on_seeds(bool unknown_only) {
  std::vector<const net::SocketAddress*> chosen;
  if (seed_known_.size() != seeds_.size()) seed_known_.assign(seeds_.size(), false);
  std::set<net::SocketAddress> known;  // every member's address, built only while a seed is not known
  for (std::size_t i = 0; i < seeds_.size(); ++i) {
    if (unknown_only && seed_known_[i]) continue;
    if (unknown_only && known.empty())
      for (const auto& [name, m] : members_)
        known.insert(m.address);
    if (unknown_only) seed_known_[i] = known.contains(seeds_[i]);
    if (!unknown_only || !seed_known_[i]) chosen.push_back(&seeds_[i]);
  }
  for (std::size_t i = 0; i < chosen.size() && i < config_.seeds_per_round; ++i)
    std::swap(chosen[i], chosen[i + random_.below(chosen.size() - i)]);
  chosen.resize(std::min(chosen.size(), config_.seeds_per_round));
  for (const auto* s : chosen) {
    send(Kind::kPing, *s, ++seq_);
    if (pulling_) send(Kind::kPull, *s, ++seq_);
  }
}

Member* Membership::next_probe_target() {
  auto live = [&](const Member* m) {
    return m != self_member_ && (m->state == MemberState::kAlive || m->state == MemberState::kSuspect);
  };
  while (!round_.empty() && !live(round_.back()))
    round_.pop_back();
  if (round_.empty()) {
    for (auto& [name, m] : members_)
      if (live(&m)) round_.push_back(&m);
    for (std::size_t i = round_.size(); i > 1; --i)
      std::swap(round_[i - 1], round_[random_.below(i)]);
  }
  if (round_.empty()) return nullptr;
  Member* t = round_.back();
  round_.pop_back();
  return t;
}

void Membership::start_probe(runtime::Instant now) {
  const Member* target = next_probe_target();
  if (!target) {
    knock_on_seeds();  // nobody known yet
    return;
  }
  std::uint32_t seq = ++seq_;
  send(Kind::kPing, target->address, seq);
  if (pulling_) send(Kind::kPull, target->address, ++seq_);
  ++probes_;
  probe_ = Probe{target->name, seq, now + config_.probe_timeout, now + config_.probe_interval, false};
}

void Membership::handle_timeout(runtime::Instant now) {
  for (auto it = suspect_deadlines_.begin(); it != suspect_deadlines_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    std::string name = it->first;
    it = suspect_deadlines_.erase(it);
    Member& m = member(name);
    if (m.state != MemberState::kSuspect) continue;
    set_state(m, MemberState::kDead, "suspicion not refuted");
    gossip(m);
  }
  for (auto it = suspect_rechecks_.begin(); it != suspect_rechecks_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    send(Kind::kPing, member(it->first).address, ++seq_);
    it = suspect_rechecks_.erase(it);
  }
  for (auto it = relays_.begin(); it != relays_.end();)
    it = it->second.expires <= now ? relays_.erase(it) : std::next(it);
  if (!joined_ || left_) return;
  if (pulling_ && views_received_ > 0 &&
      now >= view_grew_ + config_.probe_interval * config_.view_quiet_rounds)
    pulling_ = false;

  if (probe_ && !probe_->indirect_sent && now >= probe_->direct_deadline) {
    probe_->indirect_sent = true;
    ++indirect_probes_;
    std::vector<std::string> helpers;
    for (const auto& [name, m] : members_)
      if (name != self_ && name != probe_->target && m.state == MemberState::kAlive) helpers.push_back(name);
    for (std::size_t i = helpers.size(); i > 1; --i)
      std::swap(helpers[i - 1], helpers[random_.below(i)]);
    helpers.resize(std::min<std::size_t>(helpers.size(), static_cast<std::size_t>(config_.indirect_probes)));
    const Member& t = member(probe_->target);
    for (const auto& h : helpers)
      send(Kind::kPingReq, member(h).address, probe_->seq, t.name, t.address);
  }
  if (probe_ && now >= probe_->final_deadline) {
    Member& t = member(probe_->target);
    if (t.state == MemberState::kAlive) {
      set_state(t, MemberState::kSuspect, "no ack, direct or indirect");
      suspect(t, now);
    }
    probe_.reset();
  }
  if (now >= next_probe_) {
    next_probe_ = now + config_.probe_interval;
    if (!probe_) start_probe(now);
  }
  if (now >= next_reconnect_) {
    next_reconnect_ = now + config_.reconnect_interval;
    std::vector<const Member*> dead;
    for (const auto& [name, m] : members_)
      if (m.state == MemberState::kDead) dead.push_back(&m);
    if (!dead.empty()) {
      const Member* d = dead[random_.below(dead.size())];
      gossip(*d);  // the ping carries its death record, so a live peer can refute it
      send(Kind::kPing, d->address, ++seq_);
    }
    knock_on_seeds(/*unknown_only=*/true);
  }
}

std::optional<runtime::Instant> Membership::next_timeout() const {
  std::optional<runtime::Instant> next;
  auto consider = [&](runtime::Instant t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& [name, t] : suspect_deadlines_)
    consider(t);
  for (const auto& [name, t] : suspect_rechecks_)
    consider(t);
  for (const auto& [seq, r] : relays_)
    consider(r.expires);
  if (joined_ && !left_) {
    consider(next_probe_);
    consider(next_reconnect_);
    if (probe_) consider(probe_->indirect_sent ? probe_->final_deadline : probe_->direct_deadline);
  }
  return next;
}

std::vector<OutgoingDatagram> Membership::take_outgoing() {
  traffic_.datagrams_sent += outgoing_.size();
  for (const OutgoingDatagram& d : outgoing_)
    traffic_.bytes_sent += d.payload.size();
  return std::exchange(outgoing_, {});
}
std::vector<MembershipEvent> Membership::take_events() {
  return std::exchange(events_, {});
}

std::vector<std::string> Membership::ready_members() const {
  std::vector<std::string> out;
  for (const auto& [name, m] : members_)
    if ((m.state == MemberState::kAlive || m.state == MemberState::kSuspect) && m.ready &&
        !(name == self_ && left_))
      out.push_back(name);
  return out;
}

std::vector<std::string> Membership::live_members() const {
  std::vector<std::string> out;
  for (const auto& [name, m] : members_)
    if ((m.state == MemberState::kAlive || m.state == MemberState::kSuspect) && !(name == self_ && left_))
      out.push_back(name);
  return out;
}

}  // namespace metalgate::membership
