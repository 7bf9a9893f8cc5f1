#include "engine/speaker/ndp.h"

#include <cstring>

namespace metalgate::speaker {

namespace {

constexpr std::uint8_t kIcmpv6 = 58;
constexpr std::uint8_t kNeighborSolicitation = 135;
constexpr std::uint8_t kNeighborAdvertisement = 136;
constexpr std::size_t kIpv6HeaderSize = 40;

net::IpAddress read_v6(const std::uint8_t* p) {
  std::array<std::uint8_t, 16> b{};
  std::memcpy(b.data(), p, 16);
  return net::IpAddress::v6(b);
}

// The ICMPv6 checksum over the pseudo-header (RFC 8200 section 8.1) and the message.
std::uint16_t icmpv6_checksum(const net::IpAddress& src, const net::IpAddress& dst, const std::uint8_t* msg,
                              std::size_t len) {
  std::uint64_t sum = 0;
  auto add = [&](const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i + 1 < n; i += 2)
      sum += static_cast<std::uint32_t>((p[i] << 8) | p[i + 1]);
    if (n % 2) sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  };
  add(src.bytes().data(), 16);
  add(dst.bytes().data(), 16);
  sum += static_cast<std::uint32_t>(len);
  sum += kIcmpv6;
  add(msg, len);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

struct Icmpv6View {
  net::IpAddress source, destination;
  const std::uint8_t* message;
  std::size_t length;
};

std::optional<Icmpv6View> icmpv6_of(runtime::ByteView packet, std::uint8_t type, std::size_t min_length,
                                    std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<Icmpv6View> {
    if (why) *why = reason;
    return std::nullopt;
  };
  if (packet.size() < kIpv6HeaderSize) return fail("truncated IPv6 header");
  const std::uint8_t* p = packet.data();
  if ((p[0] >> 4) != 6) return fail("not IPv6");
  std::size_t payload_length = static_cast<std::size_t>((p[4] << 8) | p[5]);
  if (payload_length + kIpv6HeaderSize > packet.size()) return fail("IPv6 payload length exceeds the frame");
  if (p[6] != kIcmpv6) return fail("not ICMPv6 (or behind extension headers)");
  if (p[7] != 255) return fail("hop limit is not 255: not from the link");
  const std::uint8_t* msg = p + kIpv6HeaderSize;
  if (payload_length < min_length) return fail("truncated ICMPv6 message");
  if (msg[0] != type) return fail("another ICMPv6 type");
  if (msg[1] != 0) return fail("ICMPv6 code is not 0");
  Icmpv6View v{read_v6(p + 8), read_v6(p + 24), msg, payload_length};
  if (icmpv6_checksum(v.source, v.destination, msg, payload_length) != 0) return fail("bad ICMPv6 checksum");
  return v;
}

// Walks the options after the fixed part; returns false on a malformed option.
bool link_address_option(const std::uint8_t* opts, std::size_t len, std::uint8_t wanted,
                         std::optional<net::MacAddress>& out) {
  while (len > 0) {
    if (len < 2 || opts[1] == 0 || opts[1] * 8u > len) return false;
    std::size_t option_length = opts[1] * 8u;
    if (opts[0] == wanted && option_length >= 8) {
      std::array<std::uint8_t, 6> mac{};
      std::memcpy(mac.data(), opts + 2, 6);
      out = net::MacAddress(mac);
    }
    opts += option_length;
    len -= option_length;
  }
  return true;
}

}  // namespace

net::IpAddress solicited_node_multicast(const net::IpAddress& target) {
  std::array<std::uint8_t, 16> b{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0};
  b[13] = target.bytes()[13];
  b[14] = target.bytes()[14];
  b[15] = target.bytes()[15];
  return net::IpAddress::v6(b);
}

net::IpAddress all_nodes_multicast() {
  return net::IpAddress::v6({0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01});
}

net::MacAddress multicast_mac(const net::IpAddress& group) {
  const auto& b = group.bytes();
  return net::MacAddress({0x33, 0x33, b[12], b[13], b[14], b[15]});
}

std::optional<NeighborSolicitation> parse_neighbor_solicitation(runtime::ByteView packet, std::string* why) {
  auto v = icmpv6_of(packet, kNeighborSolicitation, 24, why);
  if (!v) return std::nullopt;
  NeighborSolicitation ns;
  ns.source = v->source;
  ns.destination = v->destination;
  ns.target = read_v6(v->message + 8);
  if (!link_address_option(v->message + 24, v->length - 24, 1, ns.source_link_address)) {
    if (why) *why = "malformed NDP option";
    return std::nullopt;
  }
  if (ns.source.is_unspecified() && ns.source_link_address) {
    if (why) *why = "a DAD solicitation must not carry a source link-layer address";
    return std::nullopt;
  }
  return ns;
}

runtime::Bytes serialize_neighbor_advertisement(const NeighborAdvertisement& na) {
  constexpr std::size_t kMessage = 24 + 8;  // fixed part + target link-layer address option
  runtime::Bytes out(kIpv6HeaderSize + kMessage, 0);
  std::uint8_t* p = out.data();
  p[0] = 0x60;
  p[4] = 0;
  p[5] = kMessage;
  p[6] = kIcmpv6;
  p[7] = 255;
  std::memcpy(p + 8, na.source.bytes().data(), 16);
  std::memcpy(p + 24, na.destination.bytes().data(), 16);
  std::uint8_t* m = p + kIpv6HeaderSize;
  m[0] = kNeighborAdvertisement;
  m[4] = static_cast<std::uint8_t>((na.solicited ? 0x40 : 0) | (na.override_flag ? 0x20 : 0));
  std::memcpy(m + 8, na.target.bytes().data(), 16);
  m[24] = 2;  // target link-layer address
  m[25] = 1;  // 8 bytes
  std::memcpy(m + 26, na.target_link_address.bytes().data(), 6);
  std::uint16_t sum = icmpv6_checksum(na.source, na.destination, m, kMessage);
  m[2] = static_cast<std::uint8_t>(sum >> 8);
  m[3] = static_cast<std::uint8_t>(sum);
  return out;
}

std::optional<NeighborAdvertisement> parse_neighbor_advertisement(runtime::ByteView packet,
                                                                  std::string* why) {
  auto v = icmpv6_of(packet, kNeighborAdvertisement, 24, why);
  if (!v) return std::nullopt;
  NeighborAdvertisement na;
  na.source = v->source;
  na.destination = v->destination;
  na.solicited = (v->message[4] & 0x40) != 0;
  na.override_flag = (v->message[4] & 0x20) != 0;
  na.target = read_v6(v->message + 8);
  std::optional<net::MacAddress> mac;
  if (!link_address_option(v->message + 24, v->length - 24, 2, mac) || !mac) {
    if (why) *why = "missing or malformed target link-layer address";
    return std::nullopt;
  }
  na.target_link_address = *mac;
  return na;
}

}  // namespace metalgate::speaker
