// A stream's outgoing body as nghttp2 reads it: deferred while empty, in pieces of the length asked, the end
// flagged once the buffered bytes are out, nothing taken after the end. (Trailers are checked through both
// sessions in client_session_test.cc.)
#include "engine/http2/outgoing_body.h"

#include <gtest/gtest.h>

#include "engine/http2/server_session.h"

namespace metalgate::http2 {
namespace {

TEST(OutgoingBody, IsReadInPiecesDeferredWhileEmptyAndEndsAfterItsLastByte) {
  OutgoingBody body;
  std::uint8_t buf[8];
  std::uint32_t flags = 0;
  EXPECT_EQ(body.read(nullptr, 1, buf, sizeof buf, &flags), NGHTTP2_ERR_DEFERRED);
  ASSERT_TRUE(body.append(runtime::as_bytes(std::string("hello world"))));
  EXPECT_EQ(body.buffered(), 11u);
  EXPECT_EQ(body.read(nullptr, 1, buf, sizeof buf, &flags), 8);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 8), "hello wo");
  EXPECT_EQ(body.read(nullptr, 1, buf, sizeof buf, &flags), 3);
  EXPECT_EQ(flags, 0u) << "not finished: no EOF";
  EXPECT_EQ(body.read(nullptr, 1, buf, sizeof buf, &flags), NGHTTP2_ERR_DEFERRED);
  ASSERT_TRUE(body.finish({}));
  EXPECT_FALSE(body.append(runtime::as_bytes(std::string("late")))) << "nothing after the end";
  EXPECT_FALSE(body.finish({}));
  EXPECT_EQ(body.read(nullptr, 1, buf, sizeof buf, &flags), 0);
  EXPECT_EQ(flags, static_cast<std::uint32_t>(NGHTTP2_DATA_FLAG_EOF));
  EXPECT_EQ(body.buffered(), 0u);
}

}  // namespace
}  // namespace metalgate::http2
