// Byte classes of HTTP/1 syntax (RFC 9110 §5.6, RFC 9112), shared by the head parser and the chunked
// decoder so both read the same grammar.
#pragma once

#include <array>
#include <string_view>

namespace metalgate::http::chars {

// RFC 9110 tchar.
constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c)
    t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c)
    t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c)
    t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~"))
    t[static_cast<unsigned char>(c)] = true;
  return t;
}
inline constexpr std::array<bool, 256> kToken = make_token_table();

inline bool is_token(unsigned char c) {
  return kToken[c];
}
// Bytes allowed in a field value: HTAB, visible ASCII, SP and obs-text; never NUL, CR, LF or other controls.
inline bool is_value_byte(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}
// Bytes allowed in a request target: visible ASCII only (HAProxy refuses the rest).
inline bool is_target_byte(unsigned char c) {
  return c > 0x20 && c < 0x7f;
}
// RFC 9110 qdtext: HTAB, SP, visible ASCII but DQUOTE and backslash, obs-text.
inline bool is_qdtext(unsigned char c) {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}
// What may follow a backslash in a quoted-pair: HTAB, SP, VCHAR, obs-text.
inline bool is_quotable(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}
inline bool is_ows(unsigned char c) {
  return c == ' ' || c == '\t';
}
// The value of a hexadecimal digit, or -1.
inline int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace metalgate::http::chars
