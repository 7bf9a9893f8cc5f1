#include "check/case/from_manifests.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <yaml-cpp/yaml.h>

#include "engine/cli/validate.h"

namespace metalgate::check {

namespace {

// Host addresses of the controller's /24, past `from`, that no pool holds.
class Addresses {
 public:
  Addresses(const model::Model& m, net::IpAddress vip) : subnet_base_(vip.v4_host_order() & 0xffffff00u) {
    for (const auto& pool : m.manifests.pools)
      ranges_.insert(ranges_.end(), pool.addresses.begin(), pool.addresses.end());
  }
  std::string subnet() const { return net::IpAddress::v4(subnet_base_).to_string() + "/24"; }
  // The next free address from host number `from` on; empty when the /24 is full.
  std::string take(int from) {
    for (int host = from; host < 255; ++host) {
      const auto a = net::IpAddress::v4(subnet_base_ + static_cast<std::uint32_t>(host));
      const bool pooled =
          std::any_of(ranges_.begin(), ranges_.end(), [&](const auto& r) { return r.contains(a); });
      if (!pooled && used_.insert(host).second) return a.to_string();
    }
    return "";
  }

 private:
  std::uint32_t subnet_base_;
  std::vector<net::AddressRange> ranges_;
  std::set<int> used_;
};

YAML::Node flow(YAML::Node n) {
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

// A request path for an Ingress path: the path itself, without a regular expression's syntax.
std::string request_path(const std::string& path) {
  std::string p;
  for (char c : path)
    if (std::string_view("^$()[]*+?\\|").find(c) == std::string_view::npos) p += c;
  return p.empty() || p[0] != '/' ? "/" + p : p;
}

bool has_certificate(const model::Model& m, const std::string& host) {
  return std::any_of(m.tls.begin(), m.tls.end(),
                     [&](const auto& t) { return t.host == host || t.host.empty(); });
}

// One client per routed host: each host's paths as a mix.
void http_clients(const model::Model& m, Addresses& addresses, YAML::Node& clients) {
  std::map<std::string, std::vector<std::string>> paths;  // host → paths
  for (const auto& ingress : m.manifests.ingresses) {
    const std::string key = ingress.meta.namespace_ + "/" + ingress.meta.name;
    if (std::find(m.ingresses.begin(), m.ingresses.end(), key) == m.ingresses.end()) continue;
    for (const auto& rule : ingress.rules) {
      std::string host = rule.host.empty() ? "any.example" : rule.host;
      if (host.rfind("*.", 0) == 0) host = "generated" + host.substr(1);
      for (const auto& p : rule.paths)
        paths[host].push_back(request_path(p.path));
    }
  }
  int n = 0;
  for (const auto& [host, list] : paths) {
    YAML::Node c, request, mix(YAML::NodeType::Sequence);
    c["name"] = "client-" + std::to_string(++n);
    c["address"] = addresses.take(100);
    for (const auto& p : std::set<std::string>(list.begin(), list.end()))
      mix.push_back(flow(YAML::Load("{host: " + host + ", path: '" + p + "'}")));
    request["mix"] = mix;
    request["rate"] = 4;
    request["keepalive"] = true;
    c[has_certificate(m, host) ? "https" : "http"] = request;
    clients.push_back(c);
  }
}

// One client per TCP service port (HTTP through it: the identity servers answer on every port) and per UDP
// one.
void l4_clients(const model::Model& m, Addresses& addresses, YAML::Node& clients) {
  for (const auto& s : m.tcp_services) {
    YAML::Node c;
    c["name"] = "tcp-" + std::to_string(s.listen_port);
    c["address"] = addresses.take(100);
    c["http"] = flow(YAML::Load("{host: tcp-" + std::to_string(s.listen_port) +
                                ", path: /, port: " + std::to_string(s.listen_port) +
                                ", rate: 2}"));  // a Host per port: see routing
    clients.push_back(c);
  }
  for (const auto& s : m.udp_services) {
    YAML::Node c;
    c["name"] = "udp-" + std::to_string(s.listen_port);
    c["address"] = addresses.take(100);
    c["udp"] = flow(YAML::Load("{port: " + std::to_string(s.listen_port) + ", rate: 4}"));
    clients.push_back(c);
  }
}

}  // namespace

std::optional<std::string> scenario_for_manifests(const std::string& directory,
                                                  config::Diagnostics& diagnostics) {
  const auto outcome = cli::validate_manifests({{directory}, false, ""});
  for (const auto& item : outcome.diagnostics.items())
    if (item.severity == config::Severity::kError) diagnostics.add(item);
  const auto* controller = outcome.model ? outcome.model->ingress_controller() : nullptr;
  const auto vip = controller ? std::find_if(controller->addresses.begin(), controller->addresses.end(),
                                             [](const auto& a) { return a.is_v4(); })
                              : decltype(controller->addresses.begin()){};
  if (!outcome.valid || diagnostics.has_errors() || !controller || vip == controller->addresses.end()) {
    if (!diagnostics.has_errors())
      diagnostics.error({directory, 1, 1}, "manifests",
                        "no IPv4 address for the ingress controller's Service");
    return std::nullopt;
  }
  const model::Model& m = *outcome.model;
  Addresses addresses(m, *vip);
  YAML::Node doc, nodes(YAML::NodeType::Sequence), backends(YAML::NodeType::Sequence),
      clients(YAML::NodeType::Sequence);
  doc["name"] = std::filesystem::path(directory).lexically_normal().filename().string();
  doc["duration"] = "20s";
  doc["lan"]["subnet"] = addresses.subnet();
  for (int i = 1; i <= 3; ++i)
    nodes.push_back(flow(YAML::Load("{name: node-" + std::to_string(i) +
                                    ", address: " + addresses.take(10 + i) + ", roles: [speaker, proxy]}")));
  doc["nodes"] = nodes;
  doc["manifests"].push_back(std::filesystem::absolute(directory).lexically_normal().string());
  for (const auto& d : m.manifests.deployments) {
    if (d.synthesized_from_values) continue;
    YAML::Node b, list(YAML::NodeType::Sequence);
    b["deployment"] = d.meta.namespace_ + "/" + d.meta.name;
    for (int r = 0; r < std::clamp(d.replicas, 1, 4); ++r)
      list.push_back(addresses.take(31));
    b["addresses"] = flow(list);
    backends.push_back(flow(b));
  }
  if (backends.size()) doc["backends"] = backends;
  http_clients(m, addresses, clients);
  l4_clients(m, addresses, clients);
  doc["clients"] = clients;
  YAML::Emitter e;
  e << doc;
  return "# A base for metalgate check, built from the manifests in " + directory + "\n" + e.c_str() + "\n";
}

}  // namespace metalgate::check
