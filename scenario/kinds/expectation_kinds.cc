#include "scenario/kinds/expectation_kinds.h"

#include <algorithm>

#include "scenario/schema/fields.h"
#include "scenario/schema/loader.h"

namespace metalgate::scenario {

namespace {

using config::YamlReader;

void check_excluded_clients(const YamlReader& p, const Scenario& s, const ScenarioExpectation& x) {
  for (const auto& name : x.exclude)
    if (std::none_of(s.clients.begin(), s.clients.end(), [&](const auto& c) { return c.name == name; }))
      p["exclude"].error("no client is named '" + name + "'");
}

void check_http_client(const YamlReader& p, const Scenario& s, const ScenarioExpectation& x) {
  const bool found = std::any_of(s.clients.begin(), s.clients.end(),
                                 [&](const auto& c) { return c.name == x.client && !c.udp; });
  if (!found && !x.client.empty()) p["client"].error("no HTTP client is named '" + x.client + "'");
}

// success_ratio's optional client: any client, HTTP or datagram.
void check_client(const YamlReader& p, const Scenario& s, const ScenarioExpectation& x) {
  const bool found =
      std::any_of(s.clients.begin(), s.clients.end(), [&](const auto& c) { return c.name == x.client; });
  if (!found && p.has("client")) p["client"].error("no client is named '" + x.client + "'");
}

void single_owner(const YamlReader& p, const Scenario&, ScenarioExpectation& x) {
  if (p.present() && p.expect_map({"settle"})) x.settle = duration_field(p, "settle").value_or(x.settle);
}

void failover(const YamlReader& p, const Scenario&, ScenarioExpectation& x) {
  if (p.expect_map({"max"})) x.max = duration_field(p, "max", true).value_or(milliseconds(0));
}

void success_ratio(const YamlReader& p, const Scenario& s, ScenarioExpectation& x) {
  if (!p.expect_map({"min", "outside_failover", "exclude", "client", "from"})) return;
  x.exclude = p.string_list("exclude");
  x.client = p.string("client").value_or("");
  check_client(p, s, x);
  if (!x.client.empty() && !x.exclude.empty()) p["exclude"].error("a ratio of one client excludes no other");
  if (auto m = p.string("min", true)) {
    try {
      x.min = std::stod(*m);
    } catch (...) {
      x.min = -1;
    }
    if (x.min < 0 || x.min > 1) p["min"].error("'" + *m + "' is not a ratio from 0 to 1");
  }
  x.outside_failover = p.boolean("outside_failover").value_or(false);
  x.from = duration_field(p, "from").value_or(x.from);
  check_excluded_clients(p, s, x);
}

void routed_to_allowed_backend(const YamlReader& p, const Scenario&, ScenarioExpectation&) {
  if (p.present()) p.expect_map({});  // takes no parameters: {}
}

void latency(const YamlReader& p, const Scenario& s, ScenarioExpectation& x) {
  if (!p.expect_map({"percentile", "max", "exclude"})) return;
  x.exclude = p.string_list("exclude");
  x.percentile =
      number_field(p, "percentile", 0, 1, "a percentile from 0 to 1 (0.99)").value_or(x.percentile);
  x.max = duration_field(p, "max", true).value_or(milliseconds(0));
  check_excluded_clients(p, s, x);
}

void sticky(const YamlReader& p, const Scenario& s, ScenarioExpectation& x) {
  if (!p.expect_map({"client", "min"})) return;
  x.client = p.string("client", true).value_or("");
  check_http_client(p, s, x);
  x.min = number_field(p, "min", 0, 1, "a ratio from 0 to 1").value_or(1);
}

void rate_limit(const YamlReader& p, const Scenario& s, ScenarioExpectation& x) {
  if (!p.expect_map({"client", "limit", "period"})) return;
  x.client = p.string("client", true).value_or("");
  check_http_client(p, s, x);
  x.limit = p.integer("limit", 0, INT64_MAX, true).value_or(0);
  x.period = duration_field(p, "period", true).value_or(x.period);
  if (x.period.count() <= 0) p["period"].error("the period must be longer than 0");
}

void recovers(const YamlReader& p, const Scenario&, ScenarioExpectation& x) {
  if (p.present() && p.expect_map({"within"})) x.within = duration_field(p, "within").value_or(x.within);
}

void answered_by(const YamlReader& p, const Scenario& s, ScenarioExpectation& x) {
  if (!p.expect_map({"host", "path", "pods", "min_answers"})) return;
  x.min_answers = p.integer("min_answers", 0, INT64_MAX).value_or(1);
  x.host = p.string("host", true).value_or("");
  x.request_path = p.string("path", true).value_or("");
  x.pods = p.string_list("pods");
  const auto known = pod_names(s);
  for (const auto& pod : x.pods)
    if (!known.count(pod)) p["pods"].error("no pod is named '" + pod + "' (<deployment>-<n>)");
}

void counter(const YamlReader& p, const Scenario& s, ScenarioExpectation& x) {
  if (!p.expect_map({"node", "path", "min", "max"})) return;
  x.node = p.string("node").value_or("");
  x.path = p.string("path", true).value_or("");
  const double huge = 1e18;
  x.at_least = number_field(p, "min", 0, huge, "a count of 0 or more");
  x.at_most = number_field(p, "max", 0, huge, "a count of 0 or more");
  if (!p.has("min") && !p.has("max")) p.error("a counter needs min, max or both");
  const bool known =
      std::any_of(s.nodes.begin(), s.nodes.end(), [&](const auto& n) { return n.name == x.node; });
  if (!x.node.empty() && !known) p["node"].error("no node is named '" + x.node + "'");
}

void announced_by(const YamlReader& p, const Scenario& s, ScenarioExpectation& x) {
  if (!p.expect_map({"nodes"})) return;
  x.nodes = p.string_list("nodes");
  for (const auto& node : x.nodes)
    if (std::none_of(s.nodes.begin(), s.nodes.end(), [&](const auto& n) { return n.name == node; }))
      p["nodes"].error("no node is named '" + node + "'");
}

void reloads(const YamlReader& p, const Scenario&, ScenarioExpectation& x) {
  if (!p.present() || !p.expect_map({"accepted", "refused"})) return;
  if (p.has("accepted")) x.accepted = p.integer("accepted", 0, INT64_MAX).value_or(0);
  if (p.has("refused")) x.refused = p.integer("refused", 0, INT64_MAX).value_or(0);
}

}  // namespace

const std::vector<ExpectationKind>& expectation_kinds() {
  static const std::vector<ExpectationKind> kinds = {
      {"single_owner", single_owner, judge::single_owner},
      {"success_ratio", success_ratio, judge::success_ratio},
      {"failover", failover, judge::failover},
      {"routed_to_allowed_backend", routed_to_allowed_backend, judge::routed_to_allowed_backend},
      {"latency", latency, judge::latency},
      {"sticky", sticky, judge::sticky},
      {"rate_limit", rate_limit, judge::rate_limit},
      {"counter", counter, judge::counter},
      {"recovers", recovers, judge::recovers},
      {"clients_follow_owner", recovers, judge::clients_follow_owner},  // the same field: within
      {"answered_by", answered_by, judge::answered_by},
      {"reloads", reloads, judge::reloads},
      {"announced_by", announced_by, judge::announced_by},
  };
  return kinds;
}

const ExpectationKind* find_expectation_kind(std::string_view name) {
  for (const auto& kind : expectation_kinds())
    if (kind.name == name) return &kind;
  return nullptr;
}

std::string expectation_kind_names() {
  std::string names;
  for (const auto& kind : expectation_kinds())
    names += (names.empty() ? "" : ", ") + std::string(kind.name);
  return names;
}

}  // namespace metalgate::scenario

namespace metalgate::scenario {

std::vector<Verdict> judge_expectations(const std::vector<ScenarioExpectation>& expectations,
                                        const observe::Observations& observations) {
  std::vector<Verdict> verdicts;
  for (const auto& x : expectations) {
    Verdict v{x.name, {}};
    if (const ExpectationKind* kind = find_expectation_kind(x.name)) {
      v.judgement = kind->judge(observations, x);
    } else {
      v.judgement.measured = "unknown expectation '" + x.name + "'";
      v.judgement.bound = "one of: " + expectation_kind_names();
    }
    verdicts.push_back(std::move(v));
  }
  return verdicts;
}

}  // namespace metalgate::scenario
