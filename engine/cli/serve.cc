#include "engine/cli/serve.h"

#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/config/duration.h"
#include "engine/config/manifest_loader.h"
#include "engine/ipam/state_file.h"
#include "engine/model/resolve.h"
#include "engine/proxy/proxy.h"
#include "engine/proxy/proxy_config.h"
#include "engine/proxy/serving_proxy.h"
#include "engine/runtime/asio/asio_runtime.h"
#include "engine/speaker/layer2_node.h"

namespace metalgate::cli {
namespace {

struct LoadedConfiguration {
  std::shared_ptr<model::Model> model;
  std::shared_ptr<proxy::ProxyConfig> proxy_config;  // null with --no-proxy
};

// Reads the manifests and builds what serve runs from them, at start and on every reload; problems go to `d`.
LoadedConfiguration load_configuration(const ServeOptions& options, const net::IpAddress& listen,
                                       ipam::PreviousAllocations previous, config::Diagnostics& d) {
  LoadedConfiguration loaded;
  auto set = config::load_manifest_paths(options.manifests, d);
  model::ResolveOptions ro;
  ro.previous_allocations = std::move(previous);
  loaded.model = std::make_shared<model::Model>(model::resolve_model(std::move(set), ro, d));
  if (!options.no_proxy) {
    proxy::BuildOptions bo;
    bo.bind_address = listen;
    bo.http_port = options.http_port;
    bo.https_port = options.https_port;
    loaded.proxy_config =
        std::make_shared<proxy::ProxyConfig>(proxy::build_proxy_config(loaded.model, bo, d));
  }
  return loaded;
}

// The warnings among `d` (conflicts resolved by a rule, unreachable settings), one a line.
std::vector<std::string> warning_lines(const config::Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& x : d.sorted())
    if (x.severity == config::Severity::kWarning) out.push_back(x.to_string());
  return out;
}

// The VIPs this node may announce, from a model.
std::vector<speaker::Layer2Assignment> assignments_for(const model::Model& m) {
  auto assignments = speaker::layer2_assignments(m);
  for (auto& a : assignments) {
    // Every metalgate node runs the proxy, so every live node holds a ready local endpoint of the ingress
    // controller's Service: externalTrafficPolicy: Local leaves all of them eligible.
    for (const auto& s : m.services)
      if (s.key == a.service && s.is_ingress_controller) a.local_traffic_policy = false;
  }
  return assignments;
}

}  // namespace

int run_serve(const ServeOptions& options) {
  auto fail = [](const std::string& message) {
    std::cerr << "metalgate serve: " << message << "\n";
    return 1;
  };
  if (options.no_speaker && options.no_proxy) return fail("--no-speaker and --no-proxy leave nothing to run");
  const bool speaker_on = !options.no_speaker;
  if (speaker_on && (options.node.empty() || options.interfaces.empty() || options.bind.empty()))
    return fail("the speaker needs --node, --interface and --bind (or --no-speaker for a proxy only)");
  auto bind = speaker_on ? net::SocketAddress::parse(options.bind) : net::SocketAddress{};
  if (!bind) return fail("--bind '" + options.bind + "' is not ip:port");
  std::optional<net::IpAddress> listen = net::IpAddress::v4(0);
  if (!options.listen.empty()) listen = net::IpAddress::parse(options.listen);
  if (!listen) return fail("--listen '" + options.listen + "' is not an IP address");
  speaker::Layer2NodeConfig cfg;
  auto timing = [](const std::string& text, runtime::Duration& out, bool zero_allowed) -> bool {
    if (text.empty()) return true;
    auto value = config::parse_duration(text);
    if (!value || (!zero_allowed && value->count() <= 0)) return false;
    out = *value;
    return true;
  };
  if (!timing(options.probe_interval, cfg.membership.probe_interval, false))
    return fail("--probe-interval '" + options.probe_interval + "' is not a duration above 0 (30ms)");
  if (!timing(options.probe_timeout, cfg.membership.probe_timeout, false))
    return fail("--probe-timeout '" + options.probe_timeout + "' is not a duration above 0 (12ms)");
  if (!timing(options.suspicion_timeout, cfg.membership.suspicion_timeout, false))
    return fail("--suspicion-timeout '" + options.suspicion_timeout + "' is not a duration above 0 (60ms)");
  if (!timing(options.join_grace, cfg.join_grace, true))
    return fail("--join-grace '" + options.join_grace + "' is not a duration (250ms)");
  if (!timing(options.announce_refresh, cfg.announce.refresh, true))
    return fail("--announce-refresh '" + options.announce_refresh +
                "' is not a duration (60s, or 0 for never)");
  if (!membership::timing_problem(cfg.membership).empty())
    return fail("--probe-timeout must be shorter than --probe-interval: indirect probes need the rest of it");
  std::vector<net::SocketAddress> seeds;
  for (const auto& p : options.peers) {
    auto a = net::SocketAddress::parse(p);
    if (!a) return fail("--peer '" + p + "' is not ip:port");
    seeds.push_back(*a);
  }

  config::Diagnostics d;
  ipam::PreviousAllocations previous;
  if (!options.state_file.empty()) {
    std::string error;
    previous = ipam::read_state_file(options.state_file, error);
    if (!error.empty()) d.error({options.state_file, 0, 0}, "", error);
  }
  auto loaded = load_configuration(options, *listen, std::move(previous), d);
  std::shared_ptr<const model::Model> model = loaded.model;
  std::shared_ptr<proxy::ProxyConfig> proxy_config = loaded.proxy_config;
  if (d.has_errors()) {
    std::cerr << d.to_string();
    return fail(std::to_string(d.error_count()) + " error(s) in the manifests; nothing started");
  }
  for (const auto& line : warning_lines(d))
    std::cerr << line << "\n";

  std::vector<std::pair<std::string, std::string>> previous_sysctls;
  if (speaker_on) {
    if (auto missing = runtime::asio_live::missing_live_capabilities(); !missing.empty())
      return fail(missing);
    if (auto ec = runtime::asio_live::quiet_kernel_arp(&previous_sysctls))
      return fail("cannot set net.ipv4.conf.*.arp_ignore/arp_announce: " + ec.message());
  }

  // One thread runs the loop and nothing else touches it: no locking inside Asio.
  boost::asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
  runtime::asio_live::AsioRuntime rt(
      io, {.seed = options.seed,
           .vip_interface = options.vip_interface,
           .log_sink = runtime::stderr_log_sink(),
           .log_level = options.debug ? runtime::LogLevel::kDebug : runtime::LogLevel::kInfo});

  // The proxy: log dates from the wall clock, lines to the chosen place.
  proxy::ServingProxy primary;
  proxy::ProxyOptions base_options;  // what a reload builds its proxies with
  int threads = 1;
  std::unique_ptr<std::ofstream> log_file;
  std::mutex log_mutex;  // the loops write whole lines, one at a time
  // More event loops for the proxy (nbthread): each has its own Asio loop, runtime and proxy, listens on the
  // same ports (SO_REUSEPORT lets the kernel spread connections) and shares health, server loads, rate
  // tables and TLS contexts with the others. The first loop (this thread) is the primary one: it also runs
  // the speaker, the health checks and the TCP and UDP services.
  struct ExtraLoop {
    // Lock-free I/O as in the primary loop, but a locked scheduler: the primary thread stops this loop.
    boost::asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    std::unique_ptr<runtime::asio_live::AsioRuntime> rt;
    proxy::ServingProxy proxies;
    std::thread thread;
  };
  std::vector<std::unique_ptr<ExtraLoop>> extra_loops;
  if (proxy_config) {
    proxy::ProxyOptions po;
    if (options.access_log == "off") {
      // No access log at all (benchmarks compare against a proxy configured without one).
    } else if (!options.access_log.empty() && options.access_log != "-") {
      log_file = std::make_unique<std::ofstream>(options.access_log, std::ios::app);
      if (!*log_file) return fail("cannot open --access-log " + options.access_log);
      po.access_log = [&log_file, &log_mutex](std::string_view line) {
        std::lock_guard lock(log_mutex);
        *log_file << line << '\n' << std::flush;
      };
    } else {
      po.access_log = [&log_mutex](std::string_view line) {
        std::lock_guard lock(log_mutex);
        std::cout << line << '\n' << std::flush;
      };
    }
    const auto wall_offset =
        std::chrono::system_clock::now().time_since_epoch() - rt.now().time_since_epoch();
    po.unix_ms = [wall_offset](runtime::Instant t) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch() + wall_offset)
          .count();
    };
    threads = options.threads > 0 ? options.threads : proxy_config->nbthread;
    if (threads > 1) {
      std::string error;
      po.shared = std::make_shared<proxy::SharedProxyState>(*proxy_config, error);
      if (!error.empty()) return fail("cannot load the TLS certificates: " + error);
    }
    for (int i = 1; i < threads; ++i) {
      auto loop = std::make_unique<ExtraLoop>();
      loop->rt = std::make_unique<runtime::asio_live::AsioRuntime>(
          loop->io, runtime::asio_live::AsioRuntimeOptions{
                        .seed = options.seed + static_cast<std::uint64_t>(i),
                        .vip_interface = options.vip_interface,
                        .log_sink = runtime::stderr_log_sink(),
                        .log_level = options.debug ? runtime::LogLevel::kDebug : runtime::LogLevel::kInfo});
      proxy::ProxyOptions extra = po;
      extra.primary = false;
      loop->proxies.set(std::make_unique<proxy::Proxy>(*loop->rt, proxy_config, std::move(extra)));
      if (auto ec = loop->proxies->start())
        return fail("cannot start the proxy's event loop " + std::to_string(i) + ": " + ec.message());
      extra_loops.push_back(std::move(loop));
    }
    base_options = po;
    base_options.shared.reset();
    primary.set(std::make_unique<proxy::Proxy>(rt, proxy_config, std::move(po)));
    if (auto ec = primary->start()) return fail("cannot start the proxy: " + ec.message());
    std::string frontends;
    for (std::size_t i = 0; i < proxy_config->frontends.size(); ++i)
      frontends +=
          (i ? "," : "") + proxy_config->frontends[i].name + "=" + primary->frontend_address(i).to_string();
    rt.logger().log(runtime::LogLevel::kInfo, "serve", "proxy-started",
                    {{"frontends", frontends},
                     {"backends", std::to_string(proxy_config->backends.size())},
                     {"threads", std::to_string(threads)}});
  }
  // The extra loops run until the primary one stops; then they stop too, and their proxies go with them.
  for (auto& loop : extra_loops)
    loop->thread = std::thread([&io = loop->io, &loop_rt = *loop->rt] {
      auto work = boost::asio::make_work_guard(io);
      loop_rt.run();
    });
  auto stop_extra_loops = [&extra_loops] {
    for (auto& loop : extra_loops) {
      loop->io.stop();
      if (loop->thread.joinable()) loop->thread.join();
    }
  };
  struct OnExit {
    std::function<void()> run;
    ~OnExit() { run(); }
  } on_exit{[&] {
    stop_extra_loops();
    for (auto& loop : extra_loops)
      loop->proxies.reset();
  }};
  // SIGHUP: read the manifests again. A configuration with errors is refused with the diagnostics (file,
  // line, field) and the one serving stays; a good one replaces it: new connections go to the new proxy while
  // the old one finishes the connections it has (each loop alike), and the speaker announces the new VIPs.
  speaker::Layer2Node* speaker_node = nullptr;  // set once the speaker runs
  auto reload = [&] {
    config::Diagnostics rd;
    auto next = load_configuration(options, *listen, model::held_allocations(*model), rd);
    auto refuse = [&](const std::string& why) {
      rt.logger().log(runtime::LogLevel::kError, "serve", "reload-refused",
                      {{"why", why}, {"serving", "the configuration loaded before"}});
    };
    if (rd.has_errors()) {
      std::cerr << rd.to_string();
      return refuse(std::to_string(rd.error_count()) + " error(s) in the manifests");
    }
    for (const auto& line : warning_lines(rd))
      rt.logger().log(runtime::LogLevel::kWarning, "serve", "reload-warning", {{"diagnostic", line}});
    if (primary) {
      proxy::ProxyOptions po = base_options;
      if (threads > 1) {
        std::string error;
        po.shared = std::make_shared<proxy::SharedProxyState>(*next.proxy_config, error);
        if (!error.empty()) return refuse("cannot load the TLS certificates: " + error);
      }
      if (auto ec = primary.replace(std::make_unique<proxy::Proxy>(rt, next.proxy_config, po), rt))
        return refuse("the new configuration cannot start: " + ec.message());
      po.primary = false;
      for (auto& loop : extra_loops)
        // Into that loop's own thread (its scheduler is the locked one, for exactly this).
        loop->rt->post([l = loop.get(), config = next.proxy_config, po] {
          if (auto ec = l->proxies.replace(std::make_unique<proxy::Proxy>(*l->rt, config, po), *l->rt))
            l->rt->logger().log(runtime::LogLevel::kError, "serve", "reload-failed-in-loop",
                                {{"error", ec.message()}});
        });
    }
    if (speaker_node) speaker_node->set_assignments(assignments_for(*next.model));
    model = next.model;
    proxy_config = next.proxy_config;
    rt.logger().log(runtime::LogLevel::kInfo, "serve", "reloaded",
                    {{"services", std::to_string(model->services.size())},
                     {"backends", std::to_string(proxy_config ? proxy_config->backends.size() : 0)}});
  };
  runtime::asio_live::on_reload_signal(io, reload);

  if (!speaker_on) {
    runtime::asio_live::on_termination_signal(io, [&](int signal) {
      stop_extra_loops();  // then their counters hold still
      std::uint64_t connections = primary->counters().connections, requests = primary->counters().requests;
      std::string per_loop = std::to_string(connections);
      for (const auto& loop : extra_loops) {
        connections += loop->proxies->counters().connections;
        requests += loop->proxies->counters().requests;
        per_loop += "," + std::to_string(loop->proxies->counters().connections);
      }
      rt.logger().log(runtime::LogLevel::kInfo, "serve", "stopping",
                      {{"signal", std::to_string(signal)},
                       {"connections", std::to_string(connections)},
                       {"connections_per_loop", per_loop},
                       {"requests", std::to_string(requests)}});
      io.stop();
    });
    rt.run();  // io_context::run() plus the runtime's background lane
    primary.reset();
    return 0;
  }

  cfg.name = options.node;
  cfg.interfaces = options.interfaces;
  cfg.membership_address = *bind;
  cfg.seeds = seeds;
  for (const auto& n : model->manifests.nodes)
    cfg.node_labels[n.meta.name] = n.meta.labels;
  std::error_code ec;
  speaker::Layer2Node node(rt, cfg, ec);
  if (ec) return fail("cannot open the interfaces or the membership socket: " + ec.message());

  auto assignments = assignments_for(*model);
  std::string vips;
  for (const auto& a : assignments)
    for (const auto& ip : a.addresses)
      vips += (vips.empty() ? "" : ",") + ip.to_string();
  rt.logger().log(runtime::LogLevel::kInfo, "serve", "starting",
                  {{"node", options.node}, {"vips", vips.empty() ? "-" : vips}, {"bind", bind->to_string()}});
  node.set_assignments(std::move(assignments));
  node.start();
  speaker_node = &node;

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
  rt.run();
  // A graceful exit puts the kernel's ARP behaviour back as it found it (after SIGKILL the quiet settings
  // stay, which is what keeps a dead node from answering for a VIP it still holds on lo).
  runtime::asio_live::restore_kernel_arp(previous_sysctls);
  return 0;
}

}  // namespace metalgate::cli
