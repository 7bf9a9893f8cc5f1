#include "engine/config/k8s_names.h"

#include <algorithm>
#include <initializer_list>

namespace metalgate::config {

namespace {

bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool alnum(char c) {
  return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool lower_alpha(char c) {
  return c >= 'a' && c <= 'z';
}

// A first character, middle characters and a last character from three classes (a one-character text must
// satisfy both ends): the shape of every Kubernetes name regex.
template <typename First, typename Middle, typename Last>
bool shaped(std::string_view s, First first, Middle middle, Last last) {
  if (s.empty() || !first(s.front()) || !last(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return middle(c); });
}

bool dns1123_label_shape(std::string_view s) {
  return shaped(
      s, lower_alnum, [](char c) { return lower_alnum(c) || c == '-'; }, lower_alnum);
}

bool dns1123_subdomain_shape(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t start = 0;;) {
    auto dot = s.find('.', start);
    if (!dns1123_label_shape(s.substr(start, dot == std::string_view::npos ? dot : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool qualified_name_shape(std::string_view s) {
  return shaped(
      s, alnum, [](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; }, alnum);
}

// apimachinery's RegexError: the message, examples and the regex, worded exactly as the API server does.
std::string regex_error(std::string message, std::string_view regex,
                        std::initializer_list<std::string_view> eg) {
  message += " (e.g. ";
  bool first = true;
  for (auto e : eg) {
    if (!first) message += " or ";
    first = false;
    message += "'" + std::string(e) + "', ";
  }
  return message + "regex used for validation is '" + std::string(regex) + "')";
}

std::string max_len(std::size_t n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

constexpr std::string_view kLabelRegex = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kSubdomainRegex =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kQualifiedRegex = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedMessage =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character";

std::string subdomain_message() {
  return regex_error(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
      "must "
      "start and end with an alphanumeric character",
      kSubdomainRegex, {"example.com"});
}

}  // namespace

std::string check_dns1123_label(std::string_view s) {
  if (s.size() > 63) return max_len(63);
  if (dns1123_label_shape(s)) return {};
  if (dns1123_subdomain_shape(s)) return "must not contain dots";
  return regex_error(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
      "and "
      "end with an alphanumeric character",
      kLabelRegex, {"my-name", "123-abc"});
}

std::string check_dns1123_subdomain(std::string_view s) {
  if (s.size() > 253) return max_len(253);
  return dns1123_subdomain_shape(s) ? std::string() : subdomain_message();
}

std::string check_wildcard_dns1123_subdomain(std::string_view s) {
  if (s.size() > 253) return max_len(253);
  if (s.starts_with("*.") && dns1123_subdomain_shape(s.substr(2))) return {};
  return regex_error(
      "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must "
      "consist "
      "of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
      "\\*\\." + std::string(kSubdomainRegex), {"*.example.com"});
}

std::string check_dns1035_label(std::string_view s) {
  if (s.size() > 63) return max_len(63);
  if (shaped(
          s, lower_alpha, [](char c) { return lower_alnum(c) || c == '-'; }, lower_alnum))
    return {};
  return regex_error(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
      "character, and end with an alphanumeric character",
      "[a-z]([-a-z0-9]*[a-z0-9])?", {"my-name", "abc-123"});
}

std::string check_qualified_name(std::string_view s) {
  auto slash = s.find('/');
  std::string_view name = s;
  if (slash != std::string_view::npos) {
    if (s.find('/', slash + 1) != std::string_view::npos)
      return "a qualified name " +
             regex_error(std::string(kQualifiedMessage), kQualifiedRegex, {"MyName", "my.name", "123-abc"}) +
             " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
    auto prefix = s.substr(0, slash);
    if (prefix.empty()) return "prefix part must be non-empty";
    if (auto why = check_dns1123_subdomain(prefix); !why.empty()) return "prefix part " + why;
    name = s.substr(slash + 1);
  }
  if (name.empty()) return "name part must be non-empty";
  if (name.size() > 63) return "name part " + max_len(63);
  if (!qualified_name_shape(name))
    return "name part " +
           regex_error(std::string(kQualifiedMessage), kQualifiedRegex, {"MyName", "my.name", "123-abc"});
  return {};
}

std::string check_label_value(std::string_view s) {
  if (s.size() > 63) return max_len(63);
  if (s.empty() || qualified_name_shape(s)) return {};
  return regex_error(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
      "must "
      "start and end with an alphanumeric character",
      "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", {"MyValue", "my_value", "12345"});
}

std::string check_config_map_key(std::string_view s) {
  if (s.size() > 253) return max_len(253);
  bool chars_ok = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return alnum(c) || c == '-' || c == '_' || c == '.';
  });
  if (!chars_ok)
    return regex_error("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                       "[-._a-zA-Z0-9]+", {"key.name", "KEY_NAME", "key-name"});
  if (s == ".") return "must not be '.'";
  if (s == "..") return "must not be '..'";
  if (s.starts_with("..")) return "must not start with '..'";
  return {};
}

std::string check_iana_port_name(std::string_view s) {
  if (s.size() > 15) return max_len(15);
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return lower_alnum(c) || c == '-'; }))
    return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
  if (std::none_of(s.begin(), s.end(), lower_alpha)) return "must contain at least one letter (a-z)";
  if (s.find("--") != std::string_view::npos) return "must not contain consecutive hyphens";
  if (s.front() == '-' || s.back() == '-') return "must not begin or end with a hyphen";
  return {};
}

std::string check_domain_prefixed_path(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos || slash + 1 == s.size())
    return "must be a domain-prefixed path (such as \"acme.io/foo\")";
  if (auto why = check_dns1123_subdomain(s.substr(0, slash)); !why.empty()) return why;
  static constexpr std::string_view kPathChars = "/-._~%!$&'()*+,;=:";
  auto path = s.substr(slash + 1);
  if (!std::all_of(path.begin(), path.end(),
                   [](char c) { return alnum(c) || kPathChars.find(c) != std::string_view::npos; }))
    return "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')";
  return {};
}

}  // namespace metalgate::config
