// The PROXY protocol header a load balancer in front of the proxy puts before a connection's first bytes
// (HAProxy's proxy-protocol.txt, versions 1 and 2), as HAProxy's `accept-proxy` / `expect-proxy` reads it.
// Sans I/O: the bytes received so far in, a parsed header, a request for more bytes, or an error out.
//
// Version 1, one text line ending in CRLF within 107 bytes:
//   "PROXY TCP4 <src> <dst> <sport> <dport>\r\n", "PROXY TCP6 …" (the addresses of that family), or
//   "PROXY UNKNOWN[ anything]\r\n" (no address: the connection's own stands).
// Version 2, the 12-byte signature, version/command, family/transport, a 16-bit length and that many bytes:
//   command PROXY with TCP over IPv4 or IPv6 gives the addresses (the TLVs after them are skipped); command
//   LOCAL gives none, whatever follows. Other commands, versions, families or transports are errors (HAProxy
//   2.6 refuses PROXY with UNSPEC, UNIX or UDP too), as is a length shorter than the family's addresses.
// Where HAProxy 2.6 is laxer or stricter than the specification, the specification is followed: a v1 port
// must be 0..65535 (HAProxy wraps 70000 to 4464), and UNKNOWN may be followed by anything before the CRLF
// (HAProxy takes only "PROXY UNKNOWN\r\n"). Leading zeros in ports are accepted, as HAProxy does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/net/ip_address.h"

namespace metalgate::proxy::proxy_protocol {

// The longest header read: v1's 107 bytes, or v2's 16 plus its length up to HAProxy's default buffer.
inline constexpr std::size_t kMaxV1Length = 107;
inline constexpr std::size_t kMaxV2Length = 16384;

enum class Status : std::uint8_t {
  kNeedMore,  // every byte so far fits a header: read more (the caller bounds the wait)
  kDone,      // a complete, valid header of `length` bytes; the connection's own bytes follow it
  kError,     // not a PROXY header, or a malformed one: the connection must be dropped
};

struct Header {
  Status status = Status::kNeedMore;
  std::size_t length = 0;  // kDone: bytes the header takes
  int version = 0;         // kDone: 1 or 2
  // kDone with PROXY TCP4/TCP6: the client as the load balancer saw it, and the address it connected to.
  // Unset for v1 UNKNOWN and v2 LOCAL: the connection's own addresses stand.
  std::optional<net::SocketAddress> source;
  std::optional<net::SocketAddress> destination;
  std::string error;  // kError: why, in HAProxy's words where it has some
};

// Parses the header at the start of `bytes` (everything the connection received so far).
Header parse(std::string_view bytes);

}  // namespace metalgate::proxy::proxy_protocol
