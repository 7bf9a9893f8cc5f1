// gzip for response bodies: the streamed compressor checked against zlib's own inflate, the Content-Type
// rule, and (through a proxy in the in-memory world, where the session applies HAProxy's rules) which
// requests and responses get compressed.
#include "engine/proxy/compression.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/proxy/proxy_world.h"

namespace metalgate::proxy {
namespace {

// Inflates a complete gzip stream; nullopt unless it is one, ending exactly at the end of `gz`.
std::optional<std::string> gunzip(const std::string& gz) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return std::nullopt;
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  char buf[4096];
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  const bool complete = rc == Z_STREAM_END && z.avail_in == 0;
  inflateEnd(&z);
  return complete ? std::optional<std::string>(out) : std::nullopt;
}

std::string compress_all(const std::vector<std::string>& pieces, int level = 1) {
  Compressor c(level);
  std::string out;
  for (const auto& p : pieces)
    c.compress(runtime::as_bytes(p), out);
  c.finish(out);
  return out;
}

std::string text_page(std::size_t size) {
  std::string s;
  for (int i = 0; s.size() < size; ++i)
    s += "<li class=\"item\">row " + std::to_string(i % 97) + " of the listing</li>\n";
  s.resize(size);
  return s;
}

std::uint32_t le32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
  return v;
}

// ------------------------------------------------------------------------------------------ Compressor

TEST(Compressor, BodyInPiecesInflatesBackToTheSameBytes) {
  const std::string page = text_page(50000);
  std::vector<std::string> pieces;
  for (std::size_t at = 0; at < page.size(); at += 1234)
    pieces.push_back(page.substr(at, 1234));
  const std::string gz = compress_all(pieces);
  EXPECT_EQ(gunzip(gz), page);
  EXPECT_LT(gz.size(), page.size() / 5) << "repetitive markup shrinks, even at level 1";
}

TEST(Compressor, OutputIsOneGzipMemberWithCrcAndLengthTrailer) {
  const std::string body = "hello, gzip";
  const std::string gz = compress_all({body});
  ASSERT_GE(gz.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_EQ(gz[2], 8) << "deflate";
  const auto crc = static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  EXPECT_EQ(le32(gz, gz.size() - 8), crc);
  EXPECT_EQ(le32(gz, gz.size() - 4), body.size());
}

TEST(Compressor, EveryPieceCanBeInflatedBeforeTheBodyEnds) {
  // Z_SYNC_FLUSH: a slow stream's client sees each piece as it comes, not when zlib's buffer fills.
  Compressor c;
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  struct End {
    z_stream& z;
    ~End() { inflateEnd(&z); }
  } end{z};
  std::string sent, seen;
  for (int i = 0; i < 5; ++i) {
    const std::string piece = "event " + std::to_string(i) + ": something happened\n";
    sent += piece;
    std::string out;
    c.compress(runtime::as_bytes(piece), out);
    ASSERT_FALSE(out.empty());
    z.next_in = reinterpret_cast<Bytef*>(out.data());
    z.avail_in = static_cast<uInt>(out.size());
    char buf[4096];
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      ASSERT_EQ(inflate(&z, Z_SYNC_FLUSH), Z_OK);
      seen.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_in > 0);
    EXPECT_EQ(seen, sent) << "after piece " << i;
  }
}

TEST(Compressor, EmptyBodyIsStillAValidGzipStreamAndEmptyPiecesAddNothing) {
  Compressor c;
  std::string out;
  c.compress({}, out);
  EXPECT_TRUE(out.empty());
  c.finish(out);
  EXPECT_EQ(gunzip(out), "");
  std::string more;
  c.compress({}, more);
  EXPECT_TRUE(more.empty());
}

TEST(Compressor, LargeIncompressibleBodyRoundTripsAcrossManyOutputBuffers) {
  std::string noise(300000, '\0');
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (auto& ch : noise) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ch = static_cast<char>(x);
  }
  const std::string gz = compress_all({noise.substr(0, 200000), noise.substr(200000)});
  EXPECT_GT(gz.size(), 16384u * 10) << "more than one 16 KiB output buffer per call";
  EXPECT_EQ(gunzip(gz), noise);
}

RC_GTEST_PROP(Compressor, AnyBytesInAnyPiecesRoundTripAtAnyLevel, ()) {
  const auto pieces = *rc::gen::container<std::vector<std::string>>(rc::gen::oneOf(
      rc::gen::arbitrary<std::string>(),
      rc::gen::map(rc::gen::inRange(0, 5000), [](int n) { return text_page(static_cast<std::size_t>(n)); })));
  const int level = *rc::gen::inRange(1, 10);
  std::string body;
  for (const auto& p : pieces)
    body += p;
  const auto back = gunzip(compress_all(pieces, level));
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == body);
}

// ------------------------------------------------------------------------------------------ content types

TEST(ContentTypeListed, MatchesAListedTypeIgnoringParametersAndCase) {
  const std::vector<std::string> types{"text/html", "application/javascript"};
  EXPECT_TRUE(content_type_listed("text/html", types));
  EXPECT_TRUE(content_type_listed("text/html; charset=utf-8", types));
  EXPECT_TRUE(content_type_listed("text/html;charset=utf-8", types));
  EXPECT_TRUE(content_type_listed("text/html ; charset=utf-8", types));
  EXPECT_TRUE(content_type_listed("Text/HTML", types));
  EXPECT_TRUE(content_type_listed("application/javascript", types));
}

TEST(ContentTypeListed, RefusesUnlistedTypesAndMerePrefixes) {
  const std::vector<std::string> types{"text/html", "text/plain"};
  EXPECT_FALSE(content_type_listed("image/png", types));
  EXPECT_FALSE(content_type_listed("text/css", types));
  EXPECT_FALSE(content_type_listed("text/", types));
  EXPECT_FALSE(content_type_listed("text/htmlx", types));
  EXPECT_FALSE(content_type_listed("", types));
  EXPECT_FALSE(content_type_listed("text/html", {}));
}

TEST(ContentTypeListed, AllowsATabBeforeTheParameters) {
  EXPECT_TRUE(content_type_listed("text/html\t; charset=utf-8", {"text/html"}));
}

// ------------------------------------------------------------------------------------------ through a proxy

std::string compressing_ingress() {
  return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: default\n"
         "  annotations:\n    haproxy.org/response-compress: \"true\"\n"
         "spec:\n  ingressClassName: haproxy\n  rules:\n"
         "  - host: app.example.com\n    http:\n      paths:\n"
         "      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n";
}

class CompressionThroughProxy : public ::testing::Test {
 protected:
  CompressionThroughProxy() {
    for (auto& [name, s] : w.servers) {
      s->options.body = page;
      s->options.content_type = "text/html; charset=utf-8";
    }
    w.start(compressing_ingress());
  }
  // Whether the response to a request with these extra headers came gzipped (and then inflates to the page).
  bool gzipped(const std::string& extra) {
    auto r = w.request(testing::get("app.example.com", "/", extra));
    EXPECT_TRUE(r);
    if (!r) return false;
    EXPECT_EQ(r->status, 200);
    if (r->get("content-encoding") != "gzip") {
      EXPECT_EQ(r->body, page);
      return false;
    }
    EXPECT_EQ(gunzip(r->body), page);
    return true;
  }

  testing::ProxyWorld w;
  const std::string page = text_page(6000);
};

TEST_F(CompressionThroughProxy, GzipIsUsedOnlyWhenTheClientAcceptsIt) {
  EXPECT_TRUE(gzipped("Accept-Encoding: gzip\r\n"));
  EXPECT_TRUE(gzipped("Accept-Encoding: br, gzip, deflate\r\n"));
  EXPECT_TRUE(gzipped("Accept-Encoding: GZip\r\n"));
  EXPECT_TRUE(gzipped("Accept-Encoding: gzip;q=0.5, identity\r\n"));
  EXPECT_FALSE(gzipped(""));
  EXPECT_FALSE(gzipped("Accept-Encoding: identity\r\n"));
  EXPECT_FALSE(gzipped("Accept-Encoding: br, deflate\r\n"));
  EXPECT_FALSE(gzipped("Accept-Encoding: x-gzip-not\r\n"));
}

TEST_F(CompressionThroughProxy, GzipWithQualityZeroIsRefused) {
  EXPECT_FALSE(gzipped("Accept-Encoding: gzip;q=0\r\n"));
  EXPECT_FALSE(gzipped("Accept-Encoding: gzip; q=0.000, identity\r\n"));
  EXPECT_FALSE(gzipped("Accept-Encoding: *, gzip;q=0\r\n")) << "an explicit refusal beats *";
  EXPECT_TRUE(gzipped("Accept-Encoding: *\r\n"));
  EXPECT_TRUE(gzipped("Accept-Encoding: gzip;q=0.001\r\n"));
}

TEST_F(CompressionThroughProxy, OnlyListedUnencodedSuccessfulResponsesAreCompressed) {
  const std::string accept = "Accept-Encoding: gzip\r\n";
  auto& servers = w.servers;
  auto set_all = [&](auto&& f) {
    for (auto& [name, s] : servers)
      f(s->options);
  };
  set_all([](auto& o) { o.content_type = "image/png"; });
  EXPECT_FALSE(gzipped(accept)) << "unlisted type";
  set_all([](auto& o) { o.content_type = "text/plain"; });
  EXPECT_TRUE(gzipped(accept)) << "listed by default";
  set_all([](auto& o) { o.extra_headers = {{"Cache-Control", "public, no-transform"}}; });
  EXPECT_FALSE(gzipped(accept)) << "no-transform";
  set_all([](auto& o) { o.extra_headers = {{"Content-Encoding", "br"}}; });
  auto r = w.request(testing::get("app.example.com", "/", accept));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get("content-encoding"), "br") << "already encoded: passed through as it is";
  EXPECT_EQ(r->body, page);
  set_all([](auto& o) {
    o.extra_headers.clear();
    o.status = 404;
  });
  r = w.request(testing::get("app.example.com", "/", accept));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_FALSE(r->has("content-encoding")) << "only 200-203 are compressed";
  set_all([](auto& o) { o.status = 203; });
  r = w.request(testing::get("app.example.com", "/", accept));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 203);
  EXPECT_EQ(r->get("content-encoding"), "gzip");
}

}  // namespace
}  // namespace metalgate::proxy
