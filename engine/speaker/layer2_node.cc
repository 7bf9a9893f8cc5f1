#include "engine/speaker/layer2_node.h"

#include "engine/election/election.h"

namespace metalgate::speaker {

std::vector<Layer2Assignment> layer2_assignments(const model::Model& model) {
  std::vector<Layer2Assignment> out;
  for (const auto& s : model.services) {
    if (s.addresses.empty() || s.announcements.empty()) continue;
    Layer2Assignment a;
    a.service = s.key;
    a.addresses = s.addresses;
    a.local_traffic_policy = s.service->external_traffic_policy == config::TrafficPolicy::kLocal;
    bool all_interfaces = false, all_nodes = false;
    for (const auto& ann : s.announcements) {
      all_interfaces = all_interfaces || ann.interfaces.empty();
      a.interfaces.insert(a.interfaces.end(), ann.interfaces.begin(), ann.interfaces.end());
      all_nodes = all_nodes || ann.node_selectors.empty();
      a.node_selectors.insert(a.node_selectors.end(), ann.node_selectors.begin(), ann.node_selectors.end());
    }
    if (all_interfaces) a.interfaces.clear();
    if (all_nodes) a.node_selectors.clear();
    out.push_back(std::move(a));
  }
  return out;
}

Layer2Node::Layer2Node(runtime::Runtime& runtime, Layer2NodeConfig config, std::error_code& error)
    : runtime_(runtime), config_(std::move(config)) {
  speaker_ = std::make_unique<SpeakerAgent>(runtime_, config_.interfaces, config_.announce, error);
  if (error) return;
  membership_ = std::make_unique<membership::MembershipAgent>(
      runtime_, config_.name, config_.membership_address, config_.membership, error);
  if (error) return;
  membership_->on_view_change([this](const std::vector<std::string>& view) {
    view_ = view;
    recompute(true);
  });
}

Layer2Node::~Layer2Node() {
  for (const auto& a : local_addresses_)
    runtime_.remove_local_address(a);
}

void Layer2Node::start() {
  membership_->join(config_.seeds);
}

void Layer2Node::leave() {
  speaker_->set_owned({});
  membership_->leave();
}

void Layer2Node::set_assignments(std::vector<Layer2Assignment> assignments) {
  assignments_ = std::move(assignments);
  std::set<net::IpAddress> wanted;
  for (const auto& a : assignments_)
    wanted.insert(a.addresses.begin(), a.addresses.end());
  for (const auto& ip : wanted)
    if (!local_addresses_.count(ip)) {
      auto ec = runtime_.add_local_address(ip);
      if (ec && ec != std::errc::file_exists)
        runtime_.logger().log(runtime::LogLevel::kError, "speaker", "local-address-failed",
                              {{"vip", ip.to_string()}, {"error", ec.message()}});
    }
  for (const auto& ip : local_addresses_)
    if (!wanted.count(ip)) runtime_.remove_local_address(ip);
  local_addresses_ = wanted;
  recompute(false);
}

bool Layer2Node::eligible(const std::string& node, const Layer2Assignment& a) const {
  if (a.local_traffic_policy && !a.nodes_with_ready_endpoints.count(node)) return false;
  if (a.node_selectors.empty()) return true;
  auto it = config_.node_labels.find(node);
  config::Labels labels = it == config_.node_labels.end() ? config::Labels{} : it->second;
  labels.emplace("kubernetes.io/hostname", node);
  for (const auto& s : a.node_selectors)
    if (s.matches(labels)) return true;
  return false;
}

void Layer2Node::recompute(bool membership_changed) {
  Speaker::Owned owned;
  std::map<net::IpAddress, std::string> owners;
  for (const auto& a : assignments_) {
    std::vector<std::string> candidates;
    for (const auto& n : view_)
      if (eligible(n, a)) candidates.push_back(n);
    auto owner = keys_.elect_owner(a.addresses.front(), candidates);
    for (const auto& ip : a.addresses) {
      std::string before = owners_.count(ip) ? owners_.at(ip) : "";
      std::string after = owner.value_or("");
      owners[ip] = after;
      if (before != after)
        runtime_.logger().log(runtime::LogLevel::kInfo, "speaker", "owner-change",
                              {{"node", config_.name},
                               {"vip", ip.to_string()},
                               {"service", a.service},
                               {"old", before.empty() ? "-" : before},
                               {"new", after.empty() ? "-" : after},
                               {"reason", membership_changed ? "membership" : "configuration"}});
      if (owner && *owner == config_.name) owned[ip] = a.interfaces;
    }
  }
  owners_ = std::move(owners);
  // The owner re-announces on every membership change: a node that came back may have announced itself.
  speaker_->set_owned(owned, membership_changed);
}

}  // namespace metalgate::speaker
