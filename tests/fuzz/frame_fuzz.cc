// libFuzzer target for the speaker's frame handling: ARP and NDP parsing, and the sans-I/O Speaker answering
// arbitrary frames. Input: one selector byte (EtherType, addressing, interface, destination MAC), then the
// payload after the Ethernet header. Nothing may crash or read outside the frame; what a parser accepts must
// serialize back to the same bytes (ARP) or the same fields (NA); every frame the speaker sends must parse as
// what it claims to be and must answer for an address this node owns on an interface it may use.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/speaker/arp.h"
#include "engine/speaker/ndp.h"
#include "engine/speaker/speaker.h"

using namespace metalgate;
using namespace metalgate::speaker;

static void check(bool ok) {
  if (!ok) std::abort();
}

namespace {

const net::MacAddress kEth0({0x02, 0, 0, 0, 0, 0x01});
const net::MacAddress kEth1({0x02, 0, 0, 0, 0, 0x02});
const net::MacAddress kAsker({0x02, 0, 0, 0, 0, 0x0a});

net::IpAddress ip(const char* text) {
  return *net::IpAddress::parse(text);
}

void check_parsers(runtime::ByteView payload) {
  std::string why;
  if (auto arp = parse_arp(payload, &why)) {
    check(payload.size() >= kArpPacketSize);
    check(arp->sender_ip.is_v4() && arp->target_ip.is_v4());
    auto bytes = serialize_arp(*arp);
    check(bytes.size() == kArpPacketSize);
    check(std::equal(bytes.begin(), bytes.end(), payload.begin()));
    auto reply = parse_arp(serialize_arp(arp_reply(*arp, kEth0)));
    check(reply && reply->operation == ArpOperation::kReply && reply->sender_ip == arp->target_ip &&
          reply->target_ip == arp->sender_ip && reply->target_mac == arp->sender_mac);
  } else {
    check(!why.empty());
  }

  why.clear();
  if (auto ns = parse_neighbor_solicitation(payload, &why)) {
    check(ns->source.is_v6() && ns->destination.is_v6() && ns->target.is_v6());
    check(payload.size() >= 40 + 24);
  } else {
    check(!why.empty());
  }

  why.clear();
  if (auto na = parse_neighbor_advertisement(payload, &why)) {
    check(na->source.is_v6() && na->destination.is_v6() && na->target.is_v6());
    auto again = parse_neighbor_advertisement(serialize_neighbor_advertisement(*na));
    check(again && again->source == na->source && again->destination == na->destination &&
          again->target == na->target && again->target_link_address == na->target_link_address &&
          again->solicited == na->solicited && again->override_flag == na->override_flag);
  } else {
    check(!why.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  runtime::ByteView payload(data + 1, size - 1);
  check_parsers(payload);

  // A speaker with two interfaces that owns one IPv4 and one IPv6 address everywhere, and one of each on eth1
  // only.
  static const auto v4_all = ip("192.168.1.240"), v6_all = ip("fd00::240");
  static const auto v4_eth1 = ip("192.168.1.241"), v6_eth1 = ip("fd00::241");
  Speaker speaker({{"eth0", kEth0}, {"eth1", kEth1}}, AnnouncePolicy{});
  Speaker::Owned owned{{v4_all, {}}, {v6_all, {}}, {v4_eth1, {"eth1"}}, {v6_eth1, {"eth1"}}};
  runtime::Instant now{};
  (void)speaker.set_owned(owned, now);

  static constexpr std::array<std::uint16_t, 4> kTypes{runtime::kEtherTypeArp, runtime::kEtherTypeIpv6,
                                                       runtime::kEtherTypeIpv4, 0x88cc};
  static constexpr std::array<runtime::FrameAddressing, 4> kAddressing{
      runtime::FrameAddressing::kBroadcast, runtime::FrameAddressing::kMulticast,
      runtime::FrameAddressing::kToUs, runtime::FrameAddressing::kToOtherHost};
  const bool on_eth1 = selector & 0x10;
  const std::array<net::MacAddress, 4> destinations{net::MacAddress::broadcast(), on_eth1 ? kEth1 : kEth0,
                                                    net::MacAddress(), kAsker};
  runtime::ReceivedFrame frame;
  frame.ifindex = on_eth1 ? 2 : 1;
  frame.source = kAsker;
  frame.ethertype = kTypes[selector & 3];
  frame.addressing = kAddressing[(selector >> 2) & 3];
  frame.destination = destinations[(selector >> 5) & 3];
  frame.payload = payload;
  const std::string interface = (selector & 0x80) ? "eth9" : on_eth1 ? "eth1" : "eth0";

  for (const auto& out : speaker.on_frame(interface, frame, now)) {
    check(out.interface == interface);
    check(frame.addressing != runtime::FrameAddressing::kToOtherHost);
    if (out.ethertype == runtime::kEtherTypeArp) {
      auto reply = parse_arp(out.payload);
      check(reply && reply->operation == ArpOperation::kReply);
      check(speaker.owns(reply->sender_ip));
      check(reply->sender_ip != v4_eth1 || interface == "eth1");
      check(out.destination == frame.source);
    } else {
      check(out.ethertype == runtime::kEtherTypeIpv6);
      auto na = parse_neighbor_advertisement(out.payload);
      check(na && na->override_flag);
      check(speaker.owns(na->target));
      check(na->target != v6_eth1 || interface == "eth1");
    }
  }
  // Losing ownership: the same frame gets no answer at all.
  (void)speaker.set_owned({}, now);
  check(speaker.on_frame(interface, frame, now).empty());
  return 0;
}
