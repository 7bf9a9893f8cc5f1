// kube-proxy's sessionAffinity: ClientIP table on its own.
#include "engine/l4/affinity.h"

#include <gtest/gtest.h>

namespace metalgate::l4 {
namespace {

using namespace std::chrono_literals;

const net::IpAddress kA = net::IpAddress::v4(192, 168, 1, 10);
const net::IpAddress kB = net::IpAddress::v4(192, 168, 1, 11);

runtime::Instant at(std::chrono::seconds s) {
  return runtime::Instant{} + s;
}

TEST(AffinityTable, AClientIsSentWhereItWasRememberedUntilItIsSilentForTheTimeout) {
  AffinityTable t(10s);
  t.remember(kA, 2, at(0s));
  EXPECT_EQ(t.find(kA, at(9s)), 2u);
  EXPECT_EQ(t.find(kA, at(18s)), 2u) << "the hit at 9 s counted as activity";
  EXPECT_EQ(t.find(kA, at(28s)), std::nullopt);
  EXPECT_EQ(t.size(), 0u) << "an expired entry is dropped when found";
}

TEST(AffinityTable, ClientsAreApartAndAnUnknownOneHasNoServer) {
  AffinityTable t(10s);
  t.remember(kA, 0, at(0s));
  t.remember(kB, 1, at(0s));
  EXPECT_EQ(t.find(kA, at(1s)), 0u);
  EXPECT_EQ(t.find(kB, at(1s)), 1u);
  EXPECT_EQ(t.find(net::IpAddress::v4(10, 0, 0, 1), at(1s)), std::nullopt);
}

TEST(AffinityTable, ExpiredClientsAreSweptAsNewOnesArriveSoTheTableStaysBounded) {
  AffinityTable t(1s);
  for (std::uint32_t i = 0; i < 5000; ++i)
    t.remember(net::IpAddress::v4(i + 1), 0, at(std::chrono::seconds(i)));
  EXPECT_LT(t.size(), 1100u);
}

}  // namespace
}  // namespace metalgate::l4
