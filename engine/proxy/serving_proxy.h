// One event loop's proxy across configuration reloads: the proxy serving now, and older ones finishing the
// connections they have. Live (`metalgate serve`, on SIGHUP) and in the simulator (a scenario's `reload`
// fault) alike.
#pragma once

#include <memory>
#include <system_error>
#include <vector>

#include "engine/proxy/proxy.h"
#include "engine/runtime/runtime.h"

namespace metalgate::proxy {

class ServingProxy {
 public:
  ServingProxy() = default;
  ServingProxy(const ServingProxy&) = delete;  // the sweep timer points here
  ServingProxy& operator=(const ServingProxy&) = delete;

  Proxy* operator->() const { return current_.get(); }
  explicit operator bool() const { return current_ != nullptr; }
  // The first proxy (already started), or none (a crash in the simulator).
  void set(std::unique_ptr<Proxy> proxy) {
    reset();
    current_ = std::move(proxy);
  }
  void reset();

  // Starts `next` with the serving proxy as its predecessor (it takes the listening sockets over, see
  // Proxy::start); the old one stops accepting and is let go once idle. If `next` cannot start, the serving
  // proxy goes on as before and the error is returned.
  std::error_code replace(std::unique_ptr<Proxy> next, runtime::Runtime& rt);
  // Stopping: every proxy here drains (Proxy::drain; the serving one takes connections `keep_accepting`
  // longer); idle() once none has a connection left.
  void drain(runtime::Duration keep_accepting = {});
  bool idle() const;

 private:
  std::unique_ptr<Proxy> current_;
  std::vector<std::unique_ptr<Proxy>> draining_;
  runtime::TimerPtr sweep_;
};

}  // namespace metalgate::proxy
