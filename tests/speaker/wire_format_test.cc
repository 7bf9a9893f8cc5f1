// ARP and NDP on the wire, byte for byte.
#include <gtest/gtest.h>

#include "engine/speaker/arp.h"
#include "engine/speaker/ndp.h"

namespace metalgate::speaker {
namespace {

net::IpAddress ip(const char* s) {
  return *net::IpAddress::parse(s);
}
net::MacAddress mac(const char* s) {
  return *net::MacAddress::parse(s);
}
const net::MacAddress kOurs = mac("02:00:00:00:00:01");
const net::MacAddress kAsker = mac("02:00:00:00:00:0a");

TEST(ArpWireFormat, ReplyBytesAnswerTheAsker) {
  ArpPacket request{ArpOperation::kRequest, kAsker, ip("192.168.1.10"), net::MacAddress(),
                    ip("192.168.1.240")};
  runtime::Bytes want{0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,  // Ethernet, IPv4, 6, 4, reply
                      0x02, 0x00, 0x00, 0x00, 0x00, 0x01,              // sender MAC: ours
                      192,  168,  1,    240,                           // sender IP: the VIP
                      0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,              // target MAC: the asker
                      192,  168,  1,    10};                           // target IP: the asker
  EXPECT_EQ(serialize_arp(arp_reply(request, kOurs)), want);
}

TEST(ArpWireFormat, GratuitousRequestAndReplyBytes) {
  runtime::Bytes request{0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
                         192,  168,  1,    240,  0,    0,    0,    0,    0,    0,    192,  168,  1,    240};
  runtime::Bytes reply{0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
                       192,  168,  1,    240,  0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 192,  168,  1,    240};
  EXPECT_EQ(serialize_arp(gratuitous_arp_request(ip("192.168.1.240"), kOurs)), request);
  EXPECT_EQ(serialize_arp(gratuitous_arp_reply(ip("192.168.1.240"), kOurs)), reply);
}

TEST(ArpWireFormat, ParsesPaddedFramesAndRefusesNonsense) {
  auto bytes = serialize_arp(gratuitous_arp_request(ip("10.0.0.1"), kOurs));
  bytes.resize(46, 0);  // Ethernet minimum padding
  auto a = parse_arp(bytes);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->target_ip, ip("10.0.0.1"));
  std::string why;
  EXPECT_FALSE(parse_arp(runtime::ByteView(bytes.data(), 27), &why));
  EXPECT_EQ(why, "truncated ARP packet");
  bytes[3] = 0xdd;  // protocol 0x08dd
  EXPECT_FALSE(parse_arp(bytes, &why));
  EXPECT_EQ(why, "protocol type is not IPv4");
  bytes[3] = 0x00;
  bytes[7] = 3;  // RARP request
  EXPECT_FALSE(parse_arp(bytes, &why));
  EXPECT_EQ(why, "operation is neither request nor reply");
}

// An independent one's-complement sum: a valid ICMPv6 message sums to 0xffff with its pseudo-header.
std::uint16_t fold(const runtime::Bytes& packet) {
  std::uint32_t sum = 0;
  auto add16 = [&](std::size_t at) { sum += static_cast<std::uint32_t>((packet[at] << 8) | packet[at + 1]); };
  for (std::size_t i = 8; i < 40; i += 2)
    add16(i);  // source and destination
  std::size_t len = packet.size() - 40;
  sum += static_cast<std::uint32_t>(len) + 58;
  for (std::size_t i = 40; i + 1 < packet.size(); i += 2)
    add16(i);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

TEST(NdpWireFormat, UnsolicitedAdvertisementWithOverride) {
  NeighborAdvertisement na{ip("fd00::240"), all_nodes_multicast(), ip("fd00::240"), kOurs, false, true};
  auto p = serialize_neighbor_advertisement(na);
  ASSERT_EQ(p.size(), 72u);
  EXPECT_EQ(p[0], 0x60);  // version 6
  EXPECT_EQ(p[5], 32);    // payload length
  EXPECT_EQ(p[6], 58);    // ICMPv6
  EXPECT_EQ(p[7], 255);   // hop limit
  EXPECT_EQ(net::IpAddress::v6({p[24], p[25], p[26], p[27], p[28], p[29], p[30], p[31], p[32], p[33], p[34],
                                p[35], p[36], p[37], p[38], p[39]}),
            ip("ff02::1"));
  EXPECT_EQ(p[40], 136);   // Neighbor Advertisement
  EXPECT_EQ(p[44], 0x20);  // Override, not Solicited, not Router
  EXPECT_EQ(p[64], 2);     // target link-layer address option
  EXPECT_EQ(p[65], 1);
  EXPECT_EQ(net::MacAddress({p[66], p[67], p[68], p[69], p[70], p[71]}), kOurs);
  EXPECT_EQ(fold(p), 0xffff) << "checksum";
  auto back = parse_neighbor_advertisement(p);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->target, ip("fd00::240"));
  EXPECT_TRUE(back->override_flag);
  EXPECT_FALSE(back->solicited);
}

// Builds an NS packet by hand (as a Linux host would send it).
runtime::Bytes neighbor_solicitation(net::IpAddress src, net::IpAddress dst, net::IpAddress target,
                                     std::optional<net::MacAddress> lla, std::uint8_t hop_limit = 255) {
  runtime::Bytes p(40 + 24 + (lla ? 8 : 0), 0);
  p[0] = 0x60;
  p[5] = static_cast<std::uint8_t>(p.size() - 40);
  p[6] = 58;
  p[7] = hop_limit;
  std::copy(src.bytes().begin(), src.bytes().end(), p.begin() + 8);
  std::copy(dst.bytes().begin(), dst.bytes().end(), p.begin() + 24);
  p[40] = 135;
  std::copy(target.bytes().begin(), target.bytes().end(), p.begin() + 48);
  if (lla) {
    p[64] = 1;
    p[65] = 1;
    std::copy(lla->bytes().begin(), lla->bytes().end(), p.begin() + 66);
  }
  std::uint16_t sum = static_cast<std::uint16_t>(~fold(p));
  p[42] = static_cast<std::uint8_t>(sum >> 8);
  p[43] = static_cast<std::uint8_t>(sum);
  return p;
}

TEST(NdpWireFormat, ReadsASolicitationAndRejectsForgeries) {
  auto target = ip("fd00::240");
  auto p = neighbor_solicitation(ip("fd00::10"), solicited_node_multicast(target), target, kAsker);
  auto ns = parse_neighbor_solicitation(p);
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->target, target);
  EXPECT_EQ(ns->destination, ip("ff02::1:ff00:240"));
  EXPECT_EQ(ns->source_link_address, kAsker);
  std::string why;
  auto routed = neighbor_solicitation(ip("fd00::10"), target, target, kAsker, 64);
  EXPECT_FALSE(parse_neighbor_solicitation(routed, &why));
  EXPECT_EQ(why, "hop limit is not 255: not from the link");
  p[60] ^= 1;  // flip a bit in the target
  EXPECT_FALSE(parse_neighbor_solicitation(p, &why));
  EXPECT_EQ(why, "bad ICMPv6 checksum");
  EXPECT_FALSE(parse_neighbor_solicitation(runtime::ByteView(p.data(), 50), &why));
  auto dad_with_lla = neighbor_solicitation(ip("::"), solicited_node_multicast(target), target, kAsker);
  EXPECT_FALSE(parse_neighbor_solicitation(dad_with_lla, &why));
}

TEST(NdpWireFormat, MulticastAddresses) {
  EXPECT_EQ(solicited_node_multicast(ip("fd00::12:3456")).to_string(), "ff02::1:ff12:3456");
  EXPECT_EQ(multicast_mac(ip("ff02::1:ff12:3456")).to_string(), "33:33:ff:12:34:56");
}

}  // namespace
}  // namespace metalgate::speaker
