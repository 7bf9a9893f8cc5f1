// What an idle keep-alive client costs is a published figure (reports/proxy-bench.md: 0.58x HAProxy's bytes
// per idle connection), and the session is the largest part of it. Its behaviour is specified through the
// proxy (proxy_test.cc); its size here.
#include "engine/proxy/http_session.h"

#include <gtest/gtest.h>

namespace metalgate::proxy {
namespace {

// 320 bytes is one of mimalloc's size classes; a member more takes the session into the 384-byte class,
// 64 bytes more per idle connection. What one request needs belongs in its Exchange, given back while idle.
TEST(HttpSessionSize, AnIdleSessionFitsTheAllocatorsThreeHundredTwentyByteClass) {
  EXPECT_LE(sizeof(HttpSession), 320u);
}

}  // namespace
}  // namespace metalgate::proxy
