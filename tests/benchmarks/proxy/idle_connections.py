#!/usr/bin/python3
"""Opens N keep-alive connections to a proxy, sends one request on each, reads the response, and holds them
open until stdin closes: the proxy's memory per idle connection is then measured from outside."""
import selectors
import socket
import sys

host, port, count, hostname = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
request = f"GET /100b HTTP/1.1\r\nHost: {hostname}\r\n\r\n".encode()
conns, answered = [], 0
sel = selectors.DefaultSelector()
for i in range(count):
    s = socket.create_connection((host, port))
    s.setblocking(False)
    s.send(request)
    conns.append(s)
    sel.register(s, selectors.EVENT_READ)
    # Keep the number in flight bounded so the proxy's accept queue never overflows.
    while len(conns) - answered > 200:
        for key, _ in sel.select(timeout=5):
            if key.fileobj.recv(65536):
                answered += 1
                sel.unregister(key.fileobj)
while answered < count:
    events = sel.select(timeout=10)
    if not events:
        break
    for key, _ in events:
        if key.fileobj.recv(65536):
            answered += 1
            sel.unregister(key.fileobj)
print(f"ready {answered}", flush=True)
sys.stdin.read()
