#include "engine/proxy/cors.h"

#include <regex.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <sstream>

#include "engine/http/message.h"

namespace metalgate::proxy {

namespace {

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

// One escaped character `e` inside a bracket expression, appended to `out`; false when POSIX cannot say it
// there as it stands.
bool bracket_escape(char e, std::string& out, std::string& error) {
  if (e == 'd') {
    out += "0-9";
  } else if (e == ']' || e == '-' || e == '^') {
    error = std::string("\\") + e + " in a bracket expression (write it unescaped, ']' first or '-' last)";
    return false;
  } else if (std::isalnum(static_cast<unsigned char>(e))) {
    error = std::string("\\") + e + " in a bracket expression (PCRE only)";
    return false;
  } else {
    out += e;  // \. \\ \/ …: the character itself
  }
  return true;
}

// A regcomp'd pattern, freed with it.
struct Compiled {
  regex_t re{};
  bool live = false;
  ~Compiled() {
    if (live) regfree(&re);
  }
};

}  // namespace

std::optional<std::string> posix_from_pcre(std::string_view re, std::string& error) {
  std::string out;
  bool bracket = false;
  for (std::size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    const char next = i + 1 < re.size() ? re[i + 1] : '\0';
    if (bracket) {
      if (c == '\\' && next != '\0') {
        if (!bracket_escape(next, out, error)) return std::nullopt;
        ++i;
        continue;
      }
      if (c == ']') bracket = false;
      out += c;
      continue;
    }
    if (c == '\\' && next == 'd') {
      out += "[0-9]", ++i;
    } else if (c == '\\' && next == 'D') {
      out += "[^0-9]", ++i;
    } else if (c == '\\' && next != '\0' && std::strchr("hHvVRKpPQEAzZGNX", next)) {
      error = std::string("\\") + next + " (PCRE only; write a bracket expression)";
      return std::nullopt;
    } else if (c == '\\') {
      out += c;
      if (next != '\0') out += next, ++i;
    } else if (c == '(' && next == '?') {
      error = "(? (PCRE groups, lookarounds and options)";
      return std::nullopt;
    } else if ((c == '*' || c == '+' || c == '?' || c == '}') && (next == '?' || next == '+')) {
      error = std::string{c, next} + " (PCRE lazy or possessive quantifier)";
      return std::nullopt;
    } else if (c == '[') {
      bracket = true;
      out += c;
      if (next == '^') out += next, ++i;
      if (i + 1 < re.size() && re[i + 1] == ']') out += ']', ++i;  // a leading ']' is a member
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> normalize_cors_methods(std::string_view value, std::string& error) {
  static constexpr std::array<std::string_view, 9> kMethods = {
      "GET", "POST", "PUT", "DELETE", "HEAD", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  std::string compact = normalize_cors_headers(value);
  if (compact == "*") return compact;
  std::string out;
  std::istringstream in(compact);
  for (std::string method; std::getline(in, method, ',');) {
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) {
      error = "unsupported HTTP method '" + method + "' (GET, POST, PUT, DELETE, HEAD, CONNECT, OPTIONS, " +
              "TRACE, PATCH)";
      return std::nullopt;
    }
    if (!out.empty()) out += ", ";
    out += method;
  }
  if (out.empty()) {
    error = "no method is listed";
    return std::nullopt;
  }
  return out;
}

std::string normalize_cors_headers(std::string_view value) {
  std::string out;
  for (char c : value)
    if (!is_space(c)) out += c;
  return out;
}

struct Cors::Pattern {
  Compiled compiled;
};

Cors::~Cors() = default;

std::shared_ptr<const Cors> Cors::make(CorsSettings settings, std::string& error) {
  std::shared_ptr<Cors> cors(new Cors());
  if (settings.allow_origin != "*") {
    std::istringstream words(settings.allow_origin);
    for (std::string word; words >> word;) {
      std::optional<std::string> posix = posix_from_pcre(word, error);
      if (!posix) {
        error = "the origin pattern '" + word + "' uses " + error +
                "; metalgate matches POSIX extended regular expressions";
        return nullptr;
      }
      auto pattern = std::make_unique<Pattern>();
      if (int rc = regcomp(&pattern->compiled.re, posix->c_str(), REG_EXTENDED | REG_NOSUB); rc != 0) {
        std::array<char, 256> text{};
        regerror(rc, &pattern->compiled.re, text.data(), text.size());
        error = "'" + word + "' is not a POSIX extended regular expression: " + text.data();
        return nullptr;
      }
      pattern->compiled.live = true;
      cors->patterns_.push_back(std::move(pattern));
    }
    if (cors->patterns_.empty()) settings.allow_origin = "*";  // only white space: the default
  }
  cors->settings_ = std::move(settings);
  return cors;
}

std::optional<std::string_view> Cors::request_origin(const std::vector<http::Header>& headers) {
  std::optional<std::string_view> last;
  for (const http::Header& h : headers)
    if (http::equals_ignore_case(h.name, "origin")) last = h.value;
  if (!last) return std::nullopt;
  const std::size_t comma = last->rfind(',');
  return trimmed(comma == std::string_view::npos ? *last : last->substr(comma + 1));
}

bool Cors::origin_allowed(std::string_view origin) const {
  const std::string subject(origin);  // regexec wants a NUL-terminated string
  return std::any_of(patterns_.begin(), patterns_.end(), [&](const auto& p) {
    return regexec(&p->compiled.re, subject.c_str(), 0, nullptr, 0) == 0;
  });
}

std::vector<HeaderSetting> Cors::response_headers(std::optional<std::string_view> origin) const {
  std::vector<HeaderSetting> out;
  if (!origin) return out;
  if (patterns_.empty()) {
    out.push_back({"Access-Control-Allow-Origin", "*"});
  } else if (origin_allowed(*origin)) {
    out.push_back({"Access-Control-Allow-Origin", std::string(*origin)});
  } else {
    return out;  // the controller's later rules share the origin condition
  }
  out.push_back({"Access-Control-Allow-Methods", settings_.allow_methods});
  out.push_back({"Access-Control-Allow-Headers", settings_.allow_headers});
  out.push_back({"Access-Control-Max-Age", std::to_string(settings_.max_age_seconds)});
  if (settings_.allow_credentials) out.push_back({"Access-Control-Allow-Credentials", "true"});
  return out;
}

}  // namespace metalgate::proxy
