#include "check/case/base.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/cli/validate.h"
#include "scenario/schema/loader.h"

namespace metalgate::check {

namespace {

// Host addresses of the LAN that no node, pod or client of the base uses, in order from the first node's.
std::vector<net::IpAddress> spare_addresses(const scenario::Scenario& s, std::size_t wanted) {
  std::set<net::IpAddress> used;
  for (const auto& n : s.nodes)
    used.insert(n.address);
  for (const auto& b : s.backends)
    used.insert(b.addresses.begin(), b.addresses.end());
  for (const auto& c : s.clients)
    used.insert(c.address);
  std::vector<net::IpAddress> spare;
  if (s.nodes.empty() || !s.nodes.front().address.is_v4()) return spare;
  for (std::uint32_t a = s.nodes.front().address.v4_host_order() + 1; spare.size() < wanted; ++a) {
    const net::IpAddress candidate = net::IpAddress::v4(a);
    if (!s.subnet.contains(candidate) || candidate == s.subnet.last()) break;  // not the broadcast
    if (!used.count(candidate)) spare.push_back(candidate);
  }
  return spare;
}

}  // namespace

std::optional<Base> load_base_text(const std::string& text, const std::string& path,
                                   config::Diagnostics& diagnostics) {
  Base base;
  base.file = path;
  base.scenario = scenario::load_scenario_text(text, path, diagnostics);
  if (diagnostics.has_errors()) return std::nullopt;
  const auto& s = base.scenario;
  config::SourceLocation where{path, 1, 1};
  if (s.nodes.empty()) diagnostics.error(where, "nodes", "a base scenario for check needs a node");
  if (s.clients.empty())
    diagnostics.error(where, "clients", "a base scenario for check needs a client: the cases reuse them");
  if (diagnostics.has_errors()) return std::nullopt;
  base.document = YAML::Load(text);
  base.model = cli::validate_manifests({s.manifests, false, ""}).model;
  if (!base.model) {
    diagnostics.error(where, "manifests", "the manifests do not resolve: run metalgate validate on them");
    return std::nullopt;
  }
  for (const auto& b : s.backends)
    for (std::size_t i = 0; i < b.addresses.size(); ++i)
      base.pods.push_back(scenario::pod_name(b, i));
  const std::size_t wanted = s.nodes.size() >= 16 ? 0 : 16 - s.nodes.size();
  base.spare_addresses = spare_addresses(s, wanted);
  base.max_nodes = static_cast<int>(std::min<std::size_t>(16, s.nodes.size() + base.spare_addresses.size()));
  return base;
}

std::optional<Base> load_base(const std::string& scenario_file, config::Diagnostics& diagnostics) {
  std::ifstream in(scenario_file);
  if (!in) {
    diagnostics.error({scenario_file, 0, 0}, "", "cannot read the scenario file");
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  return load_base_text(text.str(), scenario_file, diagnostics);
}

}  // namespace metalgate::check
