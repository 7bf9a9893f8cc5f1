// One node's whole Layer-2 role: membership, election and speaker wired together over the runtime port.
// Which addresses to announce comes from the model (layer2_assignments); which node owns each follows from
// the live membership view, every time it changes. Every service address is also added as a local address, so
// this node accepts traffic for it the moment it becomes the owner (and its own stack never answers ARP for
// it).
// A view change re-elects incrementally (election::IncrementalElection).
#pragma once

#include "engine/election/election.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "engine/config/label_selector.h"
#include "engine/membership/membership_agent.h"
#include "engine/model/model-t.h"
#include "engine/runtime/result.h"
#include "engine/speaker/eligibility.h"
#include "engine/speaker/speaker_agent.h"

namespace metalgate::speaker {

struct Layer2NodeConfig {
  std::string name;
  std::map<std::string, config::Labels>
      node_labels;  // every node's labels (from Node objects or the scenario)
  std::vector<std::string> interfaces;
  net::SocketAddress membership_address;
  std::vector<net::SocketAddress> seeds;
  membership::MembershipConfig membership;
  AnnouncePolicy announce;
  // How long a starting node listens to the membership before it claims anything, at most: it settles as soon
  // as every seed is alive in its view. Until then it knows too few members and would claim addresses that
  // others own (after a restart, two nodes would answer for a moment; in a cold start every node would
  // announce every address). With no seeds it claims at once. Settling marks the node ready in the
  // membership; a member that appears after we settled becomes a candidate only once it is ready, so the
  // current owners keep answering while a newcomer listens instead of handing over into silence.
  // The grace is for up to 16 nodes; larger clusters wait longer (join_grace_for).
  runtime::Duration join_grace = std::chrono::milliseconds(250);
  // After a node leaves gracefully, how long the node taking its addresses sends it the segments of the
  // connections it is finishing (Runtime::hand_over): its drain's grace (serve --grace, 30 s) and a margin.
  runtime::Duration handover = std::chrono::seconds(35);
};

// How long a node of a cluster of `nodes` (its seeds and the nodes its configuration names) waits at most
// before it settles: a joining node's view fills by pulling whole views, which takes about log2(nodes) probe
// rounds, so the grace grows with log2(nodes) / 4 beyond 16 nodes, as Lifeguard scales its timeouts with the
// cluster: 1.5x at 64 nodes, 2x at 256, 2.25x at 500.
runtime::Duration join_grace_for(runtime::Duration grace, std::size_t nodes);

class Layer2Node {
 public:
  // Opens the interfaces and the membership socket; the failure says which part could not start, and then
  // nothing of the node is left open.
  static Result<std::unique_ptr<Layer2Node>> create(runtime::Runtime& runtime, Layer2NodeConfig config);
  ~Layer2Node();
  Layer2Node(const Layer2Node&) = delete;  // timers and callbacks point here
  Layer2Node& operator=(const Layer2Node&) = delete;

  void set_assignments(std::vector<Layer2Assignment> assignments);
  // Called on every change of the membership's view, before the speaker acts on it (a node without the
  // proxy follows where the proxies are).
  void on_view_seen(std::function<void()> listener) { view_listener_ = std::move(listener); }
  void start();
  void leave();  // graceful: other nodes take over at once

  const SpeakerAgent& speaker() const { return *speaker_; }
  const membership::MembershipAgent& membership() const { return *membership_; }
  // The owner of each address in this node's view, for logs and tests.
  const std::map<net::IpAddress, std::string>& owners() const { return owners_; }
  const std::vector<Layer2Assignment>& assignments() const { return assignments_; }
  // Addresses that moved from one node to another in this node's view (failovers and handovers).
  std::uint64_t owner_moves() const { return owner_moves_; }

 private:
  Layer2Node(runtime::Runtime& runtime, Layer2NodeConfig config, std::unique_ptr<SpeakerAgent> speaker,
             std::unique_ptr<membership::MembershipAgent> membership);
  void on_view(const std::vector<std::string>& view);
  void settle();
  bool every_seed_alive() const;
  // Publishes the winners: owners_, logs, and what the speaker announces.
  void apply(bool membership_changed, bool restart_bursts);
  bool eligible(const std::string& node, const Layer2Assignment& a) const;
  // Where a member that left gracefully can still be reached (its membership address); nullopt otherwise.
  std::optional<net::IpAddress> left_gracefully(const std::string& node) const;
  // Handovers: started before we announce an address a leaving node owned; ended when it expires, the
  // address moves on, or the node returns (a restarted node has no connections to finish).
  void start_handovers(const std::map<net::IpAddress, std::string>& before);
  void end_handovers();

  runtime::Runtime& runtime_;
  Layer2NodeConfig config_;
  std::unique_ptr<SpeakerAgent> speaker_;
  std::unique_ptr<membership::MembershipAgent> membership_;
  std::vector<Layer2Assignment> assignments_;
  election::IncrementalElection election_;  // a race per assignment
  election::IncrementalElection::Eligible eligible_;
  std::set<net::IpAddress> local_addresses_;
  std::vector<std::string> view_;        // sorted: the live members
  std::vector<std::string> candidates_;  // sorted: live, and ready or known to us when we settled
  std::set<std::string> established_;    // in our view when we settled, and in it ever since
  std::function<void()> view_listener_;
  std::set<std::string> listening_;      // live but not ready yet (not candidates)
  std::map<net::IpAddress, std::string> owners_;
  bool settled_ = false;
  std::uint64_t owner_moves_ = 0;
  struct Handover {
    std::string from;
    runtime::Instant until;
  };
  std::map<net::IpAddress, Handover> handovers_;
  runtime::TimerPtr handover_timer_;
  runtime::TimerPtr grace_timer_;
};

}  // namespace metalgate::speaker
