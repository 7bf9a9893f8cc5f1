// Byte streams (TCP): a listener that hands out connections and connections that report events to a handler.
// Callbacks, not blocking calls: every method returns at once and results arrive through StreamHandler.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>

#include "engine/net/ip_address.h"
#include "engine/runtime/bytes.h"

namespace metalgate::runtime {

// What a connection reports. After on_closed, or after the owner calls close() or reset(), nothing more is
// called.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // Only for connections made by connect(): the connection is established.
  virtual void on_connected() {}
  // Bytes from the peer; the view is valid only during the call.
  virtual void on_data(ByteView data) = 0;
  // The peer will send nothing more (FIN). Writing is still allowed: half-close.
  virtual void on_peer_shutdown() = 0;
  // The connection ended without our asking: refused, reset by the peer, timed out, unreachable.
  virtual void on_closed(std::error_code reason) = 0;
  // Everything written so far has left our send queue. The contract, in every world: after a write that
  // left bytes queued (write_backlog() > 0 right after it), this comes once the queue is empty again. After
  // a write that queued nothing, a world may call it or not (the in-memory world does, live and ns-3 do
  // not), so a caller that waits for it checks write_backlog() > 0 first.
  virtual void on_write_drained() {}
  // While forwarding (StreamConnection::forward_to), `bytes` more went straight to the destination.
  virtual void on_forwarded(std::size_t bytes) { (void)bytes; }
};

class StreamConnection {
 public:
  // Destroying an open connection resets it (RST) and silences its handler.
  virtual ~StreamConnection() = default;
  // Accepted connections deliver nothing until started with their handler.
  virtual void start(StreamHandler& handler) = 0;
  // Queues bytes (copied). Never blocks; watch write_backlog() and on_write_drained() for flow control.
  virtual void write(ByteView data) = 0;
  // As write(), from a caller that knows more bytes for this peer will follow soon (the rest of a body of
  // known length): a live socket may hold back a partial segment until the next write (MSG_MORE), so the
  // peer gets one segment and one wakeup instead of two. Worlds without such a hint just write.
  virtual void write_more(ByteView data) { write(data); }
  virtual std::size_t write_backlog() const = 0;
  // Sends FIN after the queued bytes; reading goes on.
  virtual void shutdown_write() = 0;
  // Flushes queued bytes, then closes both directions. The handler is not called again.
  virtual void close() = 0;
  // Aborts at once with RST; queued bytes are dropped. The handler is not called again.
  virtual void reset() = 0;
  // The caller cannot answer until more bytes come (half a request head, or a body): acknowledge what came
  // at once, so that a peer holding its next bytes for our ACK (Nagle) sends them. Undoes
  // ListenOptions::delay_ack for the moment; worlds without delayed ACKs do nothing.
  virtual void ack_promptly() {}
  // Stops or resumes delivery of on_data (the peer is then held back by flow control).
  virtual void set_reading(bool enabled) = 0;
  // Bytes arriving from now on go straight to `destination` (another connection of the same runtime) instead
  // of to the handler, which hears on_forwarded(n) for each batch; end of stream and errors still reach it.
  // Live, this is splice(2) through a pipe (the bytes never enter user space); other worlds copy. nullptr
  // stops forwarding. Flow control stays the caller's: watch destination->write_backlog() and set_reading().
  virtual void forward_to(StreamConnection* destination) = 0;
  virtual net::SocketAddress local_address() const = 0;
  virtual net::SocketAddress peer_address() const = 0;
  // The protocol the peers agreed on in the TLS handshake (ALPN: "h2", "http/1.1"), once it is done; empty
  // for plain connections and when none was agreed.
  virtual std::string_view application_protocol() const { return {}; }
};

using StreamConnectionPtr = std::unique_ptr<StreamConnection>;
using AcceptCallback = std::function<void(StreamConnectionPtr)>;

class StreamListener {
 public:
  // Destroying the listener stops accepting; connections already handed out live on.
  virtual ~StreamListener() = default;
  virtual net::SocketAddress local_address() const = 0;
};

using StreamListenerPtr = std::unique_ptr<StreamListener>;

struct ConnectOptions {
  // The local address to connect from; the world chooses when unset.
  std::optional<net::IpAddress> source;
  // We speak first, as soon as connected (HTTP): the handshake's last ACK may ride on our first bytes
  // (HAProxy's tcp-smart-connect), and the ACK of an answer on what we send next (live, TCP_QUICKACK off).
  // Never for protocols where the server speaks first: it would wait for that ACK.
  bool delay_ack = false;
};

struct ListenOptions {
  int backlog = 1024;
  // Several event loops may bind the same address (live mode runs one listener per thread).
  bool reuse_port = false;
  // Request/response protocols: let the ACK of a request ride on its answer instead of leaving alone first
  // (HAProxy's tcp-smart-accept; live, TCP_QUICKACK off). Callers use ack_promptly() while they wait for
  // more.
  bool delay_ack = false;
};

}  // namespace metalgate::runtime
