// MetalLB's election rule and its properties.
#include "engine/election/election.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <set>

namespace metalgate::election {
namespace {

TEST(Election, FollowsMetalLbsHashOrder) {
  // sha256("node-a#192.168.1.240") and friends, compared byte-wise: the smallest owns the address.
  auto vip = *net::IpAddress::parse("192.168.1.240");
  auto order = election_order(vip, {"node-c", "node-a", "node-b"});
  ASSERT_EQ(order.size(), 3u);
  for (std::size_t i = 1; i < order.size(); ++i)
    EXPECT_LT(election_key(order[i - 1], vip), election_key(order[i], vip));
  EXPECT_EQ(elect_owner(vip, {"node-a", "node-b", "node-c"}), order[0]);
  EXPECT_FALSE(elect_owner(vip, {}));
}

TEST(Election, KeyIsSha256OfNodeHashAddress) {
  // echo -n 'node-a#192.168.1.240' | sha256sum
  auto k = election_key("node-a", *net::IpAddress::parse("192.168.1.240"));
  char hex[65];
  for (int i = 0; i < 32; ++i)
    std::snprintf(hex + 2 * i, 3, "%02x", k[static_cast<std::size_t>(i)]);
  EXPECT_STREQ(hex, "0905ce28e61d7edba0d1a1e81637d349ef0299ecc2fb9fc9c8347049ba3a9c82");
}

rc::Gen<std::vector<std::string>> node_sets() {
  return rc::gen::map(rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 40)),
                      [](std::vector<int> ids) {
                        std::vector<std::string> out;
                        for (int i : ids)
                          out.push_back("node-" + std::to_string(i));
                        return out;
                      });
}

rc::Gen<net::IpAddress> addresses() {
  return rc::gen::map(rc::gen::inRange<std::uint32_t>(0, 4096),
                      [](std::uint32_t n) { return net::IpAddress::v4(0x0a000000u + n); });
}

RC_GTEST_PROP(ElectionProperties, IdenticalViewsGiveIdenticalOwnersWhateverTheOrder, ()) {
  auto nodes = *node_sets();
  auto vip = *addresses();
  auto shuffled = nodes;
  std::mt19937 g(*rc::gen::arbitrary<unsigned>());
  std::shuffle(shuffled.begin(), shuffled.end(), g);
  RC_ASSERT(elect_owner(vip, nodes) == elect_owner(vip, shuffled));
}

RC_GTEST_PROP(ElectionProperties, TheOwnerIsAlwaysAnEligibleMember, ()) {
  auto nodes = *node_sets();
  auto owner = elect_owner(*addresses(), nodes);
  RC_ASSERT(owner.has_value() == !nodes.empty());
  if (owner) RC_ASSERT(std::find(nodes.begin(), nodes.end(), *owner) != nodes.end());
}

RC_GTEST_PROP(ElectionProperties, OneFailureMovesOnlyTheFailedNodesAddresses, ()) {
  auto nodes = *rc::gen::suchThat(node_sets(), [](const auto& n) { return n.size() >= 2; });
  auto failed = *rc::gen::elementOf(nodes);
  std::vector<std::string> survivors;
  for (const auto& n : nodes)
    if (n != failed) survivors.push_back(n);
  for (std::uint32_t i = 0; i < 64; ++i) {
    auto vip = net::IpAddress::v4(0xc0a80100u + i);
    auto before = elect_owner(vip, nodes), after = elect_owner(vip, survivors);
    if (*before != failed)
      RC_ASSERT(after == before);
    else
      RC_ASSERT(after != before);
  }
}

}  // namespace
}  // namespace metalgate::election

namespace metalgate::election {
namespace {

// A sequence of view changes (joins, failures, several at once) with eligibility that differs per race: after
// every step the incremental winners are what a full election over the new view gives.
RC_GTEST_PROP(IncrementalElection, EveryStepElectsWhatAFullElectionElects, ()) {
  const auto race_count = *rc::gen::inRange<std::size_t>(1, 30);
  std::vector<net::IpAddress> races;
  for (std::size_t i = 0; i < race_count; ++i)
    races.push_back(net::IpAddress::v4(0xc0a80100u + static_cast<std::uint32_t>(i)));
  // Race i admits node n unless (n + i) % modulus == 0: some races have few candidates, some none.
  const int modulus = *rc::gen::inRange(1, 6);
  auto allowed = [&](const std::string& node, std::size_t race) {
    int n = std::stoi(node.substr(5));
    return modulus == 1 || (n + static_cast<int>(race)) % modulus != 0;
  };
  IncrementalElection election;
  election.set_races(races);
  std::set<std::string> view;
  election.elect_all({}, allowed);
  const auto steps = *rc::gen::container<std::vector<std::vector<int>>>(
      rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 24)));
  for (const auto& toggles : steps) {
    std::set<std::string> next = view;
    for (int t : toggles) {
      std::string n = "node-" + std::to_string(t);
      if (!next.erase(n)) next.insert(n);
    }
    std::vector<std::string> added, removed;
    std::set_difference(next.begin(), next.end(), view.begin(), view.end(), std::back_inserter(added));
    std::set_difference(view.begin(), view.end(), next.begin(), next.end(), std::back_inserter(removed));
    view = next;
    std::vector<std::string> v(view.begin(), view.end());
    election.update(added, removed, v, allowed);
    for (std::size_t i = 0; i < race_count; ++i) {
      std::vector<std::string> eligible;
      for (const auto& n : v)
        if (allowed(n, i)) eligible.push_back(n);
      RC_ASSERT(election.winner(i) == elect_owner(races[i], eligible));
    }
  }
}

TEST(IncrementalElection, ReportsWhetherAnyWinnerChanged) {
  IncrementalElection election;
  auto vip = *net::IpAddress::parse("192.168.1.240");
  election.set_races({vip});
  auto all = [](const std::string&, std::size_t) { return true; };
  auto order = election_order(vip, {"node-a", "node-b", "node-c"});
  election.elect_all({order[1], order[2]}, all);
  EXPECT_EQ(election.winner(0), order[1]);
  EXPECT_FALSE(election.update({}, {order[2]}, {order[1]}, all));           // a non-owner goes
  EXPECT_TRUE(election.update({order[0]}, {}, {order[0], order[1]}, all));  // the first in order joins
  EXPECT_EQ(election.winner(0), order[0]);
  EXPECT_TRUE(election.update({}, {order[0]}, {order[1]}, all));
  EXPECT_EQ(election.winner(0), order[1]);
}

}  // namespace
}  // namespace metalgate::election
