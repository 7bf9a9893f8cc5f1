#include "tests/runtime/runtime_worlds.h"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "engine/runtime/asio/asio_runtime.h"
#include "engine/runtime/memory/memory_world.h"

namespace metalgate::runtime::testing_worlds {

namespace {

net::IpAddress ip(const char* s) {
  return *net::IpAddress::parse(s);
}

class InMemoryContractWorld final : public ContractWorld {
 public:
  InMemoryContractWorld()
      : a_(world_.add_host("a", {ip("10.77.0.1")})), b_(world_.add_host("b", {ip("10.77.0.2")})) {}
  Runtime& a() override { return a_; }
  Runtime& b() override { return b_; }
  net::IpAddress addr_a() const override { return ip("10.77.0.1"); }
  net::IpAddress addr_b() const override { return ip("10.77.0.2"); }
  net::IpAddress service_address() const override { return ip("10.77.0.100"); }
  std::string interface_a() const override { return "eth0"; }
  std::string interface_b() const override { return "eth0"; }
  bool frames_supported() const override { return true; }
  bool local_addresses_supported() const override { return true; }
  void set_link_b(bool up) override { world_.set_link_up("b", "eth0", up); }
  bool run_until(const std::function<bool()>& done, Duration limit) override {
    return world_.run_until(done, limit);
  }
  void run_for(Duration d) override { world_.run_for(d); }

 private:
  memory::MemoryWorld world_{7};
  memory::MemoryHost& a_;
  memory::MemoryHost& b_;
};

// The live world runs in a network namespace of its own (when root): a veth pair mga0 <-> mgb0, 10.77.0.1 and
// 10.77.0.2. The namespace belongs to this test process alone and vanishes with it; the root namespace is
// untouched. Without root it still tests timers and sockets, on 127.0.0.1 and 127.0.0.2.
bool g_namespace_tried = false;
bool g_namespace_ready = false;

bool run(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

bool interface_running(const char* name) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq req{};
  std::strncpy(req.ifr_name, name, IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_RUNNING);
  ::close(fd);
  return ok;
}

bool prepare_namespace() {
  if (g_namespace_tried) return g_namespace_ready;
  g_namespace_tried = true;
  if (::geteuid() != 0 || ::unshare(CLONE_NEWNET) != 0) return false;
  g_namespace_ready = run("ip link set lo up") && run("ip link add mga0 type veth peer name mgb0") &&
                      run("ip addr add 10.77.0.1/24 dev mga0") && run("ip addr add 10.77.0.2/24 dev mgb0") &&
                      run("ip link set mga0 up") && run("ip link set mgb0 up");
  for (int i = 0; g_namespace_ready && i < 200 && !(interface_running("mga0") && interface_running("mgb0"));
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return g_namespace_ready;
}

class LiveAsioContractWorld final : public ContractWorld {
 public:
  explicit LiveAsioContractWorld(bool in_namespace)
      : in_namespace_(in_namespace),
        a_(io_, {.seed = 1, .vip_interface = "mga0", .log_sink = {}, .log_level = LogLevel::kInfo}),
        b_(io_, {.seed = 2, .vip_interface = "mgb0", .log_sink = {}, .log_level = LogLevel::kInfo}) {}
  Runtime& a() override { return a_; }
  Runtime& b() override { return b_; }
  net::IpAddress addr_a() const override { return ip(in_namespace_ ? "10.77.0.1" : "127.0.0.1"); }
  net::IpAddress addr_b() const override { return ip(in_namespace_ ? "10.77.0.2" : "127.0.0.2"); }
  net::IpAddress service_address() const override { return ip("10.77.0.100"); }
  std::string interface_a() const override { return "mga0"; }
  std::string interface_b() const override { return "mgb0"; }
  bool frames_supported() const override { return in_namespace_; }
  bool local_addresses_supported() const override { return in_namespace_; }
  void set_link_b(bool up) override { run(std::string("ip link set mgb0 ") + (up ? "up" : "down")); }
  bool run_until(const std::function<bool()>& done, Duration limit) override {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return done();
      if (a_.has_background() || b_.has_background()) {
        // As AsioRuntime::run(): what is ready first, then the background lane.
        io_.poll();
        a_.run_background_one();
        b_.run_background_one();
      } else {
        io_.run_one_for(std::chrono::milliseconds(5));
      }
      if (io_.stopped()) io_.restart();
    }
    return true;
  }
  void run_for(Duration d) override {
    auto deadline = std::chrono::steady_clock::now() + d;
    run_until([&] { return std::chrono::steady_clock::now() >= deadline; }, d + std::chrono::seconds(1));
  }

 private:
  bool in_namespace_;
  boost::asio::io_context io_;
  asio_live::AsioRuntime a_;
  asio_live::AsioRuntime b_;
};

}  // namespace

WorldFactory memory_world_factory() {
  return {[] { return std::unique_ptr<ContractWorld>(new InMemoryContractWorld()); },
          [] { return std::string(); }};
}

WorldFactory asio_world_factory() {
  return {[] { return std::unique_ptr<ContractWorld>(new LiveAsioContractWorld(prepare_namespace())); },
          [] { return std::string(); }};
}

}  // namespace metalgate::runtime::testing_worlds
