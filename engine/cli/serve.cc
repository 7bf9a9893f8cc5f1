#include "engine/cli/serve.h"

#include <iostream>

#include "engine/config/manifest_loader.h"
#include "engine/ipam/state_file.h"
#include "engine/model/resolve.h"
#include "engine/runtime/asio/asio_runtime.h"
#include "engine/speaker/layer2_node.h"

namespace metalgate::cli {

int run_serve(const ServeOptions& options) {
  auto fail = [](const std::string& message) {
    std::cerr << "metalgate serve: " << message << "\n";
    return 1;
  };
  auto bind = net::SocketAddress::parse(options.bind);
  if (!bind) return fail("--bind '" + options.bind + "' is not ip:port");
  std::vector<net::SocketAddress> seeds;
  for (const auto& p : options.peers) {
    auto a = net::SocketAddress::parse(p);
    if (!a) return fail("--peer '" + p + "' is not ip:port");
    seeds.push_back(*a);
  }

  config::Diagnostics d;
  auto set = config::load_manifest_paths(options.manifests, d);
  model::ResolveOptions ro;
  if (!options.state_file.empty()) {
    std::string error;
    ro.previous_allocations = ipam::read_state_file(options.state_file, error);
    if (!error.empty()) d.error({options.state_file, 0, 0}, "", error);
  }
  auto model = model::resolve_model(std::move(set), ro, d);
  if (d.has_errors()) {
    std::cerr << d.to_string();
    return fail(std::to_string(d.error_count()) + " error(s) in the manifests; nothing started");
  }

  if (auto missing = runtime::asio_live::missing_live_capabilities(); !missing.empty()) return fail(missing);
  std::vector<std::pair<std::string, std::string>> previous_sysctls;
  if (auto ec = runtime::asio_live::quiet_kernel_arp(&previous_sysctls))
    return fail("cannot set net.ipv4.conf.*.arp_ignore/arp_announce: " + ec.message());

  boost::asio::io_context io;
  runtime::asio_live::AsioRuntime rt(
      io, {.seed = options.seed,
           .vip_interface = options.vip_interface,
           .log_sink = runtime::stderr_log_sink(),
           .log_level = options.debug ? runtime::LogLevel::kDebug : runtime::LogLevel::kInfo});

  speaker::Layer2NodeConfig cfg;
  cfg.name = options.node;
  cfg.interfaces = options.interfaces;
  cfg.membership_address = *bind;
  cfg.seeds = seeds;
  for (const auto& n : model.manifests.nodes)
    cfg.node_labels[n.meta.name] = n.meta.labels;
  std::error_code ec;
  speaker::Layer2Node node(rt, cfg, ec);
  if (ec) return fail("cannot open the interfaces or the membership socket: " + ec.message());

  auto assignments = speaker::layer2_assignments(model);
  for (auto& a : assignments) {
    // Every metalgate node runs the proxy, so every live node holds a ready local endpoint of the ingress
    // controller's Service: externalTrafficPolicy: Local leaves all of them eligible.
    for (const auto& s : model.services)
      if (s.key == a.service && s.is_ingress_controller) a.local_traffic_policy = false;
  }
  std::string vips;
  for (const auto& a : assignments)
    for (const auto& ip : a.addresses)
      vips += (vips.empty() ? "" : ",") + ip.to_string();
  rt.logger().log(runtime::LogLevel::kInfo, "serve", "starting",
                  {{"node", options.node}, {"vips", vips.empty() ? "-" : vips}, {"bind", bind->to_string()}});
  node.set_assignments(std::move(assignments));
  node.start();

  runtime::TimerPtr stop_timer;
  runtime::asio_live::on_termination_signal(io, [&](int signal) {
    const auto& c = node.speaker().core().counters();
    rt.logger().log(runtime::LogLevel::kInfo, "serve", "stopping",
                    {{"signal", std::to_string(signal)},
                     {"arp_requests_seen", std::to_string(c.arp_requests_seen)},
                     {"arp_replies_sent", std::to_string(c.arp_replies_sent)},
                     {"ns_seen", std::to_string(c.neighbor_solicitations_seen)},
                     {"na_sent", std::to_string(c.neighbor_advertisements_sent)},
                     {"announcements_sent", std::to_string(c.announcements_sent)},
                     {"malformed", std::to_string(c.malformed)},
                     {"conflicts", std::to_string(c.conflicts_seen)}});
    node.leave();  // the others take over at once
    stop_timer = rt.create_timer([&] { io.stop(); });
    stop_timer->arm(std::chrono::milliseconds(50));  // let the leave datagrams go out
  });
  io.run();
  // A graceful exit puts the kernel's ARP behaviour back as it found it (after SIGKILL the quiet settings
  // stay, which is what keeps a dead node from answering for a VIP it still holds on lo).
  runtime::asio_live::restore_kernel_arp(previous_sysctls);
  return 0;
}

}  // namespace metalgate::cli
