// The two values of RFC 6455's opening handshake (§4.2.2) that a proxy translating between HTTP/1.1 Upgrade
// and HTTP/2's extended CONNECT (RFC 8441) has to produce: HTTP/2 carries neither, HTTP/1.1 needs both.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace metalgate::http {

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)). OpenSSL's SHA-1 and
// base64, as everywhere else in the engine.
std::string websocket_accept(std::string_view key);

// A Sec-WebSocket-Key: 16 bytes (two 64-bit draws of the caller's random source, so that a seed reproduces
// a simulated run) in base64.
std::string websocket_key(std::uint64_t a, std::uint64_t b);

// The Upgrade field names the WebSocket protocol (RFC 6455 §4.1: "websocket", any case).
bool is_websocket(std::string_view upgrade);

}  // namespace metalgate::http
