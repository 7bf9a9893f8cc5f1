// Cold starts of up to 500 speaker nodes on the in-memory LAN, judged where the membership's promise matters:
// once the settle window is over, no VIP has two owners, and every VIP has one. Start times, loss and delay
// are drawn; one RapidCheck seed (RC_PARAMS="seed=N") replays a case.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/runtime/memory/memory_world.h"
#include "engine/speaker/layer2_node.h"

namespace metalgate::membership {
namespace {

using namespace std::chrono_literals;
using speaker::Layer2Node;

struct ColdStart {
  int nodes = 3;
  int vips = 100;
  runtime::Duration spread{};  // every node starts at a time drawn in [0, spread)
  runtime::Duration latency = 100us;
  double loss = 0;
  std::uint64_t seed = 1;
};

// What the samples saw after the settle window.
struct Verdict {
  int samples = 0;
  int split_samples = 0;  // samples in which some VIP had two owners or more
  std::set<std::string> split_vips;
  int unowned_at_end = 0;
  std::string first_split;  // "VIP at T ms: node-a node-b"
};

class ColdStartLan {
 public:
  explicit ColdStartLan(const ColdStart& c) : c_(c), world_(c.seed) {
    world_.set_default_conditions({.latency = c.latency, .loss = c.loss});
    for (int i = 0; i < c.nodes; ++i)
      world_.add_host(name(i), {address(i)});
    for (int v = 0; v < c.vips; ++v)
      vips_.push_back(net::IpAddress::v4(172, 16, static_cast<std::uint8_t>(v / 250),
                                         static_cast<std::uint8_t>(v % 250 + 1)));
    nodes_.resize(static_cast<std::size_t>(c.nodes));
    runtime::SeededRandom random(c.seed);
    for (int i = 0; i < c.nodes; ++i) {
      auto at = c.spread.count() ? runtime::Duration(static_cast<runtime::Duration::rep>(
                                       random.below(static_cast<std::uint64_t>(c.spread.count()))))
                                 : runtime::Duration::zero();
      last_start_ = std::max(last_start_, at);
      world_.schedule(runtime::Instant{} + at, [this, i] { start(i); });
    }
  }

  // Runs to the end of the settle window after the last start, then samples every 50 ms for `judged`.
  Verdict run(runtime::Duration settle, runtime::Duration judged) {
    world_.run_until(runtime::Instant{} + last_start_ + settle);
    Verdict v;
    for (auto end = world_.now() + judged; world_.now() < end; world_.run_for(50ms)) {
      ++v.samples;
      bool split = false;
      for (const auto& vip : vips_) {
        auto owners = owners_of(vip);
        if (owners.size() < 2) continue;
        split = true;
        v.split_vips.insert(vip.to_string());
        if (v.first_split.empty()) {
          v.first_split =
              vip.to_string() + " at " + std::to_string(world_.now().time_since_epoch() / 1ms) + " ms:";
          for (const auto& o : owners)
            v.first_split += " " + o;
        }
      }
      v.split_samples += split ? 1 : 0;
    }
    for (const auto& vip : vips_)
      v.unowned_at_end += owners_of(vip).empty() ? 1 : 0;
    return v;
  }

 private:
  static std::string name(int i) { return "node-" + std::to_string(i); }
  static net::IpAddress address(int i) {
    return net::IpAddress::v4(10, 1, static_cast<std::uint8_t>(i / 250),
                              static_cast<std::uint8_t>(i % 250 + 1));
  }
  void start(int i) {
    speaker::Layer2NodeConfig cfg;
    cfg.name = name(i);
    cfg.interfaces = {"eth0"};
    cfg.membership_address = {address(i), 7946};
    for (int j = 0; j < c_.nodes; ++j)
      if (j != i) cfg.seeds.push_back({address(j), 7946});
    cfg.announce.rounds = 1;  // ownership is judged from each node's view, not from the wire
    auto created = Layer2Node::create(world_.host(name(i)), cfg);
    ASSERT_TRUE(created) << created.error();
    auto& node = nodes_[static_cast<std::size_t>(i)] = std::move(*created);
    std::vector<speaker::Layer2Assignment> assignments;
    for (const auto& vip : vips_)
      assignments.push_back({"default/svc-" + vip.to_string(), {vip}, {}, {}, false, false, {}});
    node->set_assignments(std::move(assignments));
    node->start();
  }
  // The nodes that claim `vip`: each says so of itself in its own view.
  std::vector<std::string> owners_of(const net::IpAddress& vip) const {
    std::vector<std::string> out;
    for (const auto& n : nodes_) {
      if (!n) continue;
      auto it = n->owners().find(vip);
      if (it != n->owners().end() && it->second == n->membership().core().self()) out.push_back(it->second);
    }
    return out;
  }

  ColdStart c_;
  runtime::memory::MemoryWorld world_;
  std::vector<net::IpAddress> vips_;
  std::vector<std::unique_ptr<Layer2Node>> nodes_;
  runtime::Duration last_start_{};
};

// The simulator's judge leaves out the first 2 s of a run (scenario/judge/ownership.cc); so does this.
constexpr runtime::Duration kSettle = 2s;

// 500 nodes; the simulator runs the 1,000-VIP case (reports/sim-speed.md), which takes minutes under ASan
// here.
TEST(ColdStart, FiveHundredNodesStartingAtOnceEndWithOneOwnerPerVip) {
  ColdStart c;
  c.nodes = 500;
  c.vips = 100;
  auto v = ColdStartLan(c).run(kSettle, 1s);
  EXPECT_EQ(v.split_samples, 0) << v.split_vips.size() << " VIPs split; first " << v.first_split;
  EXPECT_EQ(v.unowned_at_end, 0);
}

// Start times, loss and delay drawn; up to 500 nodes. Each case is a whole cold start, so a run draws a
// few of them (RC_PARAMS="max_success=N" draws more).
TEST(ColdStart, AfterTheSettleWindowNoVipHasTwoOwners) {
  auto params = rc::detail::configuration().testParams;
  params.maxSuccess = std::min(params.maxSuccess, 4);
  rc::detail::TestMetadata metadata;
  metadata.id = metadata.description = "cold start";
  auto result = rc::detail::checkTestable(
      [] {
        ColdStart c;
        c.nodes = *rc::gen::oneOf(rc::gen::inRange(3, 64), rc::gen::inRange(64, 501));
        c.vips = *rc::gen::inRange(1, 301);
        c.spread = std::chrono::milliseconds(*rc::gen::element(0, 100, 1000));
        c.latency = std::chrono::microseconds(*rc::gen::inRange(50, 5000));
        c.loss = *rc::gen::inRange(0, 6) / 100.0;
        c.seed = *rc::gen::arbitrary<std::uint32_t>();
        auto v = ColdStartLan(c).run(kSettle, 1s);
        RC_LOG() << c.nodes << " nodes, " << c.vips << " VIPs: " << v.split_samples << " split samples ("
                 << v.first_split << "), " << v.unowned_at_end << " VIPs without an owner\n";
        RC_ASSERT(v.split_samples == 0);
        RC_ASSERT(v.unowned_at_end == 0);
      },
      metadata, params);
  rc::detail::printResultMessage(result, std::cerr);
  EXPECT_TRUE(result.template is<rc::detail::SuccessResult>());
}

}  // namespace
}  // namespace metalgate::membership
