#!/usr/bin/python3
"""A gRPC service and its client for the live server-proto h2 test, with Debian's grpcio and no generated code
(messages are raw bytes).

  grpc_echo.py serve ADDRESS:PORT EVENTS_FILE [CERT KEY]
                                                 echo.Echo over h2c (over TLS with CERT and KEY); what the
                                                 server sees goes to EVENTS_FILE
  grpc_echo.py call PROXY:PORT AUTHORITY CA_FILE EVENTS_FILE [after-stop|unary]
                                                 each check through the proxy's TLS frontend; exit 1 on a failure
                                                 (unary: the unary call alone)
"""
import sys
import threading
import time
from concurrent import futures

import grpc

SERVICE = "echo.Echo"


def serve(address, events_path, tls=None):
    events = open(events_path, "a", buffering=1)

    def say(request, context):
        meta = dict(context.invocation_metadata())
        events.write(f"Say {request!r} x-forwarded-for={meta.get('x-forwarded-for', '')}\n")
        return b"echo:" + request

    def chat(requests, context):
        for message in requests:  # one answer per message, as it comes: streaming both ways
            yield b"re:" + message

    def fail(request, context):
        context.abort(grpc.StatusCode.NOT_FOUND, "no such thing: " + request.decode())

    def wait(request, context):
        done = threading.Event()
        context.add_callback(done.set)
        done.wait(10)
        events.write("Wait cancelled\n" if not context.is_active() else "Wait finished\n")
        return b""

    def rows(request, context):
        for i in range(int(request)):
            yield b"row %d " % i + b"x" * 1000

    handlers = {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Wait": grpc.unary_unary_rpc_method_handler(wait),
        "Rows": grpc.unary_stream_rpc_method_handler(rows),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    if tls:
        with open(tls[0], "rb") as c, open(tls[1], "rb") as k:
            server.add_secure_port(address, grpc.ssl_server_credentials([(k.read(), c.read())]))
    else:
        server.add_insecure_port(address)
    server.start()
    events.write("serving\n")
    server.wait_for_termination()


def call(proxy, authority, ca_path, events_path, mode):
    with open(ca_path, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    options = [("grpc.ssl_target_name_override", authority), ("grpc.default_authority", authority)]
    channel = grpc.secure_channel(proxy, credentials, options=options)
    method = lambda kind, name: getattr(channel, kind)(f"/{SERVICE}/{name}")
    failures = []

    def check(what, ok, detail=""):
        print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail and not ok else ""))
        if not ok:
            failures.append(what)

    if mode == "after-stop":
        try:
            method("unary_unary", "Say")(b"anyone?", timeout=5)
            check("a call with the service down fails", False, "it succeeded")
        except grpc.RpcError as e:
            check("with the service down the client gets UNAVAILABLE (the proxy's 503)",
                  e.code() == grpc.StatusCode.UNAVAILABLE, f"{e.code()} {e.details()}")
        return 1 if failures else 0

    answer = method("unary_unary", "Say")(b"hello", timeout=5)
    check("unary call answered", answer == b"echo:hello", repr(answer))
    if mode == "unary":
        return 1 if failures else 0

    # Streaming both ways: each answer must come before the next message is sent.
    replies = []
    outbox = []
    sent = threading.Event()

    def messages():
        for m in (b"a", b"b", b"c"):
            sent.clear()  # before the message leaves: its answer may come before the next one is asked for
            outbox.append(m)
            yield m
            if not sent.wait(5):
                return

    stream = method("stream_stream", "Chat")(messages(), timeout=10)
    for reply in stream:
        replies.append(reply)
        sent.set()
    check("bidirectional stream, answer by answer", replies == [b"re:a", b"re:b", b"re:c"], repr(replies))

    rows = list(method("unary_stream", "Rows")(b"200", timeout=10))
    check("server stream of 200 messages (200 KB)", len(rows) == 200 and rows[-1].startswith(b"row 199"),
          f"{len(rows)} rows")

    try:
        method("unary_unary", "Fail")(b"x", timeout=5)
        check("an error status passes", False, "no error")
    except grpc.RpcError as e:
        check("grpc-status and grpc-message pass through (NOT_FOUND)",
              e.code() == grpc.StatusCode.NOT_FOUND and e.details() == "no such thing: x",
              f"{e.code()} {e.details()}")

    try:
        method("unary_unary", "Wait")(b"", timeout=0.5)
        check("a deadline ends the call", False, "it returned")
    except grpc.RpcError as e:
        check("the client's deadline ends the call (DEADLINE_EXCEEDED)",
              e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, f"{e.code()}")
    deadline = time.time() + 5
    seen = ""
    while time.time() < deadline and "Wait " not in seen:
        time.sleep(0.1)
        seen = open(events_path).read()
    check("the reset stream reaches the server as a cancellation", "Wait cancelled" in seen, seen)
    check("the proxy's request rules apply (x-forwarded-for)", "x-forwarded-for=127.0.0.1" in seen, seen)
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], sys.argv[4:6] if len(sys.argv) > 5 else None)
    else:
        sys.exit(call(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6] if len(sys.argv) > 6 else ""))
