#include "engine/membership/membership.h"
#include "engine/speaker/layer2_node.h"
#include "engine/stats/snapshot.h"

namespace metalgate::stats {

SpeakerRow take_speaker_snapshot(const speaker::Layer2Node& layer2, const std::string& node) {
  SpeakerRow row;
  row.node = node;
  std::map<net::IpAddress, std::string> service_of;
  for (const auto& a : layer2.assignments())
    for (const auto& ip : a.addresses)
      service_of[ip] = a.service;
  const auto& counted = layer2.speaker().core().address_counters();
  for (const auto& [ip, owner] : layer2.owners()) {
    AddressRow r;
    r.ip = ip.to_string();
    r.service = service_of[ip];
    r.announced = owner == node;
    if (auto it = counted.find(ip); it != counted.end()) {
      r.requests_received = it->second.requests_received;
      r.responses_sent = it->second.responses_sent;
      r.gratuitous_sent = it->second.gratuitous_sent;
    }
    row.addresses.push_back(std::move(r));
  }
  const membership::Membership& m = layer2.membership().core();
  for (const auto& [name, member] : m.members())
    ++row.members[static_cast<int>(member.state)];
  row.probes = m.probes();
  row.indirect_probes = m.indirect_probes();
  row.views_sent = m.views_sent();
  row.views_received = m.views_received();
  row.traffic = m.traffic();
  row.owner_moves = layer2.owner_moves();
  return row;
}

}  // namespace metalgate::stats
