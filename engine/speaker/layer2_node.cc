#include "engine/speaker/layer2_node.h"

#include "engine/election/election.h"
#include "engine/mutants/mutants.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <optional>

namespace metalgate::speaker {

Result<std::unique_ptr<Layer2Node>> Layer2Node::create(runtime::Runtime& runtime, Layer2NodeConfig config) {
  auto speaker = SpeakerAgent::open(runtime, config.interfaces, config.announce);
  if (!speaker) return Failure{speaker.error()};
  auto membership =
      membership::MembershipAgent::open(runtime, config.name, config.membership_address, config.membership);
  if (!membership) return Failure{membership.error()};
  return std::unique_ptr<Layer2Node>(
      new Layer2Node(runtime, std::move(config), std::move(*speaker), std::move(*membership)));
}

Layer2Node::Layer2Node(runtime::Runtime& runtime, Layer2NodeConfig config,
                       std::unique_ptr<SpeakerAgent> speaker,
                       std::unique_ptr<membership::MembershipAgent> membership)
    : runtime_(runtime),
      config_(std::move(config)),
      speaker_(std::move(speaker)),
      membership_(std::move(membership)) {
  for (auto& [node, labels] : config_.node_labels)
    labels.emplace("kubernetes.io/hostname", node);
  membership_->on_view_change([this](const std::vector<std::string>& view) { on_view(view); });
  // The others held this node dead a while (a partition it did not see as one) and elected without it: one
  // of them announced its addresses, and the clients that heard it still send there. Announce again.
  // Found by metalgate check (vip_liveness's clients_follow_owner) after a 100 ms partition of the owner.
  membership_->on_death_refuted([this] {
    if (settled_) speaker_->reannounce();
  });
  grace_timer_ = runtime_.create_timer([this] { settle(); });
  handover_timer_ = runtime_.create_timer([this] { end_handovers(); });
  eligible_ = [this](const std::string& node, std::size_t race) {
    return eligible(node, assignments_[race]);
  };
}

Layer2Node::~Layer2Node() {
  for (const auto& [address, h] : handovers_)
    runtime_.stop_handing_over(address);
  for (const auto& a : local_addresses_)
    runtime_.remove_local_address(a);
}

runtime::Duration join_grace_for(runtime::Duration grace, std::size_t nodes) {
  const double scale = std::max(1.0, std::log2(static_cast<double>(std::max<std::size_t>(nodes, 1))) / 4);
  return std::chrono::duration_cast<runtime::Duration>(grace * scale);
}

void Layer2Node::start() {
  membership_->join(config_.seeds);
  if (config_.seeds.empty() || config_.join_grace <= runtime::Duration::zero())
    settle();
  else
    grace_timer_->arm(
        join_grace_for(config_.join_grace, std::max(config_.seeds.size() + 1, config_.node_labels.size())));
}

void Layer2Node::leave() {
  grace_timer_->cancel();
  speaker_->set_owned({});
  membership_->leave();
}

void Layer2Node::settle() {
  if (settled_) return;
  settled_ = true;
  grace_timer_->cancel();
  runtime_.logger().log(runtime::LogLevel::kInfo, "speaker", "settled",
                        {{"node", config_.name}, {"members", std::to_string(view_.size())}});
  // Whoever we have heard of by now is a candidate: the established members, and newcomers as young as we.
  established_ = {view_.begin(), view_.end()};
  candidates_ = view_;
  election_.elect_all(candidates_, eligible_);
  apply(true, true);
  membership_->set_ready();
}

bool Layer2Node::every_seed_alive() const {
  const auto& members = membership_->core().members();
  for (const auto& seed : config_.seeds) {
    bool alive = false;
    for (const auto& [name, m] : members)
      if (m.address == seed && std::binary_search(view_.begin(), view_.end(), name)) alive = true;
    if (!alive) return false;
  }
  return true;
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
  std::vector<net::IpAddress> deciding;
  for (const auto& a : assignments_)
    deciding.push_back(a.addresses.front());
  election_.set_races(std::move(deciding));
  if (!settled_) return;
  election_.elect_all(candidates_, eligible_);
  apply(false, false);
}

bool Layer2Node::eligible(const std::string& node, const Layer2Assignment& a) const {
  // Most Services may be announced by any node (no node selector, Cluster policy): then nothing of the node
  // matters, and the two lookups below are skipped. Elections ask at every view change, once per Service and
  // candidate: at 256 nodes x 1,000 Services those lookups were a seventh of the simulated LAN's time.
  if (!a.local_traffic_policy && a.node_selectors.empty()) return true;
  auto it = config_.node_labels.find(node);
  config::Labels undescribed;  // a member the configuration does not describe has its name only
  if (it == config_.node_labels.end()) undescribed.emplace("kubernetes.io/hostname", node);
  const config::Labels& labels = it == config_.node_labels.end() ? undescribed : it->second;
  const membership::Member* member = membership_->core().find(node);
  const bool runs_proxy = member && member->runs_proxy;
  return may_announce(a, {node, labels, runs_proxy});
}

void Layer2Node::on_view(const std::vector<std::string>& view) {
  if (view_listener_) view_listener_();
  view_ = view;
  std::sort(view_.begin(), view_.end());
  if (!settled_) {
    if (every_seed_alive()) settle();
    return;
  }
  for (auto it = established_.begin(); it != established_.end();)
    it = std::binary_search(view_.begin(), view_.end(), *it) ? std::next(it) : established_.erase(it);
  auto ready = membership_->core().ready_members();  // sorted
  std::vector<std::string> next;
  for (const auto& n : view_)
    if (established_.count(n) || std::binary_search(ready.begin(), ready.end(), n)) next.push_back(n);
  std::vector<std::string> added, removed;
  std::set_difference(next.begin(), next.end(), candidates_.begin(), candidates_.end(),
                      std::back_inserter(added));
  std::set_difference(candidates_.begin(), candidates_.end(), next.begin(), next.end(),
                      std::back_inserter(removed));
  // Members we saw listening before they became ready cannot have announced anything stale; one that
  // appears ready at once (the other side of a healed partition) may have, while it owned addresses.
  bool reappeared_ready = false;
  for (const auto& n : added)
    reappeared_ready = reappeared_ready || !listening_.count(n);
  listening_.clear();
  for (const auto& n : view_)
    if (!std::binary_search(next.begin(), next.end(), n)) listening_.insert(n);
  if (added.empty() && removed.empty()) return;
  candidates_ = std::move(next);
  bool changed = election_.update(added, removed, candidates_, eligible_);
  if (!changed && !reappeared_ready) return;
  // The owners announce again, after the reappeared member's stale announcements.
  apply(true, reappeared_ready);
}

void Layer2Node::apply(bool membership_changed, bool restart_bursts) {
  Speaker::Owned owned;
  std::map<net::IpAddress, std::string> owners;
  bool log = runtime_.logger().enabled(runtime::LogLevel::kInfo);
  for (std::size_t i = 0; i < assignments_.size(); ++i) {
    const auto& a = assignments_[i];
    const auto& owner = election_.winner(i);
    for (const auto& ip : a.addresses) {
      const std::string after = owner.value_or("");
      owners[ip] = after;
      auto before_it = owners_.find(ip);
      const std::string before = before_it == owners_.end() ? "" : before_it->second;
      if (!before.empty() && !after.empty() && before != after) ++owner_moves_;
      if (log && before != after)
        runtime_.logger().log(runtime::LogLevel::kInfo, "speaker", "owner-change",
                              {{"node", config_.name},
                               {"vip", ip.to_string()},
                               {"service", a.service},
                               {"old", before.empty() ? "-" : before},
                               {"new", after.empty() ? "-" : after},
                               {"reason", membership_changed ? "membership" : "configuration"}});
      const bool mine = owner && (*owner == config_.name ||
                                  (METALGATE_MUTANT(kElectionPrefersSelf) && eligible_(config_.name, i)));
      if (mine) owned[ip] = a.interfaces;
    }
  }
  std::swap(owners_, owners);
  start_handovers(owners);  // before the announcement: segments of the leaver's connections come at once
  end_handovers();
  speaker_->set_owned(owned, restart_bursts);
}

std::optional<net::IpAddress> Layer2Node::left_gracefully(const std::string& node) const {
  const membership::Member* member = membership_->core().find(node);
  if (!member || member->state != membership::MemberState::kLeft) return std::nullopt;
  return member->address.ip;
}

void Layer2Node::start_handovers(const std::map<net::IpAddress, std::string>& before) {
  for (const auto& [ip, owner] : owners_) {
    auto was = before.find(ip);
    if (owner != config_.name || was == before.end() || was->second.empty() || was->second == owner) continue;
    auto from = left_gracefully(was->second);
    if (!from || handovers_.count(ip) || config_.handover <= runtime::Duration::zero()) continue;
    auto ec = runtime_.hand_over(ip, *from);
    if (ec == std::errc::not_supported) continue;  // this world lets the leaver's connections end
    runtime_.logger().log(ec ? runtime::LogLevel::kWarning : runtime::LogLevel::kInfo, "speaker",
                          ec ? "handover-failed" : "handover",
                          {{"node", config_.name},
                           {"vip", ip.to_string()},
                           {"from", was->second},
                           {"to_address", from->to_string()},
                           {"error", ec ? ec.message() : ""}});
    if (!ec) handovers_[ip] = {was->second, runtime_.now() + config_.handover};
  }
}

void Layer2Node::end_handovers() {
  std::optional<runtime::Instant> next;
  for (auto it = handovers_.begin(); it != handovers_.end();) {
    const auto owner = owners_.find(it->first);
    const membership::Member* member = membership_->core().find(it->second.from);
    const bool returned = member && member->state != membership::MemberState::kLeft;
    const bool done = runtime_.now() >= it->second.until || returned || owner == owners_.end() ||
                      owner->second != config_.name;
    if (!done) {
      next = std::min(next.value_or(it->second.until), it->second.until);
      ++it;
      continue;
    }
    runtime_.stop_handing_over(it->first);
    runtime_.logger().log(
        runtime::LogLevel::kInfo, "speaker", "handover-ended",
        {{"node", config_.name}, {"vip", it->first.to_string()}, {"from", it->second.from}});
    it = handovers_.erase(it);
  }
  if (next) handover_timer_->arm(*next - runtime_.now());
}

}  // namespace metalgate::speaker
