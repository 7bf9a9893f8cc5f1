// The live world of one scenario run, internal to twin/scenario: the LAN of network namespaces, one
// `metalgate serve` process per node (the daemon as deployed), one app process per pod and per client (the
// scenario layer's apps on the live runtime). The shared layer (scenario/run) applies the faults through its
// WorldActions and samples ownership; here each action is a real one: a signal to a process by PID, a link's
// state, netem, a bridge port.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "scenario/run/plan.h"
#include "scenario/run/world_run.h"
#include "twin/apps/app_spec.h"
#include "twin/lan/netns_lan.h"

namespace metalgate::twin {

struct LiveOptions {
  std::string run_dir;         // specs, control files, sockets, records and every process's log
  std::string metalgate;       // the daemon's binary
  std::string self;            // metalgate-netns (the app processes run it)
  std::string pcap_directory;  // non-empty: a capture per host link there
  std::uint64_t seed = 1;
};

struct LiveWorld : scenario::run::WorldRun, scenario::run::WorldActions {
  LiveWorld(const scenario::Scenario& s, scenario::run::RunPlan p, LiveOptions o)
      : WorldRun(s), plan(std::move(p)), options(std::move(o)) {}
  ~LiveWorld() override;  // every process by PID, then the LAN

  scenario::run::RunPlan plan;
  LiveOptions options;
  std::unique_ptr<NetnsLan> lan;
  std::int64_t epoch_ns = 0;                 // CLOCK_MONOTONIC at t = 0
  std::map<std::string, pid_t> node_pids;    // 0 while crashed or left
  std::map<std::string, pid_t> pod_pids;     // 0 while crashed
  std::map<std::string, pid_t> client_pids;  // the scenario's clients
  std::vector<pid_t> capture_pids;           // tcpdump per host link, with --pcap
  std::map<std::string, std::string> node_of_mac;
  std::vector<std::string> node_manifests;  // the scenario's, and nodes.yaml when nodes have labels

  // The LAN with a host per node, pod and client (that order, as in the simulator); "" or why not.
  std::string build_lan();
  std::string pin_large_lan();  // nodes' and pods' neighbour entries, on LANs too large for ARP (see .cc)
  // With --pcap: a capture of every host's eth0 (as its NIC sees it, as in the simulator) into
  // `<pcap_directory>/<host>.pcap`, by tcpdump in the host's namespace; "" or why not.
  std::string start_captures();
  std::string start_pod(const scenario::run::PlannedPod& pod);
  std::string start_client(const scenario::ScenarioClient& client);
  // SIGTERM to every client, then their records, each named after its client and target.
  void collect_records();
  // Every running node's counters ("show counters").
  void collect_node_stats();
  std::string admin_socket(const std::string& node) const { return options.run_dir + "/" + node + ".sock"; }
  // Where the runner writes t = 0 once every process is up; the clients wait for it (AppSpec::start_file).
  std::string start_file() const { return options.run_dir + "/start"; }
  std::int64_t now_ms() const;

  // WorldActions, live.
  std::map<net::IpAddress, std::vector<std::string>> claims() override;
  bool node_running(const std::string& node) override;
  void stop_node(const std::string& node, bool graceful) override;
  std::string start_node(const scenario::ScenarioNode& node) override;
  void set_nic(const std::string& host, bool up) override;
  void set_partition(const std::vector<std::vector<std::string>>& groups) override;
  std::string set_link(const std::string& host, const scenario::ScenarioFault& fault) override;
  void pod_crash(const std::string& pod) override;
  void pod_restart(const std::string& pod) override;
  void pod_latency(const std::string& pod, std::chrono::milliseconds latency) override;
  void pod_health(const std::string& pod, bool healthy) override;
  void reload(const std::vector<std::string>& manifests, nlohmann::json& entry) override;

 private:
  std::map<std::string, PodAppSpec> pod_specs_;
  std::map<std::string, pid_t> exiting_;    // signalled, not yet reaped: a node or pod by name
  std::set<std::string> real_server_dirs_;  // removed at teardown
  std::string start_real_server(const scenario::run::PlannedPod& pod);
  std::map<std::string, std::pair<std::int64_t, bool>> pod_control_;  // latency ms, healthy
  std::vector<std::string> serve_arguments(const scenario::ScenarioNode& node) const;
  void write_pod_control(const std::string& pod);
};

// Starts `argv` inside `netns_path`'s network namespace ("": this process's) with stdout and stderr into
// `log`; it dies with this process (PR_SET_PDEATHSIG). The PID, or -1.
pid_t spawn_in_namespace(const std::string& netns_path, const std::vector<std::string>& argv,
                         const std::string& log);
// Copies the manifests (files and directories) into `dir` as "NN-<name>", in order, so the daemons read them
// in the scenario's order from one place a reload can replace.
void stage_manifests(const std::string& dir, const std::vector<std::string>& manifests);
// One admin command to a node's socket; the answer, or "" when the node cannot be reached in `timeout_ms`.
std::string admin_command(const std::string& socket_path, const std::string& line, int timeout_ms = 200);

}  // namespace metalgate::twin
