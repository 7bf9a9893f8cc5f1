#include "sim/scenario/scenario.h"

#include <filesystem>

#include "engine/config/duration.h"
#include "engine/config/yaml_reader.h"

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
  if (!r.expect_map({"name", "seed", "duration", "lan", "nodes", "manifests", "backends", "clients", "faults",
                     "expect"}))
    return s;
  s.name = r.string("name", true).value_or("");
  s.seed = static_cast<std::uint64_t>(r.integer("seed", 0, INT64_MAX).value_or(1));
  s.duration = duration(r, "duration", true).value_or(milliseconds(60000));

  auto lan = r["lan"];
  if (lan.expect_map({"subnet", "rate", "delay"})) {
    if (auto text = lan.string("subnet", true)) {
      auto c = net::Cidr::parse(*text);
      if (!c || !c->network.is_v4())
        lan["subnet"].error("'" + *text + "' is not an IPv4 prefix");
      else
        s.subnet = *c;
    }
    s.link_rate = lan.string("rate").value_or(s.link_rate);
    if (auto dl = lan.string("delay")) {
      if (dl->size() > 2 && dl->substr(dl->size() - 2) == "us")
        s.link_delay = std::chrono::microseconds(std::stoll(dl->substr(0, dl->size() - 2)));
      else if (auto ms = config::parse_duration(*dl))
        s.link_delay = std::chrono::duration_cast<std::chrono::microseconds>(*ms);
      else
        lan["delay"].error("'" + *dl + "' is not a delay (5us, 1ms)");
    }
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
    const bool shaped = client.udp ? h.expect_map({"rate", "target", "port", "timeout"})
                                   : h.expect_map({"host", "path", "rate", "target", "port", "timeout"});
    if (h.present() && shaped) {
      if (!client.udp) {
        client.host = h.string("host", true).value_or("");
        client.path = h.string("path").value_or("/");
      }
      if (auto rate = h.string("rate")) {
        try {
          client.rate = std::stod(*rate);
        } catch (...) {
          client.rate = -1;
        }
        if (client.rate <= 0 || client.rate > 10000)
          h["rate"].error("'" + *rate + "' is not a rate from 0 to 10000 per second");
      }
      if (h.has("target")) client.target = address(h, "target");
      const std::int64_t default_port = client.https ? 443 : 80;
      client.port =
          static_cast<std::uint16_t>(h.integer("port", 1, 65535, client.udp).value_or(default_port));
      client.timeout = duration(h, "timeout").value_or(client.timeout);
    }
    s.clients.push_back(std::move(client));
  }
  for (const auto& f : r["faults"].items()) {
    static const std::vector<std::pair<std::string_view, ScenarioFault::Kind>> kinds = {
        {"crash", ScenarioFault::Kind::kCrash},
        {"restart", ScenarioFault::Kind::kRestart},
        {"nic_down", ScenarioFault::Kind::kNicDown},
        {"nic_up", ScenarioFault::Kind::kNicUp}};
    if (!f.expect_map({"at", "crash", "restart", "nic_down", "nic_up"})) continue;
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
      f.error("a fault is one of crash, restart, nic_down or nic_up: NODE");
      continue;
    }
    fault.node = f.string(key, true).value_or("");
    const bool owner_allowed =
        fault.kind == ScenarioFault::Kind::kCrash || fault.kind == ScenarioFault::Kind::kNicDown;
    bool known = fault.node == "owner" && owner_allowed;
    for (const auto& n : s.nodes)
      known |= n.name == fault.node;
    if (!known) f.error("no node is named '" + fault.node + "'" + (owner_allowed ? " (or 'owner')" : ""));
    if (fault.at > s.duration) f["at"].error("the fault comes after the scenario ends");
    s.faults.push_back(std::move(fault));
  }
  for (const auto& e : r["expect"].items()) {
    if (!e.expect_map({"single_owner", "success_ratio", "failover", "routed_to_allowed_backend"})) continue;
    auto entries = e.entries();
    if (entries.size() != 1) {
      e.error("each expectation is one of single_owner, success_ratio, failover, routed_to_allowed_backend");
      continue;
    }
    auto& [kind, body] = entries.front();
    ScenarioExpectation x;
    x.name = kind;
    x.where = e.where();
    if (kind == "single_owner") {
      x.kind = ScenarioExpectation::Kind::kSingleOwner;
    } else if (kind == "routed_to_allowed_backend") {
      x.kind = ScenarioExpectation::Kind::kRoutedToAllowedBackend;
    } else if (kind == "success_ratio") {
      x.kind = ScenarioExpectation::Kind::kSuccessRatio;
      if (body.expect_map({"min", "outside_failover"})) {
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
    s.expectations.push_back(std::move(x));
  }
  return s;
}

}  // namespace metalgate::sim
