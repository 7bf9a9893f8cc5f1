#include "check/case/base.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "check/case/case-t.h"
#include "check/reference/announcers.h"
#include "engine/cli/validate.h"
#include "engine/proxy/proxy_config.h"
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

namespace {

// The failover bound, then the slowest health check's way back up after a heal: a check in flight times
// out, then `rise` passing checks an interval apart (engine/proxy/health.h; the timeout is the interval
// unless set, as HAProxy's).
int recovery_within_ms(const std::shared_ptr<const model::Model>& model) {
  config::Diagnostics ignored;
  const auto proxy = proxy::build_proxy_config(model, {}, ignored);
  std::int64_t slowest = 0;
  auto consider = [&](const proxy::HealthCheck& c) {
    if (!c.enabled) return;
    slowest =
        std::max<std::int64_t>(slowest, c.timeout.value_or(c.interval).count() + c.rise * c.interval.count());
  };
  for (const auto& b : proxy.backends)
    consider(b.check);
  for (const auto& l4 : proxy.l4_services)
    consider(l4.backend.check);
  return static_cast<int>(std::max<std::int64_t>(kRecoveryWithinMs, kFailoverBoundMs + slowest));
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
  // Manifests with an error would make every case fail to start (metalgate sim refuses them): their errors
  // are the base's, with their own file:line:column.
  auto validated = cli::validate_manifests({s.manifests, false, ""});
  if (!validated.valid || !validated.model) {
    for (const auto& d : validated.diagnostics.items())
      if (d.severity == config::Severity::kError) diagnostics.add(d);
    diagnostics.error(where, "manifests", "the manifests do not validate: run metalgate validate on them");
    return std::nullopt;
  }
  base.model = std::move(validated.model);
  base.recovery_within_ms = recovery_within_ms(base.model);
  base.announce_labels = announce_labels(base.model->manifests);
  for (const auto& b : s.backends)
    for (std::size_t i = 0; i < b.addresses.size(); ++i) {
      base.pods.push_back(scenario::pod_name(b, i));
      base.pod_latency_ms.push_back(static_cast<int>(b.latency.count()));
    }
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
