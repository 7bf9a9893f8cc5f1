// IPv6 neighbour discovery (RFC 4861) as far as a speaker needs it: read a Neighbor Solicitation out of an
// IPv6 packet, and build solicited and unsolicited Neighbor Advertisements (IPv6 header, ICMPv6 with its
// checksum, and the target link-layer address option).
#pragma once

#include <optional>
#include <string>

#include "engine/net/ip_address.h"
#include "engine/net/mac_address.h"
#include "engine/runtime/bytes.h"

namespace metalgate::speaker {

struct NeighborSolicitation {
  net::IpAddress source;       // :: for duplicate address detection
  net::IpAddress destination;  // the target itself or its solicited-node multicast group
  net::IpAddress target;
  std::optional<net::MacAddress> source_link_address;
};

struct NeighborAdvertisement {
  net::IpAddress source;  // the target address being advertised
  net::IpAddress destination;
  net::IpAddress target;
  net::MacAddress target_link_address;
  bool solicited = true;
  bool override_flag = true;
};

// Parses an IPv6 packet (the payload after the Ethernet header) carrying an NS. Checks version, next header
// (ICMPv6, no extension headers), hop limit 255, ICMP type and code, length, option lengths and the checksum.
std::optional<NeighborSolicitation> parse_neighbor_solicitation(runtime::ByteView ipv6_packet,
                                                                std::string* why = nullptr);
// The full IPv6 packet of an NA (for sending with EtherType 0x86dd).
runtime::Bytes serialize_neighbor_advertisement(const NeighborAdvertisement& na);
// Reads an NA back (tests and diagnostics use it).
std::optional<NeighborAdvertisement> parse_neighbor_advertisement(runtime::ByteView ipv6_packet,
                                                                  std::string* why = nullptr);

net::IpAddress solicited_node_multicast(const net::IpAddress& target);  // ff02::1:ffXX:XXXX
net::IpAddress all_nodes_multicast();                                   // ff02::1
net::MacAddress multicast_mac(const net::IpAddress& group);             // 33:33 + last four bytes

}  // namespace metalgate::speaker
