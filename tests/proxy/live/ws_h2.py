#!/usr/bin/python3
"""WebSockets over HTTP/2 (RFC 8441) on either side of a live metalgate, with Debian's own libraries.

  pod-h1 ADDR PORT EVENTS           a WebSocket echo pod in HTTP/1.1 (python3-websockets)
  pod-h2 ADDR PORT EVENTS           a WebSocket echo pod in HTTP/2 cleartext (python3-h2 with extended CONNECT,
                                    python3-wsproto for the frames on the stream)
  client-h2 PORT SNI CA PATH TEXT   a browser's way: TLS with ALPN h2, the server's SETTINGS must offer extended
                                    CONNECT, then CONNECT :protocol websocket, one message echoed, a clean close
  client-h1 PORT HOST CA PATH TEXT  an HTTP/1.1 WebSocket client over TLS (python3-websockets; it checks the
                                    accept)

Each pod appends one line per event to EVENTS ("serving", "upgrade h1 /chat", "message hello", ...).
"""
import asyncio
import socket
import ssl
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings
import websockets
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, TextMessage


def note(events, line):
    with open(events, "a") as f:
        f.write(line + "\n")


async def pod_h1(addr, port, events):
    async def echo(ws, path=None):
        note(events, f"upgrade h1 {path or ws.path}")
        async for message in ws:
            note(events, f"message {message}")
            await ws.send(message)

    async with websockets.serve(echo, addr, port):
        note(events, "serving")
        await asyncio.Future()


class H2Pod(asyncio.Protocol):
    """One HTTP/2 connection: extended CONNECT streams are WebSockets, every message echoed."""

    def __init__(self, events):
        self.events = events
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config=config)
        self.ws = {}

    def connection_made(self, transport):
        self.transport = transport
        self.h2.initiate_connection()
        self.h2.update_settings({h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL: 1})
        # Its SETTINGS leave with its answer to the proxy's preface, ACK included, in one segment: the
        # proxy's extended CONNECT, which waits for them, must go out without more bytes from here.

    def data_received(self, data):
        for event in self.h2.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                self.request(event.stream_id, dict(event.headers))
            elif isinstance(event, h2.events.DataReceived):
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                self.frames(event.stream_id, event.data)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id in self.ws:
                note(self.events, "stream ended")
                self.h2.end_stream(event.stream_id)
        self.transport.write(self.h2.data_to_send())

    def request(self, stream, headers):
        if headers.get(":method") != "CONNECT" or headers.get(":protocol") != "websocket":
            self.h2.send_headers(stream, [(":status", "404")], end_stream=True)
            return
        note(self.events, f"upgrade h2 {headers[':path']} key={'sec-websocket-key' in headers}")
        self.ws[stream] = Connection(ConnectionType.SERVER)
        self.h2.send_headers(stream, [(":status", "200")])

    def frames(self, stream, data):
        ws = self.ws.get(stream)
        if ws is None or not data:  # an empty DATA frame carries only END_STREAM, maybe after the close
            return
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, (TextMessage, BytesMessage)):
                note(self.events, f"message {event.data}")
                self.h2.send_data(stream, ws.send(type(event)(data=event.data)))
            elif isinstance(event, CloseConnection):
                self.h2.send_data(stream, ws.send(event.response()))


async def pod_h2(addr, port, events):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: H2Pod(events), addr, port)
    note(events, "serving")
    async with server:
        await server.serve_forever()


def client_h2(port, sni, ca, path, text):
    context = ssl.create_default_context(cafile=ca)
    context.set_alpn_protocols(["h2"])
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=sni)
    assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())

    def events_until(done):
        while True:
            data = sock.recv(65536)
            if not data:
                raise SystemExit("FAIL: the proxy closed the connection")
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                if isinstance(event, h2.events.StreamReset):
                    raise SystemExit(f"FAIL: stream reset, code {event.error_code}")
                if done(event):
                    sock.sendall(conn.data_to_send())
                    return event
            sock.sendall(conn.data_to_send())

    events_until(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))
    offered = conn.remote_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
    if offered != 1:
        raise SystemExit(f"FAIL: SETTINGS_ENABLE_CONNECT_PROTOCOL is {offered}")
    stream = conn.get_next_available_stream_id()
    conn.send_headers(stream, [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
                               (":path", path), (":authority", sni), ("sec-websocket-version", "13")])
    sock.sendall(conn.data_to_send())
    head = events_until(lambda e: isinstance(e, h2.events.ResponseReceived))
    status = dict(head.headers)[":status"]
    if status != "200":
        raise SystemExit(f"FAIL: CONNECT answered {status}")
    ws = Connection(ConnectionType.CLIENT)
    conn.send_data(stream, ws.send(TextMessage(data=text)))
    sock.sendall(conn.data_to_send())
    echoed = None
    while echoed is None:
        event = events_until(lambda e: isinstance(e, h2.events.DataReceived))
        ws.receive_data(event.data)
        for message in ws.events():
            if isinstance(message, TextMessage):
                echoed = message.data
    print(f"echo over h2: {echoed}")
    conn.end_stream(stream)
    sock.sendall(conn.data_to_send())
    events_until(lambda e: isinstance(e, h2.events.StreamEnded))
    print("stream ended by the far side")
    if echoed != text:
        raise SystemExit(f"FAIL: sent {text!r}, got {echoed!r}")


async def client_h1(port, host, ca, path, text):
    context = ssl.create_default_context(cafile=ca)  # no ALPN: HTTP/1.1, as a WebSocket library speaks
    async with websockets.connect(f"wss://{host}:{port}{path}", host="127.0.0.1", port=port, ssl=context,
                                  server_hostname=host) as ws:
        await ws.send(text)
        echoed = await asyncio.wait_for(ws.recv(), 10)
    print(f"echo over h1: {echoed}")
    if echoed != text:
        raise SystemExit(f"FAIL: sent {text!r}, got {echoed!r}")


def main(argv):
    what = argv[1]
    if what == "pod-h1":
        asyncio.run(pod_h1(argv[2], int(argv[3]), argv[4]))
    elif what == "pod-h2":
        asyncio.run(pod_h2(argv[2], int(argv[3]), argv[4]))
    elif what == "client-h2":
        client_h2(int(argv[2]), argv[3], argv[4], argv[5], argv[6])
    elif what == "client-h1":
        asyncio.run(client_h1(int(argv[2]), argv[3], argv[4], argv[5], argv[6]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
