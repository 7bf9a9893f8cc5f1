"""Raw HTTP/1 requests replayed against metalgate and HAProxy in one run (differential.py).

Each case: a name, the bytes a client sends, whether it then shuts its sending side (half-close), how many
responses a correct proxy gives, whether nothing of it may reach a server, and, where metalgate answers
otherwise than HAProxy on purpose, why (the table in docs/proxy.md shows it). A difference without a reason
fails the test, and so does a reason whose difference is gone.
"""

H = b"Host: a.example\r\n"


def req(head_lines=b"", body=b"", method=b"POST", target=b"/", version=b"HTTP/1.1", host=H):
    return method + b" " + target + b" " + version + b"\r\n" + host + head_lines + b"\r\n" + body


def case(name, data, half_close=False, responses=1, must_not_reach=False, why=None):
    return dict(name=name, data=data, half_close=half_close, responses=responses,
                must_not_reach=must_not_reach, why=why)


TE = b"Transfer-Encoding: chunked\r\n"
CHUNKED_AB = b"2\r\nab\r\n0\r\n\r\n"

CASES = [
    # Ordinary requests.
    case("GET", req(method=b"GET")),
    case("POST with Content-Length", req(b"Content-Length: 5\r\n", b"hello")),
    case("POST chunked", req(TE, CHUNKED_AB)),
    case("chunked with extensions and a trailer", req(TE, b"2;a=b;c=\"d e\"\r\nab\r\n0\r\nX-Sum: 1\r\n\r\n")),
    case("pipelined GETs", req(method=b"GET") + req(method=b"GET", target=b"/2"), responses=2),
    case("WebSocket Upgrade without Sec-WebSocket-Key",
         req(b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n", method=b"GET"),
         must_not_reach=True),
    case("Expect: 100-continue", req(b"Expect: 100-continue\r\nContent-Length: 2\r\n", b"ab"), responses=1),
    case("bare LF line ends", b"GET / HTTP/1.1\nHost: a.example\n\n"),
    case("HTTP/1.0 without Host", b"GET / HTTP/1.0\r\n\r\n"),
    case("absolute-form target and another Host", req(method=b"GET", target=b"http://c.example/x"),
         why="RFC 9112 §3.2.2: the target's authority wins; it routes the request and goes to the server as "
             "Host, so both agree. HAProxy refuses the pair"),
    # Content-Length.
    case("Content-Length list of equal values", req(b"Content-Length: 5, 5\r\n", b"hello")),
    case("two equal Content-Length headers", req(b"Content-Length: 5\r\nContent-Length: 5\r\n", b"hello")),
    case("Content-Length list of different values", req(b"Content-Length: 5, 6\r\n", b"hello"),
         must_not_reach=True),
    case("two different Content-Length headers", req(b"Content-Length: 5\r\nContent-Length: 6\r\n", b"hello"),
         must_not_reach=True),
    case("negative Content-Length", req(b"Content-Length: -1\r\n"), must_not_reach=True),
    case("signed Content-Length", req(b"Content-Length: +5\r\n", b"hello"), must_not_reach=True),
    case("hex Content-Length", req(b"Content-Length: 0x5\r\n", b"hello"), must_not_reach=True),
    case("empty Content-Length", req(b"Content-Length: \r\n"), must_not_reach=True),
    case("overflowing Content-Length", req(b"Content-Length: 99999999999999999999999\r\n"),
         must_not_reach=True),
    # Transfer-Encoding.
    case("Content-Length and chunked", req(b"Content-Length: 40\r\n" + TE, CHUNKED_AB)),
    case("chunked twice in one header", req(b"Transfer-Encoding: chunked, chunked\r\n", CHUNKED_AB),
         must_not_reach=True),
    case("chunked in two headers", req(TE + TE, CHUNKED_AB), must_not_reach=True),
    case("chunked not last", req(b"Transfer-Encoding: chunked, gzip\r\n", CHUNKED_AB), must_not_reach=True),
    case("gzip only", req(b"Transfer-Encoding: gzip\r\n", b"ab"), must_not_reach=True),
    case("a lookalike coding", req(b"Transfer-Encoding: xchunked\r\n", CHUNKED_AB), must_not_reach=True),
    case("deflate, chunked", req(b"Transfer-Encoding: deflate, chunked\r\n", CHUNKED_AB), must_not_reach=True,
         why="501: a well-formed coding the proxy does not decode is Not Implemented (RFC 9112 §6.1)"),
    case("deflate and chunked on two lines", req(b"Transfer-Encoding: deflate\r\n" + TE, CHUNKED_AB),
         must_not_reach=True,
         why="501: the two lines are one list (RFC 9110 §5.3), read as \"deflate, chunked\""),
    case("empty list elements around chunked", req(b"Transfer-Encoding: , chunked,\r\n", CHUNKED_AB),
         why="RFC 9110 §5.6.1: a recipient must accept empty list elements; the server gets one "
             "\"Transfer-Encoding: chunked\""),
    case("chunked on HTTP/1.0", req(TE, CHUNKED_AB, version=b"HTTP/1.0"), must_not_reach=True,
         why="RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing; HAProxy forwards it"),
    case("space before the colon", req(b"Transfer-Encoding : chunked\r\n", CHUNKED_AB), must_not_reach=True),
    case("Transfer-Encoding folded", req(b"Transfer-Encoding:\r\n chunked\r\n", CHUNKED_AB)),
    # Chunk framing.
    case("junk after a chunk size", req(TE, b"2 erfrferferf\r\nab\r\n0\r\n\r\n"), must_not_reach=True),
    case("junk after the last chunk's size", req(TE, b"2\r\nab\r\n0 rrrr\r\n\r\n"), must_not_reach=True),
    case("chunk size not hexadecimal", req(TE, b"2x\r\nab\r\n0\r\n\r\n"), must_not_reach=True),
    case("chunk data longer than its size", req(TE, b"2\r\nabc\r\n0\r\n\r\n"), must_not_reach=True),
    case("chunk size overflow", req(TE, b"fffffffffffffffff\r\nab\r\n0\r\n\r\n"), must_not_reach=True),
    case("chunk line with a bare CR", req(TE, b"2\rab\r\n0\r\n\r\n"), must_not_reach=True),
    # Head syntax.
    case("bare CR in a header value", req(b"X-A: a\rb\r\n", method=b"GET"), must_not_reach=True),
    case("NUL in a header value", req(b"X-A: a\x00b\r\n", method=b"GET"), must_not_reach=True,
         why="RFC 9110 §5.5: a NUL in a field value must be refused or replaced; HAProxy forwards it as is"),
    case("non-token header name", req(b"X@Y: 1\r\n", method=b"GET"), must_not_reach=True),
    case("fold before the first header", b"GET / HTTP/1.1\r\n X: 1\r\nHost: a.example\r\n\r\n",
         must_not_reach=True),
    case("control byte in the target", req(method=b"GET", target=b"/a\x01b"), must_not_reach=True),
    case("space inside the target", req(method=b"GET", target=b"/a b"), must_not_reach=True),
    case("non-ASCII in the target", req(method=b"GET", target=b"/caf\xc3\xa9"), must_not_reach=True),
    case("two different Host headers", req(b"Host: b.example\r\n", method=b"GET"), must_not_reach=True),
    case("HTTP/1.1 without Host", req(method=b"GET", host=b""), must_not_reach=True,
         why="RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host; routing needs it"),
    case("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", must_not_reach=True,
         why="both refuse HTTP/2 on an HTTP/1 listener; HAProxy closes, metalgate answers its HTTP/1 400"),
    case("a later minor version", req(method=b"GET", version=b"HTTP/1.2")),
    case("lower-case version", req(method=b"GET", version=b"http/1.1"), must_not_reach=True),
    case("method with a non-token byte", b"G(T / HTTP/1.1\r\n" + H + b"\r\n", must_not_reach=True),
    case("two spaces after the method", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", must_not_reach=True,
         why="RFC 9112 §3: one SP; reading any whitespace as a separator is allowed, not required, and a "
             "server that reads it otherwise sees another target"),
    case("head larger than the buffer", req(b"X-Pad: " + b"x" * 20000 + b"\r\n", method=b"GET"),
         must_not_reach=True),
    case("more than 101 headers", req(b"".join(b"X-%d: v\r\n" % i for i in range(110)), method=b"GET"),
         must_not_reach=True),
    # Half-close: the client shuts its sending side right after its last byte.
    case("half-close after a complete POST", req(b"Content-Length: 5\r\n", b"hello"), half_close=True),
    case("half-close after a complete chunked POST", req(TE, CHUNKED_AB), half_close=True),
    case("half-close after a malformed chunk size", req(TE, b"2x\r\nab\r\n0\r\n\r\n"), half_close=True,
         must_not_reach=True),
    case("half-close inside the head", b"GET / HTTP/1.1\r\nHost: a.ex", half_close=True, must_not_reach=True),
]
