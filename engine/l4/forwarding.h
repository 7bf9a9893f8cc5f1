// kube-proxy's part for a LoadBalancer Service's own port: which of its endpoints a node forwards to. With
// externalTrafficPolicy: Local only those on the node itself (the speaker lets only such nodes announce,
// speaker/eligibility.h); then the ready ones, or, when none is ready, those still serving while they
// terminate. A ConfigMap's port keeps every server it was built with.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/model/model-t.h"
#include "engine/net/ip_address.h"
#include "engine/proxy/proxy_config-t.h"

namespace metalgate::l4 {

proxy::L4ServiceConfig config_on_node(const proxy::L4ServiceConfig& config, const std::string& node);
// The same, shared: `config` itself when the node changes nothing (the common case), else a copy.
std::shared_ptr<const proxy::L4ServiceConfig> config_on_node(
    std::shared_ptr<const proxy::L4ServiceConfig> config, const std::string& node);

// What a node that runs no proxy serves: kube-proxy's part only, the other LoadBalancer Services' own ports.
// The controller's frontends, routes' backends (and their health checks), certificates, ConfigMap TCP/UDP
// services and stats are the proxies' (and the controller's own ports come from controller_forwards below).
proxy::ProxyConfig forwarding_only(proxy::ProxyConfig config);

// A node running the proxy, as the membership tells it: an endpoint of the ingress controller's Service.
struct ProxyPeer {
  std::string node;
  net::IpAddress address;  // its membership address, where its proxy listens too (node::load_configuration)
  bool operator==(const ProxyPeer&) const = default;
};

// kube-proxy's part for the ingress controller's own Service on a node that runs no proxy. With
// externalTrafficPolicy: Cluster such a node may win the Service's address, and then each port of the
// Service, on each of its addresses, goes on to the nodes that run the proxy, at the same port, round robin
// (TCP spliced, TLS left for the proxy to end). The membership is their readiness: a peer that dies leaves
// the list. Empty for a Local Service, which a node without the proxy never announces.
bool forwards_controller(const model::Model& model);  // controller_forwards would give some
std::vector<proxy::L4ServiceConfig> controller_forwards(const model::Model& model,
                                                        const std::vector<ProxyPeer>& proxies);

// What a node running the proxy listens on besides: with a Cluster controller Service, every frontend,
// ConfigMap port and stats listener on the controller's first address of `node`'s family listens on `node`
// (its membership address) too, where nodes without the proxy forward to (controller_forwards). Unchanged
// for a Local controller, and for what listens there already (`serve --listen`).
proxy::ProxyConfig with_peer_listeners(proxy::ProxyConfig config, const model::Model& model,
                                       const net::IpAddress& node);

}  // namespace metalgate::l4
