// A strict, zero-copy HTTP/1.x head parser, sans I/O: bytes in, a RequestHead/ResponseHead of views out.
//
// Strict the way HAProxy is: anything a smuggling attack could use is an error, not a guess. Requests get 400
// for: a non-token method or header name, whitespace before a colon, control bytes or non-ASCII in the
// target, NUL or control bytes in a value, Content-Length values that differ or are not digits,
// Transfer-Encoding with chunked repeated or not last, Transfer-Encoding on HTTP/1.0, several different Host
// headers, no Host on HTTP/1.1, more headers than Limits::max_headers or a head longer than
// Limits::max_head_bytes. Content-Length together with Transfer-Encoding: chunked wins, Content-Length is to
// be dropped and the connection closed after the response (facts.close_after). obs-fold is unfolded in place
// (hence the mutable buffer), as HAProxy does. Bare LF line ends are accepted, as HAProxy accepts them.
//
// Why our own parser rather than llhttp or picohttpparser: neither is packaged for Debian 12, and the proxy
// needs the smuggling verdicts above decided in one pass over the head without copying it.
#pragma once

#include <cstddef>

#include "engine/http/message-t.h"

namespace metalgate::http {

// Parses the head at the start of data[0, size). kIncomplete: no blank line yet (feed more and call again,
// with the same data at the same place); kComplete: `out` describes it, out.head_length bytes long.
ParseOutcome parse_request(char* data, std::size_t size, const Limits& limits, RequestHead& out,
                           ParseError& error);

// `request_was_head`: the response to a HEAD request has no body whatever its headers say (RFC 9112 §6.3).
ParseOutcome parse_response(char* data, std::size_t size, const Limits& limits, bool request_was_head,
                            ResponseHead& out, ParseError& error);

}  // namespace metalgate::http
