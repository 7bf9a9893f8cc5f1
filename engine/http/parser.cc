#include "engine/http/parser.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

#include "engine/http/chars.h"
#include "engine/http/message.h"

namespace metalgate::http {

namespace {

using chars::is_target_byte;
using chars::is_token;
using chars::is_value_byte;

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

// A cursor over a head. `partial`: the bytes end before the head does (no blank line yet), so running out
// of bytes is not an error but a wait (`starved`); what is already wrong is refused at once all the same.
struct Cursor {
  char* begin;
  char* p;
  char* end;  // the head's end, or the data's end when partial
  bool partial = false;
  bool starved = false;
  std::size_t offset() const { return static_cast<std::size_t>(p - begin); }
};

bool fail(ParseError& error, int status, const Cursor& c, std::string reason) {
  error.status = status;
  error.offset = c.offset();
  error.reason = std::move(reason);
  return false;
}

// At the end of the bytes: a wait when partial, else the error.
bool fail_or_starve(ParseError& error, int status, Cursor& c, std::string reason) {
  if (c.partial && c.p >= c.end) {
    c.starved = true;
    return false;
  }
  return fail(error, status, c, std::move(reason));
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

bool parse_version(Cursor& c, Version& v, int status, ParseError& error, const char* what) {
  constexpr std::string_view kPrefix = "HTTP/1.";
  const std::size_t have = static_cast<std::size_t>(c.end - c.p);
  if (std::memcmp(c.p, kPrefix.data(), std::min(have, kPrefix.size())) != 0)
    return fail(error, status, c, what);
  if (have <= kPrefix.size()) {
    c.p = c.end;
    return fail_or_starve(error, status, c, what);
  }
  // A later minor version is read as the highest this side speaks (RFC 9110 §2.5), as HAProxy does.
  char minor = c.p[7];
  if (minor < '0' || minor > '9') return fail(error, status, c, what);
  v = minor == '0' ? Version::kHttp10 : Version::kHttp11;
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

// A line's end at the cursor: CRLF or LF. A CR followed by anything else is a bare CR.
bool line_end(Cursor& c, int status, ParseError& error, const char* bare_cr) {
  if (eat_eol(c)) return true;
  return fail_or_starve(error, status, c, bare_cr);
}

// Scans a value from the cursor to its line end; `what` names the value for the error.
bool scan_value(Cursor& c, int status, ParseError& error, const char* what) {
  while (c.p < c.end && *c.p != '\r' && *c.p != '\n') {
    if (!is_value_byte(static_cast<unsigned char>(*c.p)))
      return fail(error, status, c, *c.p == 0 ? std::string("NUL byte in ") + what : std::string("control byte in ") + what);
    ++c.p;
  }
  return true;
}

// An obs-fold line (starting with SP or HTAB): unfolded in place into the previous header's value (the
// previous line's CR LF become spaces), as HAProxy does. A partial head is only checked, never changed.
bool parse_fold(Cursor& c, std::vector<Header>& headers, const char* value_begin, int status,
                ParseError& error) {
  if (headers.empty()) return fail(error, status, c, "continuation line before any header");
  char* fold = c.p;
  if (!scan_value(c, status, error, "a folded header value")) return false;
  if (!c.partial) {
    while (fold > c.begin && (fold[-1] == '\n' || fold[-1] == '\r'))
      *--fold = ' ';
    headers.back().value = trim_ows(value_begin, c.p);
  }
  return line_end(c, status, error, "bare CR in a header line");
}

// Header lines up to and including the blank line.
bool parse_headers(Cursor& c, const Limits& limits, std::vector<Header>& headers, int status,
                   ParseError& error) {
  headers.clear();
  const char* value_begin = nullptr;  // of the last header, for obs-fold
  while (true) {
    if (c.p >= c.end) return fail_or_starve(error, status, c, "head ends inside a header line");
    if (*c.p == '\r' || *c.p == '\n') return line_end(c, status, error, "bare CR in the head");
    if (*c.p == ' ' || *c.p == '\t') {
      if (!parse_fold(c, headers, value_begin, status, error)) return false;
      continue;
    }
    char* name_begin = c.p;
    while (c.p < c.end && is_token(static_cast<unsigned char>(*c.p)))
      ++c.p;
    if (c.p == name_begin) return fail(error, status, c, "header name is not a token");
    if (c.p >= c.end) return fail_or_starve(error, status, c, "header name is not a token");
    if (*c.p != ':') {
      if (*c.p == ' ' || *c.p == '\t') return fail(error, status, c, "whitespace between header name and colon");
      return fail(error, status, c, "header name is not a token");
    }
    std::string_view name(name_begin, static_cast<std::size_t>(c.p - name_begin));
    ++c.p;
    value_begin = c.p;
    if (!scan_value(c, status, error, "header value")) return false;
    const char* value_end = c.p;
    if (!line_end(c, status, error, "bare CR in a header line")) return false;
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
  bool chunked_last = false;     // "chunked" is the final coding, across every Transfer-Encoding line
  std::string_view other_coding;  // the first coding other than chunked, if any
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool connection_upgrade = false;
  bool has_upgrade = false;
  bool websocket = false;  // Upgrade names websocket
  bool has_websocket_key = false;
  bool expect_continue = false;
};

// One Transfer-Encoding line: its codings continue the list of the lines before it (RFC 9110 §5.3: a
// repeated header is its values joined by commas), so a split across lines reads as the one-line list.
bool read_transfer_codings(std::string_view list, FramingHeaders& f, std::string& why) {
  f.has_te = true;
  while (true) {
    std::size_t comma = list.find(',');
    std::string_view item = trim_ows(list.data(), list.data() + std::min(comma, list.size()));
    if (!item.empty()) {  // empty list elements are allowed and ignored (RFC 9110 §5.6.1)
      if (f.chunked_last) {
        why = equals_ignore_case(item, "chunked") ? "Transfer-Encoding chunked repeated"
                                                  : "Transfer-Encoding chunked is not the last coding";
        return false;
      }
      f.chunked_last = equals_ignore_case(item, "chunked");
      if (!f.chunked_last && f.other_coding.empty()) f.other_coding = item;
    }
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

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
      if (!read_transfer_codings(h.value, f, why)) return false;
    } else if (equals_ignore_case(h.name, "connection")) {
      f.connection_close |= list_contains(h.value, "close");
      f.connection_keep_alive |= list_contains(h.value, "keep-alive");
      f.connection_upgrade |= list_contains(h.value, "upgrade");
    } else if (equals_ignore_case(h.name, "upgrade")) {
      f.has_upgrade = true;
      f.websocket |= list_contains(h.value, "websocket");
    } else if (equals_ignore_case(h.name, "sec-websocket-key")) {
      f.has_websocket_key = true;
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

// The request line: method SP request-target SP HTTP-version line-end.
bool parse_request_line(Cursor& c, RequestHead& out, ParseError& error) {
  // RFC 9112 §2.2: ignore empty lines before the request line.
  while (c.p < c.end && (*c.p == '\r' || *c.p == '\n'))
    ++c.p;
  char* method_begin = c.p;
  while (c.p < c.end && is_token(static_cast<unsigned char>(*c.p)))
    ++c.p;
  if (c.p >= c.end) return fail_or_starve(error, 400, c, "invalid method");
  if (c.p == method_begin || *c.p != ' ') return fail(error, 400, c, "invalid method");
  out.method = {method_begin, static_cast<std::size_t>(c.p - method_begin)};
  ++c.p;
  char* target_begin = c.p;
  while (c.p < c.end && *c.p != ' ') {
    if (!is_target_byte(static_cast<unsigned char>(*c.p)))
      return fail(error, 400, c, "invalid byte in the request target");
    ++c.p;
  }
  if (c.p >= c.end) return fail_or_starve(error, 400, c, "missing request target");
  if (c.p == target_begin) return fail(error, 400, c, "missing request target");
  out.target = {target_begin, static_cast<std::size_t>(c.p - target_begin)};
  ++c.p;
  if (c.p >= c.end) return fail_or_starve(error, 400, c, "unsupported HTTP version");
  if (!parse_version(c, out.version, 400, error, "unsupported HTTP version")) return false;
  return line_end(c, 400, error, "garbage after the HTTP version");
}

// A request's framing (RFC 9112 §6.3): chunked alone as the transfer coding, else Content-Length.
bool frame_request(const RequestHead& head, const FramingHeaders& f, MessageFacts& facts, ParseError& error) {
  facts = MessageFacts{};
  facts.has_content_length = f.has_cl;
  if (f.has_te) {
    if (head.version == Version::kHttp10) {
      error = {400, "Transfer-Encoding in an HTTP/1.0 request", 0};
      return false;
    }
    if (!f.chunked_last) {
      error = {400, "request Transfer-Encoding does not end in chunked", 0};
      return false;
    }
    if (!f.other_coding.empty()) {  // well-formed, but a coding the proxy does not decode (RFC 9112 §6.1)
      error = {501, "Transfer-Encoding " + std::string(f.other_coding) + " is not implemented", 0};
      return false;
    }
    facts.framing = BodyFraming::kChunked;
    facts.close_after = f.has_cl;  // CL+TE: TE wins, CL goes, and the connection ends after the response
  } else if (f.has_cl) {
    facts.framing = f.cl > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
    facts.content_length = f.cl;
  }
  return true;
}

// The Host header, or the absolute-form target's authority, which wins (RFC 9112 §3.2.2).
bool find_request_host(RequestHead& out, ParseError& error) {
  out.host = {};
  bool host_seen = false;
  for (const Header& h : out.headers) {
    if (!equals_ignore_case(h.name, "host")) continue;
    if (host_seen && !equals_ignore_case(h.value, out.host)) {
      error = {400, "several Host headers with different values", 0};
      return false;
    }
    host_seen = true;
    out.host = h.value;
  }
  if (!out.target.empty() && out.target.front() != '/') {
    std::size_t scheme = out.target.find("://");
    if (scheme != std::string_view::npos) {
      std::string_view rest = out.target.substr(scheme + 3);
      out.host = rest.substr(0, rest.find('/'));
      host_seen = true;
    }
  }
  if (!host_seen && out.version == Version::kHttp11) {
    error = {400, "HTTP/1.1 request without Host", 0};
    return false;
  }
  return true;
}

}  // namespace

ParseOutcome parse_request(char* data, std::size_t size, const Limits& limits, RequestHead& out,
                           ParseError& error) {
  std::size_t head_end = find_head_end(data, std::min(size, limits.max_head_bytes));
  if (head_end == 0 && size >= limits.max_head_bytes) {
    error = {400, "request head longer than " + std::to_string(limits.max_head_bytes) + " bytes", size};
    return ParseOutcome::kError;
  }
  // Without the blank line yet, the bytes so far are still checked: a request already invalid is refused
  // when its bad byte arrives, not after timeout http-request (HAProxy does not wait either).
  Cursor c{data, data, data + (head_end == 0 ? size : head_end), head_end == 0};
  if (!parse_request_line(c, out, error) || !parse_headers(c, limits, out.headers, 400, error))
    return c.starved ? ParseOutcome::kIncomplete : ParseOutcome::kError;
  if (head_end == 0) return ParseOutcome::kIncomplete;  // not reached: a partial head starves first

  FramingHeaders f;
  std::string why;
  if (!read_framing(out.headers, f, why)) {
    error = {400, std::move(why), 0};
    return ParseOutcome::kError;
  }
  if (!frame_request(out, f, out.facts, error)) return ParseOutcome::kError;
  out.facts.keep_alive = keep_alive(out.version, f) && !out.facts.close_after;
  out.facts.upgrade = f.connection_upgrade && f.has_upgrade;
  if (out.facts.upgrade && f.websocket && !f.has_websocket_key) {
    // RFC 6455 §4.1 makes the key mandatory; HAProxy refuses such a handshake with 400 as well.
    error = {400, "WebSocket Upgrade without Sec-WebSocket-Key", 0};
    return ParseOutcome::kError;
  }
  out.facts.expect_continue = f.expect_continue && out.version == Version::kHttp11;
  if (!find_request_host(out, error)) return ParseOutcome::kError;
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
  if (!parse_version(c, out.version, 502, error, "invalid status line")) return ParseOutcome::kError;
  if (c.p >= c.end || *c.p != ' ') {
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
  if (!scan_value(c, 502, error, "the reason phrase")) return ParseOutcome::kError;
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
  if (f.has_te && (!f.chunked_last || !f.other_coding.empty())) {
    // The same rule as for requests: chunked alone. A server's other codings would reach clients that
    // cannot decode them (browsers do not), and a body read until close could not be kept apart from
    // the next response.
    error = {502, "response Transfer-Encoding other than chunked", 0};
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
    facts.framing = BodyFraming::kChunked;
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
