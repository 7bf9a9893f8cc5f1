// path-rewrite's rules on their own: HAProxy's replace-path semantics over POSIX extended regular
// expressions.
#include "engine/proxy/path_rewrite.h"

#include <gtest/gtest.h>

namespace metalgate::proxy {
namespace {

std::shared_ptr<const PathRewrite> rule(const std::string& regex, const std::string& format) {
  std::string error;
  auto r = PathRewrite::make(regex, format, error);
  EXPECT_TRUE(r) << error;
  return r;
}

TEST(PathRewrite, AMatchReplacesTheWholePathWithTheFormatAndItsGroups) {
  EXPECT_EQ(rule("(.*)", "/foo\\1")->apply("/bar"), "/foo/bar");            // add a prefix
  EXPECT_EQ(rule("/foo/(.*)", "/\\1")->apply("/foo/bar/baz"), "/bar/baz");  // strip one
  EXPECT_EQ(rule("([^?]*)(\\?(.*))?", "\\1/foo\\2")->apply("/bar"), "/bar/foo");
  EXPECT_EQ(rule("(.*)", "/")->apply("/any/thing"), "/");
  // Unanchored, as replace-path: what precedes the match goes too (the format is the whole new path).
  EXPECT_EQ(rule("/foo/(.*)", "/\\1")->apply("/x/foo/bar"), "/bar");
  EXPECT_EQ(rule("/(a)(b)?", "/\\2\\1\\x41\\q")->apply("/a"), "/aAq") << "unset groups are empty";
}

TEST(PathRewrite, NoMatchLeavesThePath) {
  EXPECT_FALSE(rule("^/api/(.*)", "/\\1")->apply("/web/x"));
}

TEST(PathRewrite, LongPathsDoNotExhaustTheStack) {
  const std::string path = "/" + std::string(1 << 20, 'a');
  auto out = rule("(.*)", "/p\\1")->apply(path);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->size(), path.size() + 2);
}

TEST(PathRewrite, RefusesPcreOnlyConstructsBadRegexesAndFormatsThatBreakTheRequestLine) {
  std::string error;
  EXPECT_FALSE(PathRewrite::make("/v\\d+/(.*)", "/\\1", error));
  EXPECT_NE(error.find("\\d"), std::string::npos) << error;
  EXPECT_FALSE(PathRewrite::make("(?i)/api", "/", error));
  EXPECT_FALSE(PathRewrite::make("/(.*?)/x", "/", error));
  EXPECT_FALSE(PathRewrite::make("/(unclosed", "/", error));
  EXPECT_NE(error.find("POSIX"), std::string::npos) << error;
  EXPECT_FALSE(PathRewrite::make("(.*)", "/a\\x20b", error)) << "a space would split the request line";
  EXPECT_FALSE(PathRewrite::make("(.*)", "/a\\x0d\\x0a", error));
  // Inside a bracket expression those characters are plain members.
  EXPECT_TRUE(PathRewrite::make("/[?*+](.*)", "/\\1", error)) << error;
  EXPECT_TRUE(PathRewrite::make("/[[:digit:]]+/(.*)", "/\\1", error)) << error;
}

TEST(PathRewrite, WithPathKeepsWhatSurroundsThePath) {
  const std::string_view origin = "/old/x?q=1&r=2";
  EXPECT_EQ(with_path(origin, origin.substr(0, 6), "/new"), "/new?q=1&r=2");
  const std::string_view absolute = "http://app.example.com/old?q";
  EXPECT_EQ(with_path(absolute, absolute.substr(22, 4), "/new"), "http://app.example.com/new?q");
  EXPECT_EQ(with_path("http://app.example.com?q", "/", "/new"), "http://app.example.com/new?q");
}

}  // namespace
}  // namespace metalgate::proxy
