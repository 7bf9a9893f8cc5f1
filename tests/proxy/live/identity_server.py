#!/usr/bin/python3
"""A backend for live tests: answers every request with its own name, the method and the path, and echoes
the request headers it received (X-Seen-* headers) so tests can check what the proxy forwarded. A path
starting /sleep/SECONDS answers after that long (a request under way, for drain tests); /status/CODE answers
with that status (errors for the stats tests); /bytes/N adds N bytes to the body, sent 16 KiB a millisecond
(a transfer under way, for drain tests)."""
import http.server
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.startswith("/sleep/"):
            time.sleep(float(self.path.split("/")[2]))
        body = f"{self.server.name} {self.command} {self.path}\n".encode()
        if self.path.startswith("/bytes/"):
            body += b"x" * int(self.path.split("/")[2])
        status = int(self.path.split("/")[2]) if self.path.startswith("/status/") else 200
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", self.server.name)
        for name in ("X-Forwarded-For", "X-Forwarded-Proto", "Host"):
            if self.headers.get(name):
                self.send_header("X-Seen-" + name, self.headers.get(name))
        self.end_headers()
        if self.command != "HEAD":
            for at in range(0, len(body), 16384):
                self.wfile.write(body[at:at + 16384])
                if len(body) > 16384:
                    self.wfile.flush()
                    time.sleep(0.001)

    do_GET = do_POST = do_PUT = do_HEAD = answer

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # connections the proxy resets (TCP health checks, cut requests) are no error of the test's


def main():
    name, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    server = Server((address, port), Handler)
    server.name = name
    server.serve_forever()


if __name__ == "__main__":
    main()
