#include "engine/net/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace metalgate::net {

__extension__ typedef unsigned __int128 u128;  // GCC/Clang builtin; fine for pool arithmetic

std::string_view to_string(IpFamily family) {
  return family == IpFamily::kV4 ? "IPv4" : "IPv6";
}

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress a;
  a.family_ = IpFamily::kV4;
  a.bytes_[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return v4((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d);
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = IpFamily::kV6;
  a.bytes_ = bytes;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton is pure text conversion (no I/O); it needs a terminated string.
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, a.bytes_.data()) != 1) return std::nullopt;
    a.family_ = IpFamily::kV4;
  } else {
    if (inet_pton(AF_INET6, buf, a.bytes_.data()) != 1) return std::nullopt;
    a.family_ = IpFamily::kV6;
  }
  return a;
}

std::uint32_t IpAddress::v4_host_order() const {
  return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) |
         (std::uint32_t{bytes_[2]} << 8) | bytes_[3];
}

bool IpAddress::is_unspecified() const {
  for (std::size_t i = 0; i < byte_length(); ++i)
    if (bytes_[i] != 0) return false;
  return true;
}

std::optional<IpAddress> IpAddress::advanced(std::uint64_t delta) const {
  IpAddress r = *this;
  int i = static_cast<int>(byte_length()) - 1;
  std::uint64_t carry = delta;
  while (carry != 0 && i >= 0) {
    std::uint64_t sum = r.bytes_[static_cast<std::size_t>(i)] + (carry & 0xff);
    r.bytes_[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(sum);
    carry = (carry >> 8) + (sum >> 8);
    --i;
  }
  if (carry != 0) return std::nullopt;
  return r;
}

std::uint64_t IpAddress::count_to(const IpAddress& last) const {
  if (last.family_ != family_ || last < *this) return 0;
  // Difference in 128-bit arithmetic, saturated: pools larger than 2^64 addresses exist (IPv6 /64s).
  u128 a = 0, b = 0;
  for (std::size_t i = 0; i < byte_length(); ++i) {
    a = (a << 8) | bytes_[i];
    b = (b << 8) | last.bytes_[i];
  }
  u128 diff = b - a;
  if (diff >= static_cast<u128>(UINT64_MAX)) return UINT64_MAX;
  return static_cast<std::uint64_t>(diff) + 1;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

static bool parse_int(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

static std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::optional<Cidr> Cidr::parse(std::string_view text, bool allow_host_bits) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = IpAddress::parse(text.substr(0, slash));
  int len = 0;
  if (!ip || !parse_int(text.substr(slash + 1), len)) return std::nullopt;
  int max = ip->is_v4() ? 32 : 128;
  if (len < 0 || len > max) return std::nullopt;
  auto bytes = ip->bytes();
  bool host_bits = false;
  for (int bit = len; bit < max; ++bit) {
    auto& byte = bytes[static_cast<std::size_t>(bit / 8)];
    std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    if (byte & mask) host_bits = true;
    byte = static_cast<std::uint8_t>(byte & ~mask);
  }
  if (host_bits && !allow_host_bits) return std::nullopt;
  Cidr c;
  c.network = ip->is_v4() ? IpAddress::v4(bytes[0], bytes[1], bytes[2], bytes[3]) : IpAddress::v6(bytes);
  c.prefix_length = len;
  return c;
}

IpAddress Cidr::last() const {
  auto bytes = network.bytes();
  int max = network.is_v4() ? 32 : 128;
  for (int bit = prefix_length; bit < max; ++bit)
    bytes[static_cast<std::size_t>(bit / 8)] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
  return network.is_v4() ? IpAddress::v4(bytes[0], bytes[1], bytes[2], bytes[3]) : IpAddress::v6(bytes);
}

bool Cidr::contains(const IpAddress& address) const {
  return address.family() == network.family() && network <= address && address <= last();
}

std::string Cidr::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix_length);
}

std::optional<AddressRange> AddressRange::parse(std::string_view text, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<AddressRange> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  text = trim(text);
  if (text.find('/') != std::string_view::npos) {
    auto cidr = Cidr::parse(text);
    if (!cidr) {
      if (Cidr::parse(text, true)) return fail("CIDR has host bits set");
      return fail("not a valid CIDR");
    }
    return AddressRange{cidr->first(), cidr->last()};
  }
  auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    auto ip = IpAddress::parse(text);
    if (!ip) return fail("not an address, a CIDR or a range a-b");
    return AddressRange{*ip, *ip};
  }
  auto a = IpAddress::parse(trim(text.substr(0, dash)));
  auto b = IpAddress::parse(trim(text.substr(dash + 1)));
  if (!a || !b) return fail("range ends must be addresses");
  if (a->family() != b->family()) return fail("range mixes IPv4 and IPv6");
  if (*b < *a) return fail("range end comes before its start");
  return AddressRange{*a, *b};
}

bool AddressRange::overlaps(const AddressRange& other) const {
  return first.family() == other.first.family() && first <= other.last && other.first <= last;
}

std::string AddressRange::to_string() const {
  if (first == last) return first.to_string();
  return first.to_string() + "-" + last.to_string();
}

std::string SocketAddress::to_string() const {
  if (ip.is_v6()) return "[" + ip.to_string() + "]:" + std::to_string(port);
  return ip.to_string() + ":" + std::to_string(port);
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view text) {
  std::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto ip = IpAddress::parse(host);
  int port = 0;
  if (!ip || !parse_int(port_text, port) || port < 0 || port > 65535) return std::nullopt;
  return SocketAddress{*ip, static_cast<std::uint16_t>(port)};
}

}  // namespace metalgate::net

std::size_t std::hash<metalgate::net::IpAddress>::operator()(
    const metalgate::net::IpAddress& a) const noexcept {
  std::uint64_t h = 1469598103934665603ull ^ static_cast<std::uint64_t>(a.family());
  for (std::size_t i = 0; i < a.byte_length(); ++i)
    h = (h ^ a.bytes()[i]) * 1099511628211ull;
  return static_cast<std::size_t>(h);
}

std::size_t std::hash<metalgate::net::SocketAddress>::operator()(
    const metalgate::net::SocketAddress& a) const noexcept {
  return std::hash<metalgate::net::IpAddress>{}(a.ip) * 31 + a.port;
}
