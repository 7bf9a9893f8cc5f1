// ARP for Ethernet and IPv4 (RFC 826): parse and build the 28-byte payload that follows the Ethernet header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/net/ip_address.h"
#include "engine/net/mac_address.h"
#include "engine/runtime/bytes.h"

namespace metalgate::speaker {

enum class ArpOperation : std::uint16_t { kRequest = 1, kReply = 2 };

struct ArpPacket {
  ArpOperation operation = ArpOperation::kRequest;
  net::MacAddress sender_mac;
  net::IpAddress sender_ip;
  net::MacAddress target_mac;
  net::IpAddress target_ip;
};

inline constexpr std::size_t kArpPacketSize = 28;

// Accepts trailing padding (short frames are padded to 46 payload bytes). On failure says why.
std::optional<ArpPacket> parse_arp(runtime::ByteView payload, std::string* why = nullptr);
runtime::Bytes serialize_arp(const ArpPacket& packet);

// The answer to `request` for `address`, from `our_mac`.
ArpPacket arp_reply(const ArpPacket& request, const net::MacAddress& our_mac);
// Gratuitous ARP (sender = target = address). The request form carries a zero target MAC (RFC 5227); the
// reply form carries target MAC = sender MAC, which Linux accepts as an update at once (one with ff:ff:… only
// after its 1 s locktime).
ArpPacket gratuitous_arp_request(const net::IpAddress& address, const net::MacAddress& our_mac);
ArpPacket gratuitous_arp_reply(const net::IpAddress& address, const net::MacAddress& our_mac);

}  // namespace metalgate::speaker
