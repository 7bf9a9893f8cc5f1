// Which nodes may announce each LoadBalancer Service: MetalLB's Layer-2 rule, written once and used by every
// world (`serve`, the simulator, the live namespaces). A node may announce a Service when
//   - one of the Service's L2Advertisements selects it (nodeSelectors; none selects every node), and
//   - with externalTrafficPolicy: Local, it holds a ready endpoint of the Service: for the ingress controller's
//     own Service the endpoints are the proxies, so the nodes that run the proxy (each node tells the others
//     through the membership); for any other Service, the nodes its Endpoints/EndpointSlices name
//     (nodeName), or where a world placed the pods of its Deployment.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "engine/config/label_selector.h"
#include "engine/model/model-t.h"
#include "engine/net/ip_address.h"
#include "engine/routing/endpoints.h"

namespace metalgate::speaker {

// One LoadBalancer Service's addresses as the speaker needs them.
struct Layer2Assignment {
  std::string service;                    // "namespace/name", for logs
  std::vector<net::IpAddress> addresses;  // the first one decides the owner (dual-stack moves together)
  std::vector<std::string> interfaces;    // empty: every interface
  std::vector<config::LabelSelector> node_selectors;  // any may match; empty: every node
  bool local_traffic_policy = false;
  // With local_traffic_policy: the ingress controller's Service, whose endpoints are the nodes' proxies.
  bool endpoints_are_proxies = false;
  std::set<std::string> nodes_with_ready_endpoints;  // with local_traffic_policy, for any other Service
};

// Where a world placed a pod of a Deployment ("" when it did not say): the endpoints of Endpoints and
// EndpointSlices carry their nodeName themselves.
using EndpointNode = std::function<std::string(const routing::ResolvedEndpoint&)>;

// The assignments the model implies: every LoadBalancer Service with addresses and at least one
// L2Advertisement, with the nodes holding its ready endpoints.
std::vector<Layer2Assignment> layer2_assignments(const model::Model& model, const EndpointNode& endpoint_node = {});

// What the rule needs to know of a candidate node.
struct CandidateNode {
  const std::string& name;
  const config::Labels& labels;  // kubernetes.io/hostname included
  bool runs_proxy = true;
};

bool may_announce(const Layer2Assignment& assignment, const CandidateNode& node);

}  // namespace metalgate::speaker
