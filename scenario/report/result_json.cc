#include "scenario/report/result_json.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "scenario/judge/requests.h"

namespace metalgate::scenario {

namespace {

using nlohmann::json;
using observe::RequestRecord;

// At most this many failed requests are listed one by one.
constexpr std::size_t kListedFailures = 100;

std::string error_of(const RequestRecord& r) {
  return r.status ? "status " + std::to_string(r.status) : r.error;
}

json failure_entry(const RequestRecord& r) {
  return {{"client", r.client},
          {"start_ms", static_cast<double>(r.start_us) / 1000.0},
          {"end_ms", static_cast<double>(r.end_us) / 1000.0},
          {"request", r.host.empty() ? "datagram" : r.host + r.path},
          {"vip_node", r.vip_node},
          {"error", error_of(r)}};
}

// The counted requests by second of their start: answered, failed (expected denials among them), and the
// answered ones' latencies.
struct Second {
  std::int64_t ok = 0, failed = 0, denied = 0;
  std::vector<std::int64_t> latencies_us;
};

// One client's counted requests; its failures by reason, expected denials apart.
struct ClientCount {
  std::int64_t total = 0, ok = 0, denied = 0;
  std::map<std::string, std::int64_t> errors;
};

json per_second(const std::map<std::int64_t, Second>& seconds) {
  json a = json::array();
  for (const auto& [second, s] : seconds)
    a.push_back({{"second", second},
                 {"ok", s.ok},
                 {"failed", s.failed},
                 {"denied", s.denied},
                 {"p50_ms", judge::percentile_ms(s.latencies_us, 0.5)},
                 {"p99_ms", judge::percentile_ms(s.latencies_us, 0.99)}});
  return a;
}

// Clients a rate_limit expectation is about: their denials are expected, not failures worth listing.
std::set<std::string> rate_limited_clients(const Scenario& s) {
  std::set<std::string> limited;
  for (const auto& x : s.expectations)
    if (x.name == "rate_limit") limited.insert(x.client);
  return limited;
}

// A redirect or other answer of the proxy's own names no backend.
std::string backend_of(const RequestRecord& r) {
  return !r.served_by.empty() || r.status < 300 ? r.served_by
                                                : "(the proxy itself: " + std::to_string(r.status) + ")";
}

json clients_section(const std::map<std::string, ClientCount>& clients) {
  json a = json::array();
  for (const auto& [name, c] : clients)
    a.push_back({{"client", name},
                 {"total", c.total},
                 {"ok", c.ok},
                 {"denied", c.denied},
                 {"failed", c.total - c.ok - c.denied},
                 {"errors", c.errors}});
  return a;
}

// What requests_section derives besides the section itself.
struct RequestTables {
  json per_second, clients;
};

json requests_section(const Scenario& s, const observe::Observations& o, RequestTables& tables) {
  const auto limited = rate_limited_clients(s);
  std::int64_t total = 0, ok = 0, reused = 0, denied = 0;
  std::map<std::string, ClientCount> clients;
  std::vector<std::int64_t> latencies;
  std::map<std::string, std::int64_t> by_backend, errors, by_vip_node;
  json failures = json::array();  // what went wrong, where
  std::map<std::int64_t, Second> by_second;
  for (const auto& r : o.records) {
    if (!judge::counted(r)) continue;
    ++total;
    reused += r.reused ? 1 : 0;
    Second& second = by_second[r.start_us / 1000000];
    ClientCount& client = clients[r.client];
    ++client.total;
    if (!r.vip_node.empty()) ++by_vip_node[r.vip_node];
    if (judge::answered(r)) {
      ++ok;
      ++second.ok;
      ++client.ok;
      latencies.push_back(r.end_us - r.start_us);
      second.latencies_us.push_back(r.end_us - r.start_us);
      ++by_backend[backend_of(r)];
      continue;
    }
    ++second.failed;
    ++errors[error_of(r)];
    const bool expected_denial = (r.status == 403 || r.status == 429) && limited.count(r.client);
    if (expected_denial) {
      ++denied, ++second.denied, ++client.denied;
      continue;
    }
    ++client.errors[error_of(r)];
    if (failures.size() < kListedFailures) failures.push_back(failure_entry(r));
  }
  tables.per_second = per_second(by_second);
  tables.clients = clients_section(clients);
  return {{"total", total},
          {"ok", ok},
          {"failed", total - ok},
          {"denied", denied},  // of `failed`: a rate_limit expectation's client refused, as expected
          {"on_reused_connections", reused},
          {"p50_ms", judge::percentile_ms(latencies, 0.5)},
          {"p99_ms", judge::percentile_ms(latencies, 0.99)},
          {"by_backend", by_backend},
          {"by_vip_node", by_vip_node},
          {"errors", errors},
          {"failures", failures}};
}

json failovers_section(const observe::Observations& o) {
  json a = json::array();
  for (const auto& f : o.failovers) {
    a.push_back({{"fault_at_ms", f.fault_ms},
                 {"cause", f.cause},
                 {"node", f.node},
                 {"vip", (f.vip.is_unspecified() ? o.vip : f.vip).to_string()},
                 {"failover_ms", f.failover_ms()}});
    if (f.moved_ms >= 0) a.back()["moved_at_ms"] = f.moved_ms;  // a failback: timed from its move
  }
  return a;
}

// Every VIP's owner over time, from the samples: "" while nobody claims it, "a+b" while several do.
json owners_section(const observe::Observations& o) {
  std::map<net::IpAddress, std::vector<observe::OwnerChange>> changes;
  for (const auto& sample : o.samples)
    for (const auto& [vip, claims] : sample.claims)
      changes[vip];
  for (const auto& sample : o.samples)
    for (auto& [vip, timeline] : changes) {
      std::string owner;
      if (auto it = sample.claims.find(vip); it != sample.claims.end())
        for (const auto& c : it->second)
          owner += (owner.empty() ? "" : "+") + c.node;
      if (timeline.empty() || timeline.back().owner != owner) timeline.push_back({sample.at_ms, owner});
    }
  json a = json::array();
  for (const auto& [vip, timeline] : changes) {
    json t = json::array();
    for (const auto& change : timeline)
      t.push_back({{"at_ms", change.at_ms}, {"owner", change.owner}});
    a.push_back({{"vip", vip.to_string()}, {"timeline", std::move(t)}});
  }
  return a;
}

// Every interval in which several nodes on one side claimed a VIP: from the first sample showing it to the
// first sample without it (or the last sample), and every node that claimed it meanwhile. Whether an
// interval counts against single_owner (its settle windows) is the judge's to say; this is what was seen.
json several_owners_section(const observe::Observations& o) {
  struct Interval {
    net::IpAddress vip;
    std::int64_t from_ms = 0, to_ms = 0;
    std::set<std::string> nodes;
  };
  std::map<net::IpAddress, Interval> open;
  std::vector<Interval> closed;
  for (const auto& sample : o.samples) {
    std::set<net::IpAddress> split_now;
    for (const auto& [vip, claims] : sample.claims) {
      const auto nodes = observe::several_on_one_side(claims);
      if (nodes.empty()) continue;
      split_now.insert(vip);
      open.try_emplace(vip, Interval{vip, sample.at_ms, 0, {}})
          .first->second.nodes.insert(nodes.begin(), nodes.end());
    }
    for (auto it = open.begin(); it != open.end();) {
      if (split_now.count(it->first)) {
        ++it;
        continue;
      }
      it->second.to_ms = sample.at_ms;
      closed.push_back(std::move(it->second));
      it = open.erase(it);
    }
  }
  for (auto& [vip, interval] : open) {
    interval.to_ms = o.samples.back().at_ms;
    closed.push_back(std::move(interval));
  }
  std::sort(closed.begin(), closed.end(), [](const Interval& a, const Interval& b) {
    return std::tie(a.vip, a.from_ms) < std::tie(b.vip, b.from_ms);
  });
  json a = json::array();
  for (const auto& x : closed)
    a.push_back({{"vip", x.vip.to_string()},
                 {"from_ms", x.from_ms},
                 {"to_ms", x.to_ms},
                 {"nodes", std::vector<std::string>(x.nodes.begin(), x.nodes.end())}});
  return a;
}

json timeline_section(const observe::Observations& o) {
  json a = json::array();
  for (const auto& change : o.owner_timeline)
    a.push_back({{"at_ms", change.at_ms}, {"owner", change.owner}});
  return a;
}

json expectations_section(const std::vector<Verdict>& verdicts) {
  json a = json::array();
  for (const auto& v : verdicts)
    a.push_back({{"name", v.name},
                 {"measured", v.judgement.measured},
                 {"bound", v.judgement.bound},
                 {"passed", v.judgement.passed}});
  return a;
}

// Per request class (client × Host and path, or "datagram"), of the counted requests: how many, how many were
// answered, and the set of pods that answered. `metalgate compare` holds the two worlds' sets equal.
json classes_section(const observe::Observations& o) {
  struct Class {
    std::int64_t total = 0, ok = 0;
    std::set<std::string> pods;
  };
  std::map<std::pair<std::string, std::string>, Class> classes;
  for (const auto& r : o.records) {
    if (!judge::counted(r)) continue;
    Class& c = classes[{r.client, r.host.empty() ? "datagram" : r.host + r.path}];
    ++c.total;
    if (judge::answered(r)) ++c.ok;
    if (!r.served_by.empty()) c.pods.insert(r.served_by);
  }
  json a = json::array();
  for (const auto& [key, c] : classes)
    a.push_back(
        {{"client", key.first}, {"request", key.second}, {"total", c.total}, {"ok", c.ok}, {"pods", c.pods}});
  return a;
}

}  // namespace

bool all_passed(const std::vector<Verdict>& verdicts) {
  for (const auto& v : verdicts)
    if (!v.judgement.passed) return false;
  return true;
}

json result_document(const Scenario& s, std::string_view world, std::uint64_t seed, observe::Observations& o,
                     const std::vector<Verdict>& verdicts, const std::vector<std::string>& warnings) {
  json nodes = json::object();
  for (auto& [name, stats] : o.node_stats)
    nodes[name] = std::move(stats);
  o.node_stats.clear();
  RequestTables tables;
  json requests = requests_section(s, o, tables);
  json faults = json::array();
  for (const auto& entry : o.fault_log)
    faults.push_back(entry);
  return {{"scenario", s.name},
          {"world", world},
          {"seed", seed},
          {"duration_ms", s.duration.count()},
          {"vip", o.vip.to_string()},
          {"requests", std::move(requests)},
          {"failovers", failovers_section(o)},
          {"faults", std::move(faults)},
          {"owner_timeline", timeline_section(o)},
          {"owners", owners_section(o)},
          {"several_owners", several_owners_section(o)},
          {"per_second", std::move(tables.per_second)},
          {"clients", std::move(tables.clients)},
          {"classes", classes_section(o)},
          {"nodes", std::move(nodes)},
          {"expectations", expectations_section(verdicts)},
          {"passed", all_passed(verdicts)},
          {"warnings", warnings}};
}

}  // namespace metalgate::scenario
