// The balancer on its own: HAProxy's roundrobin (smooth weighted), leastconn and source, over plain server
// loads, with no backend, runtime or session around it.
#include "engine/proxy/balancer.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace metalgate::proxy {
namespace {

const net::IpAddress kClient = net::IpAddress::v4(192, 0, 2, 10);

std::vector<ServerLoad> equal_servers(std::size_t n) {
  return std::vector<ServerLoad>(n, ServerLoad{});
}

ServerLoad with_weight(int weight) {
  ServerLoad s;
  s.weight = weight;
  return s;
}

// `n` picks, as server indices ("-" for none).
std::string picks(Balancer& b, const std::vector<ServerLoad>& servers, int n,
                  const net::IpAddress& client = kClient) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    auto p = b.pick(servers, client);
    out += p ? static_cast<char>('a' + *p) : '-';
  }
  return out;
}

// ------------------------------------------------------------------------------------------ roundrobin

TEST(Balancer, RoundRobinVisitsEveryUpServerInTurnWithEqualWeights) {
  Balancer b(Balance::kRoundRobin);
  EXPECT_EQ(picks(b, equal_servers(3), 7), "abcabca");
}

TEST(Balancer, RoundRobinInterleavesByWeightAsSmoothWeightedRoundRobin) {
  // HAProxy's roundrobin spreads a heavy server's turns between the others rather than in one burst.
  Balancer b(Balance::kRoundRobin);
  std::vector<ServerLoad> servers{with_weight(5), with_weight(1), with_weight(1)};
  EXPECT_EQ(picks(b, servers, 14), "aabacaaaabacaa");
}

TEST(Balancer, RoundRobinSkipsServersThatAreDownFullOrWeightZero) {
  Balancer b(Balance::kRoundRobin);
  std::vector<ServerLoad> servers = equal_servers(5);
  servers[1].up = false;
  servers[2].maxconn = 2;
  servers[2].active = 2;  // at maxconn
  servers[3].weight = 0;  // drained
  EXPECT_EQ(picks(b, servers, 6), "aeaeae");
  // Once the full server has room again, it gets its turns back.
  servers[2].active = 1;
  std::string next = picks(b, servers, 6);
  EXPECT_EQ(std::count(next.begin(), next.end(), 'c'), 2) << next;
}

// Over every run of total-weight consecutive picks, each server is chosen exactly its weight's times.
RC_GTEST_PROP(Balancer, RoundRobinGivesEachServerExactlyItsWeightPerCycle, ()) {
  const auto weights = *rc::gen::container<std::vector<int>>(
      static_cast<std::size_t>(*rc::gen::inRange(1, 7)), rc::gen::inRange(1, 11));
  std::vector<ServerLoad> servers;
  int total = 0;
  for (int w : weights) {
    servers.push_back(with_weight(w));
    total += w;
  }
  Balancer b(Balance::kRoundRobin);
  const int cycles = *rc::gen::inRange(1, 4);
  for (int c = 0; c < cycles; ++c) {
    std::vector<int> got(servers.size(), 0);
    for (int i = 0; i < total; ++i) {
      auto p = b.pick(servers, kClient);
      RC_ASSERT(p.has_value());
      ++got[*p];
    }
    RC_ASSERT(got == weights);
  }
}

// ------------------------------------------------------------------------------------------ leastconn

TEST(Balancer, LeastConnPicksTheServerWithFewestRequestsPerWeight) {
  Balancer b(Balance::kLeastConn);
  std::vector<ServerLoad> servers = equal_servers(3);
  servers[0].active = 3;
  servers[1].active = 1;
  servers[2].active = 2;
  EXPECT_EQ(b.pick(servers, kClient), 1u);
  // 4 requests on weight 4 is a lighter load than 2 on weight 1.
  std::vector<ServerLoad> weighted{with_weight(4), with_weight(1)};
  weighted[0].active = 4;
  weighted[1].active = 2;
  EXPECT_EQ(b.pick(weighted, kClient), 0u);
}

TEST(Balancer, LeastConnCountsQueuedRequestsAsLoad) {
  Balancer b(Balance::kLeastConn);
  std::vector<ServerLoad> servers = equal_servers(2);
  servers[0].active = 1;
  servers[1].queued = 2;
  EXPECT_EQ(b.pick(servers, kClient), 0u);
}

TEST(Balancer, LeastConnTakesTiedServersInTurn) {
  Balancer b(Balance::kLeastConn);
  EXPECT_EQ(picks(b, equal_servers(3), 6), "abcabc");
}

// Whatever the loads, leastconn's choice is usable and no usable server carries less load per weight.
RC_GTEST_PROP(Balancer, LeastConnNeverPicksAMoreLoadedServerThanAnother, ()) {
  const auto n = static_cast<std::size_t>(*rc::gen::inRange(1, 8));
  std::vector<ServerLoad> servers(n);
  for (auto& s : servers) {
    s.up = *rc::gen::weightedOneOf<bool>({{4, rc::gen::just(true)}, {1, rc::gen::just(false)}});
    s.weight = *rc::gen::inRange(0, 6);
    s.active = *rc::gen::inRange(0, 20);
    s.queued = *rc::gen::inRange(0, 5);
    s.maxconn = *rc::gen::element(0, 0, 5, 10, 30);
  }
  auto usable = [](const ServerLoad& s) { return s.up && s.weight > 0 && s.has_room(); };
  Balancer b(Balance::kLeastConn);
  bool all_full = false;
  auto p = b.pick(servers, kClient, &all_full);
  const bool any_usable = std::any_of(servers.begin(), servers.end(), usable);
  RC_ASSERT(p.has_value() == any_usable);
  if (!p) return;
  RC_ASSERT(usable(servers[*p]));
  const auto& c = servers[*p];
  for (const auto& s : servers)
    if (usable(s))
      RC_ASSERT(static_cast<long>(c.active + c.queued) * s.weight <=
                static_cast<long>(s.active + s.queued) * c.weight);
}

// ------------------------------------------------------------------------------------------ source

TEST(Balancer, SourceSendsAClientToTheSameServerEveryTime) {
  Balancer first(Balance::kSource);
  Balancer second(Balance::kSource);  // another process, or a restarted one
  const auto servers = equal_servers(5);
  for (int i = 0; i < 200; ++i) {
    const auto client = net::IpAddress::v4(10, 1, static_cast<std::uint8_t>(i / 256),
                                           static_cast<std::uint8_t>(i % 256));
    const auto p = first.pick(servers, client);
    ASSERT_TRUE(p);
    for (int again = 0; again < 3; ++again)
      EXPECT_EQ(first.pick(servers, client), p);
    EXPECT_EQ(second.pick(servers, client), p);
  }
}

TEST(Balancer, SourceSpreadsClientsByWeight) {
  Balancer b(Balance::kSource);
  std::vector<ServerLoad> servers{with_weight(3), with_weight(1)};
  int on_heavy = 0;
  const int clients = 4000;
  for (int i = 0; i < clients; ++i) {
    const auto client = net::IpAddress::v4(0x0a000000u + static_cast<std::uint32_t>(i) * 7919u);
    on_heavy += b.pick(servers, client) == 0u ? 1 : 0;
  }
  EXPECT_GT(on_heavy, clients * 70 / 100);
  EXPECT_LT(on_heavy, clients * 80 / 100);
}

TEST(Balancer, SourceSendsNoClientToADownServerAndEveryClientHomeWhenItIsBack) {
  // map-based hashing, as HAProxy's `hash-type map-based`: a down server's clients go elsewhere (and others
  // may shift), and once it is back every client maps where it did before.
  Balancer b(Balance::kSource);
  auto servers = equal_servers(3);
  auto client = [](int i) { return net::IpAddress::v4(172, 16, 0, static_cast<std::uint8_t>(i)); };
  std::map<int, std::size_t> before;
  for (int i = 0; i < 250; ++i)
    before[i] = *b.pick(servers, client(i));
  servers[1].up = false;
  for (const auto& [i, was] : before) {
    auto now = b.pick(servers, client(i));
    ASSERT_TRUE(now);
    EXPECT_NE(*now, 1u) << "a down server gets no client";
  }
  servers[1].up = true;
  for (const auto& [i, was] : before)
    EXPECT_EQ(b.pick(servers, client(i)), was);
}

TEST(Balancer, SourceMakesAClientWaitForItsFullServerRatherThanSpill) {
  Balancer b(Balance::kSource);
  auto servers = equal_servers(3);
  const auto home = b.pick(servers, kClient);
  ASSERT_TRUE(home);
  servers[*home].maxconn = 1;
  servers[*home].active = 1;
  bool all_full = false;
  EXPECT_EQ(b.pick(servers, kClient, &all_full), std::nullopt);
  EXPECT_TRUE(all_full) << "the request queues instead of getting 503";
}

// ------------------------------------------------------------------------------------------ every algorithm

TEST(Balancer, NoServerUpMeans503AndEveryServerFullMeansQueue) {
  for (Balance algorithm : {Balance::kRoundRobin, Balance::kLeastConn, Balance::kSource}) {
    SCOPED_TRACE(std::string(to_string(algorithm)));
    Balancer b(algorithm);
    auto servers = equal_servers(2);
    for (auto& s : servers)
      s.up = false;
    bool all_full = true;
    EXPECT_EQ(b.pick(servers, kClient, &all_full), std::nullopt);
    EXPECT_FALSE(all_full) << "nothing up: no queueing";
    EXPECT_EQ(b.pick({}, kClient, &all_full), std::nullopt);
    EXPECT_FALSE(all_full);
    for (auto& s : servers) {
      s.up = true;
      s.maxconn = 3;
      s.active = 3;
    }
    EXPECT_EQ(b.pick(servers, kClient, &all_full), std::nullopt);
    EXPECT_TRUE(all_full);
    servers[1].active = 2;
    if (algorithm != Balance::kSource) {
      EXPECT_EQ(b.pick(servers, kClient, &all_full), 1u);
      EXPECT_FALSE(all_full);
    }
  }
}

}  // namespace
}  // namespace metalgate::proxy
