#include "scenario/schema/loader.h"

#include <algorithm>
#include <filesystem>
#include <functional>

#include "engine/config/manifest_loader.h"
#include "engine/config/yaml_reader.h"
#include "engine/membership/membership.h"
#include "engine/model/resolve.h"
#include "scenario/kinds/expectation_kinds.h"
#include "scenario/kinds/fault_kinds.h"
#include "scenario/schema/fields.h"

namespace metalgate::scenario {

namespace {

using config::YamlReader;

// Host names (nodes and clients) must be unique: faults and partitions name hosts.
using HostNames = std::set<std::string>;

// A LoadBalancer Service named where an address may stand (a client's target, a fault's {owner: …}). Once
// every section is read, the manifests tell its address (resolve_service_references) and `set` stores it.
struct ServiceReference {
  YamlReader at;     // the field, for errors
  std::string name;  // "namespace/name" as written
  std::function<void(Scenario&, const net::IpAddress&)> set;
};
using ServiceReferences = std::vector<ServiceReference>;

std::string suggestion(const std::string& name, const std::vector<std::string_view>& known) {
  auto closest = config::closest_name(name, known);
  return closest.empty() ? "" : " (did you mean '" + closest + "'?)";
}

void check_in_subnet(const Scenario& s, const YamlReader& at, const net::IpAddress& a) {
  if (!s.subnet.network.is_unspecified() && !s.subnet.contains(a))
    at.error(a.to_string() + " is outside the LAN's subnet " + s.subnet.to_string());
}

void check_unique(HostNames& names, const YamlReader& at, const std::string& name) {
  if (!names.insert(name).second) at["name"].error("another host is already named '" + name + "'");
}

// lan.subnet6: every host's IPv6 address is the prefix and its IPv4 address's last byte, its decimal digits
// read as hex (192.168.1.11 in fd00:1::/64 is fd00:1::11), so the two read alike.
void read_subnet6(const YamlReader& lan, Scenario& s) {
  auto text = lan.string("subnet6");
  if (!text) return;
  auto c = net::Cidr::parse(*text);
  if (!c || c->network.is_v4() || c->prefix_length > 112)
    lan["subnet6"].error("'" + *text + "' is not an IPv6 prefix of /112 or shorter");
  else if (s.subnet.prefix_length < 24)
    lan["subnet6"].error(
        "hosts take the last byte of their IPv4 address in it: the IPv4 subnet must be a /24 "
        "or smaller, not " +
        s.subnet.to_string());
  else
    s.subnet6 = *c;
}

void read_lan(const YamlReader& lan, Scenario& s) {
  if (!lan.expect_map({"subnet", "subnet6", "rate", "delay", "loss", "pcap"})) return;
  if (auto text = lan.string("subnet", true)) {
    auto c = net::Cidr::parse(*text);
    if (!c || !c->network.is_v4())
      lan["subnet"].error("'" + *text + "' is not an IPv4 prefix");
    else
      s.subnet = *c;
  }
  s.link_rate = lan.string("rate").value_or(s.link_rate);
  s.link_delay = link_delay_field(lan, "delay").value_or(s.link_delay);
  s.link_loss = number_field(lan, "loss", 0, 1, "a share of frames from 0 to 1").value_or(0);
  s.pcap = lan.boolean("pcap").value_or(false);
  read_subnet6(lan, s);
}

void read_roles(const YamlReader& n, ScenarioNode& node) {
  if (!n.has("roles")) return;
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

void read_nodes(const YamlReader& r, Scenario& s, HostNames& names) {
  for (const auto& n : r["nodes"].items()) {
    if (!n.expect_map({"name", "address", "roles", "labels", "interfaces"})) continue;
    ScenarioNode node;
    node.where = n.where();
    node.name = n.string("name", true).value_or("");
    check_unique(names, n, node.name);
    if (auto a = address_field(n, "address")) {
      node.address = *a;
      check_in_subnet(s, n["address"], *a);
    }
    read_roles(n, node);
    node.labels = n.string_map("labels");
    if (n.has("interfaces")) {
      node.interfaces = n.string_list("interfaces");
      if (node.interfaces.empty())
        n["interfaces"].error("a node announces on at least one interface: [eth0]");
    }
    s.nodes.push_back(std::move(node));
  }
  if (s.nodes.empty()) r["nodes"].error("a scenario needs at least one node");
}

std::optional<milliseconds> positive_duration(const YamlReader& r, std::string_view key) {
  auto value = duration_field(r, key);
  if (value && value->count() <= 0) {
    r[key].error("must be longer than 0ms");
    return std::nullopt;
  }
  return value;
}

void read_speaker(const YamlReader& speaker, Scenario& s) {
  if (!speaker.expect_map(
          {"probe_interval", "probe_timeout", "suspicion_timeout", "join_grace", "announce_refresh"}))
    return;
  s.speaker.probe_interval = positive_duration(speaker, "probe_interval");
  s.speaker.probe_timeout = positive_duration(speaker, "probe_timeout");
  s.speaker.suspicion_timeout = positive_duration(speaker, "suspicion_timeout");
  s.speaker.join_grace = duration_field(speaker, "join_grace");
  s.speaker.announce_refresh = duration_field(speaker, "announce_refresh");
  membership::MembershipConfig timing;  // the engine's defaults, with what the scenario sets
  if (s.speaker.probe_interval) timing.probe_interval = *s.speaker.probe_interval;
  if (s.speaker.probe_timeout) timing.probe_timeout = *s.speaker.probe_timeout;
  if (auto problem = membership::timing_problem(timing); !problem.empty())
    speaker[s.speaker.probe_timeout ? "probe_timeout" : "probe_interval"].error(problem);
}

void read_manifests(const YamlReader& r, const std::filesystem::path& base, Scenario& s) {
  for (const auto& m : r.string_list("manifests")) {
    auto p = resolve_path(base, m);
    if (!std::filesystem::exists(p))
      r["manifests"].error("'" + m + "' does not exist (relative to the scenario)");
    s.manifests.push_back(p.string());
  }
}

// `nodes`: the node each pod runs on, one per address (pod i on the i-th), each a node of the scenario.
void read_backend_nodes(const YamlReader& b, const Scenario& s, ScenarioBackend& backend) {
  if (!b.has("nodes")) return;
  std::vector<std::string_view> known;
  for (const auto& n : s.nodes)
    known.push_back(n.name);
  const auto items = b["nodes"].items();
  for (const auto& item : items) {
    std::string name = item.scalar(true).value_or("");
    if (std::find(known.begin(), known.end(), name) == known.end())
      item.error("no node is named '" + name + "'" + suggestion(name, known));
    backend.nodes.push_back(std::move(name));
  }
  if (backend.nodes.size() != backend.addresses.size())
    b["nodes"].error("names " + std::to_string(backend.nodes.size()) + " node(s) for " +
                     std::to_string(backend.addresses.size()) + " address(es): pod i runs on the i-th node");
}

void read_backends(const YamlReader& r, Scenario& s) {
  for (const auto& b : r["backends"].items()) {
    if (!b.expect_map({"deployment", "addresses", "latency", "nodes", "server"})) continue;
    ScenarioBackend backend;
    backend.where = b.where();
    backend.server = b.string("server").value_or(backend.server);
    static const std::vector<std::string_view> kServers = {"identity", "redis", "postgresql", "dnsmasq"};
    if (std::find(kServers.begin(), kServers.end(), backend.server) == kServers.end())
      b["server"].error("'" + backend.server + "' is not identity, redis, postgresql or dnsmasq" +
                        suggestion(backend.server, kServers));
    backend.deployment = b.string("deployment", true).value_or("");
    for (const auto& a : b.string_list("addresses")) {
      auto ip = net::IpAddress::parse(a);
      if (!ip) {
        b["addresses"].error("'" + a + "' is not an IPv4 address");
        continue;
      }
      check_in_subnet(s, b["addresses"], *ip);
      backend.addresses.push_back(*ip);
    }
    backend.latency = duration_field(b, "latency").value_or(backend.latency);
    read_backend_nodes(b, s, backend);
    s.backends.push_back(std::move(backend));
  }
}

void read_mix(const YamlReader& h, ScenarioClient& client) {
  for (const auto& m : h["mix"].items()) {
    if (!m.expect_map({"host", "path", "weight"})) continue;
    ScenarioRequestMix mix;
    mix.host = m.string("host", true).value_or("");
    mix.path = m.string("path").value_or("/");
    mix.weight = number_field(m, "weight", 1e-9, 1e9, "a positive weight").value_or(1);
    client.mix.push_back(std::move(mix));
  }
  if (h.has("mix") && (h.has("host") || h.has("path")))
    h["mix"].error("give either host and path, or a mix of them");
  if (!h.has("mix")) {
    client.host = h.string("host", true).value_or("");
    client.path = h.string("path").value_or("/");
  }
}

// What only HTTP(S) clients have: requests, loop shape, connection reuse, cookies and sessions.
void read_http_client(const YamlReader& h, ScenarioClient& client) {
  read_mix(h, client);
  client.concurrency = static_cast<int>(h.integer("concurrency", 1, 10000).value_or(0));
  if (client.concurrency > 0 && h.has("rate"))
    h["concurrency"].error("a client has a rate (open loop) or a concurrency (closed loop), not both");
  client.think = duration_field(h, "think").value_or(client.think);
  if (h.has("think") && client.concurrency == 0)
    h["think"].error("think is the pause of a closed-loop client (concurrency: N)");
  client.keep_alive = h.boolean("keepalive").value_or(false);
  client.cookies = h.boolean("cookies").value_or(false);
  client.resume = h.boolean("resume").value_or(true);
  if (h.has("resume") && !client.https) h["resume"].error("resume is for https clients (TLS sessions)");
  client.http2 = h.boolean("http2").value_or(false);
  if (client.http2 && !client.https)
    h["http2"].error("http2 is for https clients (HTTP/2 is agreed in TLS, ALPN)");
}

// `target`: an address (IPv6 when the LAN has lan.subnet6), or a LoadBalancer Service as "namespace/name"
// (its first IPv4 address comes later, from the manifests).
void read_target(const YamlReader& h, const Scenario& scenario, ScenarioClient& client,
                 ServiceReferences& refs) {
  const std::size_t index = scenario.clients.size();
  auto text = h.string("target");
  if (!text) return;
  if (auto a = net::IpAddress::parse(*text)) {
    if (!a->is_v4() && !scenario.subnet6)
      h["target"].error("'" + *text + "' is an IPv6 address: the LAN's hosts have one only with lan.subnet6");
    client.target = a;
    return;
  }
  if (!is_namespaced_name(*text)) {
    h["target"].error("'" + *text + "' is neither an IPv4 address nor a Service (namespace/name)");
    return;
  }
  client.target_service = *text;
  refs.push_back({h["target"], *text,
                  [index](Scenario& s, const net::IpAddress& vip) { s.clients[index].target = vip; }});
}

void read_client_traffic(const YamlReader& h, const Scenario& s, ScenarioClient& client,
                         ServiceReferences& refs) {
  const bool shaped = client.udp
                          ? h.expect_map({"rate", "target", "port", "timeout"})
                          : h.expect_map({"host", "path", "mix", "rate", "concurrency", "think", "keepalive",
                                          "cookies", "resume", "http2", "target", "port", "timeout"});
  if (!h.present() || !shaped) return;
  if (!client.udp) read_http_client(h, client);
  client.rate =
      number_field(h, "rate", 1e-3, 10000, "a rate from 0 to 10000 per second").value_or(client.rate);
  read_target(h, s, client, refs);
  const std::int64_t default_port = client.https ? 443 : 80;
  client.port = static_cast<std::uint16_t>(h.integer("port", 1, 65535, client.udp).value_or(default_port));
  client.timeout = duration_field(h, "timeout").value_or(client.timeout);
}

void read_clients(const YamlReader& r, Scenario& s, HostNames& names, ServiceReferences& refs) {
  for (const auto& c : r["clients"].items()) {
    if (!c.expect_map({"name", "address", "http", "https", "udp"})) continue;
    ScenarioClient client;
    client.name = c.string("name", true).value_or("");
    check_unique(names, c, client.name);
    if (auto a = address_field(c, "address")) {
      client.address = *a;
      check_in_subnet(s, c["address"], *a);
    }
    client.https = c.has("https");
    client.udp = c.has("udp");
    if (int(c.has("http")) + int(c.has("https")) + int(c.has("udp")) != 1)
      c.error("a client is one of http: {...}, https: {...} or udp: {...}");
    read_client_traffic(c[client.https ? "https" : client.udp ? "udp" : "http"], s, client, refs);
    s.clients.push_back(std::move(client));
  }
}

template <class Kinds>
std::vector<std::string_view> names_of(const Kinds& kinds) {
  std::vector<std::string_view> names;
  for (const auto& kind : kinds)
    names.push_back(kind.name);
  return names;
}

// "crash (NODE, owner or {owner: SERVICE}), restart (NODE or all), …": what a fault may be, for a fault that
// names none.
std::string fault_usage() {
  std::string usage;
  for (const auto& kind : fault_kinds())
    usage += (usage.empty() ? "" : ", ") + std::string(kind.name) + " (" + std::string(kind.argument) + ")";
  return usage;
}

// {owner: SERVICE}: the Service's address is known once the manifests are (an address was set already).
void refer_to_owner(const YamlReader& argument, const ScenarioFault& fault, std::size_t index,
                    ServiceReferences& refs) {
  if (fault.owner_vip || !is_namespaced_name(fault.owner_of)) return;
  refs.push_back({argument["owner"], fault.owner_of,
                  [index](Scenario& s, const net::IpAddress& vip) { s.faults[index].owner_vip = vip; }});
}

void read_fault(const YamlReader& f, const ScenarioNames& names, Scenario& s, ServiceReferences& refs) {
  if (!f.node().IsMap()) {
    f.error("a fault is a mapping: {at: 20s, crash: owner}");
    return;
  }
  ScenarioFault fault;
  fault.where = f.where();
  fault.at = duration_field(f, "at", true).value_or(milliseconds(0));
  const FaultKind* kind = nullptr;
  for (const auto& [key, argument] : f.entries()) {
    if (key == "at") continue;
    const FaultKind* k = find_fault_kind(key);
    if (!k)
      argument.error("unknown fault '" + key + "'; one of: " + fault_kind_names() +
                     suggestion(key, names_of(fault_kinds())));
    else if (kind)
      argument.error("a fault is one kind: '" + std::string(kind->name) + "' is given already");
    else {
      kind = k;
      fault.kind = std::string(k->name);
      k->parse(argument, names, fault);
      refer_to_owner(argument, fault, s.faults.size(), refs);
    }
  }
  if (!kind) {
    f.error("a fault is one of " + fault_usage());
    return;
  }
  if (fault.at > s.duration) f["at"].error("the fault comes after the scenario ends");
  s.faults.push_back(std::move(fault));
}

ScenarioNames names_in(const Scenario& s, const HostNames& hosts, const std::filesystem::path& base) {
  ScenarioNames names;
  names.pods = pod_names(s);
  for (const auto& n : s.nodes)
    names.nodes.insert(n.name);
  names.hosts = names.pods;
  names.hosts.insert(hosts.begin(), hosts.end());
  names.base = base;
  return names;
}

void read_expectation(const YamlReader& e, Scenario& s) {
  auto entries = e.entries();
  if (entries.size() != 1) {
    e.error("each expectation is one of: " + expectation_kind_names());
    return;
  }
  const auto& [name, parameters] = entries.front();
  const ExpectationKind* kind = find_expectation_kind(name);
  if (!kind) {
    parameters.error("unknown expectation '" + name + "'; one of: " + expectation_kind_names() +
                     suggestion(name, names_of(expectation_kinds())));
    return;
  }
  ScenarioExpectation x;
  x.name = name;
  x.where = e.where();
  kind->parse(parameters, s, x);
  s.expectations.push_back(std::move(x));
}

// The first IPv4 address of the LoadBalancer Service `ref` names; an error at the reference when there is
// none.
std::optional<net::IpAddress> service_address(const model::Model& m, const ServiceReference& ref) {
  const model::ResolvedService* found = nullptr;
  std::vector<std::string_view> known;
  for (const auto& r : m.services) {
    known.push_back(r.key);
    if (r.key == ref.name) found = &r;
  }
  if (!found) {
    const bool other_type = std::any_of(m.manifests.services.begin(), m.manifests.services.end(),
                                        [&](const auto& svc) { return svc.meta.key() == ref.name; });
    ref.at.error(other_type ? "Service '" + ref.name +
                                  "' is not a LoadBalancer (with MetalLB's class): it has no VIP"
                            : "no LoadBalancer Service is named '" + ref.name + "' in the manifests" +
                                  suggestion(ref.name, known));
    return std::nullopt;
  }
  for (const auto& a : found->addresses)
    if (a.is_v4()) return a;
  if (found->addresses.empty())
    ref.at.error("LoadBalancer Service " + ref.name + " has no address" +
                 (found->pending.empty() ? "" : ": " + found->pending));
  else
    ref.at.error("LoadBalancer Service " + ref.name + " has no IPv4 address (clients are IPv4)");
  return std::nullopt;
}

// Resolves the Services named in place of addresses, as every world resolves the manifests (no address held
// from before). Manifests that do not load leave the references unresolved: the world reports their errors.
void resolve_service_references(const ServiceReferences& refs, Scenario& s) {
  if (refs.empty()) return;
  config::Diagnostics own;
  const model::Model m = model::resolve_model(config::load_manifest_paths(s.manifests, own), {}, own);
  if (own.has_errors()) return;
  for (const auto& ref : refs)
    if (auto address = service_address(m, ref)) ref.set(s, *address);
}

bool read_document(const std::string& path, YAML::Node& root, config::Diagnostics& d) {
  try {
    root = YAML::LoadFile(path);
    return true;
  } catch (const YAML::ParserException& e) {
    d.error(config::location_of(e.mark, path), "", "malformed YAML: " + e.msg);
  } catch (const YAML::BadFile&) {
    d.error({path, 0, 0}, "", "cannot read the scenario file");
  }
  return false;
}

Scenario read_scenario(const YAML::Node& root, const std::string& path, config::Diagnostics& d) {
  Scenario s;
  s.file = path;
  YamlReader r(root, path, "scenario", d);
  if (!r.expect_map({"name", "seed", "duration", "lan", "nodes", "speaker", "manifests", "backends",
                     "clients", "faults", "expect"}))
    return s;
  s.name = r.string("name", true).value_or("");
  s.seed = static_cast<std::uint64_t>(r.integer("seed", 0, INT64_MAX).value_or(1));
  s.duration = duration_field(r, "duration", true).value_or(milliseconds(60000));
  read_lan(r["lan"], s);
  HostNames hosts;
  read_nodes(r, s, hosts);
  read_speaker(r["speaker"], s);
  const auto base = std::filesystem::path(path).parent_path();
  read_manifests(r, base, s);
  read_backends(r, s);
  ServiceReferences refs;
  read_clients(r, s, hosts, refs);
  const ScenarioNames names = names_in(s, hosts, base);
  for (const auto& f : r["faults"].items())
    read_fault(f, names, s, refs);
  for (const auto& e : r["expect"].items())
    read_expectation(e, s);
  resolve_service_references(refs, s);
  return s;
}

}  // namespace

std::string pod_name(const ScenarioBackend& backend, std::size_t index) {
  const auto slash = backend.deployment.find('/');
  const std::string name =
      slash == std::string::npos ? backend.deployment : backend.deployment.substr(slash + 1);
  return name + "-" + std::to_string(index);
}

std::set<std::string> pod_names(const Scenario& scenario) {
  std::set<std::string> pods;
  for (const auto& b : scenario.backends)
    for (std::size_t i = 0; i < b.addresses.size(); ++i)
      pods.insert(pod_name(b, i));
  return pods;
}

Scenario load_scenario(const std::string& path, config::Diagnostics& d) {
  YAML::Node root;
  if (!read_document(path, root, d)) {
    Scenario s;
    s.file = path;
    return s;
  }
  return read_scenario(root, path, d);
}

Scenario load_scenario_text(const std::string& text, const std::string& path, config::Diagnostics& d) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    d.error(config::location_of(e.mark, path), "", "malformed YAML: " + e.msg);
    Scenario s;
    s.file = path;
    return s;
  }
  return read_scenario(root, path, d);
}

std::optional<net::IpAddress> address6_of(const Scenario& scenario, const net::IpAddress& address) {
  if (!scenario.subnet6 || !address.is_v4()) return std::nullopt;
  auto bytes = scenario.subnet6->network.bytes();
  const unsigned last = address.bytes()[3];
  const unsigned as_hex = (last / 100) << 8 | (last / 10 % 10) << 4 | (last % 10);
  bytes[14] = static_cast<std::uint8_t>(as_hex >> 8);
  bytes[15] = static_cast<std::uint8_t>(as_hex & 0xff);
  return net::IpAddress::v6(bytes);
}

std::map<std::string, node::PodPlacement> pod_placement(const Scenario& scenario) {
  std::map<std::string, node::PodPlacement> out;
  for (const auto& b : scenario.backends)
    for (std::size_t i = 0; i < b.addresses.size(); ++i)
      out[pod_name(b, i)] = {b.addresses[i], i < b.nodes.size() ? b.nodes[i] : ""};
  return out;
}

}  // namespace metalgate::scenario
