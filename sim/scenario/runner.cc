#include "sim/scenario/runner.h"

#include <algorithm>
#include <map>
#include <set>

#include "engine/config/manifest_loader.h"
#include "engine/model/resolve.h"
#include "engine/proxy/proxy.h"
#include "engine/proxy/proxy_config.h"
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
  std::unique_ptr<proxy::Proxy> proxy;
  bool up = false;
};

struct Failover {
  std::int64_t fault_ms = 0;
  std::string node;
  std::int64_t recovered_ms = -1;  // first successful response started after the fault
};

}  // namespace

RunResult run_scenario(const Scenario& s, const RunOptions& options, config::Diagnostics& d) {
  RunResult out;
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

    // Backends: an identity server on every TCP container port, a responder on every UDP one.
    std::vector<std::unique_ptr<IdentityHttpServer>> http_servers;
    std::vector<std::unique_ptr<IdentityUdpServer>> udp_servers;
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
        auto& rt = lan.host(pod);
        for (const auto& c : dep->containers)
          for (const auto& p : c.ports) {
            net::SocketAddress at{b.addresses[i], p.container_port};
            if (p.protocol == config::Protocol::kUdp)
              udp_servers.push_back(std::make_unique<IdentityUdpServer>(rt, at, pod));
            else
              http_servers.push_back(std::make_unique<IdentityHttpServer>(
                  rt, at, pod, duration_cast<runtime::Duration>(b.latency)));
          }
      }
    }

    // The engine on each node.
    std::vector<net::SocketAddress> members;
    for (const auto& n : s.nodes)
      if (n.speaker) members.push_back({n.address, 7946});
    // The controller's Service has its endpoints where the proxy runs: with externalTrafficPolicy Local only
    // those nodes may announce it, as MetalLB decides.
    auto assignments = speaker::layer2_assignments(*model);
    for (auto& a : assignments)
      for (const auto& svc : model->services)
        if (svc.key == a.service && svc.is_ingress_controller)
          for (const auto& n : s.nodes)
            if (n.proxy) a.nodes_with_ready_endpoints.insert(n.name);
    std::map<std::string, NodeEngine> engines;
    std::map<std::string, bool> isolated;  // NIC down
    auto start_engine = [&](const ScenarioNode& n) {
      NodeEngine& e = engines[n.name];
      auto& rt = lan.host(n.name);
      if (n.proxy) {
        e.proxy = std::make_unique<proxy::Proxy>(rt, proxy_config);
        if (auto ec = e.proxy->start())
          d.error({s.file, 0, 0}, "nodes", "the proxy on " + n.name + " did not start: " + ec.message());
      }
      if (n.speaker) {
        speaker::Layer2NodeConfig cfg;
        cfg.name = n.name;
        cfg.interfaces = {"eth0"};
        cfg.membership_address = {n.address, 7946};
        for (const auto& m : members)
          if (m.ip != n.address) cfg.seeds.push_back(m);
        for (const auto& other : s.nodes)
          cfg.node_labels[other.name] = other.labels;
        std::error_code ec;
        e.speaker = std::make_unique<speaker::Layer2Node>(rt, cfg, ec);
        if (ec)
          d.error({s.file, 0, 0}, "nodes", "the speaker on " + n.name + " did not start: " + ec.message());
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
      co.rate = c.rate;
      co.timeout = duration_cast<runtime::Duration>(c.timeout);
      co.https = c.https;
      clients.push_back(std::make_unique<HttpLoadClient>(lan.host(c.name), co));
      clients.back()->start();
    }

    // Who claims the VIP, every 100 ms (the view of each live speaker: does it think it owns it?).
    auto owner_now = [&]() -> std::vector<std::string> {
      std::vector<std::string> claim;
      for (auto& [name, e] : engines) {
        if (!e.up || !e.speaker || isolated[name]) continue;
        auto owners = e.speaker->owners();
        auto it = owners.find(vip);
        if (it != owners.end() && it->second == name) claim.push_back(name);
      }
      return claim;
    };
    std::int64_t samples = 0, dual = 0, none = 0;
    std::vector<json> timeline;
    std::string last_owner = "?";
    std::function<void()> sample = [&] {
      auto claim = owner_now();
      std::int64_t t = ns3::Simulator::Now().GetMilliSeconds();
      if (t >= 2000) {  // after the first membership round-trips
        ++samples;
        if (claim.size() > 1) ++dual;
        if (claim.empty()) ++none;
      }
      std::string owner = claim.empty() ? "" : claim.size() == 1 ? claim.front() : "several";
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
    std::vector<json> fault_log;
    for (const auto& f : s.faults) {
      ns3::Simulator::Schedule(ns3::MilliSeconds(f.at.count()), [&, f] {
        std::string target = f.node;
        if (target == "owner") {
          auto claim = owner_now();
          target = claim.empty() ? "" : claim.front();
        }
        static const char* kActions[] = {"crash", "restart", "nic_down", "nic_up"};
        json entry = {
            {"at_ms", f.at.count()}, {"action", kActions[static_cast<int>(f.kind)]}, {"node", target}};
        fault_log.push_back(entry);
        if (target.empty()) return;
        auto it =
            std::find_if(s.nodes.begin(), s.nodes.end(), [&](const auto& n) { return n.name == target; });
        if (f.kind == ScenarioFault::Kind::kNicDown || f.kind == ScenarioFault::Kind::kNicUp) {
          const bool down = f.kind == ScenarioFault::Kind::kNicDown;
          auto claim = owner_now();
          if (down && std::find(claim.begin(), claim.end(), target) != claim.end())
            failovers.push_back({f.at.count(), target, -1});
          lan.set_host_link(target, !down);
          // Cut off, the node still believes it owns the VIP: its claims do not count as a split.
          isolated[target] = down;
        } else if (f.kind == ScenarioFault::Kind::kCrash) {
          auto claim = owner_now();
          bool was_owner = std::find(claim.begin(), claim.end(), target) != claim.end();
          NodeEngine& e = engines[target];
          e.speaker.reset();  // engine state is lost; nothing is said on the way out
          e.proxy.reset();
          e.up = false;
          if (was_owner) failovers.push_back({f.at.count(), target, -1});
        } else if (it != s.nodes.end() && !engines[target].up) {
          start_engine(*it);
        }
      });
    }

    ns3::Simulator::Stop(ns3::MilliSeconds(s.duration.count()) + ns3::MilliSeconds(1));
    ns3::Simulator::Run();

    // Collect.
    std::vector<RequestRecord> records;
    for (auto& c : clients) {
      c->stop();
      records.insert(records.end(), c->records().begin(), c->records().end());
    }
    for (auto& c : udp_clients) {
      c->stop();
      records.insert(records.end(), c->records().begin(), c->records().end());
    }
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
      return std::tie(a.start_us, a.end_us) < std::tie(b.start_us, b.end_us);
    });
    for (auto& f : failovers) {
      for (const auto& r : records)
        if (r.status >= 200 && r.status < 400 && r.start_us / 1000 >= f.fault_ms) {
          f.recovered_ms = r.end_us / 1000;
          break;
        }
    }
    auto in_failover = [&](const RequestRecord& r) {
      for (const auto& f : failovers) {
        std::int64_t end = f.recovered_ms < 0 ? INT64_MAX : f.recovered_ms;
        if (r.start_us / 1000 >= f.fault_ms - 2000 && r.start_us / 1000 <= end)
          return true;  // incl. timeouts
      }
      return false;
    };
    std::int64_t total = 0, ok = 0, total_out = 0, ok_out = 0, wrong_backend = 0;
    std::vector<std::int64_t> latencies;
    std::map<std::string, std::int64_t> by_backend, errors;
    std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> per_second;  // second -> (ok, failed)
    for (const auto& r : records) {
      if (r.start_us < 1000000) continue;                   // the first second: membership and ARP settle
      if (r.error == "still running at the end") continue;  // cut off by the end of the run, not failed
      ++total;
      bool good = r.status >= 200 && r.status < 400;
      auto& second = per_second[r.start_us / 1000000];
      (good ? second.first : second.second) += 1;
      if (good) {
        ++ok;
        latencies.push_back(r.end_us - r.start_us);
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
      }
      if (!in_failover(r)) {
        ++total_out;
        if (good) ++ok_out;
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
      fo.push_back(
          {{"fault_at_ms", f.fault_ms}, {"node", f.node}, {"vip", vip.to_string()}, {"failover_ms", took}});
    }

    json expectations = json::array();
    bool passed = true;
    for (const auto& x : s.expectations) {
      json e = {{"name", x.name}};
      bool pass = false;
      switch (x.kind) {
        case ScenarioExpectation::Kind::kSingleOwner:
          pass = dual == 0;
          e["measured"] = {
              {"samples", samples}, {"samples_with_several_owners", dual}, {"samples_without_owner", none}};
          e["bound"] = "no sample with several owners";
          break;
        case ScenarioExpectation::Kind::kSuccessRatio: {
          double ratio = x.outside_failover ? (total_out ? static_cast<double>(ok_out) / total_out : 0)
                                            : (total ? static_cast<double>(ok) / total : 0);
          pass = ratio >= x.min;
          e["measured"] = ratio;
          e["bound"] = {{"min", x.min}, {"outside_failover", x.outside_failover}};
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
          {"p50_ms", pct(0.5)},
          {"p99_ms", pct(0.99)},
          {"by_backend", by_backend},
          {"errors", errors}}},
        {"failovers", fo},
        {"faults", fault_log},
        {"owner_timeline", timeline},
        {"per_second",
         [&] {
           json a = json::array();
           for (const auto& [sec, c] : per_second)
             a.push_back({{"second", sec}, {"ok", c.first}, {"failed", c.second}});
           return a;
         }()},
        {"expectations", expectations},
        {"passed", passed},
    };
    out.passed = passed;
    clients.clear();
    udp_clients.clear();
    engines.clear();
    http_servers.clear();
    udp_servers.clear();
  }
  ns3::Simulator::Destroy();
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
