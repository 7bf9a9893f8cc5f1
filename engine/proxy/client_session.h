// What the proxy holds for each client connection it terminates: an HttpSession (HTTP/1.x) or an
// H2Connection (HTTP/2, one HttpSession per stream). The proxy owns them, drains them and frees them after
// they report finished.
#pragma once

namespace metalgate::proxy {

class ClientSession {
 public:
  virtual ~ClientSession() = default;
  // The proxy is stopping (Proxy::drain): idle connections close now, busy ones after what is under way.
  virtual void drain() = 0;
};

}  // namespace metalgate::proxy
