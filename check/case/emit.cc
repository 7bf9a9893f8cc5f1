#include "check/case/emit.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "check/reference/announcers.h"

namespace metalgate::check {

std::string node_name(const Base& base, int i) {
  const auto& nodes = base.scenario.nodes;
  return i < static_cast<int>(nodes.size()) ? nodes[i].name : "node-" + std::to_string(i + 1);
}

namespace {

YAML::Node emit_node(const Base& base, const Case& c, int i) {
  const int from = i % static_cast<int>(base.scenario.nodes.size());
  YAML::Node n = YAML::Clone(base.document["nodes"][from]);
  n.SetStyle(YAML::EmitterStyle::Flow);
  if (i != from) {
    n["name"] = node_name(base, i);
    n["address"] = base.spare_addresses.at(i - base.scenario.nodes.size()).to_string();
  }
  const auto labels = case_node_labels(base, c, i);
  if (!labels.empty()) {
    YAML::Node l(YAML::NodeType::Map);
    for (const auto& [k, v] : labels)
      l[k] = v;
    n["labels"] = l;
  }
  YAML::Node roles(YAML::NodeType::Sequence);
  roles.SetStyle(YAML::EmitterStyle::Flow);
  if (base.scenario.nodes[from].speaker) roles.push_back("speaker");
  if (c.proxy.at(i)) roles.push_back("proxy");
  n["roles"] = roles;
  return n;
}

// A backend's `nodes` (where its pods run, for externalTrafficPolicy: Local) refer to generated nodes: a
// base node past the case's count stands for node (its index mod the count).
YAML::Node emit_backends(const Base& base, const Case& c) {
  YAML::Node backends = YAML::Clone(base.document["backends"]);
  std::map<std::string, int> index;
  for (std::size_t i = 0; i < base.scenario.nodes.size(); ++i)
    index[base.scenario.nodes[i].name] = static_cast<int>(i);
  for (auto b : backends) {
    if (!b["nodes"]) continue;
    for (std::size_t k = 0; k < b["nodes"].size(); ++k) {
      const auto it = index.find(b["nodes"][k].as<std::string>());
      if (it != index.end()) b["nodes"][k] = node_name(base, it->second % c.nodes);
    }
  }
  return backends;
}

// The base's client as written, at the case's rate (an open-loop client's; a closed loop keeps its users),
// with the connection options the case turns around.
YAML::Node emit_client(const Base& base, const CaseClient& cc) {
  YAML::Node client = YAML::Clone(base.document["clients"][cc.base_index]);
  const auto& as_written = base.scenario.clients.at(cc.base_index);
  if (cc.flips & kFlipScheme) {
    const char* from = as_written.https ? "https" : "http";
    client[as_written.https ? "http" : "https"] = YAML::Clone(client[from]);
    client.remove(from);
    if (as_written.https) {  // TLS's alone
      client["http"].remove("resume");
      client["http"].remove("http2");
    }
  }
  for (const char* protocol : {"http", "https", "udp"}) {
    if (!client[protocol] || !client[protocol].IsMap()) continue;
    YAML::Node p = client[protocol];
    if (!p["concurrency"]) p["rate"] = cc.rate;
    if (cc.flips & kFlipKeepAlive) p["keepalive"] = !as_written.keep_alive;
    if (cc.flips & kFlipCookies) p["cookies"] = !as_written.cookies;
    if ((cc.flips & kFlipResume) && std::string(protocol) == "https") p["resume"] = !as_written.resume;
    if ((cc.flips & kFlipHttp2) && std::string(protocol) == "https") p["http2"] = !as_written.http2;
  }
  return client;
}

YAML::Node fault(int at_ms, const std::string& kind, const YAML::Node& argument) {
  YAML::Node f(YAML::NodeType::Map);
  f.SetStyle(YAML::EmitterStyle::Flow);
  f["at"] = std::to_string(at_ms) + "ms";
  f[kind] = argument;
  return f;
}

YAML::Node groups(const std::vector<std::vector<std::string>>& sides) {
  YAML::Node g(YAML::NodeType::Sequence);
  for (const auto& side : sides) {
    YAML::Node s(YAML::NodeType::Sequence);
    for (const auto& name : side)
      s.push_back(name);
    g.push_back(s);
  }
  g.SetStyle(YAML::EmitterStyle::Flow);
  return g;
}

// The partition of kPartition: nodes [target, target + size) (mod the count) apart; the rest, with every
// host not listed (clients, pods), on the first side.
YAML::Node partition(const Base& base, const Case& c, const Episode& e) {
  std::vector<std::vector<std::string>> sides(2);
  const int first = e.target % c.nodes, size = 1 + (e.size - 1) % std::max(1, c.nodes - 1);
  for (int i = 0; i < c.nodes; ++i) {
    const bool apart = (i - first + c.nodes) % c.nodes < size;
    sides[apart ? 1 : 0].push_back(node_name(base, i));
  }
  return groups(sides);
}

// A reload of the base's manifests (absolute, as the document's manifests: are), and `addition` from the
// base's reload_dir when given. Block style: the counterexample's writer names the paths relative to it.
YAML::Node reload(const Base& base, int at_ms, const std::string& addition) {
  YAML::Node f(YAML::NodeType::Map), paths(YAML::NodeType::Sequence);
  f["at"] = std::to_string(at_ms) + "ms";
  for (const auto& m : base.scenario.manifests)
    paths.push_back(std::filesystem::absolute(m).lexically_normal().string());
  if (!addition.empty()) paths.push_back((std::filesystem::path(base.reload_dir) / addition).string());
  f["reload"] = paths;
  return f;
}

YAML::Node slow(const std::string& pod, int latency_ms) {
  YAML::Node s(YAML::NodeType::Map);
  s["pod"] = pod;
  s["latency"] = std::to_string(latency_ms) + "ms";
  return s;
}

// The fault and its recovery, appended to `faults`.
void emit_episode(const Base& base, const Case& c, const Episode& e, int at_ms, YAML::Node& faults) {
  const int end_ms = at_ms + e.length_ms;
  const std::string node = node_name(base, e.target % c.nodes);
  const std::string pod = base.pods.empty() ? "" : base.pods[e.target % base.pods.size()];
  const YAML::Node yes("true");
  switch (e.kind) {
    case EpisodeKind::kCrashOwner:
    case EpisodeKind::kLeaveOwner:
      faults.push_back(
          fault(at_ms, e.kind == EpisodeKind::kCrashOwner ? "crash" : "leave", YAML::Node("owner")));
      faults.push_back(fault(end_ms, "restart", YAML::Node("all")));
      break;
    case EpisodeKind::kCrashNode:
    case EpisodeKind::kLeaveNode:
      faults.push_back(fault(at_ms, e.kind == EpisodeKind::kCrashNode ? "crash" : "leave", YAML::Node(node)));
      faults.push_back(fault(end_ms, "restart", YAML::Node("all")));
      break;
    case EpisodeKind::kBackendUnhealthy:
      faults.push_back(fault(at_ms, "backend_unhealthy", YAML::Node(pod)));
      faults.push_back(fault(end_ms, "backend_healthy", YAML::Node(pod)));
      break;
    case EpisodeKind::kBackendSlow:
      faults.push_back(fault(at_ms, "backend_slow", slow(pod, 100 * e.size)));
      faults.push_back(
          fault(end_ms, "backend_slow", slow(pod, base.pod_latency_ms[e.target % base.pods.size()])));
      break;
    case EpisodeKind::kNicDown:
      faults.push_back(fault(at_ms, "nic_down", YAML::Node(node)));
      faults.push_back(fault(end_ms, "nic_up", YAML::Node(node)));
      break;
    case EpisodeKind::kPartitionOwner: {
      std::vector<std::string> all;
      for (int i = 0; i < c.nodes; ++i)
        all.push_back(node_name(base, i));
      faults.push_back(fault(at_ms, "partition", groups({all, {"owner"}})));
      faults.push_back(fault(end_ms, "heal", yes));
      break;
    }
    case EpisodeKind::kPartition:
      faults.push_back(fault(at_ms, "partition", partition(base, c, e)));
      faults.push_back(fault(end_ms, "heal", yes));
      break;
    case EpisodeKind::kBackendCrash:
      faults.push_back(fault(at_ms, "backend_crash", YAML::Node(pod)));
      faults.push_back(fault(end_ms, "backend_restart", YAML::Node(pod)));
      break;
    case EpisodeKind::kLinkDegraded: {
      YAML::Node degraded(YAML::NodeType::Map), whole(YAML::NodeType::Map);
      degraded["host"] = node;
      whole["host"] = node;
      degraded["loss"] = e.loss_percent == 0 ? std::string("0")
                                             : "0." + std::string(e.loss_percent < 10 ? "0" : "") +
                                                   std::to_string(e.loss_percent);
      degraded["delay"] = std::to_string(e.delay_ms) + "ms";
      if (e.rate_mbps > 0) degraded["rate"] = std::to_string(e.rate_mbps) + "Mbps";
      whole["loss"] = 0;
      whole["delay"] = "0ms";
      if (e.rate_mbps > 0) whole["rate"] = base.scenario.link_rate;
      faults.push_back(fault(at_ms, "link", degraded));
      faults.push_back(fault(end_ms, "link", whole));
      break;
    }
    case EpisodeKind::kReloadValid:
    case EpisodeKind::kReloadInvalid:
      faults.push_back(
          reload(base, at_ms, e.kind == EpisodeKind::kReloadValid ? "valid.yaml" : "invalid.yaml"));
      faults.push_back(reload(base, end_ms, ""));
      break;
  }
}

}  // namespace

std::vector<int> episode_starts_ms(const Case& c) {
  std::vector<int> starts;
  int previous_start = kFirstEpisodeAfterMs, all_over = kFirstEpisodeAfterMs;
  for (const auto& e : c.episodes) {
    const int start = (e.overlaps ? previous_start : all_over) + e.gap_ms;
    starts.push_back(start);
    previous_start = start;
    all_over = std::max(all_over, start + e.length_ms);
  }
  return starts;
}

int case_duration_ms(const Case& c, int recovery_within_ms) {
  int all_over = kFirstEpisodeAfterMs;
  const auto starts = episode_starts_ms(c);
  for (std::size_t i = 0; i < starts.size(); ++i)
    all_over = std::max(all_over, starts[i] + c.episodes[i].length_ms);
  return all_over + recovery_within_ms + kTailAfterRecoveryMs;
}

std::string emit_case(const Base& base, const Case& c, const EmitOptions& options) {
  YAML::Node doc = YAML::Clone(base.document);
  doc["name"] = options.name;
  doc["seed"] = c.seed;
  doc["duration"] = std::to_string(case_duration_ms(c, base.recovery_within_ms)) + "ms";
  YAML::Node nodes(YAML::NodeType::Sequence), clients(YAML::NodeType::Sequence);
  for (int i = 0; i < c.nodes; ++i)
    nodes.push_back(emit_node(base, c, i));
  doc["nodes"] = nodes;
  YAML::Node manifests(YAML::NodeType::Sequence);
  for (const auto& m : base.scenario.manifests)
    manifests.push_back(std::filesystem::absolute(m).lexically_normal().string());
  doc["manifests"] = manifests;
  if (base.document["backends"]) doc["backends"] = emit_backends(base, c);
  for (const auto& cc : c.clients)
    clients.push_back(emit_client(base, cc));
  doc["clients"] = clients;
  YAML::Node faults(YAML::NodeType::Sequence), expect(YAML::NodeType::Sequence);
  // Each episode's fault and recovery, in time order (episodes may overlap; at one time, in episode order).
  // Sorted by index: assigning a YAML::Node overwrites the node it refers to, so nodes are never swapped.
  YAML::Node unsorted(YAML::NodeType::Sequence);
  std::vector<std::pair<int, std::size_t>> order;  // (at, index in unsorted)
  const auto starts = episode_starts_ms(c);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    emit_episode(base, c, c.episodes[i], starts[i], unsorted);
    order.emplace_back(starts[i], 2 * i);
    order.emplace_back(starts[i] + c.episodes[i].length_ms, 2 * i + 1);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [at, index] : order)
    faults.push_back(unsorted[index]);
  doc["faults"] = faults;
  for (const auto& x : options.expectations)
    expect.push_back(YAML::Load(x));
  doc["expect"] = expect;
  std::ostringstream out;
  std::istringstream comment(options.comment);
  for (std::string line; std::getline(comment, line);)
    out << "# " << line << "\n";
  YAML::Emitter e;
  e << doc;
  out << e.c_str() << "\n";
  return out.str();
}

}  // namespace metalgate::check
