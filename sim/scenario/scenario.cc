#include "sim/scenario/scenario.h"

#include <algorithm>
#include <filesystem>

#include "engine/config/duration.h"
#include "engine/config/yaml_reader.h"
#include "engine/membership/membership.h"

namespace metalgate::sim {

namespace {

std::optional<milliseconds> duration(const config::YamlReader& r, std::string_view key,
                                     bool required = false) {
  auto text = r.string(key, required);
  if (!text) return std::nullopt;
  auto d = config::parse_duration(*text);
  if (!d) r[key].error("'" + *text + "' is not a duration (20s, 500ms, 1m)");
  return d;
}

std::optional<net::IpAddress> address(const config::YamlReader& r, std::string_view key,
                                      bool required = true) {
  auto text = r.string(key, required);
  if (!text) return std::nullopt;
  auto a = net::IpAddress::parse(*text);
  if (!a || !a->is_v4()) r[key].error("'" + *text + "' is not an IPv4 address");
  return a;
}

std::optional<double> number(const config::YamlReader& r, std::string_view key, double min, double max,
                             std::string_view what, bool required = false) {
  auto text = r.string(key, required);
  if (!text) return std::nullopt;
  double value = -1;
  try {
    std::size_t used = 0;
    value = std::stod(*text, &used);
    if (used != text->size()) value = min - 1;
  } catch (...) {
    value = min - 1;
  }
  if (value < min || value > max) {
    r[key].error("'" + *text + "' is not " + std::string(what));
    return std::nullopt;
  }
  return value;
}

// Link delays are microseconds on a LAN: "5us", or any duration ("1ms").
std::optional<std::chrono::microseconds> link_delay(const config::YamlReader& r, std::string_view key) {
  auto text = r.string(key);
  if (!text) return std::nullopt;
  if (text->size() > 2 && text->substr(text->size() - 2) == "us" &&
      text->find_first_not_of("0123456789") == text->size() - 2)
    return std::chrono::microseconds(std::stoll(text->substr(0, text->size() - 2)));
  if (auto ms = config::parse_duration(*text))
    return std::chrono::duration_cast<std::chrono::microseconds>(*ms);
  r[key].error("'" + *text + "' is not a delay (5us, 1ms)");
  return std::nullopt;
}

}  // namespace

Scenario load_scenario(const std::string& path, config::Diagnostics& d) {
  Scenario s;
  s.file = path;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    d.error(config::location_of(e.mark, path), "", "malformed YAML: " + e.msg);
    return s;
  } catch (const YAML::BadFile&) {
    d.error({path, 0, 0}, "", "cannot read the scenario file");
    return s;
  }
  config::YamlReader r(root, path, "scenario", d);
  if (!r.expect_map({"name", "seed", "duration", "lan", "nodes", "speaker", "manifests", "backends",
                     "clients", "faults", "expect"}))
    return s;
  s.name = r.string("name", true).value_or("");
  s.seed = static_cast<std::uint64_t>(r.integer("seed", 0, INT64_MAX).value_or(1));
  s.duration = duration(r, "duration", true).value_or(milliseconds(60000));

  auto lan = r["lan"];
  if (lan.expect_map({"subnet", "rate", "delay", "loss", "pcap"})) {
    if (auto text = lan.string("subnet", true)) {
      auto c = net::Cidr::parse(*text);
      if (!c || !c->network.is_v4())
        lan["subnet"].error("'" + *text + "' is not an IPv4 prefix");
      else
        s.subnet = *c;
    }
    s.link_rate = lan.string("rate").value_or(s.link_rate);
    s.link_delay = link_delay(lan, "delay").value_or(s.link_delay);
    s.link_loss = number(lan, "loss", 0, 1, "a share of frames from 0 to 1").value_or(0);
    s.pcap = lan.boolean("pcap").value_or(false);
  }
  std::set<std::string> names;
  auto in_subnet = [&](const config::YamlReader& at, const net::IpAddress& a) {
    if (!s.subnet.network.is_unspecified() && !s.subnet.contains(a))
      at.error(a.to_string() + " is outside the LAN's subnet " + s.subnet.to_string());
  };
  for (const auto& n : r["nodes"].items()) {
    if (!n.expect_map({"name", "address", "roles", "labels"})) continue;
    ScenarioNode node;
    node.name = n.string("name", true).value_or("");
    if (!names.insert(node.name).second) n["name"].error("another host is already named '" + node.name + "'");
    if (auto a = address(n, "address")) {
      node.address = *a;
      in_subnet(n["address"], *a);
    }
    if (n.has("roles")) {
      node.speaker = node.proxy = false;
      for (const auto& role : n.string_list("roles")) {
        if (role == "speaker")
          node.speaker = true;
        else if (role == "proxy")
          node.proxy = true;
        else
          n["roles"].error("unknown role '" + role + "' (speaker, proxy)");
      }
    }
    node.labels = n.string_map("labels");
    s.nodes.push_back(std::move(node));
  }
  if (s.nodes.empty()) r["nodes"].error("a scenario needs at least one node");
  auto speaker = r["speaker"];
  if (speaker.expect_map({"probe_interval", "probe_timeout", "suspicion_timeout", "join_grace", "announce_refresh"})) {
    auto positive = [&](std::string_view key) -> std::optional<milliseconds> {
      auto value = duration(speaker, key);
      if (value && value->count() <= 0) {
        speaker[key].error("must be longer than 0ms");
        return std::nullopt;
      }
      return value;
    };
    s.speaker.probe_interval = positive("probe_interval");
    s.speaker.probe_timeout = positive("probe_timeout");
    s.speaker.suspicion_timeout = positive("suspicion_timeout");
    s.speaker.join_grace = duration(speaker, "join_grace");
    s.speaker.announce_refresh = duration(speaker, "announce_refresh");
    membership::MembershipConfig timing;  // the engine's defaults, with what the scenario sets
    if (s.speaker.probe_interval) timing.probe_interval = *s.speaker.probe_interval;
    if (s.speaker.probe_timeout) timing.probe_timeout = *s.speaker.probe_timeout;
    if (auto problem = membership::timing_problem(timing); !problem.empty())
      speaker[s.speaker.probe_timeout ? "probe_timeout" : "probe_interval"].error(problem);
  }
  const auto base = std::filesystem::path(path).parent_path();
  for (const auto& m : r.string_list("manifests")) {
    auto p = std::filesystem::path(m).is_absolute() ? std::filesystem::path(m) : base / m;
    if (!std::filesystem::exists(p))
      r["manifests"].error("'" + m + "' does not exist (relative to the scenario)");
    s.manifests.push_back(p.string());
  }
  for (const auto& b : r["backends"].items()) {
    if (!b.expect_map({"deployment", "addresses", "latency"})) continue;
    ScenarioBackend backend;
    backend.deployment = b.string("deployment", true).value_or("");
    for (const auto& a : b.string_list("addresses")) {
      auto ip = net::IpAddress::parse(a);
      if (!ip)
        b["addresses"].error("'" + a + "' is not an IPv4 address");
      else {
        in_subnet(b["addresses"], *ip);
        backend.addresses.push_back(*ip);
      }
    }
    backend.latency = duration(b, "latency").value_or(backend.latency);
    s.backends.push_back(std::move(backend));
  }
  for (const auto& c : r["clients"].items()) {
    if (!c.expect_map({"name", "address", "http", "https", "udp"})) continue;
    ScenarioClient client;
    client.name = c.string("name", true).value_or("");
    if (!names.insert(client.name).second)
      c["name"].error("another host is already named '" + client.name + "'");
    if (auto a = address(c, "address")) {
      client.address = *a;
      in_subnet(c["address"], *a);
    }
    client.https = c.has("https");
    client.udp = c.has("udp");
    if (int(c.has("http")) + int(c.has("https")) + int(c.has("udp")) != 1)
      c.error("a client is one of http: {...}, https: {...} or udp: {...}");
    auto h = c[client.https ? "https" : client.udp ? "udp" : "http"];
    const bool shaped = client.udp
                            ? h.expect_map({"rate", "target", "port", "timeout"})
                            : h.expect_map({"host", "path", "mix", "rate", "concurrency", "think",
                                            "keepalive", "cookies", "resume", "target", "port", "timeout"});
    if (h.present() && shaped) {
      if (!client.udp) {
        for (const auto& m : h["mix"].items()) {
          if (!m.expect_map({"host", "path", "weight"})) continue;
          ScenarioRequestMix mix;
          mix.host = m.string("host", true).value_or("");
          mix.path = m.string("path").value_or("/");
          mix.weight = number(m, "weight", 1e-9, 1e9, "a positive weight").value_or(1);
          client.mix.push_back(std::move(mix));
        }
        if (h.has("mix") && (h.has("host") || h.has("path")))
          h["mix"].error("give either host and path, or a mix of them");
        if (!h.has("mix")) {
          client.host = h.string("host", true).value_or("");
          client.path = h.string("path").value_or("/");
        }
        client.concurrency = static_cast<int>(h.integer("concurrency", 1, 10000).value_or(0));
        if (client.concurrency > 0 && h.has("rate"))
          h["concurrency"].error("a client has a rate (open loop) or a concurrency (closed loop), not both");
        client.think = duration(h, "think").value_or(client.think);
        if (h.has("think") && client.concurrency == 0)
          h["think"].error("think is the pause of a closed-loop client (concurrency: N)");
        client.keep_alive = h.boolean("keepalive").value_or(false);
        client.cookies = h.boolean("cookies").value_or(false);
        client.resume = h.boolean("resume").value_or(true);
        if (h.has("resume") && !client.https) h["resume"].error("resume is for https clients (TLS sessions)");
      }
      client.rate = number(h, "rate", 1e-3, 10000, "a rate from 0 to 10000 per second").value_or(client.rate);
      if (h.has("target")) client.target = address(h, "target");
      const std::int64_t default_port = client.https ? 443 : 80;
      client.port =
          static_cast<std::uint16_t>(h.integer("port", 1, 65535, client.udp).value_or(default_port));
      client.timeout = duration(h, "timeout").value_or(client.timeout);
    }
    s.clients.push_back(std::move(client));
  }
  std::set<std::string> pods;
  for (const auto& b : s.backends) {
    auto slash = b.deployment.find('/');
    std::string name = slash == std::string::npos ? b.deployment : b.deployment.substr(slash + 1);
    for (std::size_t i = 0; i < b.addresses.size(); ++i)
      pods.insert(name + "-" + std::to_string(i));
  }
  std::set<std::string> node_names, host_names = pods;
  for (const auto& n : s.nodes)
    node_names.insert(n.name);
  host_names.insert(names.begin(), names.end());
  auto known = [](const std::set<std::string>& set, const std::string& name, bool owner_allowed) {
    return set.count(name) > 0 || (owner_allowed && name == "owner");
  };
  for (const auto& f : r["faults"].items()) {
    using K = ScenarioFault::Kind;
    static const std::vector<std::pair<std::string_view, K>> kinds = {
        {"crash", K::kCrash},
        {"restart", K::kRestart},
        {"leave", K::kLeave},
        {"nic_down", K::kNicDown},
        {"nic_up", K::kNicUp},
        {"partition", K::kPartition},
        {"heal", K::kHeal},
        {"link", K::kLink},
        {"backend_crash", K::kBackendCrash},
        {"backend_restart", K::kBackendRestart},
        {"backend_slow", K::kBackendSlow},
        {"backend_unhealthy", K::kBackendUnhealthy},
        {"backend_healthy", K::kBackendHealthy},
        {"reload", K::kReload}};
    std::vector<std::string_view> keys = {"at"};
    for (const auto& [k, kind] : kinds)
      keys.push_back(k);
    if (!f.expect_map(keys)) continue;
    ScenarioFault fault;
    fault.where = f.where();
    fault.at = duration(f, "at", true).value_or(milliseconds(0));
    int given = 0;
    std::string_view key;
    for (const auto& [k, kind] : kinds)
      if (f.has(k)) {
        ++given;
        key = k;
        fault.kind = kind;
      }
    if (given != 1) {
      f.error(
          "a fault is one of crash, restart, leave, nic_down, nic_up (NODE), partition ([[HOST, ...], ...]), "
          "heal, link ({host, loss, delay, rate}), backend_crash, backend_restart, backend_unhealthy, "
          "backend_healthy (POD), backend_slow ({pod, latency}), reload ([MANIFEST PATH, ...])");
      continue;
    }
    auto body = f[key];
    switch (fault.kind) {
      case K::kCrash:
      case K::kRestart:
      case K::kLeave:
      case K::kNicDown:
      case K::kNicUp: {
        fault.node = f.string(key, true).value_or("");
        const bool owner_allowed =
            fault.kind == K::kCrash || fault.kind == K::kNicDown || fault.kind == K::kLeave;
        const bool all_allowed = fault.kind == K::kRestart;
        if (!known(node_names, fault.node, owner_allowed) && !(all_allowed && fault.node == "all"))
          body.error("no node is named '" + fault.node + "'" + (owner_allowed ? " (or 'owner')" : "") +
                     (all_allowed ? " (or 'all': every node whose engine is down)" : ""));
        break;
      }
      case K::kPartition: {
        std::set<std::string> seen;
        for (const auto& group : body.items()) {
          std::vector<std::string> members;
          for (const auto& member : group.items()) {
            std::string name = member.scalar(true).value_or("");
            if (!known(host_names, name, true))
              member.error("no host (node, pod or client) is named '" + name + "'");
            else if (!seen.insert(name).second)
              member.error("'" + name + "' is in two groups");
            members.push_back(name);
          }
          if (members.empty()) group.error("a group of a partition lists at least one host");
          fault.groups.push_back(std::move(members));
        }
        if (fault.groups.size() < 2)
          body.error("a partition has at least two groups: [[node-1], [node-2, node-3]]");
        break;
      }
      case K::kHeal:
        if (!(body.node().IsMap() && body.node().size() == 0) &&
            !(body.node().IsScalar() && body.node().Scalar() == "true"))
          body.error("heal takes no argument: heal: true");
        break;
      case K::kLink:
        if (!body.expect_map({"host", "loss", "delay", "rate"})) break;
        fault.node = body.string("host", true).value_or("");
        if (!known(host_names, fault.node, true)) body["host"].error("no host is named '" + fault.node + "'");
        fault.loss = number(body, "loss", 0, 1, "a share of frames from 0 to 1");
        fault.delay = link_delay(body, "delay");
        fault.rate = body.string("rate");
        if (!fault.loss && !fault.delay && !fault.rate) body.error("a link fault sets loss, delay or rate");
        break;
      case K::kReload:
        // Read when the fault happens, as serve reads them on SIGHUP: a file may change, or be invalid (the
        // engines then refuse it and keep serving). It must exist now.
        for (const auto& m : f.string_list("reload")) {
          auto p = std::filesystem::path(m).is_absolute() ? std::filesystem::path(m) : base / m;
          if (!std::filesystem::exists(p))
            body.error("'" + m + "' does not exist (relative to the scenario)");
          fault.manifests.push_back(p.string());
        }
        if (fault.manifests.empty()) body.error("reload lists the manifests to read: reload: [manifests/]");
        break;
      case K::kBackendSlow:
        if (!body.expect_map({"pod", "latency"})) break;
        fault.node = body.string("pod", true).value_or("");
        if (!pods.count(fault.node))
          body["pod"].error("no pod is named '" + fault.node + "' (<deployment>-<n>)");
        fault.latency = duration(body, "latency", true).value_or(milliseconds(0));
        break;
      default:
        fault.node = f.string(key, true).value_or("");
        if (!pods.count(fault.node)) body.error("no pod is named '" + fault.node + "' (<deployment>-<n>)");
        break;
    }
    if (fault.at > s.duration) f["at"].error("the fault comes after the scenario ends");
    s.faults.push_back(std::move(fault));
  }
  for (const auto& e : r["expect"].items()) {
    if (!e.expect_map({"single_owner", "success_ratio", "failover", "routed_to_allowed_backend", "latency",
                       "sticky", "rate_limit"}))
      continue;
    auto entries = e.entries();
    if (entries.size() != 1) {
      e.error(
          "each expectation is one of single_owner, success_ratio, failover, routed_to_allowed_backend, "
          "latency, "
          "sticky, rate_limit");
      continue;
    }
    auto& [kind, body] = entries.front();
    ScenarioExpectation x;
    x.name = kind;
    x.where = e.where();
    if (kind == "single_owner") {
      x.kind = ScenarioExpectation::Kind::kSingleOwner;
      if (body.present() && body.expect_map({"settle"}))
        x.settle = duration(body, "settle").value_or(x.settle);
    } else if (kind == "sticky" || kind == "rate_limit") {
      const bool sticky = kind == "sticky";
      x.kind = sticky ? ScenarioExpectation::Kind::kSticky : ScenarioExpectation::Kind::kRateLimit;
      if (sticky ? body.expect_map({"client", "min"}) : body.expect_map({"client", "limit", "period"})) {
        x.client = body.string("client", true).value_or("");
        bool found = false;
        for (const auto& c : s.clients)
          found |= c.name == x.client && !c.udp;
        if (!found && !x.client.empty()) body["client"].error("no HTTP client is named '" + x.client + "'");
        if (sticky) {
          x.min = number(body, "min", 0, 1, "a ratio from 0 to 1").value_or(1);
        } else {
          x.limit = body.integer("limit", 0, INT64_MAX, true).value_or(0);
          x.period = duration(body, "period", true).value_or(x.period);
          if (x.period.count() <= 0) body["period"].error("the period must be longer than 0");
        }
      }
    } else if (kind == "latency") {
      x.kind = ScenarioExpectation::Kind::kLatency;
      if (body.expect_map({"percentile", "max", "exclude"})) {
        x.exclude = body.string_list("exclude");
        x.percentile =
            number(body, "percentile", 0, 1, "a percentile from 0 to 1 (0.99)").value_or(x.percentile);
        x.max = duration(body, "max", true).value_or(milliseconds(0));
      }
    } else if (kind == "routed_to_allowed_backend") {
      x.kind = ScenarioExpectation::Kind::kRoutedToAllowedBackend;
    } else if (kind == "success_ratio") {
      x.kind = ScenarioExpectation::Kind::kSuccessRatio;
      if (body.expect_map({"min", "outside_failover", "exclude"})) {
        x.exclude = body.string_list("exclude");
        if (auto m = body.string("min", true)) {
          try {
            x.min = std::stod(*m);
          } catch (...) {
            x.min = -1;
          }
          if (x.min < 0 || x.min > 1) body["min"].error("'" + *m + "' is not a ratio from 0 to 1");
        }
        x.outside_failover = body.boolean("outside_failover").value_or(false);
      }
    } else {
      x.kind = ScenarioExpectation::Kind::kFailover;
      if (body.expect_map({"max"})) x.max = duration(body, "max", true).value_or(milliseconds(0));
    }
    for (const auto& name : x.exclude)
      if (std::none_of(s.clients.begin(), s.clients.end(), [&](const auto& c) { return c.name == name; }))
        body["exclude"].error("no client is named '" + name + "'");
    s.expectations.push_back(std::move(x));
  }
  return s;
}

}  // namespace metalgate::sim
