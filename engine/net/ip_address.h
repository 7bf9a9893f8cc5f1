// IP addresses, prefixes and ranges as plain values: parsed, compared, stepped and formatted without any I/O.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace metalgate::net {

enum class IpFamily : std::uint8_t { kV4 = 4, kV6 = 6 };

std::string_view to_string(IpFamily family);

// An IPv4 or IPv6 address. IPv4 is kept in the first four bytes; the family decides how many bytes count.
class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress v4(std::uint32_t host_order);
  static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
  static IpAddress v6(const std::array<std::uint8_t, 16>& bytes);
  // Accepts dotted quad or any RFC 4291 text form; no surrounding blanks, no zone index, no prefix.
  static std::optional<IpAddress> parse(std::string_view text);

  IpFamily family() const { return family_; }
  bool is_v4() const { return family_ == IpFamily::kV4; }
  bool is_v6() const { return family_ == IpFamily::kV6; }
  std::size_t byte_length() const { return is_v4() ? 4 : 16; }
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  std::uint32_t v4_host_order() const;
  bool is_unspecified() const;

  // The address `delta` steps further; nullopt when it would leave the family's space.
  std::optional<IpAddress> advanced(std::uint64_t delta) const;
  // Number of addresses from this one to `last` inclusive, saturated at UINT64_MAX; 0 when last < this.
  std::uint64_t count_to(const IpAddress& last) const;

  std::string to_string() const;

  friend std::strong_ordering operator<=>(const IpAddress&, const IpAddress&) = default;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  IpFamily family_ = IpFamily::kV4;
  std::array<std::uint8_t, 16> bytes_{};
};

// A prefix such as 192.168.1.0/24; the address is stored with host bits cleared.
struct Cidr {
  IpAddress network;
  int prefix_length = 0;

  // Strict about host bits: "10.0.0.1/24" is refused (MetalLB refuses it too) unless allow_host_bits.
  static std::optional<Cidr> parse(std::string_view text, bool allow_host_bits = false);
  bool contains(const IpAddress& address) const;
  IpAddress first() const { return network; }
  IpAddress last() const;
  std::string to_string() const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// An inclusive range first..last of one family: how MetalLB pools are stored once parsed.
struct AddressRange {
  IpAddress first;
  IpAddress last;

  // "a-b", "a - b", a CIDR, or a single address (as a /32 or /128).
  static std::optional<AddressRange> parse(std::string_view text, std::string* why = nullptr);
  bool contains(const IpAddress& address) const {
    return address.family() == first.family() && first <= address && address <= last;
  }
  std::uint64_t size() const { return first.count_to(last); }
  bool overlaps(const AddressRange& other) const;
  std::string to_string() const;
  friend bool operator==(const AddressRange&, const AddressRange&) = default;
};

// An address with a port, the endpoint of a stream or a datagram.
struct SocketAddress {
  IpAddress ip;
  std::uint16_t port = 0;
  std::string to_string() const;  // "1.2.3.4:80" or "[::1]:80"
  static std::optional<SocketAddress> parse(std::string_view text);
  friend std::strong_ordering operator<=>(const SocketAddress&, const SocketAddress&) = default;
  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
};

}  // namespace metalgate::net

template <>
struct std::hash<metalgate::net::IpAddress> {
  std::size_t operator()(const metalgate::net::IpAddress& a) const noexcept;
};
template <>
struct std::hash<metalgate::net::SocketAddress> {
  std::size_t operator()(const metalgate::net::SocketAddress& a) const noexcept;
};
