// Views over bytes that the runtime hands to the engine and back.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace metalgate::runtime {

using ByteView = std::span<const std::uint8_t>;
using Bytes = std::vector<std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace metalgate::runtime
