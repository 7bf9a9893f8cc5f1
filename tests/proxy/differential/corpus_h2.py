"""Raw HTTP/2 frames replayed against metalgate and HAProxy over TLS with ALPN h2 (differential_h2.py).

Each case: a name, the frames a client sends after its preface and SETTINGS, whether nothing of it may reach a
server, and, where metalgate answers otherwise than HAProxy on purpose, why. HPACK fields are literals without
indexing (no Huffman), so a case is exactly the bytes it names. HAProxy's tune.h2.* defaults are the reference.
"""
import struct


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def block(fields):
    out = b""
    for name, value in fields:
        name, value = name.encode("latin-1"), value.encode("latin-1")
        out += b"\x00" + _length(len(name)) + name + _length(len(value)) + value
    return out


def _length(n):  # HPACK integer, 7-bit prefix
    if n < 127:
        return bytes([n])
    out, n = bytearray([127]), n - 127
    while n >= 128:
        out.append((n % 128) | 128)
        n //= 128
    return bytes(out + bytes([n]))


DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 2, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS = 1, 4


def request(method="GET", path="/", extra=(), authority="a.example", drop=()):
    fields = [(":method", method), (":scheme", "https"), (":path", path), (":authority", authority)]
    return [f for f in fields if f[0] not in drop] + list(extra)


def get(stream=1, fields=None):
    return frame(HEADERS, END_HEADERS | END_STREAM, stream, block(fields or request()))


def post(body, fields, stream=1):
    return frame(HEADERS, END_HEADERS, stream, block(fields)) + frame(DATA, END_STREAM, stream, body)


# `coarse`: how many of many streams got through depends on timing, so only the connection's fate (GOAWAY
# and its code, open or closed) is compared, and the server's side is not.
def case(name, data, must_not_reach=False, why=None, coarse=False):
    return dict(name=name, data=data, must_not_reach=must_not_reach, why=why, coarse=coarse)


def large_header_list(fields, stream=1):
    """One request whose header block is split over HEADERS and CONTINUATION frames of 16,000 bytes."""
    data = block(fields)
    pieces = [data[i:i + 16000] for i in range(0, len(data), 16000)]
    out = frame(HEADERS, END_STREAM | (END_HEADERS if len(pieces) == 1 else 0), stream, pieces[0])
    for i, piece in enumerate(pieces[1:], 1):
        out += frame(CONTINUATION, END_HEADERS if i == len(pieces) - 1 else 0, stream, piece)
    return out


def continuation_flood(count):
    fields = request()
    head = frame(HEADERS, 0, 1, block(fields))
    crumbs = b"".join(frame(CONTINUATION, 0, 1, block([(f"x-c{i}", "v")])) for i in range(count))
    return head + crumbs + frame(CONTINUATION, END_HEADERS, 1, block([("x-last", "v")]))


def rapid_resets(count):
    out = b""
    for i in range(count):
        stream = 1 + 2 * i
        out += frame(HEADERS, END_HEADERS, stream, block(request("POST"))) + frame(RST_STREAM, 0, stream,
                                                                                 struct.pack(">I", 8))
    return out + get(1 + 2 * count)


CASES = [
    # Ordinary requests.
    case("GET", get()),
    case("POST with content-length", post(b"hello", request("POST", extra=[("content-length", "5")]))),
    case("POST without content-length (gRPC)", post(b"hello", request("POST", extra=[("te", "trailers")]))),
    case("trailers after the body",
         frame(HEADERS, END_HEADERS, 1, block(request("POST"))) + frame(DATA, 0, 1, b"hello") +
         frame(HEADERS, END_HEADERS | END_STREAM, 1, block([("x-sum", "1")]))),
    case("two streams on one connection", get(1) + get(3, request(path="/2"))),
    case("cookie crumbs", get(fields=request(extra=[("cookie", "a=1"), ("cookie", "b=2")]))),
    case("PING", frame(PING, 0, 0, b"12345678") + get()),
    # The message rules of RFC 9113 §8.
    case("content-length longer than the DATA",
         post(b"hello", request("POST", extra=[("content-length", "10")])), must_not_reach=False),
    case("content-length shorter than the DATA", post(b"hello", request("POST", extra=[("content-length", "3")]))),
    case("connection-specific field", get(fields=request(extra=[("connection", "keep-alive")])), True),
    case("transfer-encoding field", get(fields=request(extra=[("transfer-encoding", "chunked")])), True),
    case("te other than trailers", get(fields=request(extra=[("te", "gzip")])), True),
    case("upper-case field name", get(fields=request(extra=[("X-Upper", "1")])), True),
    case("missing :path", get(fields=request(drop=(":path",))), True),
    case("missing :method", get(fields=request(drop=(":method",))), True),
    case("empty :path", get(fields=request(path="")), True),
    case("pseudo-header after a regular field",
         get(fields=[(":method", "GET"), (":scheme", "https"), ("x-a", "1"), (":path", "/"),
                     (":authority", "a.example")]), True),
    case("unknown pseudo-header", get(fields=request(extra=[(":foo", "bar")])), True),
    case("duplicate :method", get(fields=[(":method", "GET")] + request()), True),
    case("line feed in a field value", get(fields=request(extra=[("x-a", "1\nx-b: 2")])), True),
    case("host differing from :authority", get(fields=request(extra=[("host", "b.example")]))),
    # WebSockets over HTTP/2 (RFC 8441): the extended CONNECT both offer in their SETTINGS.
    case("extended CONNECT (WebSocket)", frame(HEADERS, END_HEADERS, 1, block(request(
        "CONNECT", extra=[(":protocol", "websocket"), ("sec-websocket-version", "13")])))),
    case("extended CONNECT without :path", frame(HEADERS, END_HEADERS, 1, block(request(
        "CONNECT", drop=(":path",), extra=[(":protocol", "websocket")]))), True),
    case(":protocol on a GET", get(fields=request(extra=[(":protocol", "websocket")])), True,
         why="RFC 8441 §4 defines :protocol for CONNECT only, and RFC 9113 §8.1.1 makes a request with an invalid "
             "pseudo-header malformed: nghttp2 resets the stream; HAProxy 2.6 ignores the field and serves the GET"),
    # Framing and connection rules.
    case("DATA on stream 0", frame(DATA, 0, 0, b"x") + get(3), True),
    case("even stream id", get(2), True),
    case("RST_STREAM on an idle stream", frame(RST_STREAM, 0, 5, struct.pack(">I", 8)) + get(7), True),
    case("WINDOW_UPDATE of 0 on the connection", frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0)) + get(), True),
    case("initial window size past 2^31-1", frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 2 ** 31)) + get(), True),
    case("frame larger than max frame size", frame(HEADERS, END_HEADERS | END_STREAM, 1,
                                                   block(request(extra=[("x-big", "b" * 17000)]))), True),
    # Floods and limits (HAProxy's tune.h2.* against nghttp2's limits).
    case("a 20 KiB header list", large_header_list(request(extra=[(f"x-h{i}", "v" * 1000) for i in range(20)])),
         True, why="RFC 9113 §10.5.1 lets either refuse the stream or end the connection: metalgate resets the "
                   "one stream (past request-buffer-size plus 32 bytes per field) and its neighbours go on; "
                   "HAProxy ends the connection when the head does not fit its 16 KiB buffer"),
    case("20 CONTINUATION frames", continuation_flood(20),
         why="CVE-2024-27316: nghttp2 ends a connection after 8 CONTINUATION frames (ENHANCE_YOUR_CALM) "
             "whatever their size; HAProxy 2.6 bounds the block by its buffer alone and takes these 20"),
    case("1,200 streams opened and reset at once", rapid_resets(1200), coarse=True,
         why="CVE-2023-44487 (rapid reset): metalgate ends the connection past 1,000 resets at once or 33 a "
             "second after (nghttp2's limit; its GOAWAY says INTERNAL_ERROR); HAProxy 2.6 answers each "
             "stream and keeps the connection, its resets being cheap for it (its own assessment)"),
]
