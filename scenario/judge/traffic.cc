// success_ratio, routed_to_allowed_backend, latency, sticky and rate_limit: judged from the request records.
#include <algorithm>
#include <map>
#include <set>

#include "scenario/judge/judges.h"
#include "scenario/judge/requests.h"

namespace metalgate::scenario::judge {

namespace {

bool excluded(const ScenarioExpectation& x, const std::string& client) {
  return std::find(x.exclude.begin(), x.exclude.end(), client) != x.exclude.end();
}

bool denied(const observe::RequestRecord& r) {
  return r.status == 403 || r.status == 429;
}

// The most of `starts` (ascending, microseconds) within one `window`.
std::size_t most_in_a_window(const std::vector<std::int64_t>& starts, std::int64_t window) {
  std::size_t most = 0;
  for (std::size_t i = 0, first = 0; i < starts.size(); ++i) {
    while (starts[i] - starts[first] >= window)
      ++first;
    most = std::max(most, i - first + 1);
  }
  return most;
}

}  // namespace

Judgement success_ratio(const Observations& o, const ScenarioExpectation& x) {
  std::int64_t n = 0, good = 0;
  for (const auto& r : o.records) {
    if (!counted(r) || (x.outside_failover && in_failover(r, o.failovers)) || excluded(x, r.client)) continue;
    if (!x.client.empty() && r.client != x.client) continue;
    if (r.start_us < x.from.count() * 1000) continue;
    ++n;
    good += answered(r) ? 1 : 0;
  }
  const double ratio = n ? static_cast<double>(good) / static_cast<double>(n) : 0.0;
  Judgement j;
  j.passed = n > 0 && ratio >= x.min;
  j.measured = ratio;
  j.bound = {{"min", x.min}, {"outside_failover", x.outside_failover}};
  if (!x.exclude.empty()) j.bound["exclude"] = x.exclude;
  if (!x.client.empty()) j.bound["client"] = x.client;
  if (x.from.count()) j.bound["from_ms"] = x.from.count();
  return j;
}

Judgement routed_to_allowed_backend(const Observations& o, const ScenarioExpectation&) {
  std::int64_t answers = 0, unknown = 0;
  for (const auto& r : o.records) {
    if (!counted(r) || !answered(r)) continue;
    ++answers;
    // A redirect or other answer of the proxy's own names no backend; every backend answer must be a pod's.
    if ((!r.served_by.empty() || r.status < 300) && !o.pods.count(r.served_by)) ++unknown;
  }
  Judgement j;
  j.passed = unknown == 0 && answers > 0;
  j.measured = {{"answered_by_unknown_backend", unknown}};
  j.bound = "every answer from a pod of the scenario's backends";
  return j;
}

Judgement answered_by(const Observations& o, const ScenarioExpectation& x) {
  std::int64_t answers = 0, by_pods = 0;
  std::set<std::string> others;
  for (const auto& r : o.records) {
    if (!counted(r) || !answered(r) || r.host != x.host || r.path != x.request_path) continue;
    ++answers;
    if (r.served_by.empty()) continue;  // the proxy's own answer (a redirect)
    ++by_pods;
    if (std::find(x.pods.begin(), x.pods.end(), r.served_by) == x.pods.end()) others.insert(r.served_by);
  }
  Judgement j;
  j.passed = answers >= x.min_answers && others.empty();
  j.measured = {{"answers", answers}, {"answered_by_a_pod", by_pods}, {"other_pods", others}};
  j.bound = {{"host", x.host}, {"path", x.request_path}, {"pods", x.pods}, {"min_answers", x.min_answers}};
  return j;
}

Judgement latency(const Observations& o, const ScenarioExpectation& x) {
  std::vector<std::int64_t> latencies;
  for (const auto& r : o.records)
    if (counted(r) && answered(r) && !excluded(x, r.client)) latencies.push_back(r.end_us - r.start_us);
  auto at = percentile(std::move(latencies), x.percentile);
  const std::optional<double> measured =
      at ? std::optional<double>(static_cast<double>(*at) / 1000.0) : std::nullopt;
  Judgement j;
  j.passed = measured && *measured <= static_cast<double>(x.max.count());
  j.measured = measured ? nlohmann::json(*measured) : nlohmann::json("no answered request");
  j.bound = {{"percentile", x.percentile}, {"max_ms", x.max.count()}};
  if (!x.exclude.empty()) j.bound["exclude"] = x.exclude;
  return j;
}

// Every answer of the client counts here, the first second's included: persistence holds from the start.
Judgement sticky(const Observations& o, const ScenarioExpectation& x) {
  std::int64_t answers = 0, same = 0;
  std::string previous;
  for (const auto& r : o.records) {
    if (r.client != x.client || r.served_by.empty() || !answered(r)) continue;
    if (!previous.empty()) {
      ++answers;
      if (r.served_by == previous) ++same;
    }
    previous = r.served_by;
  }
  const double ratio = answers ? static_cast<double>(same) / static_cast<double>(answers) : 0;
  Judgement j;
  j.passed = answers > 0 && ratio >= x.min;
  j.measured = {{"answers", answers}, {"same_pod_as_before", ratio}};
  j.bound = {{"client", x.client}, {"min", x.min}};
  return j;
}

// Per proxy node (each replica keeps its own table, as HAProxy's stick tables without peers); without a
// denial the limiter never engaged and the bound proves nothing. A request sent while its VIP moved is left
// out of the count: `vip_node` says where it was sent, but a retransmission after the move reaches the next
// owner (seen live: a SYN lost in a partition, answered by the new owner 1 s later, counted against the old
// one's window).
Judgement rate_limit(const Observations& o, const ScenarioExpectation& x) {
  std::map<std::string, std::vector<std::int64_t>> passed_at;  // proxy node -> request starts
  std::int64_t denials = 0;
  for (const auto& r : o.records) {
    if (r.client != x.client) continue;
    if (!r.served_by.empty() && answered(r) && !in_failover(r, o.failovers))
      passed_at[r.vip_node].push_back(r.start_us);
    if (denied(r)) ++denials;
  }
  std::size_t most = 0;
  for (const auto& [node, starts] : passed_at)
    most = std::max(most, most_in_a_window(starts, x.period.count() * 1000));
  Judgement j;
  j.passed = static_cast<std::int64_t>(most) <= x.limit && denials > 0;
  j.measured = {{"most_answered_in_a_period", most}, {"denied", denials}};
  j.bound = {{"client", x.client}, {"limit", x.limit}, {"period_ms", x.period.count()}};
  return j;
}

}  // namespace metalgate::scenario::judge
