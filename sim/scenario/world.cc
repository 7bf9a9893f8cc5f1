#include "sim/scenario/world.h"

#include "ns3/simulator.h"

namespace metalgate::sim {

Result<node::Node*> ScenarioWorld::start_node_engine(const ScenarioNode& n) {
  node::NodeSpec spec = load_spec;
  spec.name = n.name;
  spec.speaker = n.speaker;
  spec.proxy = n.proxy;
  spec.layer2.interfaces = n.interfaces;
  spec.layer2.membership_address = {n.address, 7946};
  for (const auto& other : scenario.nodes)
    if (other.speaker && other.address != n.address) spec.layer2.seeds.push_back({other.address, 7946});
  auto started = node::Node::start(lan->host(n.name), std::move(spec), configuration);
  if (!started) return Failure{started.error()};
  auto& slot = nodes[n.name];
  slot = std::move(*started);
  return slot.get();
}

void ScenarioWorld::start_pod(PodServers& pod) {
  auto& rt = lan->host(pod.name);
  for (const auto& port : pod.ports) {
    net::SocketAddress at{pod.address, port.number};
    if (port.udp) {
      pod.udp.push_back(std::make_unique<IdentityUdpServer>(rt, at, pod.name));
    } else {
      pod.http.push_back(std::make_unique<IdentityHttpServer>(rt, at, pod.name, pod.latency));
      pod.http.back()->set_healthy(pod.healthy);
    }
  }
}

std::map<net::IpAddress, std::vector<std::string>> ScenarioWorld::claims() {
  std::map<net::IpAddress, std::vector<std::string>> out;
  for (auto& [name, n] : nodes) {
    if (!n || !n->layer2()) continue;
    for (const auto& address : n->layer2()->speaker().core().owned_addresses())
      out[address].push_back(name);
  }
  return out;
}

void schedule_ownership_samples(ScenarioWorld& world) {
  for (std::int64_t t = 0; t <= world.scenario.duration.count(); t += 100)
    ns3::Simulator::Schedule(ns3::MilliSeconds(t), [&world, t] {
      scenario::run::sample_ownership(world, world, t);
      if (world.options.progress && t % 1000 == 0) world.options.progress(static_cast<double>(t) / 1000.0);
    });
}

}  // namespace metalgate::sim
