// Ethernet MAC addresses as values.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace metalgate::net {

class MacAddress {
 public:
  MacAddress() = default;
  explicit MacAddress(const std::array<std::uint8_t, 6>& bytes) : bytes_(bytes) {}
  static MacAddress broadcast() { return MacAddress({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}); }
  // A locally administered unicast address derived from a small number: stable MACs for virtual hosts.
  static MacAddress local(std::uint32_t n);
  static std::optional<MacAddress> parse(std::string_view text);  // "aa:bb:cc:dd:ee:ff"

  const std::array<std::uint8_t, 6>& bytes() const { return bytes_; }
  bool is_broadcast() const { return *this == broadcast(); }
  bool is_multicast() const { return (bytes_[0] & 0x01) != 0; }
  bool is_zero() const { return *this == MacAddress(); }
  std::string to_string() const;

  friend std::strong_ordering operator<=>(const MacAddress&, const MacAddress&) = default;
  friend bool operator==(const MacAddress&, const MacAddress&) = default;

 private:
  std::array<std::uint8_t, 6> bytes_{};
};

}  // namespace metalgate::net
