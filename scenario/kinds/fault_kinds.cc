#include "scenario/kinds/fault_kinds.h"

#include "scenario/schema/fields.h"

namespace metalgate::scenario {

namespace {

using config::YamlReader;

// crash, leave and nic_down may name "owner" (whoever owns the controller's VIP then); restart may name
// "all".
void node_argument(const YamlReader& a, const ScenarioNames& names, ScenarioFault& f, bool owner, bool all) {
  f.node = a.scalar(true).value_or("");
  if (names.nodes.count(f.node) || (owner && f.node == "owner") || (all && f.node == "all")) return;
  a.error("no node is named '" + f.node + "'" + (owner ? " (or 'owner')" : "") +
          (all ? " (or 'all': every node whose engine is down)" : ""));
}

// {owner: SERVICE or VIP}: whoever owns that VIP then ("namespace/name" of a LoadBalancer Service, resolved
// by the loader once the manifests are known; or the address itself).
void owner_of(const YamlReader& a, ScenarioFault& f) {
  if (!a.expect_map({"owner"})) return;
  f.node = "owner";
  f.owner_of = a.string("owner", true).value_or("");
  if (auto vip = net::IpAddress::parse(f.owner_of)) {
    f.owner_vip = vip;
    return;
  }
  if (!f.owner_of.empty() && !is_namespaced_name(f.owner_of))
    a["owner"].error("'" + f.owner_of + "' is neither a VIP nor a Service (namespace/name)");
}

// crash, leave, nic_down: a node, "owner" (of the controller's VIP) or {owner: SERVICE or VIP}.
void node_or_owner(const YamlReader& a, const ScenarioNames& names, ScenarioFault& f) {
  if (a.node().IsMap())
    owner_of(a, f);
  else
    node_argument(a, names, f, true, false);
}

void node_only(const YamlReader& a, const ScenarioNames& names, ScenarioFault& f) {
  node_argument(a, names, f, false, false);
}

void node_or_all(const YamlReader& a, const ScenarioNames& names, ScenarioFault& f) {
  node_argument(a, names, f, false, true);
}

void pod(const YamlReader& a, const ScenarioNames& names, ScenarioFault& f) {
  f.node = a.scalar(true).value_or("");
  if (!names.pods.count(f.node)) a.error("no pod is named '" + f.node + "' (<deployment>-<n>)");
}

void partition(const YamlReader& a, const ScenarioNames& names, ScenarioFault& f) {
  std::set<std::string> seen;
  for (const auto& group : a.items()) {
    std::vector<std::string> members;
    for (const auto& member : group.items()) {
      std::string name = member.scalar(true).value_or("");
      if (!names.hosts.count(name) && name != "owner")
        member.error("no host (node, pod or client) is named '" + name + "'");
      else if (!seen.insert(name).second)
        member.error("'" + name + "' is in two groups");
      members.push_back(name);
    }
    if (members.empty()) group.error("a group of a partition lists at least one host");
    f.groups.push_back(std::move(members));
  }
  if (f.groups.size() < 2) a.error("a partition has at least two groups: [[node-1], [node-2, node-3]]");
}

void heal(const YamlReader& a, const ScenarioNames&, ScenarioFault&) {
  if (!(a.node().IsMap() && a.node().size() == 0) && !(a.node().IsScalar() && a.node().Scalar() == "true"))
    a.error("heal takes no argument: heal: true");
}

void link(const YamlReader& a, const ScenarioNames& names, ScenarioFault& f) {
  if (!a.expect_map({"host", "loss", "delay", "rate"})) return;
  f.node = a.string("host", true).value_or("");
  if (!names.hosts.count(f.node) && f.node != "owner") a["host"].error("no host is named '" + f.node + "'");
  f.loss = number_field(a, "loss", 0, 1, "a share of frames from 0 to 1");
  f.delay = link_delay_field(a, "delay");
  f.rate = a.string("rate");
  if (!f.loss && !f.delay && !f.rate) a.error("a link fault sets loss, delay or rate");
}

void backend_slow(const YamlReader& a, const ScenarioNames& names, ScenarioFault& f) {
  if (!a.expect_map({"pod", "latency"})) return;
  f.node = a.string("pod", true).value_or("");
  if (!names.pods.count(f.node)) a["pod"].error("no pod is named '" + f.node + "' (<deployment>-<n>)");
  f.latency = duration_field(a, "latency", true).value_or(milliseconds(0));
}

// Read when the fault happens, as serve reads them on SIGHUP: a file may change, or be invalid (the engines
// then refuse it and keep serving). It must exist now.
void reload(const YamlReader& a, const ScenarioNames& names, ScenarioFault& f) {
  for (const auto& item : a.items()) {
    auto m = item.scalar(true);
    if (!m) continue;
    auto p = resolve_path(names.base, *m);
    if (!std::filesystem::exists(p)) a.error("'" + *m + "' does not exist (relative to the scenario)");
    f.manifests.push_back(p.string());
  }
  if (f.manifests.empty()) a.error("reload lists the manifests to read: reload: [manifests/]");
}

}  // namespace

const std::vector<FaultKind>& fault_kinds() {
  static const std::vector<FaultKind> kinds = {
      {"crash", "NODE, owner or {owner: SERVICE}", node_or_owner},
      {"restart", "NODE or all", node_or_all},
      {"leave", "NODE, owner or {owner: SERVICE}", node_or_owner},
      {"nic_down", "NODE, owner or {owner: SERVICE}", node_or_owner},
      {"nic_up", "NODE", node_only},
      {"partition", "[[HOST, ...], ...]", partition},
      {"heal", "true", heal},
      {"link", "{host, loss, delay, rate}", link},
      {"backend_crash", "POD", pod},
      {"backend_restart", "POD", pod},
      {"backend_slow", "{pod, latency}", backend_slow},
      {"backend_unhealthy", "POD", pod},
      {"backend_healthy", "POD", pod},
      {"reload", "[MANIFEST PATH, ...]", reload},
  };
  return kinds;
}

const FaultKind* find_fault_kind(std::string_view name) {
  for (const auto& kind : fault_kinds())
    if (kind.name == name) return &kind;
  return nullptr;
}

std::string fault_kind_names() {
  std::string names;
  for (const auto& kind : fault_kinds())
    names += (names.empty() ? "" : ", ") + std::string(kind.name);
  return names;
}

std::vector<std::string> missing_fault_actions(const std::function<bool(std::string_view)>& has_action) {
  std::vector<std::string> missing;
  for (const auto& kind : fault_kinds())
    if (!has_action(kind.name)) missing.emplace_back(kind.name);
  return missing;
}

}  // namespace metalgate::scenario
