// The HTTP/1 head parser: well-formed messages, and the request-smuggling vectors with metalgate's verdict
// for each (refused, or how the body is framed). Where HAProxy 2.6 decides otherwise, the differential test
// (tests/proxy/differential) measures it and docs/proxy.md's table says why metalgate differs.
#include "engine/http/parser.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/http/chunked.h"
#include "engine/http/message.h"

namespace metalgate::http {
namespace {

struct Parsed {
  ParseOutcome outcome;
  RequestHead head;
  ParseError error;
  std::string buffer;  // the views point here
};

std::unique_ptr<Parsed> parse(std::string text, Limits limits = {}) {
  auto p = std::make_unique<Parsed>();
  p->buffer = std::move(text);
  p->outcome = parse_request(p->buffer.data(), p->buffer.size(), limits, p->head, p->error);
  return p;
}

TEST(RequestParser, ParsesAnOrdinaryRequestWithViewsIntoTheBuffer) {
  auto p = parse("GET /a/b?x=1 HTTP/1.1\r\nHost: App.Example.com\r\nUser-Agent: t\r\n\r\nrest");
  ASSERT_EQ(p->outcome, ParseOutcome::kComplete) << p->error.reason;
  EXPECT_EQ(p->head.method, "GET");
  EXPECT_EQ(p->head.target, "/a/b?x=1");
  EXPECT_EQ(p->head.path(), "/a/b");
  EXPECT_EQ(p->head.host, "App.Example.com");
  EXPECT_EQ(p->head.headers.size(), 2u);
  EXPECT_EQ(p->head.head_length, p->buffer.size() - 4);
  EXPECT_EQ(p->head.facts.framing, BodyFraming::kNone);
  EXPECT_TRUE(p->head.facts.keep_alive);
  EXPECT_GE(p->head.host.data(), p->buffer.data());
  EXPECT_LT(p->head.host.data(), p->buffer.data() + p->buffer.size());
}

TEST(RequestParser, SaysIncompleteUntilTheBlankLine) {
  std::string full = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
  for (std::size_t n = 0; n < full.size(); ++n)
    EXPECT_EQ(parse(full.substr(0, n))->outcome, ParseOutcome::kIncomplete) << n;
  auto p = parse(full);
  ASSERT_EQ(p->outcome, ParseOutcome::kComplete);
  EXPECT_EQ(p->head.facts.framing, BodyFraming::kContentLength);
  EXPECT_EQ(p->head.facts.content_length, 3u);
}

TEST(RequestParser, KeepAliveFollowsVersionAndConnection) {
  EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")->head.facts.keep_alive);
  EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n")->head.facts.keep_alive);
  EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")->head.facts.keep_alive);
  auto up = parse(
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  EXPECT_TRUE(up->head.facts.upgrade);
  EXPECT_TRUE(parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
                  ->head.facts.expect_continue);
}

TEST(RequestParser, AWebSocketUpgradeWithoutItsKeyIsA400AsFromHaproxy) {
  auto p = parse("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  ASSERT_EQ(p->outcome, ParseOutcome::kError);
  EXPECT_EQ(p->error.status, 400);
  EXPECT_EQ(p->error.reason, "WebSocket Upgrade without Sec-WebSocket-Key");
  auto other = parse("GET /x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
  EXPECT_EQ(other->outcome, ParseOutcome::kComplete) << "only WebSocket has a key";
  auto no_connection = parse("GET /x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_EQ(no_connection->outcome, ParseOutcome::kComplete)
      << "no upgrade asked without Connection: upgrade";
}

TEST(RequestParser, AcceptsBareLineFeedsAsHaproxyDoes) {
  auto p = parse("GET / HTTP/1.1\nHost: a\n\n");
  ASSERT_EQ(p->outcome, ParseOutcome::kComplete) << p->error.reason;
  EXPECT_EQ(p->head.host, "a");
}

TEST(RequestParser, UnfoldsObsFoldInPlace) {
  auto p = parse("GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n  two\r\n\r\n");
  ASSERT_EQ(p->outcome, ParseOutcome::kComplete) << p->error.reason;
  auto v = find_header(p->head.headers, "x-long");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->find('\r'), std::string_view::npos);
  EXPECT_EQ(v->find('\n'), std::string_view::npos);
  EXPECT_EQ(v->substr(0, 3), "one");
  EXPECT_EQ(v->substr(v->size() - 3), "two");
}

TEST(RequestParser, AbsoluteFormGivesTheHost) {
  auto p = parse("GET http://other.example/p?q HTTP/1.1\r\nHost: ignored\r\n\r\n");
  ASSERT_EQ(p->outcome, ParseOutcome::kComplete);
  EXPECT_EQ(p->head.host, "other.example");
  EXPECT_EQ(p->head.path(), "/p");
}

TEST(RequestParser, EnforcesHeadSizeAndHeaderCountLimits) {
  Limits small;
  small.max_head_bytes = 64;
  auto big = parse("GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + std::string(100, 'x'), small);
  EXPECT_EQ(big->outcome, ParseOutcome::kError);
  EXPECT_EQ(big->error.status, 400);
  Limits few;
  few.max_headers = 3;
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 3; ++i)
    many += "X-" + std::to_string(i) + ": v\r\n";
  auto p = parse(many + "\r\n", few);
  EXPECT_EQ(p->outcome, ParseOutcome::kError);
  EXPECT_NE(p->error.reason.find("more than 3 headers"), std::string::npos);
}

// --------------------------------------------------------------------------------- smuggling vectors

struct Vector {
  const char* name;
  const char* request;  // head only
  bool refused;         // answered with `status`, never forwarded
  BodyFraming framing = BodyFraming::kNone;
  std::uint64_t length = 0;
  bool close_after = false;
  int status = 400;  // metalgate's answer when refused (501 where it differs from HAProxy: docs/proxy.md)
};

class Smuggling : public ::testing::TestWithParam<Vector> {};

TEST_P(Smuggling, IsRefusedOrFramedAsDocumented) {
  const Vector& v = GetParam();
  auto p = parse(v.request);
  if (v.refused) {
    EXPECT_EQ(p->outcome, ParseOutcome::kError) << v.name;
    EXPECT_EQ(p->error.status, v.status) << v.name;
    EXPECT_FALSE(p->error.reason.empty());
    return;
  }
  ASSERT_EQ(p->outcome, ParseOutcome::kComplete) << v.name << ": " << p->error.reason;
  EXPECT_EQ(p->head.facts.framing, v.framing) << v.name;
  EXPECT_EQ(p->head.facts.content_length, v.length) << v.name;
  EXPECT_EQ(p->head.facts.close_after, v.close_after) << v.name;
}

INSTANTIATE_TEST_SUITE_P(
    Vectors, Smuggling,
    ::testing::Values(
        Vector{"two different Content-Length",
               "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", true},
        Vector{"two equal Content-Length",
               "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", false,
               BodyFraming::kContentLength, 5},
        Vector{"Content-Length list of equal values",
               "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", false,
               BodyFraming::kContentLength, 5},
        Vector{"Content-Length list of different values",
               "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", true},
        Vector{"negative Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", true},
        Vector{"signed Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", true},
        Vector{"hex Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", true},
        Vector{"overflowing Content-Length",
               "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", true},
        Vector{"empty Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", true},
        Vector{"CL and TE: TE wins, close after",
               "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false,
               BodyFraming::kChunked, 0, true},
        Vector{"TE chunked twice in one header",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", true},
        Vector{
            "TE chunked in two headers",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            true},
        Vector{"TE not ending in chunked",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", true},
        Vector{"TE gzip only", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", true},
        Vector{"TE with a lookalike coding",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", true},
        Vector{"TE gzip then chunked",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", true,
               BodyFraming::kNone, 0, false, 501},
        Vector{"TE deflate and chunked on two lines",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n",
               true, BodyFraming::kNone, 0, false, 501},
        Vector{"TE chunked then deflate on two lines",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: deflate\r\n\r\n",
               true},
        Vector{"TE empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", true},
        Vector{"TE list with empty elements",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked,\r\n\r\n", false,
               BodyFraming::kChunked},
        Vector{"TE with tab OWS", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\r\n\r\n", false,
               BodyFraming::kChunked},
        Vector{"TE in upper case", "POST / HTTP/1.1\r\nHost: a\r\nTRANSFER-ENCODING: CHUNKED\r\n\r\n", false,
               BodyFraming::kChunked},
        Vector{"TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", true},
        Vector{"space before the colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n",
               true},
        Vector{"fold before the first header",
               "POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n\r\n", true},
        Vector{"non-token header name", "GET / HTTP/1.1\r\nHost: a\r\nX@Y: 1\r\n\r\n", true},
        Vector{"control byte in a header value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01z\r\n\r\n", true},
        Vector{"bare CR in a header value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n", true},
        Vector{"control byte in the URI", "GET /a\x01z HTTP/1.1\r\nHost: a\r\n\r\n", true},
        Vector{"DEL in the URI", "GET /a\x7fz HTTP/1.1\r\nHost: a\r\n\r\n", true},
        Vector{"non-ASCII in the URI", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", true},
        Vector{"space inside the URI", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", true},
        Vector{"two different Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", true},
        Vector{"two equal Host headers", "GET / HTTP/1.1\r\nHost: a\r\nhost: A\r\n\r\n", false},
        Vector{"HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", true},
        Vector{"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", false},
        Vector{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", true},
        Vector{"a later minor version read as 1.1", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", false},
        Vector{"a version that is not a digit", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", true},
        Vector{"lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", true},
        Vector{"method with a non-token byte", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", true},
        Vector{"two spaces after the method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", true}),
    [](const ::testing::TestParamInfo<Vector>& param_info) {
      std::string n = param_info.param.name;
      for (auto& c : n)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

// A head that is already wrong is refused when its bad byte arrives, without waiting for the blank line.
TEST(RequestParser, RefusesAPartialHeadAtItsFirstBadByte) {
  for (std::string bad : {"GET /a b", "GET / HTTP/1.1\r\nHost: a\r\nX@Y", "GET / HTTP/1.1\r\nHost: a\rX",
                          "GET / HTTP/1.1\r\nHost : a", "GET / HTTX", "G(T", "GET / HTTP/1.1\r\nX: a\x01"}) {
    auto p = parse(bad);
    EXPECT_EQ(p->outcome, ParseOutcome::kError) << bad;
    EXPECT_EQ(p->error.status, 400) << bad;
  }
}

TEST(RequestParser, APartialHeadThatIsRightSoFarIsIncomplete) {
  const std::string full = "POST /x HTTP/1.1\r\nHost: a\r\nX-Fold: one\r\n two\r\nContent-Length: 3\r\n\r\n";
  for (std::size_t n = 0; n < full.size(); ++n) {
    auto p = parse(full.substr(0, n));
    EXPECT_EQ(p->outcome, ParseOutcome::kIncomplete) << n << ": " << p->error.reason;
    EXPECT_EQ(p->buffer, full.substr(0, n)) << "a partial head is never changed in place";
  }
}

// NUL needs an explicit length; the table above goes through a C string, so check it here as well.
TEST(RequestParser, RefusesNulInAValue) {
  auto p = parse(std::string("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n", 37));
  EXPECT_EQ(p->outcome, ParseOutcome::kError);
  EXPECT_NE(p->error.reason.find("NUL"), std::string::npos);
}

// --------------------------------------------------------------------------------- responses

TEST(ResponseParser, FramesBodiesAsRfc9112Says) {
  auto frame = [](std::string text, bool head = false) {
    ResponseHead r;
    ParseError e;
    EXPECT_EQ(parse_response(text.data(), text.size(), {}, head, r, e), ParseOutcome::kComplete) << e.reason;
    return r;
  };
  EXPECT_EQ(frame("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n").facts.framing,
            BodyFraming::kContentLength);
  EXPECT_EQ(frame("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").facts.framing,
            BodyFraming::kChunked);
  EXPECT_EQ(frame("HTTP/1.1 200 OK\r\n\r\n").facts.framing, BodyFraming::kUntilClose);
  EXPECT_FALSE(frame("HTTP/1.1 200 OK\r\n\r\n").facts.keep_alive);
  EXPECT_EQ(frame("HTTP/1.1 204 No Content\r\n\r\n").facts.framing, BodyFraming::kNone);
  EXPECT_EQ(frame("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n").facts.framing,
            BodyFraming::kNone);
  EXPECT_EQ(frame("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true).facts.framing, BodyFraming::kNone);
  EXPECT_EQ(frame("HTTP/1.1 100 Continue\r\n\r\n").status, 100);
  EXPECT_EQ(frame("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n").facts.keep_alive, false);
}

TEST(ResponseParser, RefusesMalformedResponsesWith502) {
  for (std::string bad : {"HTTP/1.1 2x0 OK\r\n\r\n", "SPDY/3 200 OK\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"}) {
    ResponseHead r;
    ParseError e;
    EXPECT_EQ(parse_response(bad.data(), bad.size(), {}, false, r, e), ParseOutcome::kError) << bad;
    EXPECT_EQ(e.status, 502);
  }
}

// --------------------------------------------------------------------------------- chunked bodies

TEST(ChunkedDecoder, FindsTheEndAndTheDataAcrossAnySplit) {
  const std::string body = "5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  for (std::size_t split = 0; split <= body.size(); ++split) {
    ChunkedDecoder d;
    std::string data;
    auto sink = [&](runtime::ByteView v) { data.append(runtime::as_chars(v)); };
    auto r1 = d.feed(runtime::as_bytes(std::string_view(body).substr(0, split)), sink);
    ASSERT_FALSE(r1.error) << split;
    std::size_t consumed = r1.consumed;
    if (!r1.done) {
      auto r2 = d.feed(runtime::as_bytes(std::string_view(body).substr(split)), sink);
      ASSERT_FALSE(r2.error) << split << " " << r2.why;
      ASSERT_TRUE(r2.done) << split;
      consumed += r2.consumed;
    }
    EXPECT_EQ(data, "hello world!");
    EXPECT_EQ(consumed, body.size() - 4) << split;
  }
}

TEST(ChunkedDecoder, RefusesBadSizesAndOverlongData) {
  for (std::string bad : {"g\r\n", "\r\n", "10000000000000000\r\n", "3\r\nabcd\r\n", "3\r\nabc\rX"}) {
    ChunkedDecoder d;
    auto r = d.feed(runtime::as_bytes(bad), [](runtime::ByteView) {});
    EXPECT_TRUE(r.error) << bad;
  }
}

// Each case is refused at its first byte outside RFC 9112's grammar; `at` is where that byte is.
TEST(ChunkedDecoder, RefusesAnythingOutsideTheGrammarWhereItShows) {
  struct Case {
    std::string body;
    std::size_t at;
  };
  for (const Case& c : std::vector<Case>{
           {"2 erfrferferf\r\nab\r\n0\r\n\r\n", 2},  // junk after the size, no ';'
           {"2\r\nab\r\n0 rrrr\r\n\r\n", 9},          // the same on the last chunk
           {"2;\r\nab\r\n", 2},                         // ';' without a name
           {"2;a=\r\n", 4},                               // '=' without a value
           {"2;a=b c\r\n", 6},                            // a value then junk
           {"2;a=\"x\r\n", 6},                            // a quoted string not closed before CR
           {"2;a=\"x\"y\r\n", 7},                         // junk after a quoted string
           {"2;a@=1\r\n", 3},                             // not a token
           {"2;a=\"\\\x01\"\r\n", 6},                     // a quoted-pair of a control byte
           {"0\r\nX : 1\r\n\r\n", 4},                     // space before a trailer's colon
           {"0\r\n folded\r\n\r\n", 3},                   // obs-fold in trailers
           {"0\r\nX: a\x01\r\n\r\n", 7},                  // a control byte in a trailer value
           {"0\r\nX: a\r\rY", 8},                          // a bare CR ending a trailer
       }) {
    ChunkedDecoder d;
    auto r = d.feed(runtime::as_bytes(c.body), [](runtime::ByteView) {});
    EXPECT_TRUE(r.error) << c.body;
    EXPECT_EQ(r.consumed, c.at) << c.body << ": " << r.why;
  }
}

TEST(ChunkedDecoder, AcceptsExtensionsOfEveryFormTheGrammarAllows) {
  const std::string body =
      "3;a\r\nabc\r\n"
      "3 ; a = b ;c=\"q \\\" ;\"\t\r\ndef\r\n"
      "1;x=\"\"\nz\n"
      "0;last=1\r\nTrailer-A:  one two \r\nB:\r\n\r\n";
  ChunkedDecoder d;
  std::string data;
  auto r = d.feed(runtime::as_bytes(body), [&](runtime::ByteView v) { data.append(runtime::as_chars(v)); });
  ASSERT_FALSE(r.error) << r.why << " at " << r.consumed;
  EXPECT_TRUE(r.done);
  EXPECT_EQ(data, "abcdefz");
  EXPECT_EQ(d.trailers(), "Trailer-A: one two\r\nB: \r\n");
}

TEST(ChunkedDecoder, ReframesIntoCanonicalFramingWhateverTheSplit) {
  const std::string body = "3;a=1\r\nabc\r\n00004\nwxyz\n0\r\nT: v\r\n\r\nNEXT";
  for (std::size_t split = 0; split <= body.size(); ++split) {
    ChunkedDecoder d;
    std::string out;
    auto r1 = d.reframe(runtime::as_bytes(std::string_view(body).substr(0, split)), out);
    ASSERT_FALSE(r1.error);
    if (!r1.done) {
      ASSERT_TRUE(d.reframe(runtime::as_bytes(std::string_view(body).substr(split)), out).done);
    }
    ChunkedDecoder again;
    std::string data;
    auto r = again.feed(runtime::as_bytes(out), [&](runtime::ByteView v) { data.append(runtime::as_chars(v)); });
    EXPECT_TRUE(r.done && r.consumed == out.size()) << out;
    EXPECT_EQ(data, "abcwxyz") << split;
    EXPECT_EQ(again.trailers(), "T: v\r\n");
    EXPECT_EQ(out.find(';'), std::string::npos) << "extensions are not forwarded";
    EXPECT_EQ(out.substr(out.size() - 11), "0\r\nT: v\r\n\r\n");
  }
}

TEST(ChunkedDecoder, CheckLooksAheadWithoutMovingTheDecoder) {
  ChunkedDecoder d;
  EXPECT_TRUE(d.check(runtime::as_bytes(std::string_view("2 x\r\n"))).error);
  EXPECT_TRUE(d.check(runtime::as_bytes(std::string_view("1\r\na\r\n0\r\n\r\n"))).done);
  EXPECT_FALSE(d.done());
  std::string data;
  auto r = d.feed(runtime::as_bytes(std::string_view("1\r\nb\r\n0\r\n\r\n")),
                  [&](runtime::ByteView v) { data.append(runtime::as_chars(v)); });
  EXPECT_TRUE(r.done);
  EXPECT_EQ(data, "b");
}

}  // namespace
}  // namespace metalgate::http
