#include "engine/node/node.h"

#include "engine/config/manifest_loader.h"
#include "engine/l4/forwarding.h"
#include "engine/model/resolve.h"
#include "engine/mutants/mutants.h"
#include "engine/proxy/shared_state.h"
#include "engine/stats/csv.h"
#include "engine/stats/html.h"
#include "engine/stats/prometheus.h"
#include "engine/stats/snapshot.h"

namespace metalgate::node {
namespace {

// Every node's labels: a world's description first, the manifests' Node objects over it.
std::map<std::string, config::Labels> node_labels(const NodeSpec& spec, const model::Model& model) {
  auto labels = spec.node_labels;
  for (const auto& n : model.manifests.nodes)
    labels[n.meta.name] = n.meta.labels;
  return labels;
}

// The proxy options of one configuration: several event loops share its health, rate tables and TLS.
Result<proxy::ProxyOptions> options_for(const NodeSpec& spec, const proxy::ProxyConfig& config,
                                        std::shared_ptr<stats::Registry> registry) {
  proxy::ProxyOptions options = spec.proxy_options;
  options.node = spec.name;
  options.stats = std::move(registry);
  options.loop = 0;
  options.shared.reset();
  if (spec.proxy_threads <= 1) return options;
  auto shared = proxy::SharedProxyState::create(config);
  if (!shared) return Failure{"cannot load the TLS certificates: " + shared.error()};
  options.shared = std::move(*shared);
  return options;
}

}  // namespace

void place_pods(NodeSpec& spec, std::map<std::string, PodPlacement> pods) {
  auto shared = std::make_shared<const std::map<std::string, PodPlacement>>(std::move(pods));
  spec.build.place_endpoint = [shared](const routing::ResolvedEndpoint& ep) -> std::optional<net::IpAddress> {
    auto it = shared->find(ep.name);
    if (it == shared->end()) return std::nullopt;
    return it->second.address;
  };
  spec.endpoint_node = [shared](const routing::ResolvedEndpoint& ep) -> std::string {
    auto it = shared->find(ep.name);
    return it == shared->end() ? "" : it->second.node;
  };
}

Result<std::shared_ptr<const Configuration>> load_configuration(const NodeSpec& spec,
                                                                const std::vector<std::string>& manifests,
                                                                const ipam::PreviousAllocations& previous,
                                                                config::Diagnostics& d) {
  const std::size_t before = d.items().size();
  model::ResolveOptions ro;
  ro.previous_allocations = previous;
  proxy::BuildOptions build = spec.build;
  if (!build.endpoint_node) build.endpoint_node = spec.endpoint_node;
  auto model =
      std::make_shared<model::Model>(model::resolve_model(config::load_manifest_paths(manifests, d), ro, d));
  auto c = std::make_shared<Configuration>();
  c->proxy_config = std::make_shared<proxy::ProxyConfig>(proxy::build_proxy_config(model, build, d));
  auto found = d.since(before);  // a caller may load several times into one `d`
  if (found.has_errors() && !METALGATE_MUTANT(kReloadAppliedBeforeValidation))
    return Failure{std::to_string(found.error_count()) + " error(s) in the manifests"};
  c->assignments = speaker::layer2_assignments(*model, spec.endpoint_node);
  c->node_labels = node_labels(spec, *model);
  c->warnings = found.warning_lines();
  c->model = std::move(model);
  return std::shared_ptr<const Configuration>(std::move(c));
}

Node::Node(runtime::Runtime& runtime, NodeSpec spec, std::shared_ptr<const Configuration> configuration)
    : runtime_(runtime), spec_(std::move(spec)), configuration_(std::move(configuration)) {}

Node::~Node() = default;

Result<std::unique_ptr<Node>> Node::start(runtime::Runtime& runtime, NodeSpec spec,
                                          std::shared_ptr<const Configuration> configuration) {
  std::unique_ptr<Node> node(new Node(runtime, std::move(spec), std::move(configuration)));
  if (auto error = node->start_parts(); !error.empty()) return Failure{error};
  return node;
}

// The proxy first, so that an address this node wins is served the moment it is announced.
std::string Node::start_parts() {
  const auto& c = *configuration_;
  if (auto error = start_proxy(); !error.empty()) return error;
  if (!spec_.speaker) return {};
  speaker::Layer2NodeConfig layer2 = spec_.layer2;
  layer2.name = spec_.name;
  layer2.membership.runs_proxy = spec_.proxy;
  layer2.node_labels = c.node_labels;
  auto started = speaker::Layer2Node::create(runtime_, std::move(layer2));
  if (!started) {
    proxy_.reset();
    return "the speaker cannot start: " + started.error();
  }
  layer2_ = std::move(*started);
  if (!spec_.proxy) layer2_->on_view_seen([this] { follow_proxy_peers(); });
  layer2_->set_assignments(c.assignments);
  layer2_->start();
  log_speaker_started();
  return {};
}

std::string Node::start_proxy() {
  serving_ = serving_config(*configuration_);
  auto options = options_for(spec_, *serving_, stats_);
  if (!options) return "the proxy cannot start: " + options.error();
  proxy_options_ = *options;
  proxy_.set(std::make_unique<proxy::Proxy>(runtime_, serving_, proxy_options_));
  if (auto ec = proxy_->start()) {
    proxy_.reset();
    return "the proxy cannot start: " + ec.message();
  }
  log_proxy_started();
  if (auto error = start_stats_server(); !error.empty()) {
    proxy_.reset();
    return error;
  }
  return {};
}

// A proxy is an endpoint of the controller's Service, so it listens on its membership address too, as a pod
// on its own: with externalTrafficPolicy: Cluster nodes without the proxy forward the controller's ports
// there.
std::shared_ptr<const proxy::ProxyConfig> Node::serving_config(const Configuration& c) const {
  const net::IpAddress& self = spec_.layer2.membership_address.ip;
  if (spec_.proxy && (!spec_.speaker || self.is_unspecified())) return c.proxy_config;
  if (spec_.proxy)
    return std::make_shared<proxy::ProxyConfig>(l4::with_peer_listeners(*c.proxy_config, *c.model, self));
  std::string peers;
  for (const auto& p : proxy_peers_)
    peers += p.node + '\0' + p.address.to_string() + '\n';
  std::lock_guard lock(c.forwarding_mutex);
  auto& shared = c.forwarding[peers];
  if (auto config = shared.lock()) return config;
  auto config = std::make_shared<proxy::ProxyConfig>(l4::forwarding_only(*c.proxy_config));
  auto forwards = l4::controller_forwards(*c.model, proxy_peers_);
  config->l4_services.insert(config->l4_services.end(), forwards.begin(), forwards.end());
  shared = config;
  return config;
}

void Node::follow_proxy_peers() {
  std::vector<l4::ProxyPeer> peers;
  for (const auto& [name, m] : layer2_->membership().core().members()) {
    const bool live =
        m.state == membership::MemberState::kAlive || m.state == membership::MemberState::kSuspect;
    if (live && name != spec_.name && m.runs_proxy) peers.push_back({name, m.address.ip});
  }
  std::sort(peers.begin(), peers.end(), [](const auto& a, const auto& b) { return a.node < b.node; });
  if (peers == proxy_peers_ || !proxy_) return;
  proxy_peers_ = std::move(peers);
  if (!l4::forwards_controller(*configuration_->model)) return;  // a Local controller: nothing to follow
  std::string listed;
  for (const auto& p : proxy_peers_)
    listed += (listed.empty() ? "" : ",") + p.node;
  runtime_.logger().log(runtime::LogLevel::kInfo, "node", "proxy-peers",
                        {{"node", spec_.name}, {"peers", listed}});
  auto next = serving_config(*configuration_);
  if (auto ec = proxy_.replace(std::make_unique<proxy::Proxy>(runtime_, next, proxy_options_), runtime_))
    runtime_.logger().log(runtime::LogLevel::kError, "node", "forwards-failed", {{"error", ec.message()}});
  else
    serving_ = std::move(next);
}

ReloadOutcome Node::reload(const std::vector<std::string>& manifests, config::Diagnostics& diagnostics) {
  auto loaded =
      load_configuration(spec_, manifests, model::held_allocations(*configuration_->model), diagnostics);
  if (!loaded) {
    ReloadOutcome out;
    out.refused = loaded.error();
    out.configuration = configuration_;
    return out;
  }
  return apply(*loaded);
}

ReloadOutcome Node::apply(std::shared_ptr<const Configuration> next) {
  ReloadOutcome out;
  out.configuration = configuration_;
  out.warnings = next->warnings;
  if (proxy_) {
    auto serving = serving_config(*next);
    auto options = options_for(spec_, *serving, stats_);
    if (!options) {
      out.refused = options.error();
      return out;
    }
    if (auto ec = proxy_.replace(std::make_unique<proxy::Proxy>(runtime_, serving, *options), runtime_)) {
      out.refused = "the new configuration cannot start: " + ec.message();
      return out;
    }
    proxy_options_ = *options;
    serving_ = std::move(serving);
  }
  if (layer2_) layer2_->set_assignments(next->assignments);
  configuration_ = std::move(next);
  // The new configuration serves either way; stats listeners it cannot bind stay off until a reload that can.
  if (auto error = start_stats_server(); !error.empty())
    runtime_.logger().log(runtime::LogLevel::kError, "node", "stats-listener-failed", {{"error", error}});
  out.applied = true;
  out.configuration = configuration_;
  out.serving = serving_;
  out.proxy_options = secondary_proxy_options();
  return out;
}

std::string Node::start_stats_server() {
  const proxy::MonitorConfig& wanted = serving_->monitor;
  if (stats_server_ && stats_server_->config() == wanted) return {};
  if (wanted.stats.empty() && wanted.metrics.empty()) {
    stats_server_.reset();
    return {};
  }
  stats_server_.reset();  // its ports may be the new one's
  auto started =
      stats::StatsServer::start(runtime_, wanted, [this](stats::Page page) { return stats(page); });
  if (!started) return "the stats cannot start: " + started.error();
  stats_server_ = std::move(*started);
  std::string where;
  for (const auto& a : stats_server_->addresses())
    where += (where.empty() ? "" : ",") + a.to_string();
  runtime_.logger().log(runtime::LogLevel::kInfo, "node", "stats-listening",
                        {{"node", spec_.name}, {"addresses", where}});
  return {};
}

stats::Snapshot Node::stats_snapshot() {
  stats::Snapshot snapshot;
  if (proxy_) snapshot = stats::take_snapshot(*proxy_.operator->(), runtime_.now());
  if (layer2_) snapshot.speaker = stats::take_speaker_snapshot(*layer2_, spec_.name);
  return snapshot;
}

std::string Node::stats(stats::Page page) {
  const stats::Snapshot snapshot = stats_snapshot();
  switch (page) {
    case stats::Page::kCsv:
      return stats::to_csv(snapshot);
    case stats::Page::kMetrics:
      return stats::to_prometheus(snapshot);
    case stats::Page::kHtml:
      break;
  }
  return stats::to_html(snapshot, {spec_.name, METALGATE_VERSION, 5});
}

void Node::leave() {
  if (layer2_) layer2_->leave();
}

proxy::ProxyOptions Node::secondary_proxy_options() const {
  proxy::ProxyOptions options = proxy_options_;
  options.primary = false;
  return options;
}

void Node::log_proxy_started() {
  const auto& frontends = serving_->frontends;
  std::string bound;
  for (std::size_t i = 0; i < frontends.size(); ++i)
    bound += (i ? "," : "") + frontends[i].name + "=" + proxy_->frontend_address(i).to_string();
  runtime_.logger().log(runtime::LogLevel::kInfo, "node", "proxy-started",
                        {{"node", spec_.name},
                         {"frontends", bound},
                         {"backends", std::to_string(serving_->backends.size())},
                         {"l4_services", std::to_string(serving_->l4_services.size())},
                         {"threads", std::to_string(spec_.proxy_threads)}});
}

void Node::log_speaker_started() {
  std::string vips;
  for (const auto& a : configuration_->assignments)
    for (const auto& ip : a.addresses)
      vips += (vips.empty() ? "" : ",") + ip.to_string();
  runtime_.logger().log(runtime::LogLevel::kInfo, "node", "speaker-started",
                        {{"node", spec_.name},
                         {"vips", vips.empty() ? "-" : vips},
                         {"bind", spec_.layer2.membership_address.to_string()}});
}

}  // namespace metalgate::node
