// The HTTP/2 server session from raw frames: what reaches the proxy, what goes back, and what it refuses.
#include "engine/http2/server_session.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/http2/frames.h"

namespace metalgate::http2 {
namespace {

using namespace testing;  // NOLINT: the frame vocabulary

struct Recorder : ServerEvents {
  std::vector<std::pair<std::int32_t, Request>> requests;
  std::string body;
  std::vector<std::int32_t> ended;
  std::vector<std::pair<std::int32_t, std::uint32_t>> closed;
  void on_request(std::int32_t s, Request r) override { requests.emplace_back(s, std::move(r)); }
  void on_request_data(std::int32_t, runtime::ByteView d) override { body.append(runtime::as_chars(d)); }
  void on_request_end(std::int32_t s) override { ended.push_back(s); }
  void on_stream_closed(std::int32_t s, std::uint32_t code) override { closed.emplace_back(s, code); }
};

struct Connection {
  // The server's SETTINGS go out first, as they do live, so the client's ACK in preface() answers them.
  explicit Connection(Settings settings = {}) : session(events, settings) { take(); }
  bool send(std::string_view bytes) { return session.receive(runtime::as_bytes(bytes)); }
  std::vector<Frame> take() {
    std::string out;
    session.take_outgoing(out);
    return parse(out);
  }
  Recorder events;
  ServerSession session;
};

const Frame* find(const std::vector<Frame>& frames, std::uint8_t type, std::uint32_t stream = ~0u) {
  for (const Frame& f : frames)
    if (f.type == type && (stream == ~0u || f.stream == stream)) return &f;
  return nullptr;
}

TEST(ServerSession, HandsOnARequestAndSendsItsAnswerBack) {
  Connection c;
  auto fields = get("/hello?x=1");
  fields.push_back({"cookie", "a=1"});
  fields.push_back({"cookie", "b=2"});
  ASSERT_TRUE(c.send(preface() + frame(kHeaders, kEndHeaders | kEndStream, 1, block(fields))));
  ASSERT_EQ(c.events.requests.size(), 1u);
  const Request& r = c.events.requests[0].second;
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/hello?x=1");
  EXPECT_EQ(r.authority, "app.example.com");
  EXPECT_FALSE(r.has_body);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].value, "a=1; b=2");  // cookie crumbs joined (RFC 9113 §8.2.3)

  c.session.respond(1, 200, {{"content-type", "text/plain"}}, false);
  c.session.send_data(1, runtime::as_bytes(std::string_view("hello")));
  c.session.finish(1);
  auto out = c.take();
  const Frame* headers = find(out, kHeaders, 1);
  ASSERT_NE(headers, nullptr);
  Inflater inflater;
  auto answer = inflater.fields(headers->payload);
  ASSERT_FALSE(answer.empty());
  EXPECT_EQ(answer[0], std::make_pair(std::string(":status"), std::string("200")));
  const Frame* data = find(out, kData, 1);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->payload, "hello");
  EXPECT_TRUE(data->flags & kEndStream);
  ASSERT_EQ(c.events.closed.size(), 1u);
  EXPECT_EQ(c.events.closed[0], std::make_pair(1, 0u));
}

TEST(ServerSession, TheClientGetsWindowBackOnlyForBodyBytesHandedOn) {
  Connection c;
  auto fields = get("/upload");
  fields[0].second = "POST";
  std::string bytes = preface() + frame(kHeaders, kEndHeaders, 1, block(fields));
  for (int i = 0; i < 3; ++i)
    bytes += frame(kData, 0, 1, std::string(16384, 'x'));
  ASSERT_TRUE(c.send(bytes));
  EXPECT_EQ(c.events.body.size(), 3u * 16384);
  EXPECT_EQ(find(c.take(), kWindowUpdate), nullptr) << "window reopened before the proxy took the bytes";
  c.session.consumed(1, 3 * 16384);
  auto out = c.take();
  EXPECT_NE(find(out, kWindowUpdate, 1), nullptr);
  EXPECT_NE(find(out, kWindowUpdate, 0), nullptr);
}

TEST(ServerSession, WaitsForBodyBytesWithoutEndingTheStream) {
  Connection c;
  ASSERT_TRUE(c.send(preface() + frame(kHeaders, kEndHeaders | kEndStream, 1, block(get()))));
  c.session.respond(1, 200, {}, false);
  c.take();
  EXPECT_TRUE(c.events.closed.empty());
  c.session.send_data(1, runtime::as_bytes(std::string_view("late")));
  c.session.finish(1, {{"grpc-status", "0"}});
  auto out = c.take();
  const Frame* data = find(out, kData, 1);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->payload, "late");
  EXPECT_FALSE(data->flags & kEndStream) << "trailers end the stream";
  const Frame* trailers = find(out, kHeaders, 1);
  ASSERT_NE(trailers, nullptr);
  EXPECT_TRUE(trailers->flags & kEndStream);
}

// Refused as HAProxy refuses them: the stream is reset with PROTOCOL_ERROR and the proxy never sees it.
void expect_refused(std::vector<std::pair<std::string, std::string>> fields, std::string body = {},
                    bool end_with_headers = true) {
  Connection c;
  std::string bytes =
      preface() + frame(kHeaders, kEndHeaders | (end_with_headers ? kEndStream : 0), 1, block(fields));
  if (!end_with_headers) bytes += frame(kData, kEndStream, 1, body);
  EXPECT_TRUE(c.send(bytes));
  auto out = c.take();
  const Frame* rst = find(out, kRstStream, 1);
  ASSERT_NE(rst, nullptr) << "no RST_STREAM";
  EXPECT_EQ(rst->error_code(), static_cast<std::uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_EQ(c.session.counters().stream_errors, 1u);
  EXPECT_EQ(find(out, kGoaway), nullptr) << "a bad message costs its stream, not the connection";
  if (end_with_headers) {
    EXPECT_TRUE(c.events.requests.empty());
  }
}

TEST(ServerSession, RefusesConnectionSpecificFields) {
  auto fields = get();
  fields.push_back({"connection", "keep-alive"});
  expect_refused(fields);
  fields = get();
  fields.push_back({"transfer-encoding", "chunked"});
  expect_refused(fields);
}

TEST(ServerSession, RefusesMissingOrUnknownPseudoHeaders) {
  auto fields = get();
  fields.erase(fields.begin() + 2);  // no :path
  expect_refused(fields);
  fields = get();
  fields.push_back({":color", "blue"});
  expect_refused(fields);
  fields = get();
  fields.insert(fields.begin(), {"accept", "*/*"});  // a regular field before the pseudo-headers
  expect_refused(fields);
}

TEST(ServerSession, RefusesUpperCaseFieldNames) {
  auto fields = get();
  fields.push_back({"X-Upper", "1"});
  expect_refused(fields);
}

TEST(ServerSession, RefusesABodyLongerThanItsContentLength) {
  auto fields = get("/upload");
  fields[0].second = "POST";
  fields.push_back({"content-length", "3"});
  expect_refused(fields, "hello", false);
}

// A client that has acknowledged the limit and still opens more breaks the protocol: the connection ends
// (nghttp2's choice of RFC 9113 §5.1.2's two; the streams already taken are not lost to a reset).
TEST(ServerSession, AStreamPastTheAcknowledgedConcurrencyLimitEndsTheConnection) {
  Settings s;
  s.max_concurrent_streams = 2;
  Connection c(s);
  std::string bytes = preface();
  for (std::uint32_t id : {1u, 3u, 5u})
    bytes += frame(kHeaders, kEndHeaders | kEndStream, id, block(get()));
  c.send(bytes);
  EXPECT_EQ(c.events.requests.size(), 2u);
  const auto out_goaway = c.take();
  const Frame* goaway = find(out_goaway, kGoaway);
  ASSERT_NE(goaway, nullptr);
  EXPECT_EQ(goaway->error_code(), static_cast<std::uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_EQ(c.session.counters().connection_errors, 1u);
}

TEST(ServerSession, ResetsAStreamWhoseHeaderListIsTooLarge) {
  Settings s;
  s.max_header_list_size = 1000;
  Connection c(s);
  auto fields = get();
  fields.push_back({"x-big", std::string(2000, 'a')});
  ASSERT_TRUE(c.send(preface() + frame(kHeaders, kEndHeaders | kEndStream, 1, block(fields)) +
                     frame(kHeaders, kEndHeaders | kEndStream, 3, block(get()))));
  EXPECT_EQ(c.session.counters().headers_too_large, 1u);
  ASSERT_EQ(c.events.requests.size(), 1u) << "the next stream still works";
  EXPECT_EQ(c.events.requests[0].first, 3);
  EXPECT_NE(find(c.take(), kRstStream, 1), nullptr);
}

// Abuse ends the connection with GOAWAY and counts as a flood.
void expect_flood(Connection& c, const std::string& bytes) {
  const bool ok = c.send(bytes);
  auto out = c.take();
  const Frame* goaway = find(out, kGoaway);
  if (ok) {
    ASSERT_NE(goaway, nullptr) << "the connection went on";
    EXPECT_EQ(goaway->error_code(), static_cast<std::uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
  }
  EXPECT_EQ(c.session.counters().floods, 1u);
  EXPECT_EQ(c.session.counters().connection_errors, 0u);
  EXPECT_TRUE(c.session.finished());
}

// CVE-2023-44487: streams opened and reset at once, each costing the server a request. The burst passes, the
// next reset ends the connection (nghttp2 says INTERNAL_ERROR in that GOAWAY).
TEST(ServerSession, RapidResetsPastTheBurstEndTheConnection) {
  Settings s;
  s.reset_burst = 10;
  s.reset_rate = 1;
  Connection c(s);
  ASSERT_TRUE(c.send(preface()));
  const Frame* goaway = nullptr;
  std::vector<Frame> out;
  for (std::uint32_t id = 1; id < 2 * 40 && !goaway; id += 2) {
    c.send(frame(kHeaders, kEndHeaders, id, block(get())) + frame(kRstStream, 0, id, u32(NGHTTP2_CANCEL)));
    out = c.take();
    goaway = find(out, kGoaway);
  }
  ASSERT_NE(goaway, nullptr) << "40 rapid resets and the connection went on";
  EXPECT_EQ(c.session.counters().resets_received, 11u);
  EXPECT_EQ(c.session.counters().floods, 1u);
  EXPECT_EQ(c.session.counters().connection_errors, 0u);
  EXPECT_TRUE(c.session.finished());
}

TEST(ServerSession, ResetsWithinTheRateAreNoFlood) {
  Connection c;
  std::string bytes = preface();
  for (std::uint32_t id = 1; id < 2 * 40; id += 2)
    bytes += frame(kHeaders, kEndHeaders, id, block(get())) + frame(kRstStream, 0, id, u32(NGHTTP2_CANCEL));
  EXPECT_TRUE(c.send(bytes));
  EXPECT_EQ(find(c.take(), kGoaway), nullptr);
  EXPECT_EQ(c.session.counters().resets_received, 40u);
  EXPECT_EQ(c.session.counters().floods, 0u);
}

TEST(ServerSession, APingFloodEndsTheConnection) {
  Settings s;
  s.max_outbound_ack = 10;
  Connection c(s);
  std::string bytes = preface();
  for (int i = 0; i < 50; ++i)
    bytes += frame(kPing, 0, 0, std::string(8, 'p'));
  expect_flood(c, bytes);
}

TEST(ServerSession, ASettingsFloodEndsTheConnection) {
  Settings s;
  s.max_outbound_ack = 10;
  Connection c(s);
  std::string bytes = preface();
  for (int i = 0; i < 50; ++i)
    bytes += frame(kSettings, 0, 0, "");
  expect_flood(c, bytes);
}

TEST(ServerSession, AContinuationFloodEndsTheConnection) {  // CVE-2024-27316's kind
  Connection c;
  std::string bytes = preface() + frame(kHeaders, kEndStream, 1, block(get()));
  for (int i = 0; i < 20; ++i)
    bytes += frame(kContinuation, 0, 1, block({{"x-more", "1"}}));
  expect_flood(c, bytes);
  EXPECT_TRUE(c.events.requests.empty());
}

TEST(ServerSession, AnHttp1RequestIsAConnectionError) {
  Connection c;
  EXPECT_FALSE(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.session.counters().connection_errors, 1u);
  c.take();
  EXPECT_TRUE(c.session.finished());
}

TEST(ServerSession, GracefulShutdownLetsOpenStreamsFinishAndTakesNoNewOne) {
  Connection c;
  ASSERT_TRUE(c.send(preface() + frame(kHeaders, kEndHeaders | kEndStream, 1, block(get()))));
  c.session.shut_down();
  const auto out_goaway = c.take();
  const Frame* goaway = find(out_goaway, kGoaway);
  ASSERT_NE(goaway, nullptr);
  EXPECT_EQ(goaway->error_code(), static_cast<std::uint32_t>(NGHTTP2_NO_ERROR));
  ASSERT_TRUE(c.send(frame(kHeaders, kEndHeaders | kEndStream, 3, block(get()))));
  EXPECT_EQ(c.events.requests.size(), 1u) << "a stream after GOAWAY is not taken";
  EXPECT_FALSE(c.session.finished());
  c.session.respond(1, 204, {}, true);
  c.take();
  EXPECT_TRUE(c.session.finished());
}

}  // namespace
}  // namespace metalgate::http2
