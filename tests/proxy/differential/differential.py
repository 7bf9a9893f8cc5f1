#!/usr/bin/env python3
"""Replays corpus.py against two proxies that forward to one recording server, and compares their verdicts.

usage: differential.py BACKEND_PORT HAPROXY_PORT METALGATE_PORT [--markdown] [--check DOCS.md]

The recording server (started here, on 127.0.0.1:BACKEND_PORT) answers every complete request with 200 (a
WebSocket handshake with 101 and the key's accept) and keeps every byte it receives. A verdict is what a client sees (the status of each response, or how the
connection ended) and what the server received (nothing, or the framing headers and body length of the
first request). --markdown prints the table for docs/proxy.md; --check compares it with the table there.
"""
import base64
import hashlib
import re
import socket
import sys
import threading
import time

from corpus import CASES

received = bytearray()
received_lock = threading.Lock()


def complete_requests(buf):
    """Complete requests at the start of buf (canonical enough for what proxies forward), and the rest."""
    count = 0
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return count, buf
        head = buf[:end].decode("latin-1").lower()
        body = buf[end + 4:]
        m = re.search(r"\r\ncontent-length: *(\d+)", head)
        if "transfer-encoding: chunked" in head:
            term = body.find(b"0\r\n")
            while term >= 0 and not (term == 0 or body[term - 2:term] == b"\r\n"):
                term = body.find(b"0\r\n", term + 1)
            stop = body.find(b"\r\n\r\n", term) if term >= 0 else -1
            if stop < 0:
                return count, buf
            buf = body[stop + 4:]
        elif m:
            n = int(m.group(1))
            if len(body) < n:
                return count, buf
            buf = body[n:]
        else:
            buf = body
        count += 1


def serve_connection(conn):
    pending = b""
    conn.settimeout(5)
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            with received_lock:
                received.extend(data)
            pending += data
            key = websocket_key(pending)
            if key:  # a WebSocket handshake: switch, with the key's accept, and keep what comes after
                conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                             b"Sec-WebSocket-Accept: " + accept(key) + b"\r\n\r\n")
                pending = b""
                continue
            n, pending = complete_requests(pending)
            for _ in range(n):
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except OSError:
        return
    finally:
        conn.close()


def websocket_key(buf):
    """The Sec-WebSocket-Key of a complete WebSocket Upgrade at the start of buf, else None."""
    end = buf.find(b"\r\n\r\n")
    head = buf[:end].decode("latin-1").lower() if end >= 0 else ""
    m = re.search(r"\r\nsec-websocket-key: *([^\r]+)", head)
    if not m or not re.search(r"\r\nupgrade: *websocket", head):
        return None
    return re.search(r"(?i)\r\nsec-websocket-key: *([^\r]+)", buf[:end].decode("latin-1")).group(1).encode()


def accept(key):
    """RFC 6455 §4.2.2."""
    return base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())


def recording_server(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)

    def accept():
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=serve_connection, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


def read_responses(sock, wanted, deadline):
    """Statuses of the responses read (up to `wanted`), then how the connection ended."""
    data, statuses, ending = b"", [], "open"
    while len(statuses) < wanted:
        pos = 0
        statuses = []
        while True:
            m = re.match(rb"HTTP/1\.[01] (\d{3})[^\r\n]*\r?\n", data[pos:])
            end = data.find(b"\r\n\r\n", pos)
            if not m or end < 0:
                break
            head = data[pos:end].decode("latin-1").lower()
            cl = re.search(r"\r\ncontent-length: *(\d+)", head)
            if not cl or len(data) < end + 4 + int(cl.group(1)):
                break
            if not m.group(1).startswith(b"1"):
                statuses.append(m.group(1).decode())
            pos = end + 4 + int(cl.group(1))
        if len(statuses) >= wanted:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            ending = "timeout"
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            ending = "timeout"
            break
        except ConnectionResetError:
            ending = "reset"
            break
        if not chunk:
            ending = "closed"
            break
        data += chunk
    return statuses, ending


def server_view(raw):
    if not raw:
        return "nothing"
    end = raw.find(b"\r\n\r\n")
    head = raw[:end if end >= 0 else len(raw)].decode("latin-1")
    requests = len(re.findall(r"(?m)^[A-Z]+ \S+ HTTP/1\.[01]\r?$", raw.decode("latin-1")))
    framing = []
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.lower() in ("content-length", "transfer-encoding"):
            framing.append(f"{name.lower()}: {value.strip()}")
        if name.lower() == "host" and value.strip() != "a.example":
            framing.append(f"host: {value.strip()}")
    body = raw[end + 4:] if end >= 0 else b""
    if any(f.startswith("transfer-encoding") for f in framing):
        data, rest = b"", body
        while True:
            line_end = rest.find(b"\r\n")
            if line_end < 0:
                break
            size = int(rest[:line_end].split(b";")[0] or b"0", 16)
            if size == 0:
                break
            data += rest[line_end + 2:line_end + 2 + size]
            rest = rest[line_end + 4 + size:]
        body_text = f"{len(data)} B decoded"
    else:
        length = next((int(f.split(":")[1]) for f in framing if f.startswith("content-length")), 0)
        body_text = f"{min(length, len(body))} B"
    what = ", ".join(framing) if any(not f.startswith("host") for f in framing) else ", ".join(
        ["no framing header"] + framing)
    more = f", {requests} requests" if requests > 1 else ""
    return f"{what}; {body_text}{more}"


def run_case(port, c):
    with received_lock:
        received.clear()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(c["data"])
    if c["half_close"]:
        sock.shutdown(socket.SHUT_WR)
    statuses, ending = read_responses(sock, c["responses"], time.monotonic() + 3)
    sock.close()
    time.sleep(0.3)
    with received_lock:
        raw = bytes(received)
    client = " ".join(statuses) if statuses else ending
    return client, server_view(raw), raw


def compare(cases, run_case, haproxy, metalgate, marker, corpus):
    """Runs every case against both proxies; prints the table (--markdown) or checks it against the docs'
    table between `<!-- MARKER:begin -->` and `<!-- MARKER:end -->` (--check DOCS); exits 1 on a problem."""
    rows, problems = [], []
    for c in cases:
        hp_client, hp_server, _ = run_case(haproxy, c)
        mg_client, mg_server, mg_raw = run_case(metalgate, c)
        same = (hp_client, hp_server) == (mg_client, mg_server)
        if c["must_not_reach"] and mg_raw:
            problems.append(f"{c['name']}: reached the server through metalgate: {mg_raw[:200]!r}")
        if not same and not c["why"]:
            problems.append(f"{c['name']}: HAProxy {hp_client} ({hp_server}), metalgate {mg_client} ({mg_server})")
        if same and c["why"]:
            problems.append(f"{c['name']}: no longer differs; drop its reason in {corpus}")
        rows.append((c["name"], f"{hp_client}; server: {hp_server}", f"{mg_client}; server: {mg_server}",
                     c["why"] or ""))
    table = ["| case | HAProxy 2.6 | metalgate | why they differ |", "| --- | --- | --- | --- |"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    table = "\n".join(table)
    if "--markdown" in sys.argv:
        print(table)
    if "--check" in sys.argv:
        docs = open(sys.argv[sys.argv.index("--check") + 1]).read()
        m = re.search(rf"<!-- {marker}:begin -->\n(.*?)\n<!-- {marker}:end -->", docs, re.S)
        if not m or m.group(1).strip() != table.strip():
            problems.append(f"docs/proxy.md's table between the {marker} markers differs from this run; "
                            "regenerate it with tests/proxy/differential/differential_test.sh METALGATE --markdown")
            print(table)
    for p in problems:
        print("FAIL: " + p, file=sys.stderr)
    print(f"{len(cases) - len(problems)} passed, {len(problems)} failed")
    sys.exit(1 if problems else 0)


def main():
    backend, haproxy, metalgate = (int(a) for a in sys.argv[1:4])
    recording_server(backend)
    time.sleep(0.2)
    compare(CASES, run_case, haproxy, metalgate, "differential", "corpus.py")


if __name__ == "__main__":
    main()
