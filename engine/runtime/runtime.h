// The runtime port: the one door through which the engine reaches time and I/O.
//
// Three worlds implement it: runtime/asio (live: epoll, AF_PACKET, rtnetlink), sim/ (ns-3), and
// runtime/memory (deterministic, in-memory, for unit tests). Engine code takes a Runtime& and never knows
// which world it is in. Single-threaded by contract: every callback runs on the runtime's own loop, one at a
// time, never re-entrantly from inside a call the engine made (results of a call always arrive in a later
// callback).
#pragma once

#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "engine/net/ip_address.h"
#include "engine/runtime/datagram.h"
#include "engine/runtime/frame_port.h"
#include "engine/runtime/log.h"
#include "engine/runtime/seeded_random.h"
#include "engine/runtime/stream.h"
#include "engine/runtime/time.h"
#include "engine/runtime/timer.h"

namespace metalgate::runtime {

class Runtime {
 public:
  virtual ~Runtime() = default;

  // Monotonic time. Virtual in simulations and tests, steady-clock in live mode.
  virtual Instant now() const = 0;
  virtual TimerPtr create_timer(TimerCallback on_fire) = 0;
  // Runs `task` on the loop after the current callback returns.
  virtual void post(std::function<void()> task) = 0;
  // Like post(), for heavy work that may wait while other events are ready (a TLS key exchange): traffic of
  // established connections goes first. The live loop runs one such task per bounded pass over ready
  // events, so it is never starved; worlds with nothing to reorder simply post.
  virtual void post_background(std::function<void()> task) { post(std::move(task)); }

  // Accepts connections on `local` (port 0 picks a free port; an unspecified address means every local
  // address). A specific address need not be this host's yet: a service address is bound before the speaker
  // adds it (add_local_address), and takes traffic from then on. The same holds for open_datagram().
  virtual StreamListenerPtr listen(const net::SocketAddress& local, const ListenOptions& options,
                                   AcceptCallback on_accept, std::error_code& error) = 0;
  // Starts connecting; the handler hears on_connected or on_closed(reason). Destroying the result cancels.
  virtual StreamConnectionPtr connect(const net::SocketAddress& remote, StreamHandler& handler,
                                      const ConnectOptions& options = {}) = 0;

  virtual DatagramSocketPtr open_datagram(const net::SocketAddress& local, DatagramCallback on_datagram,
                                          std::error_code& error) = 0;

  // Frames of the given EtherTypes on the named interface.
  virtual FramePortPtr open_frame_port(const std::string& interface_name,
                                       const std::vector<std::uint16_t>& ethertypes, FrameHandler& handler,
                                       std::error_code& error) = 0;

  // A service address (VIP) this node accepts traffic for. It must not make the world's own network stack
  // answer ARP/NDP for it (only the speaker does): live mode puts it on a VIP interface that the kernel keeps
  // quiet about, ns-3 on the loopback device, the in-memory world never answers ARP at all.
  virtual std::error_code add_local_address(const net::IpAddress& address) = 0;
  virtual std::error_code remove_local_address(const net::IpAddress& address) = 0;

  // A service address handed over by a node that left gracefully (and still holds the address, finishing its
  // connections): from now on, TCP segments to `address` that open no connection and belong to none this host
  // knows go on to `previous_owner` instead of being answered with a reset here, so the connections in flight
  // when the address moved complete there. Until stop_handing_over(address). A world that cannot
  // (not_supported: the in-memory world, ns-3) leaves them to end with the move, as in MetalLB.
  virtual std::error_code hand_over(const net::IpAddress& address, const net::IpAddress& previous_owner) {
    (void)address, (void)previous_owner;
    return std::make_error_code(std::errc::not_supported);
  }
  virtual void stop_handing_over(const net::IpAddress& address) { (void)address; }

  virtual SeededRandom& random() = 0;
  virtual Logger& logger() = 0;
};

}  // namespace metalgate::runtime
