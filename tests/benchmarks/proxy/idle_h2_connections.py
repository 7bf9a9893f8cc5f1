#!/usr/bin/python3
"""Opens N TLS connections to a proxy that negotiate HTTP/2 (ALPN "h2"), and on each sends the client preface,
an empty SETTINGS, one GET of PATH, and the ACK of the proxy's SETTINGS; reads until the answer has ended and
the proxy has acknowledged our SETTINGS; then holds the connections idle until stdin closes: the proxy's memory
per idle h2 connection is then measured from outside.
  idle_h2_connections.py HOST PORT N AUTHORITY [PATH]
Prints "ready OK" (OK: connections that negotiated h2 and got a 200 answer), then problems, if any, on stderr.
Each line "check" on stdin is answered with "alive A closed C other O": connections the proxy has sent
nothing on since, has closed (or sent GOAWAY on), or has sent something else on (such as a PING)."""
import select
import socket
import ssl
import struct
import sys

host, port, count, authority = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
path = sys.argv[5] if len(sys.argv) > 5 else "/100b"

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0, 1, 3, 4, 6, 7
END_STREAM, ACK, PADDED, PRIORITY = 0x1, 0x1, 0x8, 0x20


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_literal(index, value):  # literal field without indexing, name from the static table, no Huffman
    v = value.encode()
    assert index < 15 and len(v) < 127
    return bytes([index, len(v)]) + v


# :method GET (static 2), :scheme https (7), :path, :authority: one HEADERS frame that ends the stream.
request_block = b"\x82\x87" + hpack_literal(4, path) + hpack_literal(1, authority)
opening = (PREFACE + frame(SETTINGS, 0, 0)
           + frame(HEADERS, 0x4 | END_STREAM, 1, request_block))

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["h2"])


def skip_table_size_updates(block):
    """The header block after its dynamic table size updates (001xxxxx, RFC 7541 §6.3), which an encoder
    that keeps no dynamic table (HAProxy's, metalgate's) sends first."""
    while block and block[0] & 0xe0 == 0x20:
        i = 1
        if block[0] & 0x1f == 0x1f:  # the size continues in 7-bit groups
            while i < len(block) and block[i] & 0x80:
                i += 1
            i += 1
        block = block[i:]
    return block


def frames(buf):
    """Complete frames at the front of buf: yields (type, flags, stream, payload), returns the rest."""
    out = []
    while len(buf) >= 9:
        length = int.from_bytes(buf[:3], "big")
        if len(buf) < 9 + length:
            break
        kind, flags = buf[3], buf[4]
        stream = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
        out.append((kind, flags, stream, buf[9:9 + length]))
        buf = buf[9 + length:]
    return out, buf


def open_one():
    """-> (socket, None) for a connection that is now idle, or (None, reason)."""
    raw = socket.create_connection((host, port), timeout=20)
    s = ctx.wrap_socket(raw, server_hostname=authority)
    if s.selected_alpn_protocol() != "h2":
        alpn = s.selected_alpn_protocol()
        s.close()
        return None, f"ALPN {alpn!r}"
    s.sendall(opening)
    buf, answered, acked, status = b"", False, False, None
    while not (answered and acked):
        chunk = s.recv(65536)
        if not chunk:
            return None, f"closed by the proxy (status {status})"
        got, buf = frames(buf + chunk)
        for kind, flags, stream, payload in got:
            if kind == SETTINGS and not flags & ACK:
                s.sendall(frame(SETTINGS, ACK, 0))
            elif kind == SETTINGS:
                acked = True
            elif kind == HEADERS and stream == 1:
                block = payload
                if flags & PADDED:
                    block = block[1:len(block) - block[0]]
                if flags & PRIORITY:
                    block = block[5:]
                block = skip_table_size_updates(block)
                if status is None:
                    status = 200 if block[:1] == b"\x88" else f"not 200 (first byte {block[:1].hex()})"
                answered = answered or bool(flags & END_STREAM)
            elif kind == DATA and stream == 1:
                answered = answered or bool(flags & END_STREAM)
            elif kind == RST_STREAM and stream == 1:
                s.close()
                return None, f"RST_STREAM {payload.hex()}"
            elif kind == GOAWAY:
                s.close()
                return None, f"GOAWAY {payload[4:8].hex()}"
    if status != 200:
        s.close()
        return None, f"status {status}"
    s.setblocking(False)
    return s, None


conns, problems = [], {}
for _ in range(count):
    try:
        s, why = open_one()
    except (OSError, ssl.SSLError) as e:
        s, why = None, type(e).__name__ + ": " + str(e)
    if s is not None:
        conns.append(s)
    else:
        problems[why] = problems.get(why, 0) + 1
for why, n in problems.items():
    print(f"idle_h2_connections: {n} connection(s): {why}", file=sys.stderr, flush=True)
print(f"ready {len(conns)}", flush=True)


def check():
    alive = closed = other = 0
    poller = select.poll()  # select() takes no descriptor above 1023
    for s in conns:
        poller.register(s, select.POLLIN)
    readable = {fd for fd, _ in poller.poll(0)}
    for s in conns:
        if s.fileno() not in readable and not s.pending():
            alive += 1
            continue
        try:
            data = s.recv(65536)
        except ssl.SSLWantReadError:  # a TLS record with no application data (a session ticket)
            alive += 1
            continue
        except OSError:
            closed += 1
            continue
        if not data:
            closed += 1
        elif data[3:4] == bytes([GOAWAY]):
            closed += 1
        else:
            other += 1
    return alive, closed, other


for line in sys.stdin:
    if line.strip() == "check":
        print("alive %d closed %d other %d" % check(), flush=True)
