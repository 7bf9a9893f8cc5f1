#include "engine/proxy/path_rewrite.h"

#include <regex.h>

#include <array>
#include <cctype>
#include <cstring>
#include <functional>

namespace metalgate::proxy {

namespace {

constexpr std::size_t kGroups = 10;  // \0..\9

// A PCRE construct that POSIX extended regular expressions read otherwise or refuse, found in `re`: refused
// with its name rather than misread (glibc takes "\d" for a plain 'd'). Empty when there is none.
std::string pcre_only(std::string_view re) {
  bool bracket = false;
  for (std::size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    const char next = i + 1 < re.size() ? re[i + 1] : '\0';
    if (bracket) {
      if (c == '[' && (next == ':' || next == '.' || next == '=')) {
        std::size_t end = re.find(std::string{next, ']'}, i + 2);
        if (end != std::string_view::npos) i = end + 1;
      } else if (c == ']') {
        bracket = false;
      }
      continue;
    }
    if (c == '\\') {
      if (next != '\0' && std::strchr("dDhHvVRKpPQEAzZGNX", next))
        return std::string("\\") + next + " (PCRE only; write a bracket expression such as [0-9])";
      ++i;
    } else if (c == '[') {
      bracket = true;
      if (next == '^') ++i;
      if (i + 1 < re.size() && re[i + 1] == ']') ++i;  // a leading ']' is a member
    } else if (c == '(' && next == '?') {
      return "(? (PCRE groups, lookarounds and options)";
    } else if ((c == '*' || c == '+' || c == '?' || c == '}') && (next == '?' || next == '+')) {
      return std::string{c, next} + " (PCRE lazy or possessive quantifier)";
    }
  }
  return {};
}

// HAProxy's exp_replace: the format with \N replaced by group N (nothing when it did not take part), \xHH by
// that byte and \c by c.
std::string expand(std::string_view format, std::string_view subject, const regmatch_t* groups) {
  std::string out;
  auto hex = [](char h) {
    const int u = std::toupper(static_cast<unsigned char>(h));
    return u >= 'A' ? u - 'A' + 10 : u - '0';
  };
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '\\' || i + 1 == format.size()) {
      out += format[i];
      continue;
    }
    const char e = format[++i];
    if (std::isdigit(static_cast<unsigned char>(e))) {
      const regmatch_t& g = groups[e - '0'];
      if (g.rm_so >= 0 && g.rm_eo >= g.rm_so)
        out.append(
            subject.substr(static_cast<std::size_t>(g.rm_so), static_cast<std::size_t>(g.rm_eo - g.rm_so)));
    } else if (e == 'x' && i + 2 < format.size() &&
               std::isxdigit(static_cast<unsigned char>(format[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(format[i + 2]))) {
      out += static_cast<char>(hex(format[i + 1]) * 16 + hex(format[i + 2]));
      i += 2;
    } else {
      out += e;
    }
  }
  return out;
}

}  // namespace

struct PathRewrite::Compiled {
  regex_t re{};
  bool live = false;  // regcomp succeeded: regfree owes it
  ~Compiled() {
    if (live) regfree(&re);
  }
};

PathRewrite::~PathRewrite() = default;

std::shared_ptr<const PathRewrite> PathRewrite::make(const std::string& regex, std::string format,
                                                     std::string& error) {
  if (std::string what = pcre_only(regex); !what.empty()) {
    error = "the regular expression uses " + what + "; metalgate matches POSIX extended regular expressions";
    return nullptr;
  }
  std::array<regmatch_t, kGroups> none{};
  for (auto& g : none)
    g.rm_so = g.rm_eo = -1;
  for (unsigned char c : expand(format, {}, none.data()))
    if (c <= ' ' || c == 0x7f) {
      error = "the format writes a space or a control byte, which a request path may not hold";
      return nullptr;
    }
  auto compiled = std::make_unique<Compiled>();
  if (int rc = regcomp(&compiled->re, regex.c_str(), REG_EXTENDED); rc != 0) {
    std::array<char, 256> text{};
    regerror(rc, &compiled->re, text.data(), text.size());
    error = "'" + regex + "' is not a POSIX extended regular expression: " + text.data();
    return nullptr;  // regcomp freed what it had allocated
  }
  compiled->live = true;
  std::shared_ptr<PathRewrite> rule(new PathRewrite());
  rule->compiled_ = std::move(compiled);
  rule->regex_text_ = regex;
  rule->format_ = std::move(format);
  return rule;
}

std::optional<std::string> PathRewrite::apply(std::string_view path) const {
  const std::string subject(path);  // regexec wants a NUL-terminated string
  std::array<regmatch_t, kGroups> groups{};
  if (regexec(&compiled_->re, subject.c_str(), groups.size(), groups.data(), 0) != 0) return std::nullopt;
  return expand(format_, subject, groups.data());
}

std::string with_path(std::string_view target, std::string_view path, std::string_view rewritten_path) {
  const std::less_equal<const char*> le;
  std::size_t start = 0, end = 0;
  if (!path.empty() && le(target.data(), path.data()) &&
      le(path.data() + path.size(), target.data() + target.size())) {
    start = static_cast<std::size_t>(path.data() - target.data());
    end = start + path.size();
  } else {
    // No path of its own in the target ("http://host?q"): it stands before the query string, or at the end.
    start = end = std::min(target.find('?'), target.size());
  }
  std::string out(target.substr(0, start));
  out.append(rewritten_path);
  out.append(target.substr(end));
  return out;
}

}  // namespace metalgate::proxy
