// The stats and metrics listeners (MonitorConfig), over the runtime port like the proxy's frontends. A small
// HTTP/1 server: one GET or HEAD per connection, answered and closed. On a stats listener `/` (or any path
// but the two below) is the HTML page, a path ending in `;csv` the CSV, `/metrics` the Prometheus exposition;
// a metrics listener serves /metrics only. With stats.auth every page of a stats listener asks for Basic
// credentials, as HAProxy's `stats auth`. The pages come from `render`, called for each request.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/proxy/proxy_config-t.h"
#include "engine/runtime/result.h"
#include "engine/runtime/runtime.h"

namespace metalgate::stats {

enum class Page { kHtml, kCsv, kMetrics };
using Render = std::function<std::string(Page)>;

class StatsServer {
 public:
  // Listens where `config` says; the failure names the address that could not be bound.
  static Result<std::unique_ptr<StatsServer>> start(runtime::Runtime& rt, const proxy::MonitorConfig& config,
                                                    Render render);
  ~StatsServer();
  StatsServer(const StatsServer&) = delete;
  StatsServer& operator=(const StatsServer&) = delete;

  const proxy::MonitorConfig& config() const { return config_; }
  // Where each listener ended up (port 0 in tests picks one): the stats ones, then the metrics ones.
  std::vector<net::SocketAddress> addresses() const;
  static constexpr runtime::Duration kTimeout = std::chrono::seconds(10);  // for the request, then the answer

  // Used by its connections.
  struct Answer {
    int status = 200;
    std::string content_type;
    std::string body;
    std::string extra_headers;
  };
  Answer answer(bool stats_listener, std::string_view method, std::string_view path,
                std::optional<std::string_view> authorization) const;
  void finished(class StatsConnection* connection);

 private:
  StatsServer(runtime::Runtime& rt, proxy::MonitorConfig config, Render render);
  void accept(bool stats_listener, runtime::StreamConnectionPtr c);

  runtime::Runtime& rt_;
  proxy::MonitorConfig config_;
  Render render_;
  std::vector<runtime::StreamListenerPtr> listeners_;
  std::unordered_map<StatsConnection*, std::unique_ptr<StatsConnection>> connections_;
  std::vector<std::unique_ptr<StatsConnection>> finished_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace metalgate::stats
