// A UDP backend that identifies itself: each datagram is answered with "<name>:" and the datagram, from the
// address it was sent to (a VIP, or the address a wildcard bind received it on). Written against the runtime
// port only, so it runs in every world.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include "engine/runtime/runtime.h"

namespace metalgate::apps {

class UdpResponder {
 public:
  UdpResponder(runtime::Runtime& rt, net::SocketAddress at, std::string name);

  const std::string& name() const { return name_; }
  const std::error_code& open_error() const { return open_error_; }
  std::uint64_t received() const { return received_; }  // datagrams, answered or not
  void set_silent(bool silent) { silent_ = silent; }     // silent: counts datagrams, answers none

 private:
  std::string name_;
  std::error_code open_error_;
  runtime::DatagramSocketPtr socket_;
  std::uint64_t received_ = 0;
  bool silent_ = false;
};

}  // namespace metalgate::apps
