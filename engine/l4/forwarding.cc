#include "engine/l4/forwarding.h"

#include <algorithm>

namespace metalgate::l4 {

proxy::L4ServiceConfig config_on_node(const proxy::L4ServiceConfig& config, const std::string& node) {
  if (config.service.empty()) return config;
  proxy::L4ServiceConfig out = config;
  auto& servers = out.backend.servers;
  if (config.local_only) {
    std::erase_if(servers, [&](const proxy::ServerConfig& s) { return s.node != node; });
    if (servers.empty())
      out.backend.problem = "no endpoint on node " + node + " (externalTrafficPolicy: Local)";
  }
  const bool any_ready = std::any_of(servers.begin(), servers.end(), [](const auto& s) { return s.ready; });
  if (any_ready) std::erase_if(servers, [](const proxy::ServerConfig& s) { return !s.ready; });
  return out;
}

}  // namespace metalgate::l4
