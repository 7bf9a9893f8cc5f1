// Named network namespaces the way iproute2 makes them (`ip netns add`): an nsfs file bind-mounted on
// /run/netns/<name>, /run/netns itself a shared mount so that the name is seen from every mount namespace.
#include <dirent.h>
#include <fcntl.h>
#include <linux/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <ostream>
#include <thread>
#include <vector>

#include "twin/lan/netns_internal.h"
#include "twin/lan/netns_lan.h"

namespace metalgate::twin {
namespace detail {
namespace {

constexpr const char* kNetnsDir = "/run/netns";

// Writes a sysctl of the calling thread's network namespace (/proc/sys/net follows the thread's namespace).
std::string write_sysctl(const char* path, const char* value) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return sys_error(std::string("opening ") + path);
  std::string error;
  if (::write(fd, value, std::strlen(value)) < 0) error = sys_error(std::string("writing ") + path);
  ::close(fd);
  return error;
}

// Loopback up through the namespace's own socket. lo is ifindex 1 in every network namespace.
std::string loopback_up(nl_sock* sock) {
  rtnl_link* lo = rtnl_link_alloc();
  rtnl_link_set_ifindex(lo, 1);
  rtnl_link_set_flags(lo, IFF_UP);
  int err = rtnl_link_change(sock, lo, lo, 0);
  rtnl_link_put(lo);
  return err < 0 ? "bringing lo up: " + nl_error(err) : "";
}

// Runs on the new namespace's thread right after unshare: names it, configures it, connects its socket.
std::string set_up_inside(const std::string& path, bool quiet, MadeNamespace& made) {
  if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
    return sys_error("bind-mounting the namespace on " + path);
  }
  made.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (made.fd < 0) return sys_error("opening " + path);
  // The switch runs no IPv6 of its own (its bridge and ports would send router and multicast listener
  // solicitations into the LAN). Hosts skip duplicate address detection (addresses usable at once) and keep
  // their IPv6 addresses while eth0 is down, as a NIC whose cable is pulled does.
  static constexpr const char* kSwitch[][2] = {{"/proc/sys/net/ipv6/conf/default/disable_ipv6", "1"},
                                               {"/proc/sys/net/ipv6/conf/all/disable_ipv6", "1"}};
  static constexpr const char* kHost[][2] = {{"/proc/sys/net/ipv6/conf/default/accept_dad", "0"},
                                             {"/proc/sys/net/ipv6/conf/all/keep_addr_on_down", "1"}};
  for (const auto& [sysctl, value] : quiet ? kSwitch : kHost) {
    if (std::string error = write_sysctl(sysctl, value); !error.empty()) return error;
  }
  made.sock.reset(nl_socket_alloc());
  if (!made.sock) return "allocating a netlink socket";
  if (int err = nl_connect(made.sock.get(), NETLINK_ROUTE); err < 0) {
    return "connecting a netlink socket: " + nl_error(err);
  }
  return loopback_up(made.sock.get());
}

// The body of the namespace's thread: unshare, set up, return to where the thread came from.
std::string enter_new_namespace(const std::string& path, bool quiet, MadeNamespace& made) {
  int home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) return sys_error("opening the thread's own network namespace");
  std::string error;
  if (::unshare(CLONE_NEWNET) != 0) {
    error = sys_error("unshare(CLONE_NEWNET) (needs CAP_SYS_ADMIN)");
  } else {
    error = set_up_inside(path, quiet, made);
    if (::setns(home, CLONE_NEWNET) != 0 && error.empty()) error = sys_error("returning with setns");
  }
  ::close(home);
  return error;
}

}  // namespace

void SockFree::operator()(nl_sock* sock) const {
  nl_socket_free(sock);
}

std::string nl_error(int err) {
  return nl_geterror(err);
}

std::string sys_error(const std::string& step) {
  return step + ": " + std::strerror(errno);
}

std::string netns_dir_path(const std::string& name) {
  return std::string(kNetnsDir) + "/" + name;
}

Result<bool> ensure_netns_dir() {
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [] {
    if (::mkdir(kNetnsDir, 0755) != 0 && errno != EEXIST) {
      error = sys_error(std::string("creating ") + kNetnsDir);
      return;
    }
    // As iproute2: make it shared; when it is no mount point yet (EINVAL), bind it onto itself first.
    if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return;
    if (errno != EINVAL || ::mount(kNetnsDir, kNetnsDir, "none", MS_BIND | MS_REC, nullptr) != 0 ||
        ::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) != 0) {
      error = sys_error(std::string("making ") + kNetnsDir + " a shared mount");
    }
  });
  if (!error.empty()) return Failure{error};
  return true;
}

Result<MadeNamespace> make_namespace(const std::string& name, bool quiet) {
  if (auto dir = ensure_netns_dir(); !dir) return Failure{dir.error()};
  const std::string path = netns_dir_path(name);
  int created = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (created < 0) return Failure{sys_error("creating " + path)};
  ::close(created);
  MadeNamespace made;
  std::string error;
  // A thread of its own: unshare moves only the calling thread, and this one ends right after.
  std::thread([&] { error = enter_new_namespace(path, quiet, made); }).join();
  if (error.empty()) return made;
  made.sock.reset();
  if (made.fd >= 0) ::close(made.fd);
  remove_namespace(name);
  return Failure{"namespace " + name + ": " + error};
}

bool remove_namespace(const std::string& name) {
  const std::string path = netns_dir_path(name);
  ::umount2(path.c_str(), MNT_DETACH);  // EINVAL when never mounted (a failed creation): unlink anyway
  return ::unlink(path.c_str()) == 0 || errno == ENOENT;
}

namespace {

// The creating process's PID of a name "mgt-<pid>-<n>[-host|_switch]"; 0 when the name is not of that form.
pid_t run_pid(const std::string& name) {
  if (name.rfind("mgt-", 0) != 0) return 0;
  const char* begin = name.data() + 4;
  const char* end = name.data() + name.size();
  pid_t pid = 0;
  auto [after_pid, ec] = std::from_chars(begin, end, pid);
  if (ec != std::errc() || pid <= 0 || after_pid == end || *after_pid != '-') return 0;
  unsigned counter = 0;
  auto [after_counter, ec2] = std::from_chars(after_pid + 1, end, counter);
  if (ec2 != std::errc()) return 0;
  if (after_counter != end && *after_counter != '-' && *after_counter != '_') return 0;
  return pid;
}

// SIGKILLs every process whose network namespace is the one mounted at `path`; returns their PIDs.
std::vector<pid_t> kill_processes_in(const std::string& path) {
  std::vector<pid_t> killed;
  struct stat ns {};
  if (::stat(path.c_str(), &ns) != 0) return killed;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return killed;
  while (dirent* entry = ::readdir(proc)) {
    pid_t pid = 0;
    const char* end = entry->d_name + std::strlen(entry->d_name);
    if (std::from_chars(entry->d_name, end, pid).ptr != end || pid <= 0 || pid == ::getpid()) continue;
    struct stat st {};
    std::string net = "/proc/" + std::string(entry->d_name) + "/ns/net";
    if (::stat(net.c_str(), &st) != 0 || st.st_dev != ns.st_dev || st.st_ino != ns.st_ino) continue;
    if (::kill(pid, SIGKILL) == 0) killed.push_back(pid);
  }
  ::closedir(proc);
  return killed;
}

}  // namespace
}  // namespace detail

int NetnsLan::cleanup_stale(std::ostream& log) {
  std::vector<std::string> stale;
  if (DIR* dir = ::opendir(detail::kNetnsDir)) {
    while (dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      pid_t pid = detail::run_pid(name);
      // Alive (or not ours to judge) unless the kernel says no such process.
      if (pid != 0 && ::kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(name);
    }
    ::closedir(dir);
  }
  int removed = 0;
  for (const std::string& name : stale) {
    const std::string path = detail::netns_dir_path(name);
    std::vector<pid_t> killed = detail::kill_processes_in(path);
    if (!detail::remove_namespace(name)) {
      log << "netns cleanup: could not remove " << path << ": " << std::strerror(errno) << "\n";
      continue;
    }
    ++removed;
    log << "netns cleanup: removed " << path << " (run " << detail::run_pid(name) << " is gone)";
    if (!killed.empty()) {
      log << ", killed";
      for (pid_t pid : killed)
        log << " " << pid;
    }
    log << "\n";
  }
  return removed;
}

}  // namespace metalgate::twin
