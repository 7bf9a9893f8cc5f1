#include "engine/http/message.h"

#include <array>

namespace metalgate::http {

namespace {
inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}
}  // namespace

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool starts_with_ignore_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && equals_ignore_case(text.substr(0, prefix.size()), prefix);
}

bool list_contains(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    std::size_t semi = item.find(';');
    if (semi != std::string_view::npos) item = item.substr(0, semi);
    if (equals_ignore_case(trim(item), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

namespace {

// A qvalue of zero: "0", "0.", "0.0", … (RFC 9110 §12.4.2); anything else is read as above zero.
bool zero_quality(std::string_view params) {
  while (!params.empty()) {
    std::size_t semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      std::string_view q = trim(p.substr(2));
      if (q.empty() || q[0] != '0') return false;
      for (char c : q.substr(1))
        if (c != '.' && c != '0') return false;
      return true;
    }
    if (semi == std::string_view::npos) break;
    params.remove_prefix(semi + 1);
  }
  return false;
}

}  // namespace

bool accepts_coding(std::string_view list, std::string_view coding) {
  bool named = false, named_ok = false, any_ok = false;
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    std::size_t semi = item.find(';');
    std::string_view token = trim(item.substr(0, semi));
    const bool ok = semi == std::string_view::npos || !zero_quality(item.substr(semi + 1));
    if (equals_ignore_case(token, coding)) {
      named = true;
      named_ok = named_ok || ok;
    } else if (token == "*") {
      any_ok = any_ok || ok;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return named ? named_ok : any_ok;
}

std::optional<std::string_view> find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers)
    if (equals_ignore_case(h.name, name)) return h.value;
  return std::nullopt;
}

std::string_view version_text(Version v) {
  return v == Version::kHttp10 ? "HTTP/1.0" : "HTTP/1.1";
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Time-out";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 421:
      return "Misdirected Request";
    case 425:
      return "Too Early";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Time-out";
    default:
      return "Unknown";
  }
}

bool RequestHead::absolute_form() const {
  return !target.empty() && target.front() != '/' && target.find("://") != std::string_view::npos;
}

std::string_view RequestHead::path() const {
  std::string_view t = target;
  if (!t.empty() && t.front() != '/') {
    // absolute-form: scheme://authority/path
    std::size_t scheme = t.find("://");
    if (scheme == std::string_view::npos) return t == "*" ? t : std::string_view{};
    std::size_t slash = t.find('/', scheme + 3);
    if (slash == std::string_view::npos) return "/";
    t.remove_prefix(slash);
  }
  std::size_t q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

}  // namespace metalgate::http
