// What the proxy holds for each client connection it terminates: an HttpSession (HTTP/1.x) or an
// H2Connection (HTTP/2, one HttpSession per stream). The proxy owns them, drains them and frees them after
// they report finished.
#pragma once

#include <cstdint>

namespace metalgate::proxy {

class ClientSession {
 public:
  virtual ~ClientSession() = default;
  // The proxy's count of sessions opened when this one was: the order the proxy drains and frees them in,
  // so that a simulation does not depend on where the allocator put them.
  std::uint64_t opened = 0;
  // The proxy is stopping (Proxy::drain): idle connections close now, busy ones after what is under way.
  virtual void drain() = 0;
};

}  // namespace metalgate::proxy
