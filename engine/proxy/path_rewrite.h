// The controller's path-rewrite: each rule is HAProxy's `http-request replace-path REGEX FORMAT`. When REGEX
// matches anywhere in the request's path (the part before '?'; the query string is kept), the whole path
// becomes FORMAT, where \0..\9 stand for the match and its groups, \xHH for a byte and \c for c. A rule of
// one word is `replace-path (.*) WORD`: every path becomes WORD.
//
// Regular expressions are POSIX extended ones run by the C library's regcomp/regexec (glibc): no new
// dependency and, unlike libstdc++'s std::regex, no recursion per input character (std::regex overflows the
// stack on a 16 KiB path). HAProxy uses PCRE; what differs is in docs/proxy.md (path-rewrite).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace metalgate::proxy {

class PathRewrite {
 public:
  // A rule from its regular expression and format; an error text (the regex's error, a PCRE-only construct,
  // a format that would write a byte a path may not hold) instead when they cannot be used.
  static std::shared_ptr<const PathRewrite> make(const std::string& regex, std::string format,
                                                 std::string& error);
  ~PathRewrite();
  PathRewrite(const PathRewrite&) = delete;
  PathRewrite& operator=(const PathRewrite&) = delete;

  // The new path when the rule's regex matches `path`, else nullopt (the path stays).
  std::optional<std::string> apply(std::string_view path) const;

  const std::string& regex() const { return regex_text_; }
  const std::string& format() const { return format_; }

 private:
  PathRewrite() = default;
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
  std::string regex_text_;
  std::string format_;
};

// The target a request is forwarded with once `rewritten_path` replaced the path of `target` (origin-form
// "/p?q" or absolute-form "http://h/p?q"): what came before the path and the query string are kept.
std::string with_path(std::string_view target, std::string_view path, std::string_view rewritten_path);

}  // namespace metalgate::proxy
