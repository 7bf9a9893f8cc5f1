// The controller's CORS rules on their own: which headers a request's Origin earns, read as HAProxy reads it,
// and the annotation values as the controller normalises them.
#include "engine/proxy/cors.h"

#include <gtest/gtest.h>

namespace metalgate::proxy {
namespace {

std::shared_ptr<const Cors> cors(CorsSettings s) {
  std::string error;
  auto c = Cors::make(std::move(s), error);
  EXPECT_TRUE(c) << error;
  return c;
}

std::string shown(const std::vector<HeaderSetting>& headers) {
  std::string out;
  for (const auto& h : headers)
    out += h.name + ": " + h.value + "\n";
  return out;
}

TEST(Cors, TheDefaultsAllowEveryOriginMethodAndHeaderForFiveSeconds) {
  EXPECT_EQ(shown(cors({})->response_headers("https://app.example")),
            "Access-Control-Allow-Origin: *\n"
            "Access-Control-Allow-Methods: *\n"
            "Access-Control-Allow-Headers: *\n"
            "Access-Control-Max-Age: 5\n");
}

TEST(Cors, ARequestWithoutOriginGetsNoHeader) {
  EXPECT_TRUE(cors({})->response_headers(std::nullopt).empty());
}

TEST(Cors, AMatchingOriginIsEchoedAndCredentialsAllowedWhenAsked) {
  CorsSettings s;
  s.allow_origin =
      "^https://(.+\\.)?(example-1\\.com|example-2\\.com)(:\\d{1,5})?$";  // the controller's example
  s.allow_credentials = true;
  s.max_age_seconds = 60;
  auto c = cors(s);
  EXPECT_EQ(shown(c->response_headers("https://www.example-2.com:8443")),
            "Access-Control-Allow-Origin: https://www.example-2.com:8443\n"
            "Access-Control-Allow-Methods: *\n"
            "Access-Control-Allow-Headers: *\n"
            "Access-Control-Max-Age: 60\n"
            "Access-Control-Allow-Credentials: true\n");
  EXPECT_TRUE(c->response_headers("https://example-3.com").empty()) << "no header at all for another origin";
  EXPECT_TRUE(c->response_headers("https://example-1.com:123456").empty());
}

TEST(Cors, PatternsAreUnanchoredAndSpaceSeparatedAsHaproxysRegMatch) {
  CorsSettings s;
  s.allow_origin = "https://a\\.com https://b\\.com";
  auto c = cors(s);
  EXPECT_FALSE(c->response_headers("https://b.com").empty());
  EXPECT_FALSE(c->response_headers("https://a.com.evil.net").empty()) << "unanchored: write ^ and $";
  EXPECT_TRUE(c->response_headers("http://a.com").empty());
}

TEST(Cors, TheOriginIsTheLastValueOfTheLastOriginHeader) {
  std::vector<http::Header> headers = {{"Host", "x"}, {"origin", " https://a.com , https://b.com "}};
  EXPECT_EQ(Cors::request_origin(headers), "https://b.com");
  headers.push_back({"Origin", "https://c.com"});
  EXPECT_EQ(Cors::request_origin(headers), "https://c.com");
  EXPECT_EQ(Cors::request_origin({{"Origin", ""}}), "") << "an empty Origin is present";
  EXPECT_EQ(Cors::request_origin({{"Host", "x"}}), std::nullopt);
}

TEST(Cors, MethodsAreUpperCasedJoinedAndChecked) {
  std::string error;
  EXPECT_EQ(normalize_cors_methods(" get,Post ,  PATCH", error), "GET, POST, PATCH");
  EXPECT_EQ(normalize_cors_methods(" * ", error), "*");
  EXPECT_FALSE(normalize_cors_methods("GET, PURGE", error));
  EXPECT_EQ(error.rfind("unsupported HTTP method 'PURGE'", 0), 0u) << error;
  EXPECT_EQ(normalize_cors_headers(" X-Custom-Header, Upgrade-Insecure-Requests "),
            "X-Custom-Header,Upgrade-Insecure-Requests");
}

TEST(Cors, PcreShorthandsBecomePosixAndPcreOnlyConstructsAreRefused) {
  std::string error;
  EXPECT_EQ(posix_from_pcre("^https://[\\w.]+:\\d+$", error), std::nullopt) << "\\w in brackets is PCRE only";
  EXPECT_EQ(posix_from_pcre("^https://[a-z\\.]+:\\d+\\D$", error), "^https://[a-z.]+:[0-9]+[^0-9]$");
  EXPECT_EQ(posix_from_pcre("[\\d]", error), "[0-9]");
  EXPECT_FALSE(posix_from_pcre("(?i)example", error));
  EXPECT_FALSE(posix_from_pcre("a.*?b", error));
  EXPECT_FALSE(posix_from_pcre("[a\\]]", error));
  CorsSettings s;
  s.allow_origin = "https://(?=x)";
  EXPECT_FALSE(Cors::make(s, error));
  EXPECT_NE(error.find("POSIX"), std::string::npos) << error;
  s.allow_origin = "https://(a";
  EXPECT_FALSE(Cors::make(s, error)) << "an unbalanced group";
}

}  // namespace
}  // namespace metalgate::proxy
