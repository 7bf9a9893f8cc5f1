#!/usr/bin/python3
"""Raw HTTP/2 frames over TLS (ALPN h2) for the live HTTP/2 test: what curl and nghttp never send. Each case opens
its own connection and prints one line saying how the proxy answered:
  h2_abuse.py PORT connection-header   a request carrying `connection: keep-alive`  -> "RST_STREAM 1"
  h2_abuse.py PORT rapid-reset N       N streams opened and cancelled at once    -> "GOAWAY <code>"
  h2_abuse.py PORT ping-flood N        N PINGs without reading the ACKs          -> "GOAWAY <code>"
("closed": the connection ended without a GOAWAY read; "open": it was still open and quiet after 5 s.)
Literal HPACK fields without indexing; no Huffman; stdlib only."""
import socket
import ssl
import struct
import sys


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def block(fields):
    out = b""
    for name, value in fields:
        out += b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()
    return out


GET = [(":method", "GET"), (":scheme", "https"), (":path", "/"), (":authority", "app.example.com")]


def connect(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="app.example.com")
    assert s.selected_alpn_protocol() == "h2", s.selected_alpn_protocol()
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0))
    return s


quiet = False  # the last frames() ended because nothing came for the timeout, not because the connection ended


def frames(s):
    """Yields (type, flags, stream, payload) until the connection ends or is quiet for the timeout."""
    global quiet
    buf = b""
    while True:
        try:
            data = s.recv(65536)
        except socket.timeout:
            quiet = True
            return
        except (ConnectionResetError, ssl.SSLError):
            return
        if not data:
            return
        buf += data
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            yield buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF, buf[9:9 + n]
            buf = buf[9 + n:]


def first(s, kinds):
    for kind, flags, stream, payload in frames(s):
        if kind == 4 and not flags & 1:
            try:
                s.sendall(frame(4, 1, 0))  # ACK the server's SETTINGS
            except (OSError, ssl.SSLError):
                pass  # a proxy that gave up on us reads no more
        if kind in kinds:
            return kind, stream, payload
    return None


def main():
    port, case = int(sys.argv[1]), sys.argv[2]
    s = connect(port)
    if case == "connection-header":
        s.sendall(frame(1, 5, 1, block(GET + [("connection", "keep-alive")])))
        got = first(s, {3, 7})
        print("RST_STREAM %d" % got[1] if got and got[0] == 3 else "got %r" % (got,))
    elif case == "rapid-reset":
        n = int(sys.argv[3])
        burst = b"".join(frame(1, 4, 2 * i + 1, block(GET)) + frame(3, 0, 2 * i + 1, struct.pack(">I", 8))
                         for i in range(n))
        try:
            s.sendall(burst)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            pass  # the proxy gave up on the connection part way: read what it sent
        got = first(s, {7})
        print("GOAWAY %d" % struct.unpack(">I", got[2][4:8])[0] if got else "open" if quiet else "closed")
    elif case == "ping-flood":
        n = int(sys.argv[3])
        try:
            s.sendall(b"".join(frame(6, 0, 0, b"12345678") for _ in range(n)))
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            print("closed")
            return
        except socket.timeout:
            pass  # the proxy stopped reading: it has given up on this connection; read what it sent
        got = first(s, {7})
        print("GOAWAY %d" % struct.unpack(">I", got[2][4:8])[0] if got else "open" if quiet else "closed")


main()
