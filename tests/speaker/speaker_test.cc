// The speaker core's rules, driven with frames and instants directly.
#include "engine/speaker/speaker.h"

#include <gtest/gtest.h>

#include "engine/speaker/arp.h"
#include "engine/speaker/ndp.h"

namespace metalgate::speaker {
namespace {

using namespace std::chrono_literals;
net::IpAddress ip(const char* s) {
  return *net::IpAddress::parse(s);
}
net::MacAddress mac(const char* s) {
  return *net::MacAddress::parse(s);
}
const net::MacAddress kEth0 = mac("02:00:00:00:00:01"), kEth1 = mac("02:00:00:00:00:02"),
                      kAsker = mac("02:00:00:00:00:0a");
const auto kVip = ip("192.168.1.240");
const runtime::Instant kT0 = runtime::Instant(10s);

runtime::Bytes arp_request_for(net::IpAddress target) {
  return serialize_arp({ArpOperation::kRequest, kAsker, ip("192.168.1.10"), net::MacAddress(), target});
}

runtime::ReceivedFrame frame(const runtime::Bytes& payload,
                             runtime::FrameAddressing addressing = runtime::FrameAddressing::kBroadcast,
                             net::MacAddress destination = net::MacAddress::broadcast(),
                             std::uint16_t ethertype = runtime::kEtherTypeArp) {
  return {1, kAsker, destination, ethertype, addressing, payload};
}

class SpeakerTest : public ::testing::Test {
 protected:
  Speaker speaker{{{"eth0", kEth0}, {"eth1", kEth1}}, AnnouncePolicy{}};
};

TEST_F(SpeakerTest, AnswersOnlyWhileItOwnsTheAddress) {
  auto request = arp_request_for(kVip);
  EXPECT_TRUE(speaker.on_frame("eth0", frame(request), kT0).empty());
  EXPECT_EQ(speaker.counters().ignored_not_owner, 1u);
  speaker.set_owned({{kVip, {}}}, kT0);
  auto out = speaker.on_frame("eth0", frame(request), kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].interface, "eth0");
  EXPECT_EQ(out[0].destination, kAsker);  // unicast to the asker
  auto reply = parse_arp(out[0].payload);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->operation, ArpOperation::kReply);
  EXPECT_EQ(reply->sender_mac, kEth0);  // the interface's own MAC
  EXPECT_EQ(reply->sender_ip, kVip);
  speaker.set_owned({}, kT0 + 1s);
  EXPECT_TRUE(speaker.on_frame("eth0", frame(request), kT0 + 1s).empty())
      << "silent the instant ownership is lost";
  EXPECT_EQ(speaker.counters().arp_replies_sent, 1u);
}

TEST_F(SpeakerTest, AnswersOnlyOnAllowedInterfaces) {
  speaker.set_owned({{kVip, {"eth1"}}}, kT0);
  EXPECT_TRUE(speaker.on_frame("eth0", frame(arp_request_for(kVip)), kT0).empty());
  EXPECT_EQ(speaker.counters().ignored_wrong_interface, 1u);
  auto out = speaker.on_frame("eth1", frame(arp_request_for(kVip)), kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(parse_arp(out[0].payload)->sender_mac, kEth1);
}

TEST_F(SpeakerTest, IgnoresFramesForOtherHostsMalformedAndTruncated) {
  speaker.set_owned({{kVip, {}}}, kT0);
  auto request = arp_request_for(kVip);
  EXPECT_TRUE(
      speaker.on_frame("eth0", frame(request, runtime::FrameAddressing::kToOtherHost, kAsker), kT0).empty());
  EXPECT_TRUE(speaker.on_frame("eth0", frame(request, runtime::FrameAddressing::kToUs, kEth1), kT0).empty());
  EXPECT_EQ(speaker.counters().ignored_not_addressed_to_us, 2u);
  EXPECT_FALSE(speaker.on_frame("eth0", frame(request, runtime::FrameAddressing::kToUs, kEth0), kT0).empty());
  runtime::Bytes truncated(request.begin(), request.begin() + 20);
  EXPECT_TRUE(speaker.on_frame("eth0", frame(truncated), kT0).empty());
  runtime::Bytes garbage(60, 0xab);
  EXPECT_TRUE(speaker.on_frame("eth0", frame(garbage), kT0).empty());
  EXPECT_EQ(speaker.counters().malformed, 2u);
  EXPECT_TRUE(speaker.on_frame("eth9", frame(request), kT0).empty()) << "unknown interface";
}

TEST_F(SpeakerTest, AnotherHostAnnouncingOurAddressIsAConflictNotAQuestion) {
  speaker.set_owned({{kVip, {}}}, kT0);
  auto garp = serialize_arp(gratuitous_arp_request(kVip, kAsker));
  EXPECT_TRUE(speaker.on_frame("eth0", frame(garp), kT0).empty());
  EXPECT_EQ(speaker.counters().conflicts_seen, 1u);
}

TEST_F(SpeakerTest, AnnouncesAtOnceThenRepeatsMoreThanASecondApart) {
  auto now = speaker.set_owned({{kVip, {"eth0"}}}, kT0);
  ASSERT_EQ(now.size(), 2u);  // gratuitous request and reply, on eth0 only
  EXPECT_EQ(parse_arp(now[0].payload)->operation, ArpOperation::kRequest);
  EXPECT_EQ(parse_arp(now[1].payload)->operation, ArpOperation::kReply);
  EXPECT_TRUE(now[0].destination.is_broadcast());
  std::vector<runtime::Instant> rounds{kT0};
  for (int i = 0; i < 10; ++i) {
    auto next = speaker.next_timeout();
    if (!next) break;
    EXPECT_TRUE(speaker.handle_timeout(*next - 1ms).empty()) << "nothing before its time";
    EXPECT_EQ(speaker.handle_timeout(*next).size(), 2u);
    rounds.push_back(*next);
  }
  ASSERT_EQ(rounds.size(), 4u);  // default: 4 rounds
  for (std::size_t i = 1; i < rounds.size(); ++i)
    EXPECT_EQ(rounds[i] - rounds[i - 1], 1100ms);
  EXPECT_EQ(speaker.counters().announcements_sent, 8u);
}

TEST(SpeakerRefresh, PeriodicRefreshAfterTheBurst) {
  Speaker s{{{"eth0", kEth0}}, AnnouncePolicy{.rounds = 2, .spacing = 1100ms, .refresh = 30s}};
  s.set_owned({{kVip, {}}}, kT0);
  s.handle_timeout(kT0 + 1100ms);
  EXPECT_EQ(s.next_timeout(), kT0 + 1100ms + 30s);
  EXPECT_EQ(s.handle_timeout(kT0 + 1100ms + 30s).size(), 2u);
  EXPECT_EQ(s.next_timeout(), kT0 + 1100ms + 60s);
}

TEST_F(SpeakerTest, ReannounceStartsANewBurst) {
  speaker.set_owned({{kVip, {}}}, kT0);
  for (auto t = speaker.next_timeout(); t; t = speaker.next_timeout())
    speaker.handle_timeout(*t);
  EXPECT_FALSE(speaker.next_timeout());
  EXPECT_EQ(speaker.reannounce(kT0 + 60s).size(), 4u);  // request + reply on both interfaces
  EXPECT_EQ(speaker.next_timeout(), kT0 + 60s + 1100ms);
}

TEST_F(SpeakerTest, AMembershipChangeAfterTheBurstAnnouncesAtOnce) {
  speaker.set_owned({{kVip, {}}}, kT0);
  for (auto t = speaker.next_timeout(); t; t = speaker.next_timeout())
    speaker.handle_timeout(*t);
  EXPECT_EQ(speaker.set_owned({{kVip, {}}}, kT0 + 60s, /*restart_all=*/true).size(), 4u);
  EXPECT_EQ(speaker.next_timeout(), kT0 + 60s + 1100ms);
}

TEST_F(SpeakerTest, AWaveOfMembershipChangesExtendsTheBurstInsteadOfMultiplyingIt) {
  speaker.set_owned({{kVip, {}}}, kT0);                        // round 1 of 4
  EXPECT_EQ(speaker.handle_timeout(kT0 + 1100ms).size(), 4u);  // round 2
  // Ten membership changes within the next second: no extra broadcasts, and the burst starts over.
  for (int i = 1; i <= 10; ++i)
    EXPECT_TRUE(speaker.set_owned({{kVip, {}}}, kT0 + 1100ms + i * 50ms, true).empty());
  int rounds = 0;
  for (auto t = speaker.next_timeout(); t; t = speaker.next_timeout()) {
    EXPECT_EQ(speaker.handle_timeout(*t).size(), 4u);
    ++rounds;
  }
  EXPECT_EQ(rounds, 4);  // a whole burst after the last change
  EXPECT_EQ(speaker.counters().announcements_sent, 6u * 4u);
}

runtime::Bytes ns_packet(net::IpAddress src, net::IpAddress dst, net::IpAddress target) {
  // A solicitation as Linux sends it, checksum and all, from the wire-format helpers' inverse: build an
  // NA-shaped buffer, then turn it into an NS (type 135, no flags, source link-layer option) and fix the
  // checksum.
  NeighborAdvertisement shape{src, dst, target, kAsker, false, false};
  auto p = serialize_neighbor_advertisement(shape);
  p[40] = 135;
  p[64] = 1;  // source link-layer address option
  p[42] = p[43] = 0;
  std::uint32_t sum = 0;
  for (std::size_t i = 8; i < 40; i += 2)
    sum += static_cast<std::uint32_t>((p[i] << 8) | p[i + 1]);
  sum += 32 + 58;
  for (std::size_t i = 40; i < p.size(); i += 2)
    sum += static_cast<std::uint32_t>((p[i] << 8) | p[i + 1]);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  p[42] = static_cast<std::uint8_t>((~sum) >> 8);
  p[43] = static_cast<std::uint8_t>(~sum);
  return p;
}

TEST_F(SpeakerTest, AnswersNeighborSolicitationsWithASolicitedOverrideAdvertisement) {
  auto vip6 = ip("fd00::240");
  speaker.set_owned({{vip6, {}}}, kT0);
  auto p = ns_packet(ip("fd00::10"), solicited_node_multicast(vip6), vip6);
  auto out = speaker.on_frame("eth0",
                              frame(p, runtime::FrameAddressing::kMulticast,
                                    multicast_mac(solicited_node_multicast(vip6)), runtime::kEtherTypeIpv6),
                              kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].destination, kAsker);
  auto na = parse_neighbor_advertisement(out[0].payload);
  ASSERT_TRUE(na);
  EXPECT_TRUE(na->solicited);
  EXPECT_TRUE(na->override_flag);
  EXPECT_EQ(na->target_link_address, kEth0);
  EXPECT_EQ(na->destination, ip("fd00::10"));
  // Other IPv6 traffic on the link is not an error.
  runtime::Bytes tcp(60, 0);
  tcp[0] = 0x60;
  tcp[6] = 6;
  EXPECT_TRUE(
      speaker
          .on_frame("eth0", frame(tcp, runtime::FrameAddressing::kToUs, kEth0, runtime::kEtherTypeIpv6), kT0)
          .empty());
  EXPECT_EQ(speaker.counters().malformed, 0u);
}

TEST_F(SpeakerTest, AnnouncesIpv6WithAnUnsolicitedAdvertisementToAllNodes) {
  auto out = speaker.set_owned({{ip("fd00::240"), {"eth0"}}}, kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].destination.to_string(), "33:33:00:00:00:01");
  auto na = parse_neighbor_advertisement(out[0].payload);
  ASSERT_TRUE(na);
  EXPECT_FALSE(na->solicited);
  EXPECT_TRUE(na->override_flag);
  EXPECT_EQ(na->destination, ip("ff02::1"));
}

}  // namespace
}  // namespace metalgate::speaker
