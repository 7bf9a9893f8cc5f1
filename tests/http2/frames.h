// Raw HTTP/2 frames for tests: a client that sends exactly the bytes a test names (valid or not), and a
// reader of what the server sent. HPACK: literal fields without indexing on the way in, nghttp2's inflater on
// the way out.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace metalgate::http2::testing {

enum Type : std::uint8_t {
  kData = 0,
  kHeaders = 1,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoaway = 7,
  kWindowUpdate = 8,
  kContinuation = 9
};
enum Flag : std::uint8_t { kEndStream = 1, kAck = 1, kEndHeaders = 4 };

inline std::string u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

inline std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                         std::string_view payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string f{static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n),
                static_cast<char>(type), static_cast<char>(flags)};
  f += u32(stream & 0x7fffffffu);
  f.append(payload);
  return f;
}

// HPACK integer with a 7-bit prefix (RFC 7541 §5.1), no Huffman.
inline void hpack_length(std::string& out, std::size_t n) {
  if (n < 127) return out.push_back(static_cast<char>(n));
  out.push_back(127);
  n -= 127;
  while (n >= 128) {
    out.push_back(static_cast<char>((n % 128) | 128));
    n /= 128;
  }
  out.push_back(static_cast<char>(n));
}

// Fields as HPACK literals without indexing, new names (RFC 7541 §6.2.2).
inline std::string block(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    out.push_back(0);
    hpack_length(out, name.size());
    out += name;
    hpack_length(out, value.size());
    out += value;
  }
  return out;
}

inline std::vector<std::pair<std::string, std::string>> get(std::string path = "/") {
  return {{":method", "GET"},
          {":scheme", "https"},
          {":path", std::move(path)},
          {":authority", "app.example.com"}};
}

// The client preface, an empty SETTINGS and the ACK of the server's.
inline std::string preface() {
  return std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + frame(kSettings, 0, 0, "") +
         frame(kSettings, kAck, 0, "");
}

struct Frame {
  std::uint8_t type = 0, flags = 0;
  std::uint32_t stream = 0;
  std::string payload;
  std::uint32_t error_code() const {  // RST_STREAM's, or GOAWAY's
    const std::size_t at = type == kGoaway ? 4 : 0;
    if (payload.size() < at + 4) return ~0u;
    auto b = [&](std::size_t i) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>(payload[at + i]));
    };
    return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
  }
};

inline std::vector<Frame> parse(std::string_view bytes) {
  std::vector<Frame> out;
  while (bytes.size() >= 9) {
    auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])); };
    const std::uint32_t n = b(0) << 16 | b(1) << 8 | b(2);
    if (bytes.size() < 9 + n) break;
    out.push_back({static_cast<std::uint8_t>(b(3)), static_cast<std::uint8_t>(b(4)),
                   (b(5) << 24 | b(6) << 16 | b(7) << 8 | b(8)) & 0x7fffffffu,
                   std::string(bytes.substr(9, n))});
    bytes.remove_prefix(9 + n);
  }
  return out;
}

// Decodes header blocks in the order the server sent them (one inflater per connection, as HPACK needs).
class Inflater {
 public:
  Inflater() { nghttp2_hd_inflate_new(&inflater_); }
  ~Inflater() { nghttp2_hd_inflate_del(inflater_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  std::vector<std::pair<std::string, std::string>> fields(std::string_view block) {
    std::vector<std::pair<std::string, std::string>> out;
    auto* in = reinterpret_cast<const std::uint8_t*>(block.data());
    std::size_t left = block.size();
    for (;;) {
      nghttp2_nv nv;
      int flags = 0;
      const ssize_t n = nghttp2_hd_inflate_hd2(inflater_, &nv, &flags, in, left, 1);
      if (n < 0) break;
      in += n;
      left -= static_cast<std::size_t>(n);
      if (flags & NGHTTP2_HD_INFLATE_EMIT)
        out.emplace_back(std::string(reinterpret_cast<char*>(nv.name), nv.namelen),
                         std::string(reinterpret_cast<char*>(nv.value), nv.valuelen));
      if (flags & NGHTTP2_HD_INFLATE_FINAL) {
        nghttp2_hd_inflate_end_headers(inflater_);
        break;
      }
      if (n == 0 && left == 0) break;
    }
    return out;
  }

 private:
  nghttp2_hd_inflater* inflater_ = nullptr;
};

}  // namespace metalgate::http2::testing
