#include "sim/scenario/runner.h"

#include <algorithm>
#include <map>
#include <set>

#include "engine/config/manifest_loader.h"
#include "engine/model/resolve.h"
#include "engine/proxy/proxy.h"
#include "engine/proxy/proxy_config.h"
#include "engine/proxy/serving_proxy.h"
#include "engine/speaker/layer2_node.h"
#include "ns3/simulator.h"
#include "sim/apps/apps.h"
#include "sim/lan/switched_lan.h"
#include "sim/runtime/deterministic_randomness.h"
#include "sim/scenario/html_report.h"

namespace metalgate::sim {

namespace {

using nlohmann::json;
using std::chrono::duration_cast;

std::int64_t ms(runtime::Duration d) {
  return duration_cast<std::chrono::milliseconds>(d).count();
}

// The engine on one node: what a crash destroys and a restart builds anew.
struct NodeEngine {
  std::unique_ptr<speaker::Layer2Node> speaker;
  proxy::ServingProxy proxy;  // with the ones a reload left draining
  bool up = false;
};

// A move of the VIP away from its owner: the owner failed (crash, leave, NIC down, cut off from the
// clients), or came back and took it again (restart, NIC up, heal: MetalLB's election is deterministic, so
// the VIP fails back). Connections through the old owner break either way.
struct Failover {
  std::int64_t fault_ms = 0;
  std::string node;                // the owner it moves from
  std::int64_t recovered_ms = -1;  // first successful response started after the fault
  std::string cause;
};

// The warnings `d` gained from its `from`-th item on (what this run or reload found), one a line as validate
// prints them.
std::vector<std::string> warning_lines(const config::Diagnostics& d, std::size_t from = 0) {
  config::Diagnostics mine;
  for (std::size_t i = from; i < d.items().size(); ++i)
    mine.add(d.items()[i]);
  std::vector<std::string> out;
  for (const auto& x : mine.sorted())
    if (x.severity == config::Severity::kWarning) out.push_back(x.to_string());
  return out;
}

}  // namespace

RunResult run_scenario(const Scenario& s, const RunOptions& options, config::Diagnostics& d) {
  RunResult out;
  const std::size_t diagnostics_before = d.items().size();  // a caller may run several scenarios on one `d`
  const std::uint64_t seed = options.seed.value_or(s.seed);

  auto set = config::load_manifest_paths(s.manifests, d);
  auto model = std::make_shared<model::Model>(model::resolve_model(std::move(set), {}, d));
  if (d.has_errors()) return out;
  const model::ResolvedService* controller = model->ingress_controller();
  if (!controller || controller->addresses.empty()) {
    d.error({s.file, 0, 0}, "manifests", "the ingress controller's Service has no address: nothing to reach");
    return out;
  }
  const net::IpAddress vip = controller->addresses.front();

  // Pods: "<deployment>-<n>" runs at the n-th address the scenario gives for its Deployment.
  std::map<std::string, net::IpAddress> pod_address;
  std::set<std::string> pods;
  for (const auto& b : s.backends) {
    auto slash = b.deployment.find('/');
    std::string name = slash == std::string::npos ? b.deployment : b.deployment.substr(slash + 1);
    for (std::size_t i = 0; i < b.addresses.size(); ++i) {
      pod_address[name + "-" + std::to_string(i)] = b.addresses[i];
      pods.insert(name + "-" + std::to_string(i));
    }
  }
  proxy::BuildOptions bo;
  bo.place_endpoint = [&](const routing::ResolvedEndpoint& ep) -> std::optional<net::IpAddress> {
    auto it = pod_address.find(ep.name);
    if (it == pod_address.end()) return std::nullopt;
    return it->second;
  };
  auto proxy_config = std::make_shared<proxy::ProxyConfig>(proxy::build_proxy_config(model, bo, d));
  if (d.has_errors()) return out;

  json result;
  {
    DeterministicOpensslRandomness tls_randomness(seed);
    LanOptions lo;
    lo.seed = seed;
    lo.data_rate = s.link_rate;
    lo.link_delay = s.link_delay;
    lo.loss = s.link_loss;
    if (s.subnet.prefix_length > 0) lo.prefix_length = s.subnet.prefix_length;
    lo.log_level = options.log_level;
    lo.log_sink = runtime::stderr_log_sink();
    SwitchedLan lan(lo);
    std::uint64_t host_seed = seed * 1000;
    for (const auto& n : s.nodes)
      lan.add_host(n.name, n.address, ++host_seed);
    std::map<std::string, std::pair<std::string, net::IpAddress>> pod_hosts;  // pod -> (deployment, address)
    for (const auto& [pod, addr] : pod_address)
      lan.add_host(pod, addr, ++host_seed);
    for (const auto& c : s.clients) {
      lan.add_host(c.name, c.address, ++host_seed);
      lan.install_linux_arp(c.name);
    }
    lan.finish();
    if (!options.pcap_directory.empty()) lan.enable_pcap(options.pcap_directory);

    // Backends: an identity server on every TCP container port, a responder on every UDP one.
    struct PodServers {
      std::vector<std::unique_ptr<IdentityHttpServer>> http;
      std::vector<std::unique_ptr<IdentityUdpServer>> udp;
      runtime::Duration latency{};
      bool healthy = true;
    };
    std::map<std::string, PodServers> pod_servers;
    std::map<std::string, std::function<void()>> start_pod;
    for (const auto& b : s.backends) {
      const config::Deployment* dep = nullptr;
      for (const auto& dd : model->manifests.deployments)
        if (dd.meta.key() == b.deployment || dd.meta.name == b.deployment) dep = &dd;
      if (!dep) {
        d.error({s.file, 0, 0}, "backends", "no Deployment '" + b.deployment + "' in the manifests");
        return out;
      }
      for (std::size_t i = 0; i < b.addresses.size(); ++i) {
        std::string pod = dep->meta.name + "-" + std::to_string(i);
        pod_servers[pod].latency = duration_cast<runtime::Duration>(b.latency);
        start_pod[pod] = [&, dep, pod, address = b.addresses[i]] {
          auto& rt = lan.host(pod);
          PodServers& ps = pod_servers[pod];
          for (const auto& c : dep->containers)
            for (const auto& p : c.ports) {
              net::SocketAddress at{address, p.container_port};
              if (p.protocol == config::Protocol::kUdp) {
                ps.udp.push_back(std::make_unique<IdentityUdpServer>(rt, at, pod));
              } else {
                ps.http.push_back(std::make_unique<IdentityHttpServer>(rt, at, pod, ps.latency));
                ps.http.back()->set_healthy(ps.healthy);
              }
            }
        };
        start_pod[pod]();
      }
    }

    // The engine on each node.
    std::vector<net::SocketAddress> members;
    for (const auto& n : s.nodes)
      if (n.speaker) members.push_back({n.address, 7946});
    // The controller's Service has its endpoints where the proxy runs: with externalTrafficPolicy Local only
    // those nodes may announce it, as MetalLB decides.
    auto assignments_for = [&](const model::Model& m) { return speaker::layer2_assignments(m); };
    auto assignments = assignments_for(*model);
    std::map<std::string, NodeEngine> engines;
    std::map<std::string, bool> isolated;      // NIC down
    std::map<std::string, int> group;          // partition group of every host (0 when whole)
    std::vector<std::int64_t> settling_since;  // heals, NIC ups and restarts: claims may overlap a while
    auto start_engine = [&](const ScenarioNode& n) {
      NodeEngine& e = engines[n.name];
      auto& rt = lan.host(n.name);
      if (n.proxy) {
        e.proxy.set(std::make_unique<proxy::Proxy>(rt, proxy_config));
        if (auto ec = e.proxy->start())
          d.error({s.file, 0, 0}, "nodes", "the proxy on " + n.name + " did not start: " + ec.message());
      }
      if (n.speaker) {
        speaker::Layer2NodeConfig cfg;
        cfg.name = n.name;
        cfg.interfaces = {"eth0"};
        cfg.membership_address = {n.address, 7946};
        if (s.speaker.probe_interval) cfg.membership.probe_interval = *s.speaker.probe_interval;
        if (s.speaker.probe_timeout) cfg.membership.probe_timeout = *s.speaker.probe_timeout;
        if (s.speaker.suspicion_timeout) cfg.membership.suspicion_timeout = *s.speaker.suspicion_timeout;
        if (s.speaker.join_grace) cfg.join_grace = *s.speaker.join_grace;
        if (s.speaker.announce_refresh) cfg.announce.refresh = *s.speaker.announce_refresh;
        for (const auto& m : members)
          if (m.ip != n.address) cfg.seeds.push_back(m);
        for (const auto& other : s.nodes)
          cfg.node_labels[other.name] = other.labels;
        cfg.membership.runs_proxy = n.proxy;
        auto created = speaker::Layer2Node::create(rt, cfg);
        if (!created) {
          d.error({s.file, 0, 0}, "nodes", "the speaker on " + n.name + " did not start: " + created.error());
          return;
        }
        e.speaker = std::move(*created);
        e.speaker->set_assignments(assignments);
        e.speaker->start();
      }
      e.up = true;
    };
    for (const auto& n : s.nodes)
      start_engine(n);

    std::vector<std::unique_ptr<HttpLoadClient>> clients;
    std::vector<std::unique_ptr<UdpLoadClient>> udp_clients;
    for (const auto& c : s.clients) {
      if (c.udp) {
        UdpLoadClient::Options uo;
        uo.target = {c.target.value_or(vip), c.port};
        uo.source = {c.address, 40000};
        uo.rate = c.rate;
        uo.timeout = duration_cast<runtime::Duration>(c.timeout);
        udp_clients.push_back(std::make_unique<UdpLoadClient>(lan.host(c.name), uo));
        udp_clients.back()->start();
        continue;
      }
      HttpLoadClient::Options co;
      co.target = {c.target.value_or(vip), c.port};
      co.host = c.host;
      co.path = c.path;
      for (const auto& m : c.mix)
        co.mix.push_back({m.host, m.path, m.weight});
      co.rate = c.rate;
      co.concurrency = c.concurrency;
      co.think = duration_cast<runtime::Duration>(c.think);
      co.keep_alive = c.keep_alive;
      co.cookies = c.cookies;
      co.resume_sessions = c.resume;
      co.timeout = duration_cast<runtime::Duration>(c.timeout);
      co.https = c.https;
      co.vip_node = [&lan, name = c.name, target = co.target.ip] { return lan.arp_entry_host(name, target); };
      clients.push_back(std::make_unique<HttpLoadClient>(lan.host(c.name), co));
      clients.back()->start();
    }

    // Who claims the VIP, every 100 ms (the view of each live speaker: does it think it owns it?).
    auto owner_now = [&]() -> std::vector<std::string> {
      std::vector<std::string> claim;
      for (auto& [name, e] : engines) {
        if (!e.up || !e.speaker || isolated[name]) continue;
        if (e.speaker->speaker().core().owns(vip)) claim.push_back(name);
      }
      return claim;
    };
    // The same for every VIP the speakers announce (single_owner holds for each).
    // Every VIP ever claimed stays in the map, so its size is the number of VIPs seen.
    std::map<net::IpAddress, std::vector<const std::string*>> claims;
    auto all_claims = [&]() -> const std::map<net::IpAddress, std::vector<const std::string*>>& {
      for (auto& [address, claimants] : claims)
        claimants.clear();
      for (auto& [name, e] : engines) {
        if (!e.up || !e.speaker || isolated[name]) continue;
        for (const auto& address : e.speaker->speaker().core().owned_addresses())
          claims[address].push_back(&name);
      }
      return claims;
    };
    // Nodes that can reach each other share a side: the same partition group and a working NIC.
    auto side_of = [&](const std::string& node) {
      return isolated[node] ? "nic-down:" + node : "group:" + std::to_string(group[node]);
    };
    std::int64_t samples = 0, dual = 0, none = 0, settling_dual = 0;
    std::set<net::IpAddress> vips_split;
    std::vector<json> timeline;
    std::string last_owner = "?";
    std::int64_t settle_ms = 0;
    for (const auto& x : s.expectations)
      if (x.kind == ScenarioExpectation::Kind::kSingleOwner)
        settle_ms = std::max(settle_ms, x.settle.count());
    std::function<void()> sample = [&] {
      auto claim = owner_now();
      std::int64_t t = ns3::Simulator::Now().GetMilliSeconds();
      if (t >= 2000) {  // after the first membership round-trips
        ++samples;
        bool settling = std::any_of(settling_since.begin(), settling_since.end(),
                                    [&](std::int64_t since) { return t >= since && t < since + settle_ms; });
        bool several = false;
        for (const auto& [address, claimants] : all_claims()) {
          if (claimants.size() < 2) continue;
          std::map<std::string, int> per_side;
          bool split = false;
          for (const auto* c : claimants)
            split |= ++per_side[side_of(*c)] > 1;
          if (split && !settling) vips_split.insert(address);
          several |= split;
        }
        if (several) ++(settling ? settling_dual : dual);
        if (claim.empty()) ++none;
      }
      std::string owner;
      for (const auto& c : claim)
        owner += (owner.empty() ? "" : "+") + c;
      if (owner != last_owner) {
        timeline.push_back({{"at_ms", t}, {"owner", owner}});
        last_owner = owner;
      }
      if (options.progress && t % 1000 == 0) options.progress(static_cast<double>(t) / 1000.0);
    };
    for (std::int64_t t = 0; t <= ms(s.duration); t += 100)
      ns3::Simulator::Schedule(ns3::MilliSeconds(t), [&] { sample(); });

    // Faults.
    std::vector<Failover> failovers;
    std::vector<Failover> failbacks;  // candidates: kept when the owner did change within 3 s
    std::vector<json> fault_log;
    static const char* kActions[] = {
        "crash",           "restart",         "leave",        "nic_down",
        "nic_up",          "partition",       "heal",         "link",
        "backend_crash",   "backend_restart", "backend_slow", "backend_unhealthy",
        "backend_healthy", "reload"};
    const std::string clients_side_host = s.clients.empty() ? "" : s.clients.front().name;
    for (const auto& f : s.faults) {
      ns3::Simulator::Schedule(ns3::MilliSeconds(f.at.count()), [&, f] {
        using K = ScenarioFault::Kind;
        const std::int64_t now = f.at.count();
        auto claim = owner_now();
        const std::string owner = claim.empty() ? "" : claim.front();
        auto resolve = [&](const std::string& name) { return name == "owner" ? owner : name; };
        std::string target = resolve(f.node);
        json entry = {{"at_ms", now}, {"action", kActions[static_cast<int>(f.kind)]}};
        if (!f.node.empty()) entry["node"] = target;
        const bool target_owned =
            !target.empty() && std::find(claim.begin(), claim.end(), target) != claim.end();
        switch (f.kind) {
          case K::kCrash:
          case K::kLeave: {
            if (target.empty() || !engines[target].up) break;
            NodeEngine& e = engines[target];
            if (f.kind == K::kLeave && e.speaker) e.speaker->leave();  // goodbye first, as on SIGTERM
            e.speaker.reset();  // on a crash: state lost, nothing said on the way out
            e.proxy.reset();
            e.up = false;
            if (target_owned) failovers.push_back({now, target, -1, kActions[static_cast<int>(f.kind)]});
            break;
          }
          case K::kRestart: {
            json restarted = json::array();
            for (const auto& n : s.nodes)
              if ((target == "all" || n.name == target) && !engines[n.name].up) {
                start_engine(n);
                restarted.push_back(n.name);
              }
            if (target == "all") entry["nodes"] = restarted;
            settling_since.push_back(now);
            failbacks.push_back({now, owner, -1, "restart"});
            break;
          }
          case K::kNicDown:
          case K::kNicUp: {
            if (target.empty()) break;
            const bool down = f.kind == K::kNicDown;
            if (down && target_owned) failovers.push_back({now, target, -1, "nic_down"});
            if (!down) failbacks.push_back({now, owner, -1, "nic_up"});
            lan.set_host_link(target, !down);
            // Cut off, the node still believes it owns the VIP: its claims do not count as a split.
            isolated[target] = down;
            if (!down) settling_since.push_back(now);
            break;
          }
          case K::kPartition: {
            // "owner" names whoever owns the VIP now; it stays where "owner" is written even if its name is
            // also listed elsewhere.
            std::vector<std::vector<std::string>> groups;
            json listed = json::array();
            for (const auto& g : f.groups) {
              groups.emplace_back();
              const bool has_owner = std::find(g.begin(), g.end(), "owner") != g.end();
              for (const auto& name : g) {
                if (name == owner && !has_owner) continue;
                if (auto host = resolve(name); !host.empty()) groups.back().push_back(host);
              }
              listed.push_back(groups.back());
            }
            entry["groups"] = listed;
            lan.set_partition(groups);
            group.clear();
            for (std::size_t g = 0; g < groups.size(); ++g)
              for (const auto& name : groups[g])
                group[name] = static_cast<int>(g);
            // The clients' side (the first client's) loses the owner: that is a failover for them.
            if (!owner.empty() && group[owner] != group[clients_side_host])
              failovers.push_back({now, owner, -1, "partition"});
            break;
          }
          case K::kHeal:
            lan.set_partition({});
            group.clear();
            settling_since.push_back(now);
            failbacks.push_back({now, owner, -1, "heal"});
            break;
          case K::kLink:
            if (target.empty()) break;
            if (f.loss) {
              lan.set_link_loss(target, *f.loss);
              entry["loss"] = *f.loss;
            }
            if (f.delay) {
              lan.set_link_delay(target, duration_cast<runtime::Duration>(*f.delay));
              entry["delay_us"] = f.delay->count();
            }
            if (f.rate) {
              lan.set_link_rate(target, *f.rate);
              entry["rate"] = *f.rate;
            }
            break;
          case K::kBackendCrash:
            pod_servers[target].http.clear();  // its connections close, its ports refuse
            pod_servers[target].udp.clear();
            break;
          case K::kBackendRestart:
            if (pod_servers[target].http.empty() && pod_servers[target].udp.empty()) start_pod[target]();
            break;
          case K::kBackendSlow:
            pod_servers[target].latency = duration_cast<runtime::Duration>(f.latency);
            for (auto& server : pod_servers[target].http)
              server->set_latency(pod_servers[target].latency);
            entry["latency_ms"] = f.latency.count();
            break;
          case K::kBackendUnhealthy:
          case K::kBackendHealthy:
            pod_servers[target].healthy = f.kind == K::kBackendHealthy;
            for (auto& server : pod_servers[target].http)
              server->set_healthy(pod_servers[target].healthy);
            break;
          case K::kReload: {
            // What serve does on SIGHUP, on every running engine: read, check, and replace or refuse.
            config::Diagnostics rd;
            model::ResolveOptions ro;
            ro.previous_allocations = model::held_allocations(*model);
            auto next_model = std::make_shared<model::Model>(
                model::resolve_model(config::load_manifest_paths(f.manifests, rd), ro, rd));
            auto next_config =
                std::make_shared<proxy::ProxyConfig>(proxy::build_proxy_config(next_model, bo, rd));
            if (rd.has_errors()) {
              entry["refused"] = rd.to_string();
              break;
            }
            if (auto warnings = warning_lines(rd); !warnings.empty()) entry["warnings"] = warnings;
            json failed = json::array();
            for (const auto& n : s.nodes) {
              NodeEngine& e = engines[n.name];
              if (!e.up) continue;
              if (e.proxy) {
                auto& rt = lan.host(n.name);
                if (auto ec = e.proxy.replace(std::make_unique<proxy::Proxy>(rt, next_config), rt))
                  failed.push_back(n.name + ": " + ec.message());
              }
              if (e.speaker) e.speaker->set_assignments(assignments_for(*next_model));
            }
            model = next_model;
            proxy_config = next_config;
            assignments = assignments_for(*model);
            entry["reloaded"] = failed.empty();
            if (!failed.empty()) entry["failed"] = failed;
            break;
          }
        }
        fault_log.push_back(entry);
      });
    }

    ns3::Simulator::Stop(ns3::MilliSeconds(s.duration.count()) + ns3::MilliSeconds(1));
    ns3::Simulator::Run();

    // Collect.
    std::vector<RequestRecord> records;
    {
      std::size_t http_index = 0, udp_index = 0;
      for (const auto& sc : s.clients) {
        auto take = [&](auto& client) {
          client->stop();
          for (auto r : client->records()) {
            r.client = sc.name;
            records.push_back(std::move(r));
          }
        };
        if (sc.udp)
          take(udp_clients[udp_index++]);
        else
          take(clients[http_index++]);
      }
    }
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
      return std::tie(a.start_us, a.end_us, a.client) < std::tie(b.start_us, b.end_us, b.client);
    });
    for (const auto& f : failbacks) {
      std::string before = f.node, after = f.node;
      for (const auto& t : timeline) {
        std::int64_t at = t["at_ms"].get<std::int64_t>();
        if (at > f.fault_ms && at <= f.fault_ms + 3000) after = t["owner"].get<std::string>();
      }
      if (!before.empty() && after != before) failovers.push_back(f);
    }
    std::sort(failovers.begin(), failovers.end(),
              [](const Failover& a, const Failover& b) { return a.fault_ms < b.fault_ms; });
    // Recovered: the first answer to a request that started after the fault. (Not the answer to the first
    // such request: one that started while the VIP was still unreachable may get through a second later on
    // a SYN retransmission, after others were long answered.)
    for (auto& f : failovers) {
      for (const auto& r : records)
        if (r.status >= 200 && r.status < 400 && r.start_us / 1000 >= f.fault_ms &&
            (f.recovered_ms < 0 || static_cast<std::int64_t>(r.end_us / 1000) < f.recovered_ms))
          f.recovered_ms = static_cast<std::int64_t>(r.end_us / 1000);
    }
    auto in_failover = [&](const RequestRecord& r) {
      for (const auto& f : failovers) {
        std::int64_t end = f.recovered_ms < 0 ? INT64_MAX : f.recovered_ms;
        if (r.start_us / 1000 >= f.fault_ms - 2000 && r.start_us / 1000 <= end)
          return true;  // incl. timeouts
      }
      return false;
    };
    std::set<std::string> limited;  // clients a rate_limit expectation is about: their denials are expected
    for (const auto& x : s.expectations)
      if (x.kind == ScenarioExpectation::Kind::kRateLimit) limited.insert(x.client);
    auto counted = [](const RequestRecord& r) {
      // The first second (membership and ARP settle) and requests cut off by the end of the run are out.
      return r.start_us >= 1000000 && r.error != "still running at the end";
    };
    auto answered = [](const RequestRecord& r) { return r.status >= 200 && r.status < 400; };
    auto success_ratio = [&](const ScenarioExpectation& x) {
      std::int64_t n = 0, good = 0;
      for (const auto& r : records) {
        if (!counted(r) || (x.outside_failover && in_failover(r))) continue;
        if (std::find(x.exclude.begin(), x.exclude.end(), r.client) != x.exclude.end()) continue;
        ++n;
        good += answered(r) ? 1 : 0;
      }
      return std::make_pair(n ? static_cast<double>(good) / static_cast<double>(n) : 0.0, n);
    };
    auto latency_at = [&](const ScenarioExpectation& x) -> std::optional<double> {
      std::vector<std::int64_t> l;
      for (const auto& r : records)
        if (counted(r) && answered(r) &&
            std::find(x.exclude.begin(), x.exclude.end(), r.client) == x.exclude.end())
          l.push_back(r.end_us - r.start_us);
      if (l.empty()) return std::nullopt;
      std::sort(l.begin(), l.end());
      return static_cast<double>(
                 l[std::min(l.size() - 1, static_cast<std::size_t>(x.percentile * l.size()))]) /
             1000.0;
    };
    std::int64_t total = 0, ok = 0, wrong_backend = 0, reused = 0;
    std::vector<std::int64_t> latencies;
    std::map<std::string, std::int64_t> by_backend, errors, by_vip_node;
    json failed_list = json::array();  // the first 100 failed requests: what went wrong, where
    std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> per_second;  // second -> (ok, failed)
    std::map<std::int64_t, std::vector<std::int64_t>> latency_per_second;
    for (const auto& r : records) {
      if (!counted(r)) continue;
      ++total;
      reused += r.reused ? 1 : 0;
      bool good = answered(r);
      auto& second = per_second[r.start_us / 1000000];
      (good ? second.first : second.second) += 1;
      if (!r.vip_node.empty()) ++by_vip_node[r.vip_node];
      if (good) {
        ++ok;
        latencies.push_back(r.end_us - r.start_us);
        latency_per_second[r.start_us / 1000000].push_back(r.end_us - r.start_us);
        // A redirect or other answer of the proxy's own names no backend; every backend answer must be a
        // pod's.
        if (!r.served_by.empty() || r.status < 300) {
          ++by_backend[r.served_by];
          if (!pods.count(r.served_by)) ++wrong_backend;
        } else {
          ++by_backend["(the proxy itself: " + std::to_string(r.status) + ")"];
        }
      } else {
        ++errors[r.status ? "status " + std::to_string(r.status) : r.error];
        if (failed_list.size() < 100 && !((r.status == 403 || r.status == 429) && limited.count(r.client)))
          failed_list.push_back({{"client", r.client},
                                 {"start_ms", static_cast<double>(r.start_us) / 1000.0},
                                 {"end_ms", static_cast<double>(r.end_us) / 1000.0},
                                 {"request", r.host.empty() ? "datagram" : r.host + r.path},
                                 {"vip_node", r.vip_node},
                                 {"error", r.status ? "status " + std::to_string(r.status) : r.error}});
      }
    }
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) -> double {
      if (latencies.empty()) return 0;
      return static_cast<double>(
                 latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()))]) /
             1000.0;
    };

    json fo = json::array();
    std::int64_t worst = -1;
    bool all_recovered = true;
    for (const auto& f : failovers) {
      std::int64_t took = f.recovered_ms < 0 ? -1 : f.recovered_ms - f.fault_ms;
      if (took < 0) all_recovered = false;
      worst = std::max(worst, took);
      fo.push_back({{"fault_at_ms", f.fault_ms},
                    {"cause", f.cause},
                    {"node", f.node},
                    {"vip", vip.to_string()},
                    {"failover_ms", took}});
    }

    json expectations = json::array();
    bool passed = true;
    for (const auto& x : s.expectations) {
      json e = {{"name", x.name}};
      bool pass = false;
      switch (x.kind) {
        case ScenarioExpectation::Kind::kSingleOwner:
          pass = dual == 0;
          e["measured"] = {{"samples", samples},
                           {"vips", claims.size()},
                           {"vips_with_several_owners", vips_split.size()},
                           {"samples_with_several_owners", dual},
                           {"samples_with_several_owners_while_settling", settling_dual},
                           {"samples_without_owner", none}};
          e["bound"] = {{"several_owners_on_one_side", 0}, {"settle_ms", x.settle.count()}};
          break;
        case ScenarioExpectation::Kind::kSticky: {
          // Of the client's answers after its first, the share from the same pod as the answer before.
          std::int64_t answers = 0, same = 0;
          std::string previous;
          for (const auto& r : records) {
            if (r.client != x.client || r.served_by.empty() || r.status < 200 || r.status >= 400) continue;
            if (!previous.empty()) {
              ++answers;
              if (r.served_by == previous) ++same;
            }
            previous = r.served_by;
          }
          double ratio = answers ? static_cast<double>(same) / static_cast<double>(answers) : 0;
          pass = answers > 0 && ratio >= x.min;
          e["measured"] = {{"answers", answers}, {"same_pod_as_before", ratio}};
          e["bound"] = {{"client", x.client}, {"min", x.min}};
          break;
        }
        case ScenarioExpectation::Kind::kRateLimit: {
          // No `period`-long window holds more than `limit` requests of the client that a backend answered
          // through one proxy (each replica keeps its own table, as HAProxy's stick tables without peers);
          // and the limiter did engage (some were denied), or the bound proves nothing.
          std::map<std::string, std::vector<std::int64_t>> passed_at;  // proxy node -> request starts
          std::int64_t denied = 0;
          for (const auto& r : records) {
            if (r.client != x.client) continue;
            if (!r.served_by.empty() && r.status >= 200 && r.status < 400)
              passed_at[r.vip_node].push_back(r.start_us);
            if (r.status == 403 || r.status == 429) ++denied;
          }
          std::size_t most = 0;
          const std::int64_t window = x.period.count() * 1000;
          for (const auto& [node, starts] : passed_at)
            for (std::size_t i = 0, first = 0; i < starts.size(); ++i) {
              while (starts[i] - starts[first] >= window)
                ++first;
              most = std::max(most, i - first + 1);
            }
          pass = static_cast<std::int64_t>(most) <= x.limit && denied > 0;
          e["measured"] = {{"most_answered_in_a_period", most}, {"denied", denied}};
          e["bound"] = {{"client", x.client}, {"limit", x.limit}, {"period_ms", x.period.count()}};
          break;
        }
        case ScenarioExpectation::Kind::kLatency: {
          auto measured = latency_at(x);
          pass = measured && *measured <= static_cast<double>(x.max.count());
          e["measured"] = measured ? json(*measured) : json("no answered request");
          e["bound"] = {{"percentile", x.percentile}, {"max_ms", x.max.count()}};
          if (!x.exclude.empty()) e["bound"]["exclude"] = x.exclude;
          break;
        }
        case ScenarioExpectation::Kind::kSuccessRatio: {
          auto [ratio, n] = success_ratio(x);
          pass = n > 0 && ratio >= x.min;
          e["measured"] = ratio;
          e["bound"] = {{"min", x.min}, {"outside_failover", x.outside_failover}};
          if (!x.exclude.empty()) e["bound"]["exclude"] = x.exclude;
          break;
        }
        case ScenarioExpectation::Kind::kFailover:
          pass = all_recovered && !failovers.empty() && worst <= x.max.count();
          e["measured"] = failovers.empty() ? json("no failover happened") : json(worst);
          e["bound"] = {{"max_ms", x.max.count()}};
          break;
        case ScenarioExpectation::Kind::kRoutedToAllowedBackend:
          pass = wrong_backend == 0 && ok > 0;
          e["measured"] = {{"answered_by_unknown_backend", wrong_backend}};
          e["bound"] = "every answer from a pod of the scenario's backends";
          break;
      }
      e["passed"] = pass;
      passed = passed && pass;
      expectations.push_back(e);
    }

    result = {
        {"scenario", s.name},
        {"seed", seed},
        {"duration_ms", s.duration.count()},
        {"vip", vip.to_string()},
        {"requests",
         {{"total", total},
          {"ok", ok},
          {"failed", total - ok},
          {"on_reused_connections", reused},
          {"p50_ms", pct(0.5)},
          {"p99_ms", pct(0.99)},
          {"by_backend", by_backend},
          {"by_vip_node", by_vip_node},
          {"errors", errors},
          {"failures", failed_list}}},
        {"failovers", fo},
        {"faults", fault_log},
        {"owner_timeline", timeline},
        {"per_second",
         [&] {
           json a = json::array();
           for (const auto& [sec, c] : per_second) {
             auto& l = latency_per_second[sec];
             std::sort(l.begin(), l.end());
             auto at = [&](double p) {
               return l.empty() ? 0.0
                                : static_cast<double>(
                                      l[std::min(l.size() - 1, static_cast<std::size_t>(p * l.size()))]) /
                                      1000.0;
             };
             a.push_back({{"second", sec},
                          {"ok", c.first},
                          {"failed", c.second},
                          {"p50_ms", at(0.5)},
                          {"p99_ms", at(0.99)}});
           }
           return a;
         }()},
        {"expectations", expectations},
        {"passed", passed},
    };
    out.passed = passed;
    clients.clear();
    udp_clients.clear();
    engines.clear();
    pod_servers.clear();
  }
  ns3::Simulator::Destroy();
  // What `validate` would warn about (conflicts resolved by a rule among them), so that a run's report says
  // which setting it ran with.
  result["warnings"] = warning_lines(d, diagnostics_before);
  out.result = std::move(result);
  return out;
}

std::string junit_xml(const json& result) {
  auto escape = [](const std::string& text) { return xml_escape(text); };
  std::string name = result.value("scenario", std::string("scenario"));
  int failures = 0;
  for (const auto& e : result["expectations"])
    if (!e["passed"].get<bool>()) ++failures;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"" + escape(name) +
                  "\" tests=\"" + std::to_string(result["expectations"].size()) + "\" failures=\"" +
                  std::to_string(failures) + "\">\n";
  for (const auto& e : result["expectations"]) {
    x += "  <testcase classname=\"" + escape(name) + "\" name=\"" + escape(e["name"].get<std::string>()) +
         "\">";
    if (!e["passed"].get<bool>())
      x += "<failure message=\"" +
           escape("measured " + e["measured"].dump() + ", bound " + e["bound"].dump()) + "\"/>";
    x += "</testcase>\n";
  }
  return x + "</testsuite>\n";
}

}  // namespace metalgate::sim
