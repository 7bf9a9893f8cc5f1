#include "twin/scenario/live_world.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/model/resolve.h"
#include "scenario/schema/loader.h"
#include "twin/scenario/real_servers.h"

namespace metalgate::twin {

namespace fs = std::filesystem;
using nlohmann::json;
using scenario::ScenarioClient;
using scenario::ScenarioNode;

namespace {

std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + "ms";
}

// Ends `pid` with `signal` and waits for it, at most `wait_ms` (then SIGKILL).
void end_process(pid_t pid, int signal, int wait_ms) {
  if (pid <= 0) return;
  ::kill(pid, signal);
  for (int waited = 0; waited < wait_ms; waited += 1) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// Writes `text` to `path` through a temporary name, so a reader never sees half of it.
void write_atomically(const std::string& path, const std::string& text) {
  std::ofstream(path + ".tmp") << text;
  fs::rename(path + ".tmp", path);
}

}  // namespace

pid_t spawn_in_namespace(const std::string& netns_path, const std::vector<std::string>& argv,
                         const std::string& log) {
  std::vector<std::string> owned = argv;
  std::vector<char*> args;
  for (auto& a : owned)
    args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // The child: only system calls until exec.
  ::setpgid(0, 0);  // a terminal's ^C reaches the runner, which ends every process itself
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  if (!netns_path.empty()) {
    const int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) ::_exit(126);
  }
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out >= 0) {
    ::dup2(out, 1);
    ::dup2(out, 2);
  }
  ::execv(args[0], args.data());
  ::_exit(127);
}

std::string admin_command(const std::string& socket_path, const std::string& line, int timeout_ms) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string text = line + "\n";
    if (::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size())) {
      char buffer[4096];
      for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;)
        answer.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

std::string LiveWorld::start_captures() {
  if (options.pcap_directory.empty()) return "";
  const char* tcpdump = "/usr/bin/tcpdump";
  if (::access(tcpdump, X_OK) != 0) return "--pcap needs tcpdump (install-deps.sh installs it)";
  fs::create_directories(options.pcap_directory);
  for (const auto& host : lan->hosts()) {
    const std::string file = options.pcap_directory + "/" + host + ".pcap";
    const pid_t pid =
        spawn_in_namespace(lan->netns_path(host), {tcpdump, "-i", "eth0", "-U", "-Z", "root", "-w", file},
                           options.run_dir + "/tcpdump-" + host + ".log");
    if (pid < 0) return std::string("fork: ") + std::strerror(errno);
    capture_pids.push_back(pid);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // tcpdump opens its socket before t = 0
  return "";
}

LiveWorld::~LiveWorld() {
  for (auto& [name, pid] : client_pids)
    end_process(pid, SIGKILL, 1000);
  for (auto& [name, pid] : node_pids)
    end_process(pid, SIGKILL, 1000);
  for (auto& [name, pid] : pod_pids)
    end_process(pid, SIGKILL, 1000);
  for (auto& [name, pid] : exiting_)
    end_process(pid, SIGKILL, 1000);
  for (pid_t pid : capture_pids)
    end_process(pid, SIGTERM, 2000);  // tcpdump writes what it holds and exits
  lan.reset();
  for (const auto& dir : real_server_dirs_)
    fs::remove_all(dir);
}

std::int64_t LiveWorld::now_ms() const {
  return (monotonic_ns() - epoch_ns) / 1'000'000;
}

std::string LiveWorld::build_lan() {
  NetnsLanOptions lo;
  // lan.delay models the cable in the simulator; live, the veths and the bridge have their own latency
  // (docs/scenario.md measures it), and a kernel without sch_netem could not add one anyway.
  lo.loss = scenario.link_loss;
  lo.rate = scenario.link_rate;
  if (scenario.subnet.prefix_length > 0) lo.prefix_length = scenario.subnet.prefix_length;
  auto created = NetnsLan::create(lo);
  if (!created) return created.error();
  lan = std::move(*created);
  std::uint32_t n = 0;
  auto add = [&](const std::string& name, const net::IpAddress& address) -> std::string {
    NetnsHost h{name, address, scenario::address6_of(scenario, address), net::MacAddress::local(++n)};
    if (auto added = lan->add_host(h); !added) return added.error();
    return "";
  };
  for (const auto& node : scenario.nodes) {
    if (auto error = add(node.name, node.address); !error.empty()) return error;
    node_of_mac[net::MacAddress::local(n).to_string()] = node.name;
  }
  for (const auto& pod : plan.pods)
    if (auto error = add(pod.name, pod.address); !error.empty()) return error;
  for (const auto& c : scenario.clients)
    if (auto error = add(c.name, c.address); !error.empty()) return error;
  return pin_large_lan();
}

// Nodes talk to every node and to the pods, and all namespaces share one neighbour table. Past 512 dynamic
// entries (gc_thresh2) the kernel purges entries in use, past 1,024 it drops datagrams (netns_lan.h); a
// 64-node LAN's membership then flapped (reports/failover.md). Beyond that budget nodes and pods know each
// other's MACs from the start. Clients keep resolving by ARP: whose MAC they get for a VIP is what is judged.
std::string LiveWorld::pin_large_lan() {
  constexpr std::size_t kDynamicNeighbourBudget = 512;
  std::vector<std::string> talkers;
  for (const auto& node : scenario.nodes)
    talkers.push_back(node.name);
  for (const auto& pod : plan.pods)
    talkers.push_back(pod.name);
  if (talkers.size() * (talkers.size() - 1) <= kDynamicNeighbourBudget) return "";
  auto pinned = lan->pin_neighbours(talkers);
  return pinned ? "" : pinned.error();
}

std::vector<std::string> LiveWorld::serve_arguments(const ScenarioNode& n) const {
  std::vector<std::string> a = {
      options.metalgate,    "serve",   "--node", n.name,   "--admin-socket",
      admin_socket(n.name), "--grace", "1s",     "--seed", std::to_string(options.seed)};
  for (const auto& m : node_manifests)
    a.insert(a.end(), {"--manifests", m});
  for (const auto& pod : plan.pods)
    a.insert(a.end(),
             {"--pod", pod.name + "=" + pod.address.to_string() + (pod.node.empty() ? "" : "@" + pod.node)});
  if (!n.proxy) a.push_back("--no-proxy");
  if (!n.speaker) return a.push_back("--no-speaker"), a;
  a.insert(a.end(), {"--bind", net::SocketAddress{n.address, 7946}.to_string()});
  for (const auto& i : n.interfaces)
    a.insert(a.end(), {"--interface", i});
  for (const auto& other : scenario.nodes)
    if (other.speaker && other.address != n.address)
      a.insert(a.end(), {"--peer", net::SocketAddress{other.address, 7946}.to_string()});
  const auto& sp = scenario.speaker;
  if (sp.probe_interval) a.insert(a.end(), {"--probe-interval", ms(*sp.probe_interval)});
  if (sp.probe_timeout) a.insert(a.end(), {"--probe-timeout", ms(*sp.probe_timeout)});
  if (sp.suspicion_timeout) a.insert(a.end(), {"--suspicion-timeout", ms(*sp.suspicion_timeout)});
  if (sp.join_grace) a.insert(a.end(), {"--join-grace", ms(*sp.join_grace)});
  if (sp.announce_refresh) a.insert(a.end(), {"--announce-refresh", ms(*sp.announce_refresh)});
  return a;
}

std::string LiveWorld::start_node(const ScenarioNode& n) {
  if (auto it = exiting_.find(n.name); it != exiting_.end()) {
    end_process(it->second, SIGKILL, 3000);  // its sockets and VIPs go with it
    exiting_.erase(it);
  }
  fs::remove(admin_socket(n.name));
  const pid_t pid = spawn_in_namespace(lan->netns_path(n.name), serve_arguments(n),
                                       options.run_dir + "/" + n.name + ".log");
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  node_pids[n.name] = pid;
  return "";
}

// A real server (redis, postgresql, dnsmasq) as the pod: its own process, its own directory.
std::string LiveWorld::start_real_server(const scenario::run::PlannedPod& p) {
  const std::string dir =
      "/tmp/" + lan->prefix() + "-" + p.name;  // outside OUT: the server's user reaches it
  real_server_dirs_.insert(dir);
  auto argv = real_server_command(p, dir);
  if (!argv) return argv.error();
  const pid_t pid =
      spawn_in_namespace(lan->netns_path(p.name), *argv, options.run_dir + "/" + p.name + ".log");
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  pod_pids[p.name] = pid;
  return "";
}

std::string LiveWorld::start_pod(const scenario::run::PlannedPod& p) {
  if (p.server != "identity") return start_real_server(p);
  PodAppSpec pod;
  pod.name = p.name;
  pod.address = p.address;
  for (const auto& port : p.ports)
    pod.ports.push_back({port.number, port.udp});
  pod.latency_ms = p.latency.count();
  pod.control_file = options.run_dir + "/" + p.name + ".control";
  pod_specs_[p.name] = pod;
  if (!pod_control_.count(p.name)) pod_control_[p.name] = {pod.latency_ms, true};
  write_pod_control(p.name);
  AppSpec spec;
  spec.epoch_ns = epoch_ns;
  spec.pod = pod;
  const std::string file = options.run_dir + "/" + p.name + ".json";
  write_atomically(file, to_json(spec).dump(2));
  const pid_t pid = spawn_in_namespace(lan->netns_path(p.name), {options.self, "app", file},
                                       options.run_dir + "/" + p.name + ".log");
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  pod_pids[p.name] = pid;
  return "";
}

std::string LiveWorld::start_client(const ScenarioClient& c) {
  ClientAppSpec client;
  client.name = c.name;
  // An IPv6 target is reached from the client's IPv6 address (a UDP client binds it as its source).
  client.address =
      target_of(c).is_v4() ? c.address : scenario::address6_of(scenario, c.address).value_or(c.address);
  client.target = {target_of(c), c.port};
  client.udp = c.udp;
  client.https = c.https;
  client.host = c.host;
  client.path = c.path;
  for (const auto& m : c.mix)
    client.mix.push_back({m.host, m.path, m.weight});
  client.rate = c.rate;
  client.concurrency = c.concurrency;
  client.think_ms = c.think.count();
  client.timeout_ms = c.timeout.count();
  client.keep_alive = c.keep_alive;
  client.cookies = c.cookies;
  client.resume = c.resume;
  client.http2 = c.http2;
  client.seed = options.seed * 1000 + client_pids.size() + 1;
  client.node_of_mac = node_of_mac;
  client.records_file = options.run_dir + "/" + c.name + ".records";
  AppSpec spec;
  spec.epoch_ns = epoch_ns;
  spec.client = client;
  spec.ready_file = options.run_dir + "/" + c.name + ".ready";
  spec.start_file = start_file();
  const std::string file = options.run_dir + "/" + c.name + ".json";
  write_atomically(file, to_json(spec).dump(2));
  const pid_t pid = spawn_in_namespace(lan->netns_path(c.name), {options.self, "app", file},
                                       options.run_dir + "/" + c.name + ".log");
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  client_pids[c.name] = pid;
  return "";
}

void LiveWorld::collect_records() {
  for (auto& [name, pid] : client_pids)
    ::kill(pid, SIGTERM);
  for (const auto& c : scenario.clients) {
    end_process(client_pids[c.name], SIGTERM, 5000);
    client_pids[c.name] = 0;
    auto records = read_records(options.run_dir + "/" + c.name + ".records");
    if (!records) continue;  // a client that wrote nothing made no requests anyone can count
    for (auto r : *records) {
      r.client = c.name;
      r.target = target_of(c);
      observations.records.push_back(std::move(r));
    }
  }
}

void LiveWorld::collect_node_stats() {
  for (const auto& [name, pid] : node_pids) {
    if (!pid) continue;
    const std::string answer = admin_command(admin_socket(name), "show counters", 2000);
    auto parsed = json::parse(answer, nullptr, false);
    if (!parsed.is_discarded()) observations.node_stats[name] = parsed;
  }
}

std::map<net::IpAddress, std::vector<std::string>> LiveWorld::claims() {
  std::map<net::IpAddress, std::vector<std::string>> out;
  for (const auto& [name, pid] : node_pids) {
    if (!pid) continue;
    std::istringstream lines(admin_command(admin_socket(name), "show claims"));
    for (std::string line; std::getline(lines, line);)
      if (auto address = net::IpAddress::parse(line)) out[*address].push_back(name);
  }
  return out;
}

bool LiveWorld::node_running(const std::string& node) {
  return node_pids.count(node) && node_pids[node] > 0;
}

// crash: SIGKILL, nothing said; leave: SIGTERM, and serve says goodbye and drains for its --grace. Not waited
// for: a sanitizer build takes tens of milliseconds to exit after SIGKILL (measured: 10-40 ms), and the fault
// has struck when the signal is sent. start_node waits for it instead.
void LiveWorld::stop_node(const std::string& node, bool graceful) {
  ::kill(node_pids[node], graceful ? SIGTERM : SIGKILL);
  exiting_[node] = node_pids[node];
  node_pids[node] = 0;
}

void LiveWorld::set_nic(const std::string& host, bool up) {
  (void)lan->set_host_link(host, up);
}

void LiveWorld::set_partition(const std::vector<std::vector<std::string>>& groups) {
  (void)lan->set_partition(groups);
}

std::string LiveWorld::set_link(const std::string& host, const scenario::ScenarioFault& f) {
  std::string failed;
  auto note = [&failed](const Result<bool>& r) {
    if (!r) failed += (failed.empty() ? "" : "; ") + r.error();
  };
  if (f.loss) note(lan->set_link_loss(host, *f.loss));
  if (f.delay) note(lan->set_link_delay(host, *f.delay));
  if (f.rate) note(lan->set_link_rate(host, *f.rate));
  return failed;
}

void LiveWorld::pod_crash(const std::string& pod) {
  ::kill(pod_pids[pod], SIGKILL);
  exiting_[pod] = pod_pids[pod];
  pod_pids[pod] = 0;
}

void LiveWorld::pod_restart(const std::string& pod) {
  if (pod_pids[pod] > 0) return;
  if (auto it = exiting_.find(pod); it != exiting_.end()) {
    end_process(it->second, SIGKILL, 3000);
    exiting_.erase(it);
  }
  for (const auto& p : plan.pods)
    if (p.name == pod) (void)start_pod(p);
}

void LiveWorld::write_pod_control(const std::string& pod) {
  const auto& [latency, healthy] = pod_control_[pod];
  write_atomically(options.run_dir + "/" + pod + ".control",
                   json{{"latency_ms", latency}, {"healthy", healthy}}.dump());
}

void LiveWorld::pod_latency(const std::string& pod, std::chrono::milliseconds latency) {
  pod_control_[pod].first = latency.count();
  write_pod_control(pod);
}

void LiveWorld::pod_health(const std::string& pod, bool healthy) {
  pod_control_[pod].second = healthy;
  write_pod_control(pod);
}

// What SIGHUP does on every node: the runner checks the new manifests with the loader the daemons use (so the
// fault log says what they decide), puts them where the daemons read theirs, and signals every running one.
void LiveWorld::reload(const std::vector<std::string>& manifests, json& entry) {
  config::Diagnostics rd;
  const auto held = model::held_allocations(*plan.configuration->model);
  auto next = node::load_configuration(plan.load_spec, manifests, held, rd);
  if (!next) {  // load_configuration refuses manifests with errors
    entry["refused"] = rd.to_string();
    return;
  }
  if (auto warnings = rd.warning_lines(); !warnings.empty()) entry["warnings"] = warnings;
  const std::string dir = options.run_dir + "/manifests";
  fs::remove_all(dir);
  stage_manifests(dir, manifests);
  plan.configuration = *next;
  for (const auto& [name, pid] : node_pids)
    if (pid > 0) ::kill(pid, SIGHUP);
  entry["reloaded"] = true;
}

void stage_manifests(const std::string& dir, const std::vector<std::string>& manifests) {
  fs::create_directories(dir);
  std::size_t index = 0;
  for (const auto& m : manifests) {
    // 00-, 01-, …: the scenario's order survives the directory listing serve reads.
    const std::string n = std::to_string(index++);
    const std::string prefix = std::string(n.size() < 2 ? 2 - n.size() : 0, '0') + n + "-";
    const fs::path from(m);
    fs::copy(from, fs::path(dir) / (prefix + from.filename().string()), fs::copy_options::recursive);
  }
}

}  // namespace metalgate::twin
