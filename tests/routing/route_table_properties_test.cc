// The optimized table must answer exactly like a brute-force matcher written straight from the Ingress spec.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "engine/routing/route_table.h"

namespace metalgate::routing {
namespace {

using config::PathType;

int rank(PathType t) {
  return t == PathType::kExact ? 0 : t == PathType::kPrefix ? 1 : 2;
}

std::string strip(std::string s) {
  while (!s.empty() && s.back() == '/')
    s.pop_back();
  return s;
}

std::string key_of(const Route& r) {
  return r.type == PathType::kPrefix ? strip(r.path) : r.path;
}

// The reference: scan every rule of the first host tier (exact, wildcard, any) that yields a match; the
// longest key wins, Exact before Prefix before ImplementationSpecific; of equal rules the first added.
std::optional<std::uint32_t> reference(const std::vector<Route>& routes, std::string host, std::string path) {
  for (auto& c : host)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string stripped = strip(path);
  auto tier_of = [&](const Route& r) -> int {
    if (r.host.empty()) return 2;
    if (r.host.rfind("*.", 0) == 0) {
      auto dot = host.find('.');
      return dot != std::string::npos && dot > 0 && host.substr(dot + 1) == r.host.substr(2) ? 1 : -1;
    }
    return r.host == host ? 0 : -1;
  };
  for (int tier = 0; tier < 3; ++tier) {
    const Route* best = nullptr;
    for (const auto& r : routes) {
      if (tier_of(r) != tier) continue;
      std::string key = key_of(r);
      bool ok = false;
      if (r.type == PathType::kExact) ok = path == key;
      if (r.type == PathType::kPrefix)
        ok = stripped.compare(0, key.size(), key) == 0 && stripped.size() >= key.size() &&
             (stripped.size() == key.size() || stripped[key.size()] == '/');
      if (r.type == PathType::kImplementationSpecific)
        ok = path.compare(0, key.size(), key) == 0 && path.size() >= key.size();
      if (!ok) continue;
      if (!best || key.size() > key_of(*best).size() ||
          (key.size() == key_of(*best).size() && rank(r.type) < rank(best->type)))
        best = &r;
    }
    if (best) return best->target;
  }
  return std::nullopt;
}

rc::Gen<std::string> paths() {
  // A small vocabulary, so that rules collide and requests land on rule boundaries often.
  return rc::gen::map(rc::gen::resize(4, rc::gen::container<std::vector<std::string>>(
                                             rc::gen::element<std::string>("a", "ab", "b", "", "a/"))),
                      [](const std::vector<std::string>& parts) {
                        std::string p;
                        for (const auto& s : parts)
                          p += "/" + s;
                        return p.empty() ? std::string("/") : p;
                      });
}

RC_GTEST_PROP(RouteTableProperties, AnswersLikeTheSpecReference, ()) {
  auto hosts = rc::gen::element<std::string>("", "a.example.com", "b.example.com", "*.example.com",
                                             "*.a.example.com", "A.example.com");
  int count = *rc::gen::inRange(0, 40);
  std::vector<Route> routes;
  RouteTable table;
  for (int i = 0; i < count; ++i) {
    Route r{*hosts, *paths(),
            *rc::gen::element(PathType::kExact, PathType::kPrefix, PathType::kImplementationSpecific),
            static_cast<std::uint32_t>(i), "r" + std::to_string(i)};
    table.add(r);
    for (auto& c : r.host)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    routes.push_back(r);
  }
  table.build();
  for (int q = 0; q < 30; ++q) {
    std::string host = *rc::gen::element<std::string>("a.example.com", "B.example.com", "c.example.com",
                                                      "x.a.example.com", "example.com", "other.org");
    // Half the requests reuse a rule's own path, with or without a trailing slash: the edge cases live there.
    std::string path = *paths();
    if (!routes.empty() && *rc::gen::arbitrary<bool>()) {
      path = routes[*rc::gen::inRange<std::size_t>(0, routes.size())].path;
      if (*rc::gen::arbitrary<bool>()) path += "/";
    }
    const Route* got = table.match(host, path);
    auto want = reference(routes, host, path);
    RC_ASSERT((got ? std::optional<std::uint32_t>(got->target) : std::nullopt) == want);
  }
}

}  // namespace
}  // namespace metalgate::routing
