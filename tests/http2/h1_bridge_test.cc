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

// RFC 8441 §5: an extended CONNECT is the HTTP/1.1 Upgrade it stands for. HTTP/2 clients send no
// Sec-WebSocket-Key; the server is given the one the proxy made, and no body framing: after the switch the
// stream's DATA are the tunnel's bytes.
TEST(ToH1, AnExtendedConnectBecomesAnUpgradeRequestWithAKeyOfItsOwn) {
  Request r = request("CONNECT", true);
  r.protocol = "websocket";
  r.headers = {{"sec-websocket-version", "13"}};
  H1Request h = to_h1(r, "AAAAAAAAAAAAAAAAAAAAAA==");
  EXPECT_TRUE(h.tunnel);
  EXPECT_FALSE(h.chunked);
  EXPECT_EQ(
      h.head,
      "GET /a?b=1 HTTP/1.1\r\nhost: app.example.com\r\nsec-websocket-version: 13\r\n"
      "connection: upgrade\r\nupgrade: websocket\r\nsec-websocket-key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n");
  r.headers.push_back({"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="});
  h = to_h1(r, "AAAAAAAAAAAAAAAAAAAAAA==");
  EXPECT_EQ(h.head.find("AAAA"), std::string::npos) << "a key the client sent is the one the server gets";
  r.protocol = "custom_protocol";
  r.headers.clear();
  h = to_h1(r, "AAAAAAAAAAAAAAAAAAAAAA==");
  EXPECT_NE(h.head.find("upgrade: custom_protocol\r\n"), std::string::npos) << "any protocol, as HAProxy";
  EXPECT_EQ(h.head.find("sec-websocket-key"), std::string::npos) << "only WebSocket has a key";
  EXPECT_FALSE(to_h1(request("CONNECT")).tunnel) << "a CONNECT without :protocol is no tunnel of ours";
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

TEST(ResponseReader, AnExtendedConnectsSwitchIsItsStreamsTwoHundredAndThenTheTunnel) {
  ResponseReader r(false, true);
  Sink s;
  ASSERT_TRUE(feed(
      r, s,
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\nfirst"));
  EXPECT_EQ(s.status, 200);
  EXPECT_FALSE(s.head_ends);
  EXPECT_TRUE(s.has("sec-websocket-protocol"));
  EXPECT_FALSE(s.has("sec-websocket-accept")) << "HTTP/2 carries no accept (RFC 8441 §5)";
  EXPECT_FALSE(s.has("upgrade"));
  EXPECT_FALSE(s.has("connection"));
  ASSERT_TRUE(feed(r, s, "\r\n\r\nHTTP/1.1 anything"));
  EXPECT_EQ(s.body, "first\r\n\r\nHTTP/1.1 anything") << "the tunnel's bytes, never parsed";
  EXPECT_FALSE(s.ended);
  EXPECT_TRUE(r.close(s));
  EXPECT_TRUE(s.ended) << "the server's FIN is the stream's END_STREAM";
}

TEST(ResponseReader, AnExtendedConnectNotSwitchedGetsItsRefusalOrA502NeverATwoHundred) {
  ResponseReader refused(false, true);
  Sink s;
  ASSERT_TRUE(feed(refused, s, "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"));
  EXPECT_EQ(s.status, 403);
  EXPECT_EQ(s.body, "no");
  ResponseReader ignored(false, true);
  Sink t;
  ASSERT_TRUE(feed(ignored, t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  EXPECT_EQ(t.status, 502) << "a 200 would open the client's tunnel to a server that never switched";
  EXPECT_TRUE(t.head_ends);
  EXPECT_EQ(t.body, "");
}

// ------------------------------------------------------------------ towards servers

struct RequestSink : RequestReader::Sink {
  std::vector<Request> requests;
  std::vector<bool> ended_at_head;
  std::string body;
  std::vector<std::vector<Field>> ends;
  void on_request(Request r, bool end) override {
    requests.push_back(std::move(r));
    ended_at_head.push_back(end);
  }
  void on_request_body(runtime::ByteView d) override { body.append(runtime::as_chars(d)); }
  void on_request_end(std::vector<Field> t) override { ends.push_back(std::move(t)); }
};

bool feed(RequestReader& r, const std::string& bytes, RequestSink& sink) {
  return r.feed(runtime::as_bytes(bytes), sink);
}

TEST(RequestReader, HostBecomesAuthorityAndConnectionFieldsStayBehind) {
  RequestReader r("http");
  RequestSink sink;
  ASSERT_TRUE(feed(r,
                   "GET /a?b=1 HTTP/1.1\r\nHost: grpc.example\r\nConnection: keep-alive\r\n"
                   "TE: trailers\r\nX-Forwarded-For: 10.0.0.100\r\n\r\n",
                   sink));
  ASSERT_EQ(sink.requests.size(), 1u);
  const Request& q = sink.requests[0];
  EXPECT_EQ(q.method, "GET");
  EXPECT_EQ(q.scheme, "http");
  EXPECT_EQ(q.authority, "grpc.example");
  EXPECT_EQ(q.path, "/a?b=1");
  ASSERT_EQ(q.headers.size(), 2u);
  EXPECT_EQ(q.headers[0].name, "te") << "te: trailers is the one TE HTTP/2 allows (gRPC needs it)";
  EXPECT_EQ(q.headers[1].name, "x-forwarded-for");
  EXPECT_TRUE(sink.ended_at_head[0]);
  EXPECT_TRUE(r.idle());
}

TEST(RequestReader, AChunkedBodyArrivesWithoutFramingAndItsTrailersEndIt) {
  RequestReader r("https");
  RequestSink sink;
  ASSERT_TRUE(feed(r, "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", sink));
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_FALSE(sink.ended_at_head[0]);
  EXPECT_TRUE(sink.requests[0].has_body);
  EXPECT_FALSE(r.idle());
  ASSERT_TRUE(feed(r, "lo\r\n0\r\nx-check: 7\r\n\r\n", sink));
  EXPECT_EQ(sink.body, "hello");
  ASSERT_EQ(sink.ends.size(), 1u);
  ASSERT_EQ(sink.ends[0].size(), 1u);
  EXPECT_EQ(sink.ends[0][0].name, "x-check");
  EXPECT_TRUE(r.idle()) << "ready for the next request";
}

TEST(RequestReader, AContentLengthBodyKeepsItsLengthAndTheNextRequestFollows) {
  RequestReader r("http");
  RequestSink sink;
  ASSERT_TRUE(feed(r, "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nab", sink));
  ASSERT_TRUE(feed(r, "c", sink));
  EXPECT_EQ(sink.body, "abc");
  ASSERT_EQ(sink.ends.size(), 1u);
  ASSERT_EQ(sink.requests[0].headers.size(), 1u);
  EXPECT_EQ(sink.requests[0].headers[0].value, "3");
  ASSERT_TRUE(feed(r, "GET /y HTTP/1.1\r\nHost: h\r\n\r\n", sink));
  ASSERT_EQ(sink.requests.size(), 2u);
  EXPECT_EQ(sink.requests[1].path, "/y");
}

TEST(RequestReader, RefusesBadHeadsBadChunksAndBytesPastTheBody) {
  RequestSink sink;
  RequestReader a("http");
  EXPECT_FALSE(feed(a, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", sink));
  RequestReader b("http");
  EXPECT_FALSE(feed(b, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", sink));
  RequestReader c("http");
  EXPECT_FALSE(feed(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\n", sink))
      << "a second request before the first one's response";
}

TEST(RequestReader, AnUpgradeBecomesAnExtendedConnectWhoseKeyStaysBehindAndThenTheTunnel) {
  RequestReader r("https");
  RequestSink sink;
  ASSERT_TRUE(
      feed(r,
           "GET /socket HTTP/1.1\r\nHost: chat.example\r\nConnection: upgrade\r\nUpgrade: WebSocket\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nhello",
           sink));
  ASSERT_EQ(sink.requests.size(), 1u);
  const Request& q = sink.requests[0];
  EXPECT_EQ(q.method, "CONNECT");
  EXPECT_EQ(q.protocol, "websocket");
  EXPECT_EQ(q.path, "/socket");
  EXPECT_EQ(q.authority, "chat.example");
  ASSERT_EQ(q.headers.size(), 1u);
  EXPECT_EQ(q.headers[0].name, "sec-websocket-version");
  EXPECT_FALSE(sink.ended_at_head[0]);
  EXPECT_EQ(r.websocket_key(), "dGhlIHNhbXBsZSBub25jZQ==");
  ASSERT_TRUE(feed(r, "GET / HTTP/1.1\r\n\r\n", sink));
  EXPECT_EQ(sink.body, "helloGET / HTTP/1.1\r\n\r\n") << "bytes after the head are the tunnel's";
  EXPECT_EQ(sink.requests.size(), 1u);
  EXPECT_FALSE(r.idle());
}

TEST(RequestReader, AnH2cUpgradeIsAPlainRequestToAnHttp2Server) {
  RequestReader r("http");
  RequestSink sink;
  ASSERT_TRUE(feed(r,
                   "GET / HTTP/1.1\r\nHost: grpc.example\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                   "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n",
                   sink));
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_EQ(sink.requests[0].method, "GET") << "curl --http2 over plain HTTP asks this of every server";
  EXPECT_TRUE(sink.requests[0].protocol.empty());
  EXPECT_TRUE(sink.ended_at_head[0]);
  EXPECT_TRUE(r.idle());
}

TEST(ResponseWriter, AnExtendedConnectsTwoHundredIsTheSwitchWithTheKeysAccept) {
  ResponseWriter w(false, "websocket", "dGhlIHNhbXBsZSBub25jZQ==");
  std::string out;
  w.head(200, {{"sec-websocket-protocol", "chat"}}, false, out);
  EXPECT_TRUE(w.switched());
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n"
            "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nsec-websocket-protocol: chat\r\n\r\n");
  out.clear();
  w.body(runtime::as_bytes(std::string("0\r\n\r\n")), out);
  w.end({}, out);
  EXPECT_EQ(out, "0\r\n\r\n") << "tunnel bytes as they are, no chunk framing, nothing at the end";
  ResponseWriter refused(false, "websocket", "dGhlIHNhbXBsZSBub25jZQ==");
  out.clear();
  refused.head(404, {}, true, out);
  EXPECT_FALSE(refused.switched());
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
}

TEST(ResponseWriter, ABodyOfUnknownLengthIsChunkedAndCarriesTheTrailers) {
  ResponseWriter w(false);
  std::string out;
  w.head(200, {{"content-type", "application/grpc"}}, false, out);
  w.body(runtime::as_bytes(std::string("abc")), out);
  w.end({{"grpc-status", "0"}}, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\n\r\n"
            "3\r\nabc\r\n0\r\ngrpc-status: 0\r\n\r\n");
  // Read back the way a frontend stream reads it: the trailers come out whole.
  struct TrailerSink : ResponseReader::Sink {
    std::vector<Field> trailers;
    std::string body;
    void on_head(int, std::vector<Field>, bool) override {}
    void on_body(runtime::ByteView d) override { body.append(runtime::as_chars(d)); }
    void on_end(std::vector<Field> t) override { trailers = std::move(t); }
  } sink;
  ResponseReader reader(false);
  ASSERT_TRUE(reader.feed(runtime::as_bytes(out), sink));
  EXPECT_EQ(sink.body, "abc");
  ASSERT_EQ(sink.trailers.size(), 1u);
  EXPECT_EQ(sink.trailers[0].value, "0");
}

TEST(ResponseWriter, AKnownLengthPassesAsItIsAndAnEmptyAnswerSaysZero) {
  ResponseWriter sized(false);
  std::string out;
  sized.head(200, {{"content-length", "2"}}, false, out);
  sized.body(runtime::as_bytes(std::string("ok")), out);
  sized.end({}, out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  ResponseWriter trailers_only(false);
  out.clear();
  trailers_only.head(200, {{"grpc-status", "14"}}, true, out);
  trailers_only.end({}, out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\ngrpc-status: 14\r\ncontent-length: 0\r\n\r\n")
      << "gRPC's trailers-only answer keeps its status in the head";
  ResponseWriter head(true);
  out.clear();
  head.head(200, {}, true, out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\n\r\n") << "an answer to HEAD claims no length of its own";
}

}  // namespace
}  // namespace metalgate::http2
