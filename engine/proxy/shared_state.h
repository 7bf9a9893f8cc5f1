// What the proxy's event loops share when one process runs several of them (the ConfigMap's `nbthread`):
// each server's health and requests in flight, the count of client connections, the rate tables and the TLS
// contexts. One loop, the first, runs the health checks and publishes every server's state here; all loops
// read it, so they route alike, and leastconn and per-server maxconn count every loop's requests. Counts are
// atomics and a rate table locks per request it counts. What stays per loop: sessions, idle server
// connections, the balancer's position and the queue (a loop's queued requests retry while they wait, so a
// slot freed by another loop is found). Cookies need nothing: a server's cookie value is its name.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/result.h"
#include "engine/proxy/health-t.h"
#include "engine/proxy/proxy_config-t.h"
#include "engine/proxy/rate_limiter.h"

namespace metalgate::tls {
class ServerContext;
}

namespace metalgate::proxy {

struct SharedServer {
  std::atomic<bool> up{true};
  std::atomic<int> active{0};  // requests holding a slot, in every loop
  std::atomic<AdminState> admin{AdminState::kReady};
};

// The TLS contexts of a configuration (nullptr without certificates; a failure naming the certificate that
// does not load). One is shared by every loop, so a session ticket from one loop resumes on another.
Result<std::unique_ptr<tls::ServerContext>> make_tls_context(const ProxyConfig& config);

class SharedProxyState {
 public:
  // Servers start as the health checks would have them (up until checks say otherwise); the failure names
  // the certificate that does not load.
  static Result<std::shared_ptr<SharedProxyState>> create(const ProxyConfig& config);
  ~SharedProxyState();
  SharedProxyState(const SharedProxyState&) = delete;
  SharedProxyState& operator=(const SharedProxyState&) = delete;

  SharedServer* servers(std::size_t backend) { return servers_[backend].get(); }
  std::shared_ptr<RateTable> rate_table(std::size_t index) { return rate_tables_[index]; }
  tls::ServerContext* tls() { return tls_.get(); }
  std::atomic<std::size_t> client_connections{0};

 private:
  SharedProxyState() = default;
  std::vector<std::unique_ptr<SharedServer[]>> servers_;
  std::vector<std::shared_ptr<RateTable>> rate_tables_;
  std::unique_ptr<tls::ServerContext> tls_;
};

}  // namespace metalgate::proxy
