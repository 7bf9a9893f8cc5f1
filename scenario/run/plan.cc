#include "scenario/run/plan.h"

#include "engine/model/model-t.h"
#include "scenario/run/world_run.h"
#include "scenario/schema/loader.h"

namespace metalgate::scenario::run {

namespace {

// What every node is started with: the manifests, where the pods run, the speakers' timing and the scenario's
// node labels.
node::NodeSpec load_spec_of(const Scenario& s) {
  node::NodeSpec spec;
  spec.manifests = s.manifests;
  node::place_pods(spec, pod_placement(s));
  auto& l2 = spec.layer2;
  if (s.speaker.probe_interval) l2.membership.probe_interval = *s.speaker.probe_interval;
  if (s.speaker.probe_timeout) l2.membership.probe_timeout = *s.speaker.probe_timeout;
  if (s.speaker.suspicion_timeout) l2.membership.suspicion_timeout = *s.speaker.suspicion_timeout;
  if (s.speaker.join_grace) l2.join_grace = *s.speaker.join_grace;
  if (s.speaker.announce_refresh) l2.announce.refresh = *s.speaker.announce_refresh;
  for (const auto& n : s.nodes)
    spec.node_labels[n.name] = n.labels;
  return spec;
}

// The manifests load, the controller's Service has an address, and every fault kind has its meaning.
bool configure(const Scenario& s, RunPlan& plan, config::Diagnostics& d) {
  if (auto missing = kinds_without_action(); !missing.empty()) {
    std::string names;
    for (const auto& m : missing)
      names += (names.empty() ? "" : ", ") + m;
    d.error({s.file, 0, 0}, "faults", "no world has an action for the fault kinds " + names);
    return false;
  }
  plan.load_spec = load_spec_of(s);
  auto loaded = node::load_configuration(plan.load_spec, s.manifests, {}, d);
  if (!loaded || d.has_errors()) return false;
  plan.configuration = *loaded;
  const model::ResolvedService* controller = plan.configuration->model->ingress_controller();
  if (!controller || controller->addresses.empty()) {
    d.error({s.file, 0, 0}, "manifests", "the ingress controller's Service has no address: nothing to reach");
    return false;
  }
  plan.vip = controller->addresses.front();
  return true;
}

// The pods of every backend, with their Deployment's container ports.
bool plan_pods(const Scenario& s, RunPlan& plan, config::Diagnostics& d) {
  for (const auto& b : s.backends) {
    const config::Deployment* dep = nullptr;
    for (const auto& dd : plan.configuration->model->manifests.deployments)
      if (dd.meta.key() == b.deployment || dd.meta.name == b.deployment) dep = &dd;
    if (!dep) {
      d.error({s.file, 0, 0}, "backends", "no Deployment '" + b.deployment + "' in the manifests");
      return false;
    }
    for (std::size_t i = 0; i < b.addresses.size(); ++i) {
      PlannedPod pod;
      pod.name = dep->meta.name + "-" + std::to_string(i);
      pod.address = b.addresses[i];
      pod.latency = b.latency;
      pod.node = i < b.nodes.size() ? b.nodes[i] : "";
      pod.server = b.server;
      for (const auto& c : dep->containers)
        for (const auto& p : c.ports)
          pod.ports.push_back({p.container_port, p.protocol == config::Protocol::kUdp});
      plan.pods.push_back(std::move(pod));
    }
  }
  return true;
}

}  // namespace

std::optional<RunPlan> plan_run(const Scenario& scenario, config::Diagnostics& diagnostics) {
  RunPlan plan;
  if (!configure(scenario, plan, diagnostics) || !plan_pods(scenario, plan, diagnostics)) return std::nullopt;
  return plan;
}

}  // namespace metalgate::scenario::run
