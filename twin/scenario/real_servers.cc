#include "twin/scenario/real_servers.h"

#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "twin/scenario/live_world.h"

namespace metalgate::twin {

namespace {

namespace fs = std::filesystem;

// The Deployment's first port of that protocol, or `fallback`.
std::uint16_t first_port(const scenario::run::PlannedPod& pod, bool udp, std::uint16_t fallback) {
  for (const auto& p : pod.ports)
    if (p.udp == udp) return p.number;
  return fallback;
}

// The newest PostgreSQL server binaries Debian installed ("" when none).
std::string postgres_bin() {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(e.path() / "bin/postgres")) found.push_back(e.path() / "bin");
  std::sort(found.begin(), found.end());
  return found.empty() ? "" : found.back().string();
}

// Runs `argv` with its output into `log` and waits; its exit code, or -1.
int run(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = spawn_in_namespace("", argv, log);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> as_postgres(std::vector<std::string> argv) {
  argv.insert(argv.begin(),
              {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"});
  return argv;
}

Result<std::vector<std::string>> postgresql(const scenario::run::PlannedPod& pod, const std::string& dir) {
  const std::string bin = postgres_bin();
  const passwd* user = ::getpwnam("postgres");
  if (bin.empty() || !user) return Failure{"server: postgresql needs Debian's postgresql (install-deps.sh)"};
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::all);  // the server's user reaches its own data inside
  if (::chown(dir.c_str(), user->pw_uid, user->pw_gid) != 0) return Failure{"chown " + dir};
  const std::string data = dir + "/data";
  const std::vector<std::string> initdb = {bin + "/initdb", "-D",        data, "-U",  "postgres",
                                           "--auth=trust",  "--no-sync", "-E", "UTF8"};
  if (!fs::exists(data) && run(as_postgres(initdb), dir + "/initdb.log") != 0)
    return Failure{"initdb " + data + " failed (" + dir + "/initdb.log)"};
  // Connections come from the proxy nodes' addresses, as from a Kubernetes node's: trust the LAN, as the
  // throwaway cluster it is.
  std::ofstream(data + "/pg_hba.conf", std::ios::app)
      << "host all all 0.0.0.0/0 trust\nhost all all ::/0 trust\n";
  return as_postgres({bin + "/postgres", "-D", data, "-k", dir, "-p",
                      std::to_string(first_port(pod, false, 5432)), "-c",
                      "listen_addresses=" + pod.address.to_string(), "-c", "fsync=off"});
}

}  // namespace

Result<std::vector<std::string>> real_server_command(const scenario::run::PlannedPod& pod,
                                                     const std::string& dir) {
  const std::string ip = pod.address.to_string();
  if (pod.server == "redis") {
    fs::create_directories(dir);
    return std::vector<std::string>{"/usr/bin/redis-server",
                                    "--bind",
                                    ip,
                                    "--port",
                                    std::to_string(first_port(pod, false, 6379)),
                                    "--save",
                                    "",
                                    "--appendonly",
                                    "no",
                                    "--protected-mode",
                                    "no",
                                    "--dir",
                                    dir};
  }
  if (pod.server == "dnsmasq")
    return std::vector<std::string>{"/usr/sbin/dnsmasq",
                                    "--no-daemon",
                                    "--conf-file=/dev/null",
                                    "--no-resolv",
                                    "--no-hosts",
                                    "--bind-interfaces",
                                    "--listen-address=" + ip,
                                    "--pid-file=",
                                    "--user=root",
                                    "--port=" + std::to_string(first_port(pod, true, 53)),
                                    "--host-record=" + pod.name + ".metalgate.test," + ip};
  if (pod.server == "postgresql") return postgresql(pod, dir);
  return Failure{"no real server '" + pod.server + "'"};
}

}  // namespace metalgate::twin
