// The PROXY protocol header parser on its own: versions 1 and 2 as HAProxy's proxy-protocol.txt describes
// them and HAProxy 2.6's expect-proxy accepts or refuses them, fed whole, byte by byte, and cut short.
#include "engine/proxy/proxy_protocol.h"

#include <gtest/gtest.h>

namespace metalgate::proxy::proxy_protocol {
namespace {

using namespace std::string_literals;

const std::string kSig = "\r\n\r\n\0\r\nQUIT\n"s;

net::SocketAddress at(const std::string& text) {
  return *net::SocketAddress::parse(text);
}

std::string u16(unsigned v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

// A v2 header: version/command byte, family byte, then `block` as the address block.
std::string v2(unsigned char ver_cmd, unsigned char fam, const std::string& block) {
  return kSig + static_cast<char>(ver_cmd) + static_cast<char>(fam) +
         u16(static_cast<unsigned>(block.size())) + block;
}

// 198.51.100.9:4242 -> 10.0.0.1:80
const std::string kTcp4Block = "\xc6\x33\x64\x09\x0a\x00\x00\x01"s + u16(4242) + u16(80);

// Every proper prefix of a valid header asks for more; the whole header is done with the same result.
void expect_prefixes_need_more(const std::string& header) {
  for (std::size_t n = 0; n < header.size(); ++n)
    EXPECT_EQ(parse(header.substr(0, n)).status, Status::kNeedMore) << "prefix of " << n << " bytes";
}

TEST(ProxyProtocolV1, Tcp4GivesTheSourceAndDestinationAndItsLength) {
  const std::string header = "PROXY TCP4 192.0.2.7 10.0.0.1 5555 80\r\n";
  Header h = parse(header + "GET / HTTP/1.1\r\n");
  ASSERT_EQ(h.status, Status::kDone) << h.error;
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.length, header.size());
  EXPECT_EQ(h.source, at("192.0.2.7:5555"));
  EXPECT_EQ(h.destination, at("10.0.0.1:80"));
  expect_prefixes_need_more(header);
}

TEST(ProxyProtocolV1, Tcp6GivesIpv6Addresses) {
  Header h = parse("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n");
  ASSERT_EQ(h.status, Status::kDone) << h.error;
  EXPECT_EQ(h.source, at("[2001:db8::1]:65535"));
  EXPECT_EQ(h.destination, at("[::1]:0"));
}

TEST(ProxyProtocolV1, UnknownKeepsTheConnectionsAddressesAndIgnoresTheRestOfTheLine) {
  Header h = parse("PROXY UNKNOWN\r\nGET");
  ASSERT_EQ(h.status, Status::kDone);
  EXPECT_EQ(h.length, 15u);
  EXPECT_FALSE(h.source);
  Header rest = parse("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n");
  ASSERT_EQ(rest.status, Status::kDone) << "the specification: the receiver must ignore it";
  EXPECT_FALSE(rest.source);
}

TEST(ProxyProtocolV1, LeadingZerosInPortsAreAcceptedAsHaproxyDoes) {
  Header h = parse("PROXY TCP4 192.0.2.7 10.0.0.1 05555 80\r\n");
  ASSERT_EQ(h.status, Status::kDone);
  EXPECT_EQ(h.source, at("192.0.2.7:5555"));
}

TEST(ProxyProtocolV1, MalformedLinesAreErrors) {
  for (const std::string bad : {
           "PROXY TCP4 192.0.2.7 10.0.0.1 5555\r\n",             // a field missing
           "PROXY TCP4 192.0.2.7 10.0.0.1 5555 80 9\r\n",        // one too many
           "PROXY TCP4 2001:db8::1 10.0.0.1 5555 80\r\n",        // the wrong family
           "PROXY TCP6 192.0.2.7 ::1 5555 80\r\n",               // the wrong family
           "PROXY TCP4 192.0.2.7 10.0.0.1 70000 80\r\n",         // a port out of range (HAProxy wraps it)
           "PROXY TCP4 192.0.2.7 10.0.0.1 -1 80\r\n",            // not a port
           "PROXY TCP4 192.0.2.7  10.0.0.1 5555 80\r\n",         // two spaces
           "PROXY TCP4 192.0.2.300 10.0.0.1 5555 80\r\n",        // not an address
           "PROXY UDP4 192.0.2.7 10.0.0.1 5555 80\r\n",          // not a protocol of v1
           "PROXY TCP4 192.0.2.7 10.0.0.1 5555 80\nGET / \r\n",  // a lone LF ends no line
           "PROXY TCP4 192.0.2.7\r10.0.0.1 5555 80\r\n",         // a lone CR
       }) {
    Header h = parse(bad);
    EXPECT_EQ(h.status, Status::kError) << bad;
    EXPECT_FALSE(h.error.empty()) << bad;
  }
}

TEST(ProxyProtocolV1, ALineWithoutCrlfWithin107BytesIsAnError) {
  const std::string longest = "PROXY UNKNOWN " + std::string(91, 'x') + "\r\n";
  ASSERT_EQ(longest.size(), 107u);
  EXPECT_EQ(parse(longest).status, Status::kDone);
  const std::string too_long = "PROXY UNKNOWN " + std::string(92, 'x') + "\r\n";
  EXPECT_EQ(parse(too_long).status, Status::kError);
  EXPECT_EQ(parse(too_long.substr(0, 106)).status, Status::kNeedMore);
  EXPECT_EQ(parse(too_long.substr(0, 107)).status, Status::kError) << "107 bytes and still no CRLF";
}

TEST(ProxyProtocol, BytesThatAreNoHeaderAreAnErrorAtTheFirstByteThatSaysSo) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\n").status, Status::kError);
  EXPECT_EQ(parse("G").status, Status::kError);
  EXPECT_EQ(parse("PROX").status, Status::kNeedMore);
  EXPECT_EQ(parse("PROXX").status, Status::kError);
  EXPECT_EQ(parse("\x16\x03\x01").status, Status::kError) << "a TLS ClientHello";
  EXPECT_EQ(parse("\r\n\r\n\0\r\nQUI"s).status, Status::kNeedMore);
  EXPECT_EQ(parse("\r\n\r\nGET"s).status, Status::kError);
  EXPECT_EQ(parse("").status, Status::kNeedMore);
}

TEST(ProxyProtocolV2, ProxyOverTcp4GivesTheAddressesAndSkipsTlvs) {
  const std::string tlv =
      "\x04\x00\x02"
      "ab"s;  // PP2_TYPE_NOOP
  const std::string header = v2(0x21, 0x11, kTcp4Block + tlv);
  Header h = parse(header + "GET / HTTP/1.1\r\n");
  ASSERT_EQ(h.status, Status::kDone) << h.error;
  EXPECT_EQ(h.version, 2);
  EXPECT_EQ(h.length, header.size());
  EXPECT_EQ(h.source, at("198.51.100.9:4242"));
  EXPECT_EQ(h.destination, at("10.0.0.1:80"));
  expect_prefixes_need_more(header);
}

TEST(ProxyProtocolV2, ProxyOverTcp6GivesIpv6Addresses) {
  std::string block(36, '\0');
  block[0] = '\x20', block[1] = '\x01', block[2] = '\x0d', block[3] = '\xb8',
  block[15] = '\x01';  // 2001:db8::1
  block[31] = '\x01';  // ::1
  block.replace(32, 4, u16(443) + u16(8443));
  Header h = parse(v2(0x21, 0x21, block));
  ASSERT_EQ(h.status, Status::kDone) << h.error;
  EXPECT_EQ(h.source, at("[2001:db8::1]:443"));
  EXPECT_EQ(h.destination, at("[::1]:8443"));
}

TEST(ProxyProtocolV2, LocalKeepsTheConnectionsAddressesWhateverItCarries) {
  Header empty = parse(v2(0x20, 0x00, ""));
  ASSERT_EQ(empty.status, Status::kDone);
  EXPECT_EQ(empty.length, 16u);
  EXPECT_FALSE(empty.source);
  Header with_addresses = parse(v2(0x20, 0x11, kTcp4Block));
  ASSERT_EQ(with_addresses.status, Status::kDone);
  EXPECT_EQ(with_addresses.length, 16u + kTcp4Block.size()) << "the block is skipped, not read";
  EXPECT_FALSE(with_addresses.source);
}

TEST(ProxyProtocolV2, MalformedHeadersAreErrors) {
  for (const std::string& bad : {
           v2(0x11, 0x11, kTcp4Block),               // version 1 in the binary form
           v2(0x22, 0x11, kTcp4Block),               // command 2
           v2(0x21, 0x41, kTcp4Block),               // family 4
           v2(0x21, 0x13, kTcp4Block),               // transport 3
           v2(0x21, 0x11, kTcp4Block.substr(0, 4)),  // too short for IPv4 addresses
           v2(0x21, 0x21, kTcp4Block),               // too short for IPv6 addresses
           v2(0x21, 0x00, ""),                       // PROXY with UNSPEC: HAProxy 2.6 refuses it
           v2(0x21, 0x12, kTcp4Block),               // PROXY over UDP: HAProxy 2.6 refuses it
       }) {
    Header h = parse(bad);
    EXPECT_EQ(h.status, Status::kError) << testing::PrintToString(bad);
    EXPECT_FALSE(h.error.empty());
  }
}

TEST(ProxyProtocolV2, ATruncatedHeaderNeedsMoreAndAnOverlongOneIsAnError) {
  const std::string header = v2(0x21, 0x11, kTcp4Block);
  EXPECT_EQ(parse(header.substr(0, header.size() - 1)).status, Status::kNeedMore);
  const std::string overlong = kSig + "\x21\x11"s + u16(kMaxV2Length);
  EXPECT_EQ(parse(overlong).status, Status::kError) << "longer than HAProxy's buffer";
}

}  // namespace
}  // namespace metalgate::proxy::proxy_protocol
