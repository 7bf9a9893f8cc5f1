#include "check/reference/ingress_rules.h"

#include <algorithm>
#include <cctype>

#include "scenario/schema/loader.h"

namespace metalgate::check {

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// 0: the exact host; 1: a wildcard matching one more label; 2: a rule without a host; -1: no match.
int host_tier(const std::string& rule_host, const std::string& host) {
  if (rule_host.empty()) return 2;
  const std::string r = lower(rule_host), h = lower(host);
  if (r == h) return 0;
  if (r.size() > 2 && r[0] == '*' && r[1] == '.') {
    const std::size_t dot = h.find('.');
    if (dot != std::string::npos && dot > 0 && h.substr(dot) == r.substr(1)) return 1;
  }
  return -1;
}

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::string part;
  for (char c : path + "/") {
    if (c != '/') {
      part += c;
    } else if (!part.empty()) {
      out.push_back(part);
      part.clear();
    }
  }
  return out;
}

// How long a match `p` is for `path` (a longer one wins), or nullopt when it does not match.
std::optional<std::size_t> match_length(const config::IngressPath& p, const std::string& path) {
  switch (p.path_type) {
    case config::PathType::kExact:
      return p.path == path ? std::optional(p.path.size()) : std::nullopt;
    case config::PathType::kPrefix: {
      const auto want = segments(p.path), have = segments(path);
      if (want.size() > have.size() || !std::equal(want.begin(), want.end(), have.begin()))
        return std::nullopt;
      std::size_t length = 0;
      for (const auto& s : want)
        length += s.size() + 1;
      return length;
    }
    case config::PathType::kImplementationSpecific:
      return path.rfind(p.path, 0) == 0 ? std::optional(p.path.size()) : std::nullopt;
  }
  return std::nullopt;
}

// On equal length: Exact, then Prefix, then ImplementationSpecific.
int type_rank(config::PathType t) {
  return t == config::PathType::kExact ? 0 : t == config::PathType::kPrefix ? 1 : 2;
}

// Oldest first: creationTimestamp (one without sorts after every one with), then namespace/name.
bool older(const config::Ingress& a, const config::Ingress& b) {
  const std::string ka = a.meta.namespace_ + "/" + a.meta.name, kb = b.meta.namespace_ + "/" + b.meta.name;
  if (a.meta.creation_timestamp != b.meta.creation_timestamp) {
    if (!a.meta.creation_timestamp) return false;
    if (!b.meta.creation_timestamp) return true;
    return *a.meta.creation_timestamp < *b.meta.creation_timestamp;
  }
  return ka < kb;
}

}  // namespace

std::set<std::string> ReferenceRouting::pods_for(const std::string& host, const std::string& path) const {
  std::vector<const config::Ingress*> served;
  for (const auto& i : manifests.ingresses)
    if (std::find(ingresses.begin(), ingresses.end(), i.meta.namespace_ + "/" + i.meta.name) !=
        ingresses.end())
      served.push_back(&i);
  std::stable_sort(served.begin(), served.end(), [](auto* a, auto* b) { return older(*a, *b); });
  for (int tier = 0; tier <= 2; ++tier) {
    const config::Ingress* best_ingress = nullptr;
    const config::IngressPath* best = nullptr;
    std::size_t best_length = 0;
    for (const auto* ingress : served)
      for (const auto& rule : ingress->rules) {
        if (host_tier(rule.host, host) != tier) continue;
        for (const auto& p : rule.paths) {
          const auto length = match_length(p, path);
          if (!length) continue;
          const bool better = !best || *length > best_length ||
                              (*length == best_length && type_rank(p.path_type) < type_rank(best->path_type));
          if (better) best = &p, best_ingress = ingress, best_length = *length;
        }
      }
    if (best) return pods_of_service(best_ingress->meta.namespace_, best->backend.service_name);
  }
  for (const auto* ingress : served)
    if (ingress->default_backend)
      return pods_of_service(ingress->meta.namespace_, ingress->default_backend->service_name);
  if (manifests.controller && manifests.controller->default_backend_service) {
    const std::string& key = *manifests.controller->default_backend_service;
    const auto slash = key.find('/');
    if (slash != std::string::npos) return pods_of_service(key.substr(0, slash), key.substr(slash + 1));
  }
  return {};
}

std::optional<std::set<std::string>> ReferenceRouting::pods_for_tcp_port(std::uint16_t port) const {
  if (!manifests.controller) return std::nullopt;
  return pods_for_mapped_port(manifests.controller->tcp_services_config_map, port);
}

std::optional<std::set<std::string>> ReferenceRouting::pods_for_udp_port(std::uint16_t port) const {
  if (!manifests.controller) return std::nullopt;
  return pods_for_mapped_port(manifests.controller->udp_services_config_map, port);
}

std::optional<std::set<std::string>> ReferenceRouting::pods_for_mapped_port(
    const std::optional<std::string>& config_map, std::uint16_t port) const {
  if (!config_map) return std::nullopt;
  const std::string& wanted = *config_map;  // "name" or "namespace/name"
  for (const auto& cm : manifests.config_maps) {
    if (wanted != cm.meta.name && wanted != cm.meta.namespace_ + "/" + cm.meta.name) continue;
    const auto entry = cm.data.find(std::to_string(port));
    if (entry == cm.data.end()) return std::nullopt;
    const std::string& target = entry->second;  // "namespace/service:port", perhaps with ":ssl" flags after
    const auto slash = target.find('/'), colon = target.find(':');
    if (slash == std::string::npos || colon == std::string::npos || colon < slash) return std::nullopt;
    return pods_of_service(target.substr(0, slash), target.substr(slash + 1, colon - slash - 1));
  }
  return std::nullopt;
}

std::set<std::string> ReferenceRouting::pods_of_service(const std::string& ns,
                                                        const std::string& name) const {
  std::set<std::string> pods;
  const auto service = std::find_if(manifests.services.begin(), manifests.services.end(), [&](const auto& s) {
    return s.meta.namespace_ == ns && s.meta.name == name;
  });
  if (service == manifests.services.end() || service->selector.empty()) return pods;
  for (const auto& d : manifests.deployments) {
    if (d.meta.namespace_ != ns) continue;
    const bool selected =
        std::all_of(service->selector.begin(), service->selector.end(), [&](const auto& kv) {
          const auto it = d.pod_labels.find(kv.first);
          return it != d.pod_labels.end() && it->second == kv.second;
        });
    if (!selected) continue;
    for (const auto& b : scenario.backends)
      if (b.deployment == ns + "/" + d.meta.name)
        for (std::size_t i = 0; i < b.addresses.size(); ++i)
          pods.insert(scenario::pod_name(b, i));
  }
  return pods;
}

}  // namespace metalgate::check
