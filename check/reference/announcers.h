// An independent reference of which nodes of a case may announce the ingress controller's VIP, written from
// MetalLB's documentation and sharing no code with engine/speaker or engine/model: the L2Advertisements that
// advertise the controller's pool (named in ipAddressPools, selected by ipAddressPoolSelectors, or all pools
// when they name none) decide with their nodeSelectors (none: every node; else a node whose labels one of
// them matches), and a Service with externalTrafficPolicy: Local is announced only from nodes with a ready
// endpoint: for the controller, the nodes that run its proxy.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "check/case/base.h"
#include "check/case/case-t.h"

namespace metalgate::check {

// The matchLabels pairs and the first value of each `In` expression of every L2Advertisement's
// nodeSelectors, in order, each once: the labels a case draws onto its nodes (Case::labels).
std::vector<std::pair<std::string, std::string>> announce_labels(const config::ManifestSet& manifests);

// Node i's labels in the case: the base node's (the one it copies) with the drawn ones over them.
std::map<std::string, std::string> case_node_labels(const Base& base, const Case& c, int i);

// Per node of the case: whether it may announce the controller's VIP. Every node when the base has no
// controller with an address.
std::vector<bool> may_announce_controller_vip(const Base& base, const Case& c);

}  // namespace metalgate::check
