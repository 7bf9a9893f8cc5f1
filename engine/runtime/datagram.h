// Datagram sockets (UDP).
#pragma once

#include <functional>
#include <memory>

#include "engine/net/ip_address.h"
#include "engine/runtime/bytes.h"

namespace metalgate::runtime {

// A datagram arrived at `local` (the address it was sent to, even on a wildcard-bound socket) from `from`;
// the payload view is valid only during the call.
using DatagramCallback =
    std::function<void(const net::SocketAddress& from, const net::SocketAddress& local, ByteView payload)>;

class DatagramSocket {
 public:
  // Destroying the socket closes it; the callback is not called again.
  virtual ~DatagramSocket() = default;
  // Best effort, like UDP: a datagram that cannot be delivered is dropped without an error.
  virtual void send_to(const net::SocketAddress& to, ByteView payload) = 0;
  // Sends from `from` (one of this host's addresses) on this socket's port: a wildcard-bound service answers
  // from the address it was reached at (a VIP), or clients drop the answer.
  virtual void send_from(const net::IpAddress& from, const net::SocketAddress& to, ByteView payload) = 0;
  virtual net::SocketAddress local_address() const = 0;
};

using DatagramSocketPtr = std::unique_ptr<DatagramSocket>;

}  // namespace metalgate::runtime
