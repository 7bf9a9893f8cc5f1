// A peek at the first bytes a client sends on a TLS port, to route by SNI without terminating TLS: what
// HAProxy's `req_ssl_hello_type` / `req_ssl_sni` give the HAProxy Kubernetes Ingress controller's
// `ssl-passthrough`. Sans I/O and a pure function of the bytes: call it again with more bytes appended.
//
// Records (RFC 8446 §5.1): content type 22 (handshake), legacy version 0x0300..0x0304, length 1..2^14. The
// ClientHello may be fragmented over consecutive handshake records; any other record before it is complete
// (or an SSLv2-style hello, whose first byte is 0x80) is not TLS.
// The message (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2): handshake type 1 with a 24-bit length, then
// legacy_version (major 3), random[32], session_id<0..32>, cipher_suites<2..2^16-2> (even),
// legacy_compression_methods<1..2^8-1>, and optionally extensions<0..2^16-1> that end the message exactly.
// Every length must fit inside its parent; an extension type seen twice is not TLS (RFC 8446 §4.2).
// server_name (RFC 6066 §3): ServerNameList<1..2^16-1> filling the extension, of {name_type, opaque<..>};
// the first host_name (type 0) is the server name. It must be a DNS name: letters, digits, '-' and '.',
// no empty label, labels of at most 63 bytes, at most 253 bytes once one trailing dot is dropped.
//
// The answer is kNeedMore while the bytes are a valid prefix of an incomplete hello, kNotTls from the first
// byte that proves they are not one (so "GET / HTTP/1.1" is kNotTls after one byte), or when the hello
// would end past kMaxClientHelloBytes, and kHello once the hello is complete; only its bytes are looked at
// (the client may already have sent more). Once kHello or kNotTls, every longer input gives the same answer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace metalgate::tls {

// The most bytes peek_client_hello needs to decide: a hello that would end past this is kNotTls, as soon as
// its lengths say so, so a caller never has to buffer more than this many bytes to get an answer. It is
// 2^14 bytes of handshake message (the plaintext of one full record, and HAProxy's default 16 KiB buffer
// that its req_ssl_sni reads from) plus the 5-byte headers of 4 records, so even a maximal hello may be
// fragmented four ways. Real hellos are far smaller: a browser's with a post-quantum X25519MLKEM768 key
// share is about 1.8 KB.
inline constexpr std::size_t kMaxClientHelloBytes = 16384 + 4 * 5;

struct ClientHelloPeek {
  enum class Status { kNeedMore, kHello, kNotTls };
  Status status = Status::kNeedMore;
  std::string server_name;  // kHello: the SNI host_name, lower-cased, no trailing dot; empty when none
  std::string why;          // kNotTls: what was wrong and at which byte offset of the input
};

// Reads the ClientHello at the start of `bytes` (everything the connection received so far).
ClientHelloPeek peek_client_hello(std::string_view bytes);

}  // namespace metalgate::tls
