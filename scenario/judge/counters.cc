// The `counter` judge: a stats counter of the nodes at the end of the run, within bounds.
#include <sstream>
#include <vector>

#include "engine/stats/json.h"
#include "scenario/judge/judges.h"

namespace metalgate::scenario::judge {

namespace {

// The value at a dotted path ("backends.default_web_80.responses.5xx"); nullopt when a key is missing or the
// value is not a number. Keys are split at dots only: Kubernetes names hold none, and a server's key
// ("backend/server") is one key. A counter left out of a row that is there is zero (engine/stats/json.h).
std::optional<double> at_path(const nlohmann::json& stats, const std::string& path) {
  std::vector<std::string> keys;
  std::istringstream split(path);
  for (std::string key; std::getline(split, key, '.');)
    keys.push_back(key);
  const nlohmann::json* at = &stats;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!at->is_object() || !at->contains(keys[i])) {
      if (i < 2 || keys.size() < 3) return std::nullopt;  // no such section or row
      const std::string field = path.substr(keys[0].size() + keys[1].size() + 2);
      if (stats::is_counter(keys[0], field)) return 0.0;
      return std::nullopt;
    }
    at = &(*at)[keys[i]];
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
