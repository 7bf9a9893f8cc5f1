// The `counter` judge: a stats counter of the nodes at the end of the run, within bounds.
#include <sstream>

#include "scenario/judge/judges.h"

namespace metalgate::scenario::judge {

namespace {

// The value at a dotted path ("backends.default_web_80.responses.5xx"); nullopt when a key is missing or the
// value is not a number. Keys are split at dots only: Kubernetes names hold none, and a server's key
// ("backend/server") is one key.
std::optional<double> at_path(const nlohmann::json& stats, const std::string& path) {
  const nlohmann::json* at = &stats;
  std::istringstream keys(path);
  for (std::string key; std::getline(keys, key, '.');) {
    if (!at->is_object() || !at->contains(key)) return std::nullopt;
    at = &(*at)[key];
  }
  if (!at->is_number()) return std::nullopt;
  return at->get<double>();
}

nlohmann::json bounds(const ScenarioExpectation& x) {
  nlohmann::json b = {{"path", x.path}, {"node", x.node.empty() ? "every node, summed" : x.node}};
  if (x.at_least) b["min"] = *x.at_least;
  if (x.at_most) b["max"] = *x.at_most;
  return b;
}

}  // namespace

Judgement counter(const Observations& o, const ScenarioExpectation& x) {
  Judgement j;
  j.bound = bounds(x);
  double sum = 0;
  bool found = false;
  for (const auto& [node, stats] : o.node_stats) {
    if (!x.node.empty() && node != x.node) continue;
    if (auto v = at_path(stats, x.path)) {
      sum += *v;
      found = true;
    }
  }
  if (!found) {
    j.measured =
        "no counter '" + x.path + "' in " + (x.node.empty() ? "any node's" : x.node + "'s") + " stats";
    return j;
  }
  j.measured = sum;
  j.passed = (!x.at_least || sum >= *x.at_least) && (!x.at_most || sum <= *x.at_most);
  return j;
}

}  // namespace metalgate::scenario::judge
