#include "engine/speaker/arp.h"

#include <cstring>

namespace metalgate::speaker {

namespace {
std::uint16_t read16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
void write16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
net::MacAddress read_mac(const std::uint8_t* p) {
  std::array<std::uint8_t, 6> b{};
  std::memcpy(b.data(), p, 6);
  return net::MacAddress(b);
}
}  // namespace

std::optional<ArpPacket> parse_arp(runtime::ByteView payload, std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<ArpPacket> {
    if (why) *why = reason;
    return std::nullopt;
  };
  if (payload.size() < kArpPacketSize) return fail("truncated ARP packet");
  const std::uint8_t* p = payload.data();
  if (read16(p) != 1) return fail("hardware type is not Ethernet");
  if (read16(p + 2) != 0x0800) return fail("protocol type is not IPv4");
  if (p[4] != 6 || p[5] != 4) return fail("address lengths are not 6 and 4");
  std::uint16_t op = read16(p + 6);
  if (op != 1 && op != 2) return fail("operation is neither request nor reply");
  ArpPacket a;
  a.operation = static_cast<ArpOperation>(op);
  a.sender_mac = read_mac(p + 8);
  a.sender_ip = net::IpAddress::v4(p[14], p[15], p[16], p[17]);
  a.target_mac = read_mac(p + 18);
  a.target_ip = net::IpAddress::v4(p[24], p[25], p[26], p[27]);
  return a;
}

runtime::Bytes serialize_arp(const ArpPacket& a) {
  runtime::Bytes out(kArpPacketSize);
  std::uint8_t* p = out.data();
  write16(p, 1);
  write16(p + 2, 0x0800);
  p[4] = 6;
  p[5] = 4;
  write16(p + 6, static_cast<std::uint16_t>(a.operation));
  std::memcpy(p + 8, a.sender_mac.bytes().data(), 6);
  std::memcpy(p + 14, a.sender_ip.bytes().data(), 4);
  std::memcpy(p + 18, a.target_mac.bytes().data(), 6);
  std::memcpy(p + 24, a.target_ip.bytes().data(), 4);
  return out;
}

ArpPacket arp_reply(const ArpPacket& request, const net::MacAddress& our_mac) {
  return {ArpOperation::kReply, our_mac, request.target_ip, request.sender_mac, request.sender_ip};
}

ArpPacket gratuitous_arp_request(const net::IpAddress& address, const net::MacAddress& our_mac) {
  return {ArpOperation::kRequest, our_mac, address, net::MacAddress(), address};
}

ArpPacket gratuitous_arp_reply(const net::IpAddress& address, const net::MacAddress& our_mac) {
  return {ArpOperation::kReply, our_mac, address, our_mac, address};
}

}  // namespace metalgate::speaker
