#include "engine/http/parser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <string>

#include "engine/http/message.h"

namespace metalgate::http {

namespace {

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
constexpr std::array<bool, 256> kToken = make_token_table();

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

// Where the head ends (just past its blank line), or 0 when it is not all here yet.
std::size_t find_head_end(const char* data, std::size_t size) {
  const char* p = data;
  const char* end = data + size;
  while (p < end) {
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (lf == nullptr) return 0;
    const char* next = lf + 1;
    if (next < end && *next == '\n') return static_cast<std::size_t>(next + 1 - data);
    if (next + 1 < end && next[0] == '\r' && next[1] == '\n')
      return static_cast<std::size_t>(next + 2 - data);
    if (next >= end || (next + 1 >= end && *next == '\r')) return 0;
    p = next;
  }
  return 0;
}

struct Cursor {
  char* begin;
  char* p;
  char* end;  // the head's end
  std::size_t offset() const { return static_cast<std::size_t>(p - begin); }
};

bool fail(ParseError& error, int status, const Cursor& c, std::string reason) {
  error.status = status;
  error.offset = c.offset();
  error.reason = std::move(reason);
  return false;
}

// Consumes a line end (CRLF or LF) at the cursor.
bool eat_eol(Cursor& c) {
  if (c.p < c.end && *c.p == '\r') ++c.p;
  if (c.p < c.end && *c.p == '\n') {
    ++c.p;
    return true;
  }
  return false;
}

bool parse_version(Cursor& c, Version& v) {
  if (c.end - c.p < 8 || std::memcmp(c.p, "HTTP/1.", 7) != 0) return false;
  char minor = c.p[7];
  if (minor != '0' && minor != '1') return false;
  v = minor == '1' ? Version::kHttp11 : Version::kHttp10;
  c.p += 8;
  return true;
}

std::string_view trim_ows(const char* b, const char* e) {
  while (b < e && (*b == ' ' || *b == '\t'))
    ++b;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
    --e;
  return {b, static_cast<std::size_t>(e - b)};
}

// Header lines up to and including the blank line. Unfolds obs-fold in place.
bool parse_headers(Cursor& c, const Limits& limits, std::vector<Header>& headers, int status,
                   ParseError& error) {
  headers.clear();
  const char* value_begin = nullptr;  // of the last header, for obs-fold
  while (true) {
    if (c.p >= c.end) return fail(error, status, c, "head ends inside a header line");
    if (*c.p == '\r' || *c.p == '\n') {
      if (!eat_eol(c)) return fail(error, status, c, "bare CR in the head");
      return true;
    }
    if (*c.p == ' ' || *c.p == '\t') {
      if (headers.empty()) return fail(error, status, c, "continuation line before any header");
      // obs-fold: the previous line's CR LF become spaces, and the value grows to this line's end.
      char* fold = c.p;
      char* q = fold;
      while (fold > c.begin && (fold[-1] == '\n' || fold[-1] == '\r'))
        *--fold = ' ';
      while (q < c.end && *q != '\r' && *q != '\n') {
        if (!is_value_byte(static_cast<unsigned char>(*q))) {
          c.p = q;
          return fail(error, status, c, "control byte in a folded header value");
        }
        ++q;
      }
      headers.back().value = trim_ows(value_begin, q);
      c.p = q;
      if (!eat_eol(c)) return fail(error, status, c, "bare CR in a header line");
      continue;
    }
    char* name_begin = c.p;
    while (c.p < c.end && is_token(static_cast<unsigned char>(*c.p)))
      ++c.p;
    if (c.p == name_begin) return fail(error, status, c, "header name is not a token");
    if (c.p >= c.end || *c.p != ':') {
      if (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
        return fail(error, status, c, "whitespace between header name and colon");
      return fail(error, status, c, "header name is not a token");
    }
    std::string_view name(name_begin, static_cast<std::size_t>(c.p - name_begin));
    ++c.p;
    value_begin = c.p;
    while (c.p < c.end && *c.p != '\r' && *c.p != '\n') {
      if (!is_value_byte(static_cast<unsigned char>(*c.p))) {
        return fail(error, status, c,
                    *c.p == 0 ? "NUL byte in header value" : "control byte in header value");
      }
      ++c.p;
    }
    const char* value_end = c.p;
    if (!eat_eol(c)) return fail(error, status, c, "bare CR in a header line");
    if (headers.size() >= limits.max_headers)
      return fail(error, status, c, "more than " + std::to_string(limits.max_headers) + " headers");
    headers.push_back({name, trim_ows(value_begin, value_end)});
  }
}

// Parses a Content-Length value, which may be a list of equal values ("5, 5").
bool parse_content_length(std::string_view value, std::uint64_t& out) {
  bool any = false;
  std::uint64_t result = 0;
  while (true) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    std::uint64_t n = 0;
    std::size_t digits = 0;
    while (!value.empty() && value.front() >= '0' && value.front() <= '9') {
      if (n > (UINT64_MAX - 9) / 10) return false;
      n = n * 10 + static_cast<std::uint64_t>(value.front() - '0');
      value.remove_prefix(1);
      ++digits;
    }
    if (digits == 0) return false;
    if (any && n != result) return false;
    result = n;
    any = true;
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    if (value.empty()) break;
    if (value.front() != ',') return false;
    value.remove_prefix(1);
  }
  out = result;
  return true;
}

struct FramingHeaders {
  bool has_cl = false;
  std::uint64_t cl = 0;
  bool has_te = false;
  bool chunked_last = false;  // "chunked" is the final coding
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool connection_upgrade = false;
  bool has_upgrade = false;
  bool expect_continue = false;
};

// Reads the headers that decide framing and persistence. Returns false with `why` on a smuggling hazard.
bool read_framing(const std::vector<Header>& headers, FramingHeaders& f, std::string& why) {
  for (const Header& h : headers) {
    if (equals_ignore_case(h.name, "content-length")) {
      std::uint64_t n = 0;
      if (!parse_content_length(h.value, n)) {
        why = "invalid Content-Length \"" + std::string(h.value) + "\"";
        return false;
      }
      if (f.has_cl && n != f.cl) {
        why = "Content-Length headers with different values";
        return false;
      }
      f.has_cl = true;
      f.cl = n;
    } else if (equals_ignore_case(h.name, "transfer-encoding")) {
      f.has_te = true;
      std::string_view list = h.value;
      while (true) {
        std::size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        std::size_t semi = item.find(';');
        item = trim_ows(item.data(), item.data() + (semi == std::string_view::npos ? item.size() : semi));
        if (!item.empty()) {
          if (f.chunked_last) {
            why = equals_ignore_case(item, "chunked") ? "Transfer-Encoding chunked repeated"
                                                      : "Transfer-Encoding chunked is not the last coding";
            return false;
          }
          f.chunked_last = equals_ignore_case(item, "chunked");
        }
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
    } else if (equals_ignore_case(h.name, "connection")) {
      f.connection_close |= list_contains(h.value, "close");
      f.connection_keep_alive |= list_contains(h.value, "keep-alive");
      f.connection_upgrade |= list_contains(h.value, "upgrade");
    } else if (equals_ignore_case(h.name, "upgrade")) {
      f.has_upgrade = true;
    } else if (equals_ignore_case(h.name, "expect")) {
      f.expect_continue |= equals_ignore_case(h.value, "100-continue");
    }
  }
  return true;
}

bool keep_alive(Version v, const FramingHeaders& f) {
  if (f.connection_close) return false;
  return v == Version::kHttp11 || f.connection_keep_alive;
}

}  // namespace

ParseOutcome parse_request(char* data, std::size_t size, const Limits& limits, RequestHead& out,
                           ParseError& error) {
  std::size_t head_end = find_head_end(data, std::min(size, limits.max_head_bytes));
  if (head_end == 0) {
    if (size >= limits.max_head_bytes) {
      error = {400, "request head longer than " + std::to_string(limits.max_head_bytes) + " bytes", size};
      return ParseOutcome::kError;
    }
    return ParseOutcome::kIncomplete;
  }
  Cursor c{data, data, data + head_end};
  // RFC 9112 §2.2: ignore empty lines before the request line.
  while (c.p < c.end && (*c.p == '\r' || *c.p == '\n'))
    ++c.p;

  char* method_begin = c.p;
  while (c.p < c.end && is_token(static_cast<unsigned char>(*c.p)))
    ++c.p;
  if (c.p == method_begin || c.p >= c.end || *c.p != ' ') {
    fail(error, 400, c, "invalid method");
    return ParseOutcome::kError;
  }
  out.method = {method_begin, static_cast<std::size_t>(c.p - method_begin)};
  ++c.p;
  char* target_begin = c.p;
  while (c.p < c.end && *c.p != ' ') {
    if (!is_target_byte(static_cast<unsigned char>(*c.p))) {
      fail(error, 400, c, "invalid byte in the request target");
      return ParseOutcome::kError;
    }
    ++c.p;
  }
  if (c.p == target_begin || c.p >= c.end) {
    fail(error, 400, c, "missing request target");
    return ParseOutcome::kError;
  }
  out.target = {target_begin, static_cast<std::size_t>(c.p - target_begin)};
  ++c.p;
  if (!parse_version(c, out.version)) {
    fail(error, 400, c, "unsupported HTTP version");
    return ParseOutcome::kError;
  }
  if (!eat_eol(c)) {
    fail(error, 400, c, "garbage after the HTTP version");
    return ParseOutcome::kError;
  }
  if (!parse_headers(c, limits, out.headers, 400, error)) return ParseOutcome::kError;

  FramingHeaders f;
  std::string why;
  if (!read_framing(out.headers, f, why)) {
    error = {400, std::move(why), 0};
    return ParseOutcome::kError;
  }
  MessageFacts& facts = out.facts;
  facts = MessageFacts{};
  facts.has_content_length = f.has_cl;
  if (f.has_te) {
    if (out.version == Version::kHttp10) {
      error = {400, "Transfer-Encoding in an HTTP/1.0 request", 0};
      return ParseOutcome::kError;
    }
    if (!f.chunked_last) {
      error = {400, "request Transfer-Encoding does not end in chunked", 0};
      return ParseOutcome::kError;
    }
    facts.framing = BodyFraming::kChunked;
    facts.close_after = f.has_cl;  // CL+TE: TE wins, CL goes, and the connection ends after the response
  } else if (f.has_cl && f.cl > 0) {
    facts.framing = BodyFraming::kContentLength;
    facts.content_length = f.cl;
  }
  facts.keep_alive = keep_alive(out.version, f) && !facts.close_after;
  facts.upgrade = f.connection_upgrade && f.has_upgrade;
  facts.expect_continue = f.expect_continue && out.version == Version::kHttp11;

  out.host = {};
  bool host_seen = false;
  for (const Header& h : out.headers) {
    if (!equals_ignore_case(h.name, "host")) continue;
    if (host_seen && !equals_ignore_case(h.value, out.host)) {
      error = {400, "several Host headers with different values", 0};
      return ParseOutcome::kError;
    }
    host_seen = true;
    out.host = h.value;
  }
  if (!out.target.empty() && out.target.front() != '/') {
    std::size_t scheme = out.target.find("://");
    if (scheme != std::string_view::npos) {  // absolute-form: its authority is the host (RFC 9112 §3.2.2)
      std::string_view rest = out.target.substr(scheme + 3);
      out.host = rest.substr(0, rest.find('/'));
      host_seen = true;
    }
  }
  if (!host_seen && out.version == Version::kHttp11) {
    error = {400, "HTTP/1.1 request without Host", 0};
    return ParseOutcome::kError;
  }
  out.head_length = head_end;
  return ParseOutcome::kComplete;
}

ParseOutcome parse_response(char* data, std::size_t size, const Limits& limits, bool request_was_head,
                            ResponseHead& out, ParseError& error) {
  std::size_t head_end = find_head_end(data, std::min(size, limits.max_head_bytes));
  if (head_end == 0) {
    if (size >= limits.max_head_bytes) {
      error = {502, "response head longer than " + std::to_string(limits.max_head_bytes) + " bytes", size};
      return ParseOutcome::kError;
    }
    return ParseOutcome::kIncomplete;
  }
  Cursor c{data, data, data + head_end};
  if (!parse_version(c, out.version) || c.p >= c.end || *c.p != ' ') {
    fail(error, 502, c, "invalid status line");
    return ParseOutcome::kError;
  }
  ++c.p;
  if (c.end - c.p < 3 || !std::isdigit(static_cast<unsigned char>(c.p[0])) ||
      !std::isdigit(static_cast<unsigned char>(c.p[1])) ||
      !std::isdigit(static_cast<unsigned char>(c.p[2]))) {
    fail(error, 502, c, "invalid status code");
    return ParseOutcome::kError;
  }
  out.status = (c.p[0] - '0') * 100 + (c.p[1] - '0') * 10 + (c.p[2] - '0');
  c.p += 3;
  char* reason_begin = c.p;
  if (c.p < c.end && *c.p == ' ') reason_begin = ++c.p;
  while (c.p < c.end && *c.p != '\r' && *c.p != '\n') {
    if (!is_value_byte(static_cast<unsigned char>(*c.p))) {
      fail(error, 502, c, "control byte in the reason phrase");
      return ParseOutcome::kError;
    }
    ++c.p;
  }
  out.reason = {reason_begin, static_cast<std::size_t>(c.p - reason_begin)};
  if (!eat_eol(c)) {
    fail(error, 502, c, "invalid status line end");
    return ParseOutcome::kError;
  }
  if (!parse_headers(c, limits, out.headers, 502, error)) return ParseOutcome::kError;

  FramingHeaders f;
  std::string why;
  if (!read_framing(out.headers, f, why)) {
    error = {502, std::move(why), 0};
    return ParseOutcome::kError;
  }
  MessageFacts& facts = out.facts;
  facts = MessageFacts{};
  facts.has_content_length = f.has_cl;
  facts.keep_alive = keep_alive(out.version, f);
  facts.upgrade = out.status == 101;
  if (request_was_head || (out.status >= 100 && out.status < 200) || out.status == 204 || out.status == 304) {
    facts.framing = BodyFraming::kNone;
    facts.content_length = f.has_cl ? f.cl : 0;
  } else if (f.has_te) {
    facts.framing = f.chunked_last ? BodyFraming::kChunked : BodyFraming::kUntilClose;
    facts.close_after = f.has_cl;
  } else if (f.has_cl) {
    facts.framing = f.cl > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
    facts.content_length = f.cl;
  } else {
    facts.framing = BodyFraming::kUntilClose;
  }
  if (facts.framing == BodyFraming::kUntilClose || facts.close_after) facts.keep_alive = false;
  out.head_length = head_end;
  return ParseOutcome::kComplete;
}

}  // namespace metalgate::http
