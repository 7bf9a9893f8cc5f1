// One node's whole Layer-2 role: membership, election and speaker wired together over the runtime port.
// Which addresses to announce comes from the model (layer2_assignments); which node owns each follows from
// the live membership view, every time it changes. Every service address is also added as a local address, so
// this node accepts traffic for it the moment it becomes the owner (and its own stack never answers ARP for
// it).
#pragma once

#include "engine/election/election.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "engine/config/label_selector.h"
#include "engine/membership/membership_agent.h"
#include "engine/model/model-t.h"
#include "engine/speaker/speaker_agent.h"

namespace metalgate::speaker {

// One LoadBalancer Service's addresses as the speaker needs them.
struct Layer2Assignment {
  std::string service;                    // "namespace/name", for logs
  std::vector<net::IpAddress> addresses;  // the first one decides the owner (dual-stack moves together)
  std::vector<std::string> interfaces;    // empty: every interface
  std::vector<config::LabelSelector> node_selectors;  // any may match; empty: every node
  bool local_traffic_policy = false;
  std::set<std::string> nodes_with_ready_endpoints;  // counts only with local_traffic_policy
};

// The assignments the model implies: every LoadBalancer Service with addresses and at least one
// L2Advertisement.
std::vector<Layer2Assignment> layer2_assignments(const model::Model& model);

struct Layer2NodeConfig {
  std::string name;
  std::map<std::string, config::Labels>
      node_labels;  // every node's labels (from Node objects or the scenario)
  std::vector<std::string> interfaces;
  net::SocketAddress membership_address;
  std::vector<net::SocketAddress> seeds;
  membership::MembershipConfig membership;
  AnnouncePolicy announce;
};

class Layer2Node {
 public:
  Layer2Node(runtime::Runtime& runtime, Layer2NodeConfig config, std::error_code& error);
  ~Layer2Node();

  void set_assignments(std::vector<Layer2Assignment> assignments);
  void start();
  void leave();  // graceful: other nodes take over at once

  const SpeakerAgent& speaker() const { return *speaker_; }
  const membership::MembershipAgent& membership() const { return *membership_; }
  // The owner of each address in this node's view, for logs and tests.
  const std::map<net::IpAddress, std::string>& owners() const { return owners_; }

 private:
  void recompute(bool membership_changed);
  bool eligible(const std::string& node, const Layer2Assignment& a) const;

  runtime::Runtime& runtime_;
  Layer2NodeConfig config_;
  std::unique_ptr<SpeakerAgent> speaker_;
  std::unique_ptr<membership::MembershipAgent> membership_;
  std::vector<Layer2Assignment> assignments_;
  election::ElectionKeys keys_;
  std::set<net::IpAddress> local_addresses_;
  std::vector<std::string> view_;
  std::map<net::IpAddress, std::string> owners_;
};

}  // namespace metalgate::speaker
