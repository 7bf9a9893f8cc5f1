#include "engine/cli/serve.h"

#include "engine/l4/tcp_service.h"
#include "engine/l4/udp_service.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>


#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <map>
#include <mutex>
#include <thread>

#include "engine/admin/commands.h"
#include "engine/config/duration.h"
#include "engine/ipam/state_file.h"
#include "engine/model/resolve.h"
#include "engine/node/node.h"
#include "engine/proxy/proxy.h"
#include "engine/proxy/serving_proxy.h"
#include "engine/runtime/asio/asio_runtime.h"
#include "engine/runtime/asio/command_socket.h"

// `serve` keeps what is the live daemon's own: flags, signals, the kernel's ARP settings and the event-loop
// threads. The node itself (configuration, proxy, speaker, reload, leave) is engine/node, as in the simulator.
namespace metalgate::cli {
namespace {

// The service manager's readiness protocol (Type=notify units): READY=1 once every listener is bound and the
// speaker runs, RELOADING=1 … READY=1 around a SIGHUP reload, STOPPING=1 on the way out. libsystemd's
// sd_notify does nothing when NOTIFY_SOCKET is unset (not started by systemd).
void notify(const std::string& state) {
  sd_notify(0, state.c_str());
}

// What `systemctl status` shows beside the state.
std::string serving_status(const node::Configuration& c) {
  return "STATUS=serving " + std::to_string(c.model->services.size()) + " LoadBalancer Services, " +
         std::to_string(c.proxy_config ? c.proxy_config->backends.size() : 0) + " backends";
}

int fail(const std::string& message) {
  std::cerr << "metalgate serve: " << message << "\n";
  return 1;
}

runtime::LogLevel log_level(const ServeOptions& options) {
  return options.debug ? runtime::LogLevel::kDebug : runtime::LogLevel::kInfo;
}

// A duration flag into `out` (unset keeps the default); false when it does not read.
bool read_timing(const std::string& text, runtime::Duration& out, bool zero_allowed) {
  if (text.empty()) return true;
  auto value = config::parse_duration(text);
  if (!value || (!zero_allowed && value->count() <= 0)) return false;
  out = *value;
  return true;
}

// The speaker's flags: timing, membership address and peers.
std::string read_speaker_flags(const ServeOptions& o, speaker::Layer2NodeConfig& cfg) {
  if (o.node.empty() || o.interfaces.empty() || o.bind.empty())
    return "the speaker needs --node, --interface and --bind (or --no-speaker for a proxy only)";
  auto bind = net::SocketAddress::parse(o.bind);
  if (!bind) return "--bind '" + o.bind + "' is not ip:port";
  if (!read_timing(o.probe_interval, cfg.membership.probe_interval, false))
    return "--probe-interval '" + o.probe_interval + "' is not a duration above 0 (30ms)";
  if (!read_timing(o.probe_timeout, cfg.membership.probe_timeout, false))
    return "--probe-timeout '" + o.probe_timeout + "' is not a duration above 0 (12ms)";
  if (!read_timing(o.suspicion_timeout, cfg.membership.suspicion_timeout, false))
    return "--suspicion-timeout '" + o.suspicion_timeout + "' is not a duration above 0 (60ms)";
  if (!read_timing(o.join_grace, cfg.join_grace, true))
    return "--join-grace '" + o.join_grace + "' is not a duration (250ms)";
  if (!read_timing(o.announce_refresh, cfg.announce.refresh, true))
    return "--announce-refresh '" + o.announce_refresh + "' is not a duration (60s, or 0 for never)";
  if (!read_timing(o.handover, cfg.handover, true))
    return "--handover '" + o.handover + "' is not a duration (35s, or 0 for none)";
  if (!membership::timing_problem(cfg.membership).empty())
    return "--probe-timeout must be shorter than --probe-interval: indirect probes need the rest of it";
  for (const auto& p : o.peers) {
    auto a = net::SocketAddress::parse(p);
    if (!a) return "--peer '" + p + "' is not ip:port";
    cfg.seeds.push_back(*a);
  }
  cfg.interfaces = o.interfaces;
  cfg.membership_address = *bind;
  return {};
}

// --pod NAME=IP[@NODE], repeatable.
std::string read_pod_flags(const std::vector<std::string>& flags, node::NodeSpec& spec) {
  std::map<std::string, node::PodPlacement> pods;
  for (const auto& f : flags) {
    const auto eq = f.find('=');
    const auto at = f.find('@', eq == std::string::npos ? 0 : eq);
    const auto ip_length = at == std::string::npos ? at : at - eq - 1;
    const std::string ip = eq == std::string::npos ? "" : f.substr(eq + 1, ip_length);
    auto address = net::IpAddress::parse(ip);
    if (eq == 0 || !address) return "--pod '" + f + "' is not NAME=IP or NAME=IP@NODE";
    pods[f.substr(0, eq)] = {*address, at == std::string::npos ? "" : f.substr(at + 1)};
  }
  if (!pods.empty()) node::place_pods(spec, std::move(pods));
  return {};
}

// The node the flags describe (without what depends on the runtime: the access log's clock).
Result<node::NodeSpec> spec_from_flags(const ServeOptions& o) {
  if (o.no_speaker && o.no_proxy) return Failure{"--no-speaker and --no-proxy leave nothing to run"};
  node::NodeSpec spec;
  spec.name = o.node;
  spec.manifests = o.manifests;
  spec.speaker = !o.no_speaker;
  spec.proxy = !o.no_proxy;
  if (spec.speaker)
    if (auto error = read_speaker_flags(o, spec.layer2); !error.empty()) return Failure{error};
  if (!o.listen.empty()) {
    auto listen = net::IpAddress::parse(o.listen);
    if (!listen) return Failure{"--listen '" + o.listen + "' is not an IP address"};
    spec.build.listen_address = *listen;
  }
  spec.build.http_port = o.http_port;
  spec.build.https_port = o.https_port;
  spec.build.stats_port = o.stats_port;
  spec.build.metrics_port = o.metrics_port;
  if (auto error = read_pod_flags(o.pods, spec); !error.empty()) return Failure{error};
  return spec;
}

// Where access lines go: a file, stdout, or nowhere ("off": benchmarks compare against a proxy without one).
struct AccessLog {
  std::unique_ptr<std::ofstream> file;
  std::mutex mutex;  // the loops write whole lines, one at a time
};

std::string open_access_log(const ServeOptions& o, AccessLog& log, proxy::ProxyOptions& po) {
  if (o.access_log == "off") return {};
  if (!o.access_log.empty() && o.access_log != "-") {
    log.file = std::make_unique<std::ofstream>(o.access_log, std::ios::app);
    if (!*log.file) return "cannot open --access-log " + o.access_log;
    po.access_log = [&log](std::string_view line) {
      std::lock_guard lock(log.mutex);
      *log.file << line << '\n' << std::flush;
    };
    return {};
  }
  po.access_log = [&log](std::string_view line) {
    std::lock_guard lock(log.mutex);
    std::cout << line << '\n' << std::flush;
  };
  return {};
}

// Log dates from the wall clock.
void use_wall_clock(runtime::Runtime& rt, proxy::ProxyOptions& po) {
  const auto wall_offset = std::chrono::system_clock::now().time_since_epoch() - rt.now().time_since_epoch();
  po.unix_ms = [wall_offset](runtime::Instant t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch() + wall_offset).count();
  };
}

// The first load: the state file's addresses kept, errors printed with file:line:column, warnings too.
Result<std::shared_ptr<const node::Configuration>> first_configuration(const ServeOptions& o,
                                                                      const node::NodeSpec& spec) {
  config::Diagnostics d;
  ipam::PreviousAllocations previous;
  if (!o.state_file.empty()) {
    if (auto state = ipam::read_state_file(o.state_file))
      previous = std::move(*state);
    else
      d.error({o.state_file, 0, 0}, "", state.error());
  }
  auto loaded = node::load_configuration(spec, spec.manifests, previous, d);
  if (!loaded || d.has_errors()) {
    std::cerr << d.to_string();
    return Failure{std::to_string(d.error_count()) + " error(s) in the manifests; nothing started"};
  }
  for (const auto& line : (*loaded)->warnings)
    std::cerr << line << "\n";
  return loaded;
}

// More event loops for the proxy (nbthread): each has its own Asio loop, runtime and proxy, listens on the
// same ports (SO_REUSEPORT lets the kernel spread connections) and shares health, server loads, rate tables
// and TLS contexts with the node's own loop, which also runs the speaker, the health checks and the TCP and
// UDP services.
struct ExtraLoop {
  // Lock-free I/O as in the node's loop, but a locked scheduler: the node's thread posts reloads and stops.
  boost::asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::unique_ptr<runtime::asio_live::AsioRuntime> rt;
  proxy::ServingProxy proxies;
  int index = 0;  // its number among the loops (the node's own is 0)
  std::thread thread;
  // Draining (SIGTERM): the loop's own check, and what it last found, for the node's thread to read.
  runtime::TimerPtr drain_check;
  std::atomic<bool> drained{false};
};

class ExtraLoops {
 public:
  ~ExtraLoops() {
    stop();
    for (auto& loop : loops_)
      loop->proxies.reset();
  }
  std::string start(const ServeOptions& o, int threads, node::Node& node);
  void stop();
  void reload(const node::ReloadOutcome& outcome);
  // Each loop's proxies drain (in the loop's thread); drained() once every loop has nothing left.
  void drain(runtime::Duration keep_accepting);
  bool drained() const;
  const std::vector<std::unique_ptr<ExtraLoop>>& loops() const { return loops_; }

 private:
  std::vector<std::unique_ptr<ExtraLoop>> loops_;
};

std::string ExtraLoops::start(const ServeOptions& o, int threads, node::Node& node) {
  for (int i = 1; i < threads; ++i) {
    auto loop = std::make_unique<ExtraLoop>();
    loop->rt = std::make_unique<runtime::asio_live::AsioRuntime>(
        loop->io, runtime::asio_live::AsioRuntimeOptions{.seed = o.seed + static_cast<std::uint64_t>(i),
                                                         .vip_interface = o.vip_interface,
                                                         .log_sink = runtime::stderr_log_sink(),
                                                         .log_level = log_level(o)});
    loop->index = i;
    proxy::ProxyOptions options = node.secondary_proxy_options();
    options.loop = i;  // its own counter blocks (stats/registry.h)
    loop->proxies.set(std::make_unique<proxy::Proxy>(*loop->rt, node.serving(), options));
    if (auto ec = loop->proxies->start())
      return "cannot start the proxy's event loop " + std::to_string(i) + ": " + ec.message();
    loops_.push_back(std::move(loop));
  }
  // They run until the node's loop stops; then they stop too, and their proxies go with them.
  for (auto& loop : loops_)
    loop->thread = std::thread([&io = loop->io, &loop_rt = *loop->rt] {
      auto work = boost::asio::make_work_guard(io);
      loop_rt.run();
    });
  return {};
}

void ExtraLoops::stop() {
  for (auto& loop : loops_) {
    loop->io.stop();
    if (loop->thread.joinable()) loop->thread.join();
  }
}

// Into each loop's own thread (its scheduler is the locked one, for exactly this).
void ExtraLoops::reload(const node::ReloadOutcome& outcome) {
  for (auto& loop : loops_)
    loop->rt->post([l = loop.get(), config = outcome.serving, po = outcome.proxy_options]() mutable {
      po.loop = l->index;
      if (auto ec = l->proxies.replace(std::make_unique<proxy::Proxy>(*l->rt, config, po), *l->rt))
        l->rt->logger().log(runtime::LogLevel::kError, "serve", "reload-failed-in-loop", {{"error", ec.message()}});
    });
}

void ExtraLoops::drain(runtime::Duration keep_accepting) {
  for (auto& loop : loops_)
    loop->rt->post([l = loop.get(), keep_accepting] {
      l->proxies.drain(keep_accepting);
      l->drain_check = l->rt->create_timer([l] { l->drained = l->proxies.idle(); });
      l->drained = l->proxies.idle();
      l->drain_check->arm_periodic(std::chrono::milliseconds(20));
    });
}

bool ExtraLoops::drained() const {
  return std::all_of(loops_.begin(), loops_.end(), [](const auto& l) { return l->drained.load(); });
}

// SIGHUP: read the manifests again. A configuration with errors is refused with the diagnostics (file, line,
// field) and the one serving stays; a good one replaces it: new connections go to the new proxy while the old
// one finishes the connections it has (each loop alike), and the speaker announces the new VIPs.
// --state: the addresses Services hold now, for the next start.
void save_state(runtime::Runtime& rt, const ServeOptions& o, const node::Configuration& c) {
  if (o.state_file.empty()) return;
  if (auto ec = ipam::write_state_file(o.state_file, model::held_allocations(*c.model)))
    rt.logger().log(runtime::LogLevel::kError, "serve", "state-not-written",
                    {{"file", o.state_file}, {"error", ec.message()}});
}

void reload(runtime::Runtime& rt, const ServeOptions& o, node::Node& node, const std::vector<std::string>& manifests,
            ExtraLoops& extra) {
  notify("RELOADING=1");
  config::Diagnostics d;
  auto outcome = node.reload(manifests, d);
  if (!outcome.applied) {
    if (d.has_errors()) std::cerr << d.to_string();
    rt.logger().log(runtime::LogLevel::kError, "serve", "reload-refused",
                    {{"why", outcome.refused}, {"serving", "the configuration loaded before"}});
    notify("READY=1\nSTATUS=reload refused: " + outcome.refused +
           "; serving the configuration loaded before");
    return;
  }
  for (const auto& line : outcome.warnings)
    rt.logger().log(runtime::LogLevel::kWarning, "serve", "reload-warning", {{"diagnostic", line}});
  if (node.proxy()) extra.reload(outcome);
  save_state(rt, o, *outcome.configuration);
  const auto& c = *outcome.configuration;
  rt.logger().log(runtime::LogLevel::kInfo, "serve", "reloaded",
                  {{"services", std::to_string(c.model->services.size())},
                   {"backends", std::to_string(c.proxy_config ? c.proxy_config->backends.size() : 0)}});
  notify("READY=1\n" + serving_status(c) + " (reloaded)");
}

// What the node did, for the last log line (the extra loops are stopped, so their counters hold still).
std::vector<runtime::LogField> stop_fields(node::Node& node, ExtraLoops& extra) {
  std::vector<runtime::LogField> fields;
  if (node.proxy()) {
    std::uint64_t connections = node.proxy()->counters().connections;
    std::uint64_t requests = node.proxy()->counters().requests;
    std::string per_loop = std::to_string(connections);
    for (const auto& loop : extra.loops()) {
      connections += loop->proxies->counters().connections;
      requests += loop->proxies->counters().requests;
      per_loop += "," + std::to_string(loop->proxies->counters().connections);
    }
    std::uint64_t tcp = 0, udp = 0;  // the TCP and UDP services run in the primary loop
    for (const auto& svc : node.proxy()->tcp_services())
      tcp += svc->counters().connections;
    for (const auto& svc : node.proxy()->udp_services())
      udp += svc->counters().datagrams_in;
    fields.insert(fields.end(), {{"connections", std::to_string(connections)},
                                 {"connections_per_loop", per_loop},
                                 {"requests", std::to_string(requests)},
                                 {"tcp_service_connections", std::to_string(tcp)},
                                 {"udp_service_datagrams", std::to_string(udp)}});
  }
  if (auto* l2 = node.layer2()) {
    const auto& c = l2->speaker().core().counters();
    fields.insert(fields.end(), {{"arp_requests_seen", std::to_string(c.arp_requests_seen)},
                                 {"arp_replies_sent", std::to_string(c.arp_replies_sent)},
                                 {"ns_seen", std::to_string(c.neighbor_solicitations_seen)},
                                 {"na_sent", std::to_string(c.neighbor_advertisements_sent)},
                                 {"announcements_sent", std::to_string(c.announcements_sent)},
                                 {"malformed", std::to_string(c.malformed)},
                                 {"conflicts", std::to_string(c.conflicts_seen)}});
  }
  return fields;
}

std::string milliseconds_text(runtime::Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// SIGTERM/SIGINT, HAProxy's soft-stop after MetalLB's leave: the speaker says goodbye (the others take the
// addresses at once and send on the segments of our connections: Runtime::hand_over); every loop's proxy
// closes idle kept-alive connections and lets the requests under way finish (their responses say Connection:
// close) for up to --grace; then every loop stops. With a speaker, new connections are still taken for
// kAcceptAfterLeave, from clients the new owner's announcement has not reached yet (they would be reset);
// without one, none. The leave datagrams get 50 ms in any case. A second signal stops at once.
constexpr runtime::Duration kAcceptAfterLeave = std::chrono::milliseconds(500);

void on_termination(runtime::Runtime& rt, boost::asio::io_context& io, node::Node& node, ExtraLoops& extra,
                    runtime::Duration grace, runtime::TimerPtr& stop_timer) {
  runtime::asio_live::on_termination_signal(io, [&rt, &io, &node, &extra, grace, &stop_timer](int signal) {
    if (stop_timer) return io.stop();
    notify("STOPPING=1");
    rt.logger().log(runtime::LogLevel::kInfo, "serve", "draining",
                    {{"signal", std::to_string(signal)}, {"grace_ms", milliseconds_text(grace)}});
    node.leave();
    const runtime::Duration linger =
        node.layer2() ? std::min(kAcceptAfterLeave, grace) : runtime::Duration::zero();
    if (node.proxy()) node.proxy().drain(linger);
    extra.drain(linger);
    const runtime::Instant start = rt.now();
    stop_timer = rt.create_timer([&rt, &io, &node, &extra, &stop_timer, grace, start, linger] {
      const bool drained = (!node.proxy() || node.proxy().idle()) && extra.drained();
      const runtime::Duration waited = rt.now() - start;
      const runtime::Duration least = std::max<runtime::Duration>(std::chrono::milliseconds(50), linger);
      if (waited < least || (!drained && waited < grace)) return;
      stop_timer->cancel();
      extra.stop();
      auto fields = stop_fields(node, extra);
      fields.insert(fields.begin(), {{"drained", drained ? "yes" : "no: --grace ran out"},
                                     {"waited_ms", milliseconds_text(waited)}});
      rt.logger().log(runtime::LogLevel::kInfo, "serve", "stopping", fields);
      io.stop();
    });
    stop_timer->arm_periodic(std::chrono::milliseconds(10));
  });
}

// Runs the node on this thread's loop (and the extra loops on theirs) until a termination signal.
int run_node(const ServeOptions& options, node::NodeSpec spec, std::shared_ptr<const node::Configuration> first) {
  // One thread runs the loop and nothing else touches it: no locking inside Asio.
  boost::asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
  runtime::asio_live::AsioRuntime rt(io, {.seed = options.seed,
                                          .vip_interface = options.vip_interface,
                                          .log_sink = runtime::stderr_log_sink(),
                                          .log_level = log_level(options)});
  AccessLog access_log;
  if (spec.proxy) {
    if (auto error = open_access_log(options, access_log, spec.proxy_options); !error.empty()) return fail(error);
    use_wall_clock(rt, spec.proxy_options);
    spec.proxy_threads = options.threads > 0 ? options.threads : first->proxy_config->nbthread;
  }
  const int threads = spec.proxy_threads;
  const auto manifests = spec.manifests;
  auto started = node::Node::start(rt, std::move(spec), std::move(first));
  if (!started) return fail(started.error());
  node::Node& node = **started;
  ExtraLoops extra;
  if (node.proxy())
    if (auto error = extra.start(options, threads, node); !error.empty()) return fail(error);
  save_state(rt, options, node.configuration());
  // The admin socket (`metalgate ctl`), in this loop: commands see and change the node without locks.
  runtime::asio_live::CommandSocket admin_socket(io, [&node](std::string_view line) {
    return admin::run_command(node, line);
  });
  if (!options.admin_socket.empty())
    if (auto error = admin_socket.open(options.admin_socket); !error.empty())
      return fail("--admin-socket " + error);
  notify("READY=1\n" + serving_status(node.configuration()));
  runtime::asio_live::on_reload_signal(io, [&] { reload(rt, options, node, manifests, extra); });
  runtime::TimerPtr stop_timer;
  runtime::Duration grace = std::chrono::seconds(30);
  read_timing(options.grace, grace, true);  // checked in run_serve
  on_termination(rt, io, node, extra, grace, stop_timer);
  rt.run();  // io_context::run() plus the runtime's background lane
  extra.stop();
  return 0;
}

}  // namespace

int run_serve(const ServeOptions& options) {
  runtime::Duration grace{};
  if (!read_timing(options.grace, grace, true))
    return fail("--grace '" + options.grace + "' is not a duration (30s, or 0 to exit at once)");
  auto spec = spec_from_flags(options);
  if (!spec) return fail(spec.error());
  auto first = first_configuration(options, *spec);
  if (!first) return fail(first.error());
  std::vector<std::pair<std::string, std::string>> previous_sysctls;
  if (spec->speaker) {
    if (auto missing = runtime::asio_live::missing_live_capabilities(); !missing.empty()) return fail(missing);
    if (auto ec = runtime::asio_live::quiet_kernel_arp(&previous_sysctls))
      return fail("cannot set net.ipv4.conf.*.arp_ignore/arp_announce: " + ec.message());
  }
  const int code = run_node(options, std::move(*spec), std::move(*first));
  // A graceful exit puts the kernel's ARP behaviour back as it found it (after SIGKILL the quiet settings
  // stay, which is what keeps a dead node from answering for a VIP it still holds on lo).
  if (!previous_sysctls.empty()) runtime::asio_live::restore_kernel_arp(previous_sysctls);
  return code;
}

int run_ctl(const std::string& socket_path, const std::vector<std::string>& words) {
  std::string line;
  for (const auto& w : words)
    line += (line.empty() ? "" : " ") + w;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof address.sun_path) {
    std::cerr << "metalgate ctl: --socket " << socket_path << ": the path is too long\n";
    return 2;
  }
  std::copy(socket_path.begin(), socket_path.end(), address.sun_path);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::cerr << "metalgate ctl: cannot reach " << socket_path << ": " << std::strerror(errno)
              << " (is serve running with --admin-socket, and are you root?)\n";
    if (fd >= 0) ::close(fd);
    return 2;
  }
  line += "\n";
  for (std::size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;)
    answer.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  std::cout << answer;
  return answer.rfind("error: ", 0) == 0 ? 1 : 0;
}

}  // namespace metalgate::cli
