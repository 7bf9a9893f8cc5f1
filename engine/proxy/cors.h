// The controller's CORS annotations (its resSetCORS.go), per route. With cors-enable, a request that presents
// an Origin header gets, on whatever answers it (the server's response or the proxy's own: a 403, a 401, the
// preflight 204), the headers HAProxy's `http-after-response set-header` rules set:
//   Access-Control-Allow-Origin       "*" when cors-allow-origin is "*", else the request's Origin when one
//   of
//                                     the cors-allow-origin patterns matches it (and then no CORS header at
//                                     all when none does)
//   Access-Control-Allow-Methods      cors-allow-methods ("*", or the listed methods upper-cased, ",
//   "-joined) Access-Control-Allow-Headers      cors-allow-headers (white space removed)
//   Access-Control-Max-Age            cors-max-age in whole seconds
//   Access-Control-Allow-Credentials  "true", only with cors-allow-credentials "true"
// `set-header` replaces a header of that name the server sent. cors-respond-to-options (the controller's code
// has it, its documentation not) answers every OPTIONS request of the route with 204 itself.
//
// cors-allow-origin patterns are HAProxy's `-m reg` patterns: space-separated regular expressions, any of
// which may match anywhere in the Origin (unanchored unless written with ^ and $). Run as POSIX extended
// regular expressions (glibc's regcomp, as path-rewrite); \d is read as [0-9] and the PCRE-only constructs
// glibc would misread are refused. Sans I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/http/message-t.h"
#include "engine/proxy/proxy_config-t.h"

namespace metalgate::proxy {

struct CorsSettings {
  std::string allow_origin = "*";   // "*", or space-separated regular expressions
  std::string allow_methods = "*";  // as normalize_cors_methods returns it
  std::string allow_headers = "*";  // as normalize_cors_headers returns it
  std::int64_t max_age_seconds = 5;
  bool allow_credentials = false;
  bool respond_to_options = false;
};

class Cors {
 public:
  // The route's CORS rules; nullptr with `error` set when an origin pattern cannot be used.
  static std::shared_ptr<const Cors> make(CorsSettings settings, std::string& error);
  ~Cors();
  Cors(const Cors&) = delete;
  Cors& operator=(const Cors&) = delete;

  // The Origin a request presents, read as HAProxy's req.hdr(origin): the last comma-separated value of the
  // last Origin header, white space trimmed (possibly empty); nullopt when the request has no Origin header.
  static std::optional<std::string_view> request_origin(const std::vector<http::Header>& headers);

  // The headers every answer to a request presenting `origin` gets (none without an Origin, or when patterns
  // are set and none matches it). Names are in the controller's spelling.
  std::vector<HeaderSetting> response_headers(std::optional<std::string_view> origin) const;

  // Whether the proxy answers an OPTIONS request of the route itself, with 204 (cors-respond-to-options).
  bool answers_preflight() const { return settings_.respond_to_options; }
  const CorsSettings& settings() const { return settings_; }

 private:
  Cors() = default;
  bool origin_allowed(std::string_view origin) const;

  struct Pattern;
  CorsSettings settings_;
  std::vector<std::unique_ptr<Pattern>> patterns_;  // empty: "*"
};

// cors-allow-methods as the controller writes it: "*" stays; otherwise the comma-separated methods with white
// space removed, upper-cased and joined with ", ". nullopt with `error` naming a method that is not one of
// GET, POST, PUT, DELETE, HEAD, CONNECT, OPTIONS, TRACE, PATCH.
std::optional<std::string> normalize_cors_methods(std::string_view value, std::string& error);

// cors-allow-headers as the controller writes it: every white space character removed.
std::string normalize_cors_headers(std::string_view value);

// A PCRE pattern as a POSIX extended one: \d and \D become bracket expressions, an escaped character in a
// bracket expression the character itself. nullopt with `error` for what POSIX would read otherwise or refuse
// (lookarounds, lazy quantifiers, \h, \p…; an escaped ']', '-' or '^' in a bracket expression).
std::optional<std::string> posix_from_pcre(std::string_view re, std::string& error);

}  // namespace metalgate::proxy
