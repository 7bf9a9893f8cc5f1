#include "engine/speaker/speaker.h"

#include <algorithm>

#include "engine/mutants/mutants.h"
#include "engine/speaker/arp.h"
#include "engine/speaker/ndp.h"

namespace metalgate::speaker {

Speaker::Speaker(std::vector<SpeakerInterface> interfaces, AnnouncePolicy policy)
    : interfaces_(std::move(interfaces)), policy_(policy) {}

const SpeakerInterface* Speaker::interface_named(const std::string& name) const {
  for (const auto& i : interfaces_)
    if (i.name == name) return &i;
  return nullptr;
}

bool Speaker::allowed_on(const Ownership& o, const std::string& interface) const {
  return o.interfaces.empty() ||
         std::find(o.interfaces.begin(), o.interfaces.end(), interface) != o.interfaces.end();
}

void Speaker::start_burst(Ownership& o, runtime::Instant now) {
  o.rounds_left = std::max(1, policy_.rounds);
  o.next_round = now;
  o.scheduled = true;
  o.bursting = true;
}

std::vector<OutgoingFrame> Speaker::set_owned(const Owned& owned, runtime::Instant now, bool restart_all) {
  for (auto it = owned_.begin(); it != owned_.end();)
    it = owned.count(it->first) || METALGATE_MUTANT(kOldOwnerKeepsAnswering) ? std::next(it)
                                                                             : owned_.erase(it);
  for (const auto& [address, interfaces] : owned) {
    auto [it, fresh] = owned_.try_emplace(address);
    it->second.interfaces = interfaces;
    if ((fresh && !METALGATE_MUTANT(kNoGratuitousArpOnTakeover)) || (restart_all && !it->second.bursting))
      start_burst(it->second, now);
    else if (restart_all)
      it->second.rounds_left = std::max(1, policy_.rounds);
  }
  return handle_timeout(now);
}

std::vector<OutgoingFrame> Speaker::reannounce(runtime::Instant now) {
  for (auto& [address, o] : owned_)
    start_burst(o, now);
  return handle_timeout(now);
}

void Speaker::announce(const net::IpAddress& address, const Ownership& o, std::vector<OutgoingFrame>& out) {
  for (const auto& ifc : interfaces_) {
    if (!allowed_on(o, ifc.name)) continue;
    if (address.is_v4()) {
      out.push_back({ifc.name, net::MacAddress::broadcast(), runtime::kEtherTypeArp,
                     serialize_arp(gratuitous_arp_request(address, ifc.mac))});
      out.push_back({ifc.name, net::MacAddress::broadcast(), runtime::kEtherTypeArp,
                     serialize_arp(gratuitous_arp_reply(address, ifc.mac))});
      counters_.announcements_sent += 2;
      per_address_[address].gratuitous_sent += 2;
    } else {
      NeighborAdvertisement na{address,
                               all_nodes_multicast(),
                               address,
                               ifc.mac,
                               /*solicited=*/false,
                               /*override_flag=*/true};
      out.push_back({ifc.name, multicast_mac(all_nodes_multicast()), runtime::kEtherTypeIpv6,
                     serialize_neighbor_advertisement(na)});
      counters_.announcements_sent += 1;
      per_address_[address].gratuitous_sent += 1;
    }
  }
}

std::vector<OutgoingFrame> Speaker::handle_timeout(runtime::Instant now) {
  std::vector<OutgoingFrame> out;
  for (auto& [address, o] : owned_) {
    if (!o.scheduled || o.next_round > now) continue;
    announce(address, o, out);
    if (--o.rounds_left > 0) {
      o.next_round = now + policy_.spacing;
    } else if (policy_.refresh > runtime::Duration::zero()) {
      o.bursting = false;
      o.rounds_left = 1;
      o.next_round = now + policy_.refresh;
    } else {
      o.scheduled = false;
      o.bursting = false;
    }
  }
  return out;
}

std::vector<net::IpAddress> Speaker::owned_addresses() const {
  std::vector<net::IpAddress> out;
  for (const auto& [address, o] : owned_)
    out.push_back(address);
  return out;
}

std::optional<runtime::Instant> Speaker::next_timeout() const {
  std::optional<runtime::Instant> next;
  for (const auto& [address, o] : owned_)
    if (o.scheduled && (!next || o.next_round < *next)) next = o.next_round;
  return next;
}

std::vector<OutgoingFrame> Speaker::on_frame(const std::string& interface,
                                             const runtime::ReceivedFrame& frame, runtime::Instant /*now*/) {
  std::vector<OutgoingFrame> out;
  const SpeakerInterface* ifc = interface_named(interface);
  if (!ifc) return out;
  if (frame.addressing == runtime::FrameAddressing::kToOtherHost ||
      (frame.addressing == runtime::FrameAddressing::kToUs && !frame.destination.is_zero() &&
       frame.destination != ifc->mac)) {
    ++counters_.ignored_not_addressed_to_us;
    return out;
  }
  if (frame.ethertype == runtime::kEtherTypeArp)
    on_arp(*ifc, frame, out);
  else if (frame.ethertype == runtime::kEtherTypeIpv6)
    on_ipv6(*ifc, frame, out);
  return out;
}

void Speaker::on_arp(const SpeakerInterface& ifc, const runtime::ReceivedFrame& frame,
                     std::vector<OutgoingFrame>& out) {
  auto arp = parse_arp(frame.payload);
  if (!arp) {
    ++counters_.malformed;
    return;
  }
  auto owned = owned_.find(arp->target_ip);
  if (owned != owned_.end() && arp->sender_ip == arp->target_ip && arp->sender_mac != ifc.mac) {
    ++counters_.conflicts_seen;  // somebody else announces our address: no answer to an announcement
    return;
  }
  if (arp->operation != ArpOperation::kRequest) return;
  ++counters_.arp_requests_seen;
  if (owned == owned_.end()) {
    ++counters_.ignored_not_owner;
    return;
  }
  AddressCounters& per = per_address_[arp->target_ip];
  ++per.requests_received;
  if (!allowed_on(owned->second, ifc.name)) {
    ++counters_.ignored_wrong_interface;
    return;
  }
  out.push_back({ifc.name, frame.source, runtime::kEtherTypeArp, serialize_arp(arp_reply(*arp, ifc.mac))});
  ++counters_.arp_replies_sent;
  ++per.responses_sent;
}

void Speaker::on_ipv6(const SpeakerInterface& ifc, const runtime::ReceivedFrame& frame,
                      std::vector<OutgoingFrame>& out) {
  // The port sees all IPv6 on the link: only ICMPv6 Neighbor Solicitations concern us; the rest is not an
  // error.
  const auto& p = frame.payload;
  if (p.size() < 41 || p[6] != 58 || p[40] != 135) return;
  auto ns = parse_neighbor_solicitation(p);
  if (!ns) {
    ++counters_.malformed;
    return;
  }
  ++counters_.neighbor_solicitations_seen;
  auto owned = owned_.find(ns->target);
  if (owned == owned_.end()) {
    ++counters_.ignored_not_owner;
    return;
  }
  AddressCounters& per = per_address_[ns->target];
  ++per.requests_received;
  if (ns->destination != ns->target && ns->destination != solicited_node_multicast(ns->target)) {
    ++counters_.ignored_not_addressed_to_us;
    return;
  }
  if (!allowed_on(owned->second, ifc.name)) {
    ++counters_.ignored_wrong_interface;
    return;
  }
  bool dad = ns->source.is_unspecified();  // duplicate address detection: answer all nodes (RFC 4861 7.2.4)
  NeighborAdvertisement na{ns->target,         dad ? all_nodes_multicast() : ns->source,
                           ns->target,         ifc.mac,
                           /*solicited=*/!dad, /*override_flag=*/true};
  net::MacAddress to =
      dad ? multicast_mac(all_nodes_multicast()) : ns->source_link_address.value_or(frame.source);
  out.push_back({ifc.name, to, runtime::kEtherTypeIpv6, serialize_neighbor_advertisement(na)});
  ++counters_.neighbor_advertisements_sent;
  ++per.responses_sent;
}

}  // namespace metalgate::speaker
