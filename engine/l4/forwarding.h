// kube-proxy's part for a LoadBalancer Service's own port: which of its endpoints a node forwards to. With
// externalTrafficPolicy: Local only those on the node itself (the speaker lets only such nodes announce,
// speaker/eligibility.h); then the ready ones, or, when none is ready, those still serving while they
// terminate. A ConfigMap's port keeps every server it was built with.
#pragma once

#include <string>

#include "engine/proxy/proxy_config-t.h"

namespace metalgate::l4 {

proxy::L4ServiceConfig config_on_node(const proxy::L4ServiceConfig& config, const std::string& node);

}  // namespace metalgate::l4
