// The values of the WebSocket handshake the proxy makes when it translates between HTTP/1.1 and HTTP/2.
#include "engine/http/websocket.h"

#include <gtest/gtest.h>

#include <set>

namespace metalgate::http {
namespace {

TEST(WebSocket, TheAcceptIsRfc6455sWorkedExample) {
  EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // §1.3
}

TEST(WebSocket, AKeyIsSixteenBytesInBase64AndDiffersWithItsDraws) {
  const std::string key = websocket_key(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  EXPECT_EQ(key.size(), 24u);
  EXPECT_EQ(key.substr(22), "==") << "16 bytes leave two pad characters";
  EXPECT_EQ(key, "782riWdFIwEQMlR2mLrc/g==");
  std::set<std::string> keys;
  for (std::uint64_t i = 0; i < 100; ++i)
    keys.insert(websocket_key(i, i * 7919));
  EXPECT_EQ(keys.size(), 100u);
}

TEST(WebSocket, TheUpgradeIsNamedInAnyCase) {
  EXPECT_TRUE(is_websocket("websocket"));
  EXPECT_TRUE(is_websocket("WebSocket"));
  EXPECT_FALSE(is_websocket("h2c"));
}

}  // namespace
}  // namespace metalgate::http
