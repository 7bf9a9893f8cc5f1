#include "scenario/run/world_run.h"

#include <algorithm>

#include "scenario/kinds/fault_kinds.h"

namespace metalgate::scenario::run {

namespace {

using nlohmann::json;
using observe::Failover;

// The world as the fault finds it, and the fault log's entry the action completes.
struct FaultMoment {
  std::int64_t now = 0;  // ms
  net::IpAddress vip;    // whose owner "owner" is: the fault's {owner: …}, else the controller's VIP
  std::string owner;     // its first claimant now; "" when nobody claims it
  std::string target;    // the fault's node, pod or host with "owner" resolved
  std::map<net::IpAddress, std::string> owners;  // every claimed VIP's owner now (its first claimant)
  std::vector<net::IpAddress> target_owns;       // the VIPs the target claims now
  json entry;                                    // at_ms, action, node; the action adds what it did
};

using Action = void (*)(WorldRun&, WorldActions&, const ScenarioFault&, FaultMoment&);

// Claims of nodes whose NIC is up: a node cut off by its NIC still believes it owns what it owned, but nobody
// can hear it.
std::map<net::IpAddress, std::vector<std::string>> heard_claims(WorldRun& run, WorldActions& world) {
  auto all = world.claims();
  for (auto it = all.begin(); it != all.end();) {
    auto& names = it->second;
    names.erase(std::remove_if(names.begin(), names.end(), [&](const auto& n) { return run.isolated[n]; }),
                names.end());
    it = names.empty() ? all.erase(it) : std::next(it);
  }
  return all;
}

// Every VIP the target claimed moves away from it.
void target_loses_its_vips(WorldRun& run, const std::string& cause, const FaultMoment& m) {
  for (const auto& vip : m.target_owns)
    run.candidates.moves.push_back({m.now, m.target, -1, cause, vip});
}

// Every VIP may fail back to where it was before (a failover when its owner changes within 3 s).
void vips_may_fail_back(WorldRun& run, const std::string& cause, const FaultMoment& m) {
  for (const auto& [vip, owner] : m.owners)
    run.candidates.failbacks.push_back({m.now, owner, -1, cause, vip});
}

void stop_node(WorldRun& run, WorldActions& world, const ScenarioFault& f, FaultMoment& m) {
  if (m.target.empty() || !world.node_running(m.target)) return;
  world.stop_node(m.target, f.kind == "leave");
  target_loses_its_vips(run, f.kind, m);
}

void restart(WorldRun& run, WorldActions& world, const ScenarioFault&, FaultMoment& m) {
  json restarted = json::array(), failed = json::array();
  for (const auto& n : run.scenario.nodes) {
    if ((m.target != "all" && n.name != m.target) || world.node_running(n.name)) continue;
    if (auto why = world.start_node(n); !why.empty())
      failed.push_back(n.name + ": " + why);
    else
      restarted.push_back(n.name);
  }
  if (m.target == "all") m.entry["nodes"] = restarted;
  if (!failed.empty()) m.entry["failed"] = failed;
  run.last_settle_event_ms = m.now;
  vips_may_fail_back(run, "restart", m);
}

void nic(WorldRun& run, WorldActions& world, const ScenarioFault& f, FaultMoment& m) {
  if (m.target.empty()) return;
  const bool down = f.kind == "nic_down";
  if (down) target_loses_its_vips(run, "nic_down", m);
  if (!down) vips_may_fail_back(run, "nic_up", m);
  world.set_nic(m.target, !down);
  run.isolated[m.target] = down;
  if (!down) run.last_settle_event_ms = m.now;
}

// The host on whose side a VIP's clients are: the first client sending to `vip`, else the first client.
std::string clients_side(const WorldRun& run, const net::IpAddress& vip) {
  for (const auto& c : run.scenario.clients)
    if (run.target_of(c) == vip) return c.name;
  return run.scenario.clients.empty() ? "" : run.scenario.clients.front().name;
}

// "owner" names whoever owns the controller's VIP now; it stays where "owner" is written even if its name is
// also listed elsewhere. A VIP whose owner the partition cuts off from its clients' side moves.
void partition(WorldRun& run, WorldActions& world, const ScenarioFault& f, FaultMoment& m) {
  std::vector<std::vector<std::string>> groups;
  json listed = json::array();
  for (const auto& g : f.groups) {
    groups.emplace_back();
    const bool has_owner = std::find(g.begin(), g.end(), "owner") != g.end();
    for (const auto& name : g) {
      if (name == m.owner && !has_owner) continue;
      if (auto host = name == "owner" ? m.owner : name; !host.empty()) groups.back().push_back(host);
    }
    listed.push_back(groups.back());
  }
  m.entry["groups"] = listed;
  world.set_partition(groups);
  run.group.clear();
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (const auto& name : groups[g])
      run.group[name] = static_cast<int>(g);
  for (const auto& [vip, owner] : m.owners)
    if (run.group[owner] != run.group[clients_side(run, vip)])
      run.candidates.moves.push_back({m.now, owner, -1, "partition", vip});
}

void heal(WorldRun& run, WorldActions& world, const ScenarioFault&, FaultMoment& m) {
  world.set_partition({});
  run.group.clear();
  run.last_settle_event_ms = m.now;
  vips_may_fail_back(run, "heal", m);
}

void link(WorldRun&, WorldActions& world, const ScenarioFault& f, FaultMoment& m) {
  if (m.target.empty()) return;
  if (auto failed = world.set_link(m.target, f); !failed.empty()) m.entry["failed"] = failed;
  if (f.loss) m.entry["loss"] = *f.loss;
  if (f.delay) m.entry["delay_us"] = f.delay->count();
  if (f.rate) m.entry["rate"] = *f.rate;
}

void backend_crash(WorldRun&, WorldActions& world, const ScenarioFault&, FaultMoment& m) {
  world.pod_crash(m.target);  // its connections close, its ports refuse
}

void backend_restart(WorldRun&, WorldActions& world, const ScenarioFault&, FaultMoment& m) {
  world.pod_restart(m.target);
}

void backend_slow(WorldRun&, WorldActions& world, const ScenarioFault& f, FaultMoment& m) {
  world.pod_latency(m.target, f.latency);
  m.entry["latency_ms"] = f.latency.count();
}

void backend_health(WorldRun&, WorldActions& world, const ScenarioFault& f, FaultMoment& m) {
  world.pod_health(m.target, f.kind == "backend_healthy");
}

void reload(WorldRun&, WorldActions& world, const ScenarioFault& f, FaultMoment& m) {
  world.reload(f.manifests, m.entry);
}

const std::map<std::string, Action, std::less<>>& actions() {
  static const std::map<std::string, Action, std::less<>> table = {
      {"crash", stop_node},
      {"leave", stop_node},
      {"restart", restart},
      {"nic_down", nic},
      {"nic_up", nic},
      {"partition", partition},
      {"heal", heal},
      {"link", link},
      {"backend_crash", backend_crash},
      {"backend_restart", backend_restart},
      {"backend_slow", backend_slow},
      {"backend_unhealthy", backend_health},
      {"backend_healthy", backend_health},
      {"reload", reload},
  };
  return table;
}

FaultMoment moment_of(WorldRun& run, WorldActions& world, const ScenarioFault& f, std::int64_t now_ms) {
  FaultMoment m;
  m.now = now_ms;
  m.vip = f.owner_vip.value_or(run.observations.vip);
  const auto claims = heard_claims(run, world);
  if (auto it = claims.find(m.vip); it != claims.end()) m.owner = it->second.front();
  m.target = f.node == "owner" ? m.owner : f.node;
  m.entry = {{"at_ms", m.now}, {"action", f.kind}};
  if (!f.node.empty()) m.entry["node"] = m.target;
  if (f.owner_vip) m.entry["owner_of"] = {{"vip", m.vip.to_string()}, {"as_written", f.owner_of}};
  for (const auto& [vip, claimants] : claims) {
    m.owners[vip] = claimants.front();
    if (std::find(claimants.begin(), claimants.end(), m.target) != claimants.end())
      m.target_owns.push_back(vip);
  }
  return m;
}

}  // namespace

std::string WorldRun::side_of(const std::string& node) {
  return isolated[node] ? "nic-down:" + node : "group:" + std::to_string(group[node]);
}

void apply_fault(WorldRun& run, WorldActions& world, const ScenarioFault& fault, std::int64_t now_ms) {
  FaultMoment m = moment_of(run, world, fault, now_ms);
  if (auto it = actions().find(fault.kind); it != actions().end()) it->second(run, world, fault, m);
  run.observations.fault_log.push_back(std::move(m.entry));
}

void sample_ownership(WorldRun& run, WorldActions& world, std::int64_t now_ms) {
  observe::OwnershipSample s;
  s.at_ms = now_ms;
  for (const auto& [vip, names] : heard_claims(run, world)) {
    if (vip == run.observations.vip) s.vip_owners = names;
    for (const auto& name : names)
      s.claims[vip].push_back({name, run.side_of(name)});
  }
  s.last_settle_event_ms = run.last_settle_event_ms;
  run.observations.samples.push_back(std::move(s));
}

std::vector<std::string> kinds_without_action() {
  return missing_fault_actions([](std::string_view kind) { return actions().count(kind) > 0; });
}

}  // namespace metalgate::scenario::run
