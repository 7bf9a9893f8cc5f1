#include "scenario/apps/udp_responder.h"

namespace metalgate::apps {

UdpResponder::UdpResponder(runtime::Runtime& rt, net::SocketAddress at, std::string name)
    : name_(std::move(name)) {
  socket_ = rt.open_datagram(
      at,
      [this](const net::SocketAddress& from, const net::SocketAddress& to, runtime::ByteView payload) {
        ++received_;
        if (silent_) return;
        std::string reply = name_ + ":" + std::string(runtime::as_chars(payload));
        socket_->send_from(to.ip, from, runtime::as_bytes(reply));
      },
      open_error_);
}

}  // namespace metalgate::apps
