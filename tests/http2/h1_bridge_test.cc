// An HTTP/2 stream in HTTP/1.1 terms: the request head the proxy's session reads, and its answer read back.
#include "engine/http2/h1_bridge.h"

#include <gtest/gtest.h>

namespace metalgate::http2 {
namespace {

Request request(std::string method = "GET", bool body = false) {
  Request r;
  r.method = std::move(method);
  r.scheme = "https";
  r.authority = "app.example.com";
  r.path = "/a?b=1";
  r.has_body = body;
  return r;
}

TEST(ToH1, AuthorityBecomesHostAndWinsOverAHostField) {
  Request r = request();
  r.headers = {{"host", "other.example"}, {"accept", "*/*"}};
  EXPECT_EQ(to_h1(r).head, "GET /a?b=1 HTTP/1.1\r\nhost: app.example.com\r\naccept: */*\r\n\r\n");
}

TEST(ToH1, AHostFieldServesWhenThereIsNoAuthority) {
  Request r = request();
  r.authority.clear();
  r.headers = {{"host", "other.example"}};
  EXPECT_EQ(to_h1(r).head, "GET /a?b=1 HTTP/1.1\r\nhost: other.example\r\n\r\n");
}

TEST(ToH1, ABodyOfUnknownLengthIsSentChunked) {
  H1Request h = to_h1(request("POST", true));
  EXPECT_TRUE(h.chunked);
  EXPECT_NE(h.head.find("transfer-encoding: chunked\r\n"), std::string::npos);
  Request sized = request("POST", true);
  sized.headers = {{"content-length", "5"}};
  h = to_h1(sized);
  EXPECT_FALSE(h.chunked);
  EXPECT_EQ(h.head.find("transfer-encoding"), std::string::npos);
}

TEST(ToH1, NoBodyNoFraming) {
  H1Request h = to_h1(request("DELETE", false));
  EXPECT_FALSE(h.chunked);
  EXPECT_EQ(h.head, "DELETE /a?b=1 HTTP/1.1\r\nhost: app.example.com\r\n\r\n");
}

struct Sink : ResponseReader::Sink {
  int status = 0;
  std::vector<Field> fields, trailers;
  bool head_ends = false, ended = false;
  std::string body;
  void on_head(int s, std::vector<Field> f, bool end) override {
    status = s;
    fields = std::move(f);
    head_ends = end;
  }
  void on_body(runtime::ByteView d) override { body.append(runtime::as_chars(d)); }
  void on_end(std::vector<Field> t) override {
    ended = true;
    trailers = std::move(t);
  }
  bool has(const std::string& name) const {
    for (const Field& f : fields)
      if (f.name == name) return true;
    return false;
  }
};

bool feed(ResponseReader& r, Sink& s, std::string_view bytes) {
  return r.feed(runtime::as_bytes(bytes), s);
}

TEST(ResponseReader, AContentLengthBodyEndsAfterItsBytesInAnyPieces) {
  ResponseReader r(false);
  Sink s;
  ASSERT_TRUE(feed(r, s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"));
  EXPECT_EQ(s.status, 0) << "no head before its blank line";
  ASSERT_TRUE(feed(r, s, "Connection: keep-alive\r\n\r\nhello"));
  EXPECT_EQ(s.status, 200);
  EXPECT_TRUE(s.has("content-type")) << "names go lower case";
  EXPECT_TRUE(s.has("content-length"));
  EXPECT_FALSE(s.has("connection")) << "connection-specific fields are dropped";
  EXPECT_FALSE(s.ended);
  ASSERT_TRUE(feed(r, s, "world"));
  EXPECT_EQ(s.body, "helloworld");
  EXPECT_TRUE(s.ended);
  EXPECT_TRUE(r.done());
}

TEST(ResponseReader, AChunkedBodyLosesItsFramingAndKeepsItsTrailers) {
  ResponseReader r(false);
  Sink s;
  ASSERT_TRUE(feed(r, s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  EXPECT_FALSE(s.has("transfer-encoding"));
  ASSERT_TRUE(feed(r, s, "6\r\n world\r\n0\r\ngrpc-status: 0\r\nGrpc-Message: ok\r\n\r\n"));
  EXPECT_EQ(s.body, "hello world");
  ASSERT_TRUE(s.ended);
  ASSERT_EQ(s.trailers.size(), 2u);
  EXPECT_EQ(s.trailers[0].name, "grpc-status");
  EXPECT_EQ(s.trailers[0].value, "0");
  EXPECT_EQ(s.trailers[1].name, "grpc-message");
}

TEST(ResponseReader, InterimResponsesAreNotPassedOn) {
  ResponseReader r(false);
  Sink s;
  ASSERT_TRUE(feed(r, s, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_EQ(s.status, 201);
  EXPECT_TRUE(s.head_ends) << "an empty body ends the stream with the head";
}

TEST(ResponseReader, AnAnswerToHeadHasNoBodyWhateverItsLength) {
  ResponseReader r(true);
  Sink s;
  ASSERT_TRUE(feed(r, s, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"));
  EXPECT_TRUE(s.head_ends);
  EXPECT_TRUE(r.done());
}

TEST(ResponseReader, ABodyUntilCloseEndsAtCloseAndAShortOneFails) {
  ResponseReader r(false);
  Sink s;
  ASSERT_TRUE(feed(r, s, "HTTP/1.0 200 OK\r\n\r\nall of it"));
  EXPECT_TRUE(r.close(s));
  EXPECT_EQ(s.body, "all of it");
  EXPECT_TRUE(s.ended);

  ResponseReader cut(false);
  Sink t;
  ASSERT_TRUE(feed(cut, t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"));
  EXPECT_FALSE(cut.close(t)) << "a response cut short resets the stream";
  ResponseReader none(false);
  EXPECT_FALSE(none.close(t)) << "no response at all";
}

TEST(ResponseReader, RefusesWhatAStreamCannotCarry) {
  ResponseReader upgrade(false);
  Sink s;
  EXPECT_FALSE(feed(upgrade, s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"));
  ResponseReader bad_chunks(false);
  EXPECT_TRUE(feed(bad_chunks, s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
  EXPECT_FALSE(feed(bad_chunks, s, "zz\r\n"));
}

}  // namespace
}  // namespace metalgate::http2
