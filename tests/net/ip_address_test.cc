#include <gtest/gtest.h>

#include "engine/net/ip_address.h"
#include "engine/net/mac_address.h"

namespace metalgate::net {
namespace {

TEST(IpAddress, ParsesAndFormatsBothFamilies) {
  EXPECT_EQ(IpAddress::parse("192.168.1.240")->to_string(), "192.168.1.240");
  EXPECT_EQ(IpAddress::parse("FD00::0:1")->to_string(), "fd00::1");
  EXPECT_TRUE(IpAddress::parse("::1")->is_v6());
  for (const char* bad : {"", "1.2.3", "1.2.3.256", "1.2.3.4 ", "fd00::1/64", "x::y", "1.2.3.4.5"})
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
}

TEST(IpAddress, OrdersV4BeforeV6AndByValue) {
  auto a = *IpAddress::parse("10.0.0.2"), b = *IpAddress::parse("10.0.0.10"), c = *IpAddress::parse("::1");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST(IpAddress, AdvancesWithCarryAndStopsAtTheEnd) {
  EXPECT_EQ(IpAddress::parse("10.0.0.255")->advanced(1)->to_string(), "10.0.1.0");
  EXPECT_FALSE(IpAddress::parse("255.255.255.255")->advanced(1));
  EXPECT_EQ(IpAddress::parse("fd00::ffff")->advanced(1)->to_string(), "fd00::1:0");
  EXPECT_EQ(IpAddress::parse("10.0.0.1")->count_to(*IpAddress::parse("10.0.0.10")), 10u);
  EXPECT_EQ(IpAddress::parse("fd00::")->count_to(*IpAddress::parse("fd00::ffff:ffff:ffff:ffff")), UINT64_MAX);
}

TEST(AddressRange, AcceptsRangesCidrsAndSingleAddresses) {
  auto r = AddressRange::parse("192.168.1.240-192.168.1.250");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 11u);
  EXPECT_TRUE(r->contains(*IpAddress::parse("192.168.1.245")));
  EXPECT_FALSE(r->contains(*IpAddress::parse("192.168.1.251")));
  EXPECT_EQ(AddressRange::parse("10.0.0.0/30")->last.to_string(), "10.0.0.3");
  EXPECT_EQ(AddressRange::parse("fd00::/126")->size(), 4u);
  EXPECT_EQ(AddressRange::parse(" 10.0.0.7 ")->size(), 1u);
}

TEST(AddressRange, RefusesNonsenseWithAReason) {
  std::string why;
  EXPECT_FALSE(AddressRange::parse("10.0.0.1/24", &why));
  EXPECT_EQ(why, "CIDR has host bits set");
  EXPECT_FALSE(AddressRange::parse("10.0.0.9-10.0.0.1", &why));
  EXPECT_EQ(why, "range end comes before its start");
  EXPECT_FALSE(AddressRange::parse("10.0.0.1-fd00::1", &why));
  EXPECT_EQ(why, "range mixes IPv4 and IPv6");
  EXPECT_FALSE(AddressRange::parse("pool", &why));
}

TEST(SocketAddress, RoundTripsBracketedV6) {
  auto s = SocketAddress::parse("[fd00::1]:443");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->port, 443);
  EXPECT_EQ(s->to_string(), "[fd00::1]:443");
  EXPECT_EQ(SocketAddress::parse("1.2.3.4:80")->to_string(), "1.2.3.4:80");
  EXPECT_FALSE(SocketAddress::parse("1.2.3.4:99999"));
}

TEST(MacAddress, ParsesFormatsAndClassifies) {
  auto m = MacAddress::parse("02:00:00:00:00:01");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->to_string(), "02:00:00:00:00:01");
  EXPECT_EQ(*m, MacAddress::local(1));
  EXPECT_TRUE(MacAddress::broadcast().is_multicast());
  EXPECT_TRUE(MacAddress::parse("33:33:ff:00:00:01")->is_multicast());
  EXPECT_FALSE(MacAddress::parse("02:00:00:00:00"));
}

}  // namespace
}  // namespace metalgate::net
