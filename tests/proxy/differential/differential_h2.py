#!/usr/bin/env python3
"""Replays corpus_h2.py over TLS (ALPN h2) against two proxies that forward to one recording server, and
compares their verdicts, as differential.py does for HTTP/1.

usage: differential_h2.py BACKEND_PORT HAPROXY_PORT METALGATE_PORT [--markdown] [--check DOCS.md]

A verdict is what the client saw (each stream's :status or RST_STREAM code, a GOAWAY and its code, whether
the connection then ended) and what the server received. Responses' HPACK blocks are decoded with
libnghttp2's inflater (ctypes; HAProxy and nghttp2 both index and Huffman-code their fields).
"""
import collections
import ctypes
import re
import socket
import ssl
import struct
import sys
import time

import differential as d
from corpus_h2 import CASES, SETTINGS, frame

CODES = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
         "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
         "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]


def code_name(code):
    return CODES[code] if code < len(CODES) else str(code)


class Inflater:
    """HPACK decoding with libnghttp2 (nghttp2_hd_inflate_hd2)."""

    class NV(ctypes.Structure):
        _fields_ = [("name", ctypes.POINTER(ctypes.c_uint8)), ("value", ctypes.POINTER(ctypes.c_uint8)),
                    ("namelen", ctypes.c_size_t), ("valuelen", ctypes.c_size_t), ("flags", ctypes.c_uint8)]

    lib = ctypes.CDLL("libnghttp2.so.14")
    lib.nghttp2_hd_inflate_hd2.restype = ctypes.c_ssize_t

    def __init__(self):
        self.inflater = ctypes.c_void_p()
        self.lib.nghttp2_hd_inflate_new(ctypes.byref(self.inflater))

    def __del__(self):
        self.lib.nghttp2_hd_inflate_del(self.inflater)

    def fields(self, data):
        buf = (ctypes.c_uint8 * max(1, len(data))).from_buffer_copy(data or b"\0")
        out, offset = [], 0
        while True:
            nv, flags = self.NV(), ctypes.c_int(0)
            rv = self.lib.nghttp2_hd_inflate_hd2(self.inflater, ctypes.byref(nv), ctypes.byref(flags),
                                                 ctypes.byref(buf, offset), ctypes.c_size_t(len(data) - offset),
                                                 ctypes.c_int(1))
            if rv < 0:
                return out + [("error", "hpack")]
            offset += rv
            if flags.value & 0x02:
                out.append((ctypes.string_at(nv.name, nv.namelen).decode("latin-1"),
                            ctypes.string_at(nv.value, nv.valuelen).decode("latin-1")))
            if flags.value & 0x01:
                self.lib.nghttp2_hd_inflate_end_headers(self.inflater)
                return out
            if rv == 0 and not flags.value & 0x02:
                return out


def header_block(kind, flags, payload):
    if flags & 0x08:  # PADDED
        payload = payload[1:len(payload) - payload[0]]
    if kind == 1 and flags & 0x20:  # PRIORITY
        payload = payload[5:]
    return payload


def converse(port, data):
    """Sends the case's frames; returns each stream's outcome, the GOAWAY (if any) and how it ended."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=3), server_hostname="a.example")
    if s.selected_alpn_protocol() != "h2":
        return {}, None, f"ALPN {s.selected_alpn_protocol()}"
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0))
    try:
        s.sendall(data)
    except OSError:
        pass
    inflater, streams, goaway, ending = Inflater(), {}, None, "open"
    buf, block, deadline = b"", b"", time.monotonic() + 3
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, min(0.7, deadline - time.monotonic())))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, ssl.SSLError, OSError):
            ending = "reset"
            break
        if not chunk:
            ending = "closed"
            break
        buf += chunk
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + length:
                break
            kind, flags, stream = buf[3], buf[4], struct.unpack(">I", buf[5:9])[0] & 0x7FFFFFFF
            payload, buf = buf[9:9 + length], buf[9 + length:]
            if kind == SETTINGS and not flags & 1:
                try:
                    s.sendall(frame(SETTINGS, 1, 0))
                except OSError:
                    pass
            if kind in (1, 9):
                block += header_block(kind, flags, payload)
                if flags & 0x04:
                    status = dict(inflater.fields(block)).get(":status")
                    block = b""
                    if status and not status.startswith("1") and stream not in streams:
                        streams[stream] = status
            elif kind == 3 and stream not in streams:
                streams[stream] = "RST " + code_name(struct.unpack(">I", payload[:4])[0])
            elif kind == 7:
                goaway = code_name(struct.unpack(">I", payload[4:8])[0])
    s.close()
    return streams, goaway, ending


def summary(streams, goaway, ending, coarse=False):
    if coarse:
        return f"GOAWAY {goaway}, {ending}" if goaway else f"no GOAWAY, {ending}"
    if len(streams) > 3:
        counts = collections.Counter(streams.values())
        parts = [f"{n}× {what}" for what, n in sorted(counts.items())]
    else:
        parts = [f"s{k}: {v}" for k, v in sorted(streams.items())]
    if goaway:
        parts.append(f"GOAWAY {goaway}")
    parts.append(ending)
    return ", ".join(parts)


def server_view(raw):
    """differential.py's view; for many requests cut short (streams reset under way), their count."""
    try:
        return d.server_view(raw)
    except ValueError:
        count = len(re.findall(rb"(?m)^[A-Z]+ \S+ HTTP/1\.1\r$", raw))
        return f"{count} requests, some cut short"


def run_case(port, c):
    with d.received_lock:
        d.received.clear()
    outcome = summary(*converse(port, c["data"]), coarse=c["coarse"])
    time.sleep(0.3)
    with d.received_lock:
        raw = bytes(d.received)
    return outcome, "not compared" if c["coarse"] else server_view(raw), raw


def main():
    backend, haproxy, metalgate = (int(a) for a in sys.argv[1:4])
    d.recording_server(backend)
    time.sleep(0.2)
    d.compare(CASES, run_case, haproxy, metalgate, "differential-h2", "corpus_h2.py")


if __name__ == "__main__":
    main()
