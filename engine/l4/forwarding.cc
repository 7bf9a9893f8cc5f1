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

std::shared_ptr<const proxy::L4ServiceConfig> config_on_node(
    std::shared_ptr<const proxy::L4ServiceConfig> config, const std::string& node) {
  const auto& servers = config->backend.servers;
  const auto ready = std::count_if(servers.begin(), servers.end(), [](const auto& s) { return s.ready; });
  const bool all_kept =
      !config->local_only && (ready == 0 || static_cast<std::size_t>(ready) == servers.size());
  if (config->service.empty() || all_kept) return config;
  return std::make_shared<const proxy::L4ServiceConfig>(config_on_node(*config, node));
}

proxy::ProxyConfig forwarding_only(proxy::ProxyConfig config) {
  config.frontends.clear();
  config.monitor = {};
  config.backends.clear();  // the routes' backends: no health checks from a node that routes nothing
  config.default_backend.reset();
  config.route_policy.clear();
  config.tls.certificates.clear();
  config.passthrough_hosts.clear();
  config.passthrough_services.clear();
  std::erase_if(config.l4_services, [](const proxy::L4ServiceConfig& s) { return s.service.empty(); });
  for (auto& s : config.l4_services)
    s.backend.check.on_demand = true;  // kube-proxy's part: the pods of the Services whose traffic comes here
  return config;
}

namespace {

const model::ResolvedService* cluster_controller(const model::Model& model) {
  const model::ResolvedService* c = model.ingress_controller();
  if (!c || !c->service || c->service->external_traffic_policy == config::TrafficPolicy::kLocal)
    return nullptr;
  return c;
}

// Adds a copy of each item bound at `from` (and `wanted`), bound at `to` instead, unless one is bound there
// already.
template <typename T, typename Bind>
void listen_also(std::vector<T>& items, const net::IpAddress& from, const net::IpAddress& to, Bind bind,
                 bool (*wanted)(const T&) = nullptr) {
  const std::size_t n = items.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (bind(items[i]).ip != from || (wanted && !wanted(items[i]))) continue;
    T copy = items[i];
    bind(copy).ip = to;
    if (std::none_of(items.begin(), items.end(), [&](T& x) { return bind(x) == bind(copy); }))
      items.push_back(std::move(copy));
  }
}

}  // namespace

proxy::ProxyConfig with_peer_listeners(proxy::ProxyConfig config, const model::Model& model,
                                       const net::IpAddress& node) {
  const model::ResolvedService* controller = cluster_controller(model);
  if (!controller) return config;
  auto same_family = [&](const net::IpAddress& a) { return a.is_v4() == node.is_v4(); };
  auto from = std::find_if(controller->addresses.begin(), controller->addresses.end(), same_family);
  if (from == controller->addresses.end()) return config;
  listen_also(config.frontends, *from, node,
              [](proxy::Frontend& f) -> net::SocketAddress& { return f.bind; });
  // The ConfigMap's ports only: another Service's own ports are its own (kube-proxy's part).
  listen_also(
      config.l4_services, *from, node,
      [](proxy::L4ServiceConfig& s) -> net::SocketAddress& { return s.bind; },
      +[](const proxy::L4ServiceConfig& s) { return s.service.empty(); });
  auto itself = [](net::SocketAddress& a) -> net::SocketAddress& { return a; };
  listen_also(config.monitor.stats, *from, node, itself);
  listen_also(config.monitor.metrics, *from, node, itself);
  return config;
}

bool forwards_controller(const model::Model& model) {
  return cluster_controller(model) != nullptr;
}

std::vector<proxy::L4ServiceConfig> controller_forwards(const model::Model& model,
                                                        const std::vector<ProxyPeer>& proxies) {
  const model::ResolvedService* controller = cluster_controller(model);
  if (!controller) return {};
  std::string name = controller->key;
  std::replace(name.begin(), name.end(), '/', '_');
  std::vector<proxy::L4ServiceConfig> out;
  for (const auto& port : controller->service->ports) {
    proxy::L4ServiceConfig s;
    s.service = controller->key;
    s.udp = port.protocol == config::Protocol::kUdp;
    s.name = name + (s.udp ? "_udp_" : "_tcp_") + std::to_string(port.port);
    if (controller->service->client_ip_affinity)
      s.client_ip_affinity =
          std::chrono::duration_cast<std::chrono::milliseconds>(*controller->service->client_ip_affinity);
    s.backend.name = s.name;
    s.backend.check.enabled = false;  // the membership says which proxies live
    for (const auto& peer : proxies)
      s.backend.servers.push_back({peer.node, {peer.address, port.port}, 1, 0, peer.node, true});
    if (proxies.empty()) s.backend.problem = "no node runs the proxy";
    for (const auto& ip : controller->addresses) {
      s.bind = {ip, port.port};
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace metalgate::l4
