#include "engine/proxy/proxy_protocol.h"

#include <algorithm>
#include <array>
#include <vector>

namespace metalgate::proxy::proxy_protocol {

namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t kV2Fixed = 16;  // signature, version/command, family/transport, length

Header error(std::string why) {
  Header h;
  h.status = Status::kError;
  h.error = std::move(why);
  return h;
}

Header need_more() {
  return Header{};
}

// Whether `bytes` could still become `full` (it is a prefix of it, or `full` a prefix of it).
bool may_start(std::string_view bytes, std::string_view full) {
  const std::size_t n = std::min(bytes.size(), full.size());
  return bytes.substr(0, n) == full.substr(0, n);
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  while (start <= line.size()) {
    const std::size_t space = line.find(' ', start);
    words.push_back(
        line.substr(start, space == std::string_view::npos ? std::string_view::npos : space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return words;
}

// A v1 port: decimal digits, 0..65535.
std::optional<std::uint16_t> v1_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// The fields after "PROXY " and before the CRLF.
Header parse_v1_line(std::string_view line, std::size_t length) {
  Header h;
  h.status = Status::kDone;
  h.length = length;
  h.version = 1;
  if (line == "UNKNOWN" || line.starts_with("UNKNOWN ")) return h;  // the rest is to be ignored
  const std::vector<std::string_view> w = split_spaces(line);
  if (w[0] != "TCP4" && w[0] != "TCP6")
    return error("Received an unhandled protocol in the PROXY protocol header");
  if (w.size() != 5) return error("Received an invalid PROXY protocol header");
  const bool v4 = w[0] == "TCP4";
  const std::optional<net::IpAddress> src = net::IpAddress::parse(w[1]);
  const std::optional<net::IpAddress> dst = net::IpAddress::parse(w[2]);
  const std::optional<std::uint16_t> sport = v1_port(w[3]);
  const std::optional<std::uint16_t> dport = v1_port(w[4]);
  if (!src || !dst || src->is_v4() != v4 || dst->is_v4() != v4 || !sport || !dport)
    return error("Received an invalid PROXY protocol header");
  h.source = net::SocketAddress{*src, *sport};
  h.destination = net::SocketAddress{*dst, *dport};
  return h;
}

Header parse_v1(std::string_view bytes) {
  const std::size_t crlf = bytes.substr(0, kMaxV1Length).find("\r\n");
  if (crlf == std::string_view::npos) {
    // A lone LF (or CR followed by anything but LF) ends no v1 line: refuse it rather than wait.
    const std::size_t lf = bytes.substr(0, kMaxV1Length).find('\n');
    const std::size_t cr = bytes.substr(0, kMaxV1Length).find('\r');
    if (lf != std::string_view::npos || (cr != std::string_view::npos && cr + 1 < bytes.size()))
      return error("Received an invalid PROXY protocol header");
    if (bytes.size() >= kMaxV1Length) return error("Received a truncated PROXY protocol header");
    return need_more();
  }
  const std::string_view line = bytes.substr(kV1Prefix.size(), crlf - kV1Prefix.size());
  if (line.find_first_of("\r\n") != std::string_view::npos)
    return error("Received an invalid PROXY protocol header");
  return parse_v1_line(line, crlf + 2);
}

net::IpAddress v6_at(std::string_view b) {
  std::array<std::uint8_t, 16> bytes{};
  std::copy_n(reinterpret_cast<const std::uint8_t*>(b.data()), 16, bytes.begin());
  return net::IpAddress::v6(bytes);
}

std::uint16_t u16_at(std::string_view b) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(b[0]) << 8) |
                                    static_cast<unsigned char>(b[1]));
}

Header parse_v2(std::string_view bytes) {
  if (bytes.size() < kV2Fixed) return need_more();
  const auto ver_cmd = static_cast<unsigned char>(bytes[12]);
  const auto fam = static_cast<unsigned char>(bytes[13]);
  const std::size_t length = kV2Fixed + u16_at(bytes.substr(14));
  if ((ver_cmd >> 4) != 2) return error("Received an invalid PROXY protocol header (version)");
  const unsigned command = ver_cmd & 0x0f;
  if (command > 1) return error("Received an invalid PROXY protocol header (command)");
  if ((fam >> 4) > 3 || (fam & 0x0f) > 2) return error("Received an invalid PROXY protocol header (family)");
  if (length > kMaxV2Length) return error("Received a PROXY protocol header longer than the buffer");
  if (bytes.size() < length) return need_more();
  Header h;
  h.status = Status::kDone;
  h.length = length;
  h.version = 2;
  if (command == 0) return h;  // LOCAL: the connection's own addresses; the address block is skipped
  const std::string_view block = bytes.substr(kV2Fixed, length - kV2Fixed);
  if (fam == 0x11 && block.size() >= 12) {
    const auto* a = reinterpret_cast<const std::uint8_t*>(block.data());
    h.source = net::SocketAddress{net::IpAddress::v4(a[0], a[1], a[2], a[3]), u16_at(block.substr(8))};
    h.destination = net::SocketAddress{net::IpAddress::v4(a[4], a[5], a[6], a[7]), u16_at(block.substr(10))};
    return h;
  }
  if (fam == 0x21 && block.size() >= 36) {
    h.source = net::SocketAddress{v6_at(block), u16_at(block.substr(32))};
    h.destination = net::SocketAddress{v6_at(block.substr(16)), u16_at(block.substr(34))};
    return h;
  }
  if (fam == 0x11 || fam == 0x21) return error("Received an invalid PROXY protocol header (address length)");
  return error("Received an unhandled protocol in the PROXY protocol header");
}

}  // namespace

Header parse(std::string_view bytes) {
  if (bytes.empty()) return need_more();
  if (may_start(bytes, kV1Prefix)) return bytes.size() < kV1Prefix.size() ? need_more() : parse_v1(bytes);
  if (may_start(bytes, kV2Signature))
    return bytes.size() < kV2Signature.size() ? need_more() : parse_v2(bytes);
  return error("Received something which does not look like a PROXY protocol header");
}

}  // namespace metalgate::proxy::proxy_protocol
