// The live twin's LAN made for real: namespaces under /run/netns, veths into a bridge, addresses, link
// faults, partitions. Traffic is UDP between sockets opened inside the hosts' namespaces (a thread enters the
// namespace, opens the socket and leaves; the socket stays in it). Root only (CAP_NET_ADMIN and
// CAP_SYS_ADMIN); skipped otherwise.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "twin/lan/netns_lan.h"

namespace metalgate::twin {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;
using ::testing::Not;

// CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21) in the effective set.
bool privileged() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    const unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
    return (caps >> 12 & 1) != 0 && (caps >> 21 & 1) != 0;
  }
  return false;
}

#define REQUIRE_PRIVILEGES() \
  if (!privileged()) GTEST_SKIP() << "making network namespaces needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)"

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(Fd&& other) noexcept : fd(other.fd) { other.fd = -1; }
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// A socket of the namespace at `path`: opened by a thread that enters the namespace and returns.
Fd socket_in(const std::string& path, int family, int type) {
  int result = -1;
  std::thread([&] {
    Fd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    Fd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (target.fd < 0 || ::setns(target.fd, CLONE_NEWNET) != 0) return;
    result = ::socket(family, type | SOCK_CLOEXEC, 0);
    if (::setns(home.fd, CLONE_NEWNET) != 0) std::abort();  // the thread ends anyway; be loud
  }).join();
  return Fd(result);
}

sockaddr_storage socket_address(const net::IpAddress& ip, std::uint16_t port) {
  sockaddr_storage storage{};
  if (ip.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, ip.bytes().data(), 4);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, ip.bytes().data(), 16);
  }
  return storage;
}

socklen_t length_of(const net::IpAddress& ip) {
  return ip.is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

// A UDP socket in `host`'s namespace bound to `ip` (one of its addresses) and `port`; -1 when bind fails.
Fd udp_bound(const NetnsLan& lan, const std::string& host, const net::IpAddress& ip, std::uint16_t port) {
  Fd fd = socket_in(lan.netns_path(host), ip.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM);
  sockaddr_storage address = socket_address(ip, port);
  if (fd.fd < 0 || ::bind(fd.fd, reinterpret_cast<sockaddr*>(&address), length_of(ip)) != 0) return Fd();
  return fd;
}

bool readable(int fd, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(wait.count())) == 1;
}

// How many of `count` datagrams sent from `from` reach `to` (at `to_ip`) within `wait` of the last one.
int datagrams_arriving(const NetnsLan& lan, const NetnsHost& from, const NetnsHost& to,
                       const net::IpAddress& from_ip, const net::IpAddress& to_ip, int count = 1,
                       std::chrono::milliseconds wait = 1000ms) {
  static std::uint16_t next_port = 40000;
  const std::uint16_t port = next_port++;
  Fd rx = udp_bound(lan, to.name, to_ip, port);
  Fd tx = udp_bound(lan, from.name, from_ip, 0);
  EXPECT_GE(rx.fd, 0) << "binding " << to_ip.to_string() << " in " << to.name;
  EXPECT_GE(tx.fd, 0) << "binding " << from_ip.to_string() << " in " << from.name;
  sockaddr_storage destination = socket_address(to_ip, port);
  for (int i = 0; i < count; ++i) {
    ::sendto(tx.fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&destination), length_of(to_ip));
  }
  int arrived = 0;
  char buffer[16];
  while (arrived < count && readable(rx.fd, wait)) {
    if (::recv(rx.fd, buffer, sizeof buffer, 0) > 0) ++arrived;
  }
  return arrived;
}

bool reaches(const NetnsLan& lan, const NetnsHost& from, const NetnsHost& to,
             std::chrono::milliseconds wait = 1000ms) {
  return datagrams_arriving(lan, from, to, from.address, to.address, 1, wait) == 1;
}

// The fastest of five UDP round trips from `a` to `b` and back, in milliseconds; nullopt when one is lost.
std::optional<double> round_trip_ms(const NetnsLan& lan, const NetnsHost& a, const NetnsHost& b) {
  Fd echo = udp_bound(lan, b.name, b.address, 41000);
  Fd tx = udp_bound(lan, a.name, a.address, 0);
  sockaddr_storage destination = socket_address(b.address, 41000);
  std::optional<double> best;
  for (int i = 0; i < 6; ++i) {  // the first one also resolves ARP: not counted
    const auto start = Clock::now();
    ::sendto(tx.fd, "?", 1, 0, reinterpret_cast<sockaddr*>(&destination), sizeof(sockaddr_in));
    sockaddr_storage sender{};
    socklen_t sender_length = sizeof sender;
    char buffer[8];
    if (!readable(echo.fd, 2000ms)) return std::nullopt;
    ::recvfrom(echo.fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&sender), &sender_length);
    ::sendto(echo.fd, "!", 1, 0, reinterpret_cast<sockaddr*>(&sender), sender_length);
    if (!readable(tx.fd, 2000ms)) return std::nullopt;
    ::recv(tx.fd, buffer, sizeof buffer, 0);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (i > 0 && (!best || ms < *best)) best = ms;
  }
  return best;
}

NetnsHost make_host(const std::string& name, std::uint8_t n) {
  NetnsHost host;
  host.name = name;
  host.address = net::IpAddress::v4(10, 123, 0, n);
  host.address6 = net::IpAddress::parse("fd00:123::" + std::to_string(n));
  host.mac = *net::MacAddress::parse("02:00:00:12:30:" + std::string(n < 16 ? "0" : "") + [n] {
    std::ostringstream hex;
    hex << std::hex << static_cast<int>(n);
    return hex.str();
  }());
  return host;
}

std::vector<std::string> netns_entries_starting_with(const std::string& prefix) {
  std::vector<std::string> found;
  if (DIR* dir = ::opendir("/run/netns")) {
    while (dirent* entry = ::readdir(dir)) {
      if (std::string(entry->d_name).rfind(prefix, 0) == 0) found.push_back(entry->d_name);
    }
    ::closedir(dir);
  }
  return found;
}

// A LAN with hosts a, b, c, d (10.123.0.1-4/24, fd00:123::1-4/64).
class NetnsLanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!privileged()) GTEST_SKIP() << "making network namespaces needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)";
    auto made = NetnsLan::create({});
    ASSERT_TRUE(made) << made.error();
    lan = std::move(*made);
    for (std::uint8_t i = 0; i < 4; ++i) {
      hosts.push_back(
          make_host(std::string(1, static_cast<char>('a' + i)), static_cast<std::uint8_t>(i + 1)));
      auto added = lan->add_host(hosts.back());
      ASSERT_TRUE(added) << added.error();
    }
  }
  std::unique_ptr<NetnsLan> lan;
  std::vector<NetnsHost> hosts;
  const NetnsHost& a() const { return hosts[0]; }
  const NetnsHost& b() const { return hosts[1]; }
  const NetnsHost& c() const { return hosts[2]; }
  const NetnsHost& d() const { return hosts[3]; }
};

TEST_F(NetnsLanTest, HostsReachEachOtherOverUdp) {
  EXPECT_TRUE(reaches(*lan, a(), b()));
  EXPECT_TRUE(reaches(*lan, b(), a()));
  EXPECT_TRUE(reaches(*lan, c(), d()));
  EXPECT_EQ(lan->hosts(), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST_F(NetnsLanTest, EachHostHasEth0WithItsMacAndAddresses) {
  for (const NetnsHost& host : hosts) {
    Fd fd = socket_in(lan->netns_path(host.name), AF_INET, SOCK_DGRAM);
    ifreq request{};
    std::strcpy(request.ifr_name, "eth0");
    ASSERT_EQ(::ioctl(fd.fd, SIOCGIFHWADDR, &request), 0) << host.name << ": " << std::strerror(errno);
    std::array<std::uint8_t, 6> mac{};
    std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, 6);
    EXPECT_EQ(net::MacAddress(mac), host.mac) << host.name;
    ASSERT_EQ(::ioctl(fd.fd, SIOCGIFADDR, &request), 0) << host.name;
    EXPECT_EQ(reinterpret_cast<sockaddr_in*>(&request.ifr_addr)->sin_addr.s_addr,
              htonl(host.address.v4_host_order()));
    ASSERT_EQ(::ioctl(fd.fd, SIOCGIFNETMASK, &request), 0) << host.name;
    EXPECT_EQ(reinterpret_cast<sockaddr_in*>(&request.ifr_netmask)->sin_addr.s_addr, htonl(0xffffff00));
    // The IPv6 address is there and usable at once (no duplicate address detection): bind succeeds.
    EXPECT_GE(udp_bound(*lan, host.name, *host.address6, 0).fd, 0) << host.name;
    EXPECT_EQ(lan->netns_path(host.name), "/run/netns/" + lan->prefix() + "-" + host.name);
  }
}

TEST_F(NetnsLanTest, HostsReachEachOtherOverIpv6) {
  EXPECT_EQ(datagrams_arriving(*lan, a(), b(), *a().address6, *b().address6), 1);
  EXPECT_EQ(datagrams_arriving(*lan, d(), c(), *d().address6, *c().address6), 1);
}

// `ip -n <namespace> neigh show`, one entry a line.
std::string neighbours_of(const NetnsLan& lan, const std::string& host) {
  std::string out;
  const std::string command = "ip -n " + lan.prefix() + "-" + host + " neigh show";
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, pipe) != nullptr)
      out += line;
    ::pclose(pipe);
  }
  return out;
}

TEST_F(NetnsLanTest, PinnedHostsKnowEachOthersMacsPermanentlyAndOthersStillUseArp) {
  ASSERT_TRUE(lan->pin_neighbours({"a", "b", "c"}));
  const std::string at_a = neighbours_of(*lan, "a");
  EXPECT_THAT(at_a, HasSubstr("10.123.0.2 dev eth0 lladdr 02:00:00:12:30:02 PERMANENT"));
  EXPECT_THAT(at_a, HasSubstr("10.123.0.3 dev eth0 lladdr 02:00:00:12:30:03 PERMANENT"));
  EXPECT_THAT(at_a, HasSubstr("fd00:123::2 dev eth0 lladdr 02:00:00:12:30:02 PERMANENT"));
  EXPECT_THAT(at_a, Not(HasSubstr("10.123.0.4 ")));  // d is not pinned
  EXPECT_THAT(at_a, Not(HasSubstr("10.123.0.1 ")));  // nor is a itself
  EXPECT_THAT(neighbours_of(*lan, "d"), Not(HasSubstr("PERMANENT")));
  EXPECT_TRUE(reaches(*lan, a(), b()));
  EXPECT_TRUE(reaches(*lan, d(), a()));  // resolved by ARP as before
  auto unknown = lan->pin_neighbours({"a", "nobody"});
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error(), HasSubstr("no host nobody"));
}

TEST_F(NetnsLanTest, NicDownStopsTrafficAndUpRestoresIt) {
  ASSERT_TRUE(reaches(*lan, a(), b()));
  auto down = lan->set_host_link("b", false);
  ASSERT_TRUE(down) << down.error();
  EXPECT_FALSE(reaches(*lan, a(), b(), 300ms));
  auto up = lan->set_host_link("b", true);
  ASSERT_TRUE(up) << up.error();
  EXPECT_TRUE(reaches(*lan, a(), b()));
  EXPECT_EQ(datagrams_arriving(*lan, a(), b(), *a().address6, *b().address6), 1) << "IPv6 address kept";
}

TEST_F(NetnsLanTest, PartitionIsolatesGroupsWithUnlistedHostsInTheFirstAndHealRestores) {
  ASSERT_TRUE(reaches(*lan, a(), c()));
  auto split = lan->set_partition({{"a", "b"}, {"c"}});  // d unlisted: with a and b
  ASSERT_TRUE(split) << split.error();
  EXPECT_TRUE(reaches(*lan, a(), b()));
  EXPECT_TRUE(reaches(*lan, a(), d()));
  EXPECT_FALSE(reaches(*lan, a(), c(), 300ms))
      << "c's address is still in a's ARP cache: unicast must not cross";
  EXPECT_FALSE(reaches(*lan, c(), d(), 300ms));
  auto heal = lan->set_partition({});
  ASSERT_TRUE(heal) << heal.error();
  EXPECT_TRUE(reaches(*lan, a(), c()));
  EXPECT_TRUE(reaches(*lan, c(), d()));
}

TEST_F(NetnsLanTest, BroadcastsDoNotCrossPartitionGroups) {
  auto split = lan->set_partition({{"a", "b"}, {"c", "d"}});
  ASSERT_TRUE(split) << split.error();
  std::vector<Fd> listeners;
  for (const NetnsHost& host : hosts)
    listeners.push_back(udp_bound(*lan, host.name, net::IpAddress::v4(0), 41500));
  Fd tx = udp_bound(*lan, "a", a().address, 0);
  int on = 1;
  ASSERT_EQ(::setsockopt(tx.fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on), 0);
  sockaddr_storage broadcast = socket_address(net::IpAddress::v4(10, 123, 0, 255), 41500);
  ASSERT_EQ(::sendto(tx.fd, "b", 1, 0, reinterpret_cast<sockaddr*>(&broadcast), sizeof(sockaddr_in)), 1);
  EXPECT_TRUE(readable(listeners[1].fd, 1000ms)) << "b, in a's group, hears a's broadcast";
  EXPECT_FALSE(readable(listeners[2].fd, 300ms)) << "c does not";
  EXPECT_FALSE(readable(listeners[3].fd, 0ms)) << "d does not";
}

TEST_F(NetnsLanTest, LossOfOneDropsEverythingAndZeroRestores) {
  ASSERT_TRUE(reaches(*lan, a(), b()));
  auto lossy = lan->set_link_loss("b", 1.0);
  ASSERT_TRUE(lossy) << lossy.error();
  EXPECT_EQ(datagrams_arriving(*lan, a(), b(), a().address, b().address, 20, 300ms), 0);
  EXPECT_EQ(datagrams_arriving(*lan, b(), a(), b().address, a().address, 20, 300ms), 0) << "both directions";
  EXPECT_TRUE(reaches(*lan, a(), c())) << "only b's link";
  auto clean = lan->set_link_loss("b", 0);
  ASSERT_TRUE(clean) << clean.error();
  EXPECT_EQ(datagrams_arriving(*lan, a(), b(), a().address, b().address, 20), 20);
}

TEST_F(NetnsLanTest, HalfLossDropsAboutHalfOfTheFramesThroughTheLink) {
  ASSERT_TRUE(reaches(*lan, a(), b()));  // both ARP caches filled while the link is clean
  ASSERT_TRUE(reaches(*lan, b(), a()));
  auto lossy = lan->set_link_loss("b", 0.5);
  ASSERT_TRUE(lossy) << lossy.error();
  ASSERT_TRUE(lan->set_link_loss("a", 0));  // a's own link stays clean
  // Through b's link once (a -> b): about 100 of 200 arrive; binomial, 6 standard deviations wide.
  const int arrived = datagrams_arriving(*lan, a(), b(), a().address, b().address, 200, 300ms);
  EXPECT_GT(arrived, 55);
  EXPECT_LT(arrived, 145);
}

TEST_F(NetnsLanTest, DelayAddsToTheRoundTripInEachDirection) {
  auto before = round_trip_ms(*lan, a(), b());
  ASSERT_TRUE(before);
  auto delayed = lan->set_link_delay("b", 20ms);
  if (!delayed && delayed.error().find("sch_netem") != std::string::npos) {
    GTEST_SKIP() << "this kernel has no netem, and says so: " << delayed.error();
  }
  ASSERT_TRUE(delayed) << delayed.error();
  auto after = round_trip_ms(*lan, a(), b());
  ASSERT_TRUE(after);
  EXPECT_GE(*after, *before + 38.0) << "20 ms towards b and 20 ms back from b";
  ASSERT_TRUE(lan->set_link_delay("b", 0ms));
  auto again = round_trip_ms(*lan, a(), b());
  ASSERT_TRUE(again);
  EXPECT_LT(*again, 20.0);
}

TEST_F(NetnsLanTest, RateIsAppliedAndAnUnknownRateIsRefusedWithWords) {
  auto rate = lan->set_link_rate("b", "10Mbps");
  ASSERT_TRUE(rate) << rate.error();
  EXPECT_TRUE(reaches(*lan, a(), b()));
  auto loss_too = lan->set_link_loss("b", 0.0);  // replaces the loss, keeps the rate
  ASSERT_TRUE(loss_too) << loss_too.error();
  EXPECT_TRUE(reaches(*lan, a(), b()));
  auto bad = lan->set_link_rate("b", "fast");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error(), ::testing::HasSubstr("fast"));
  EXPECT_THAT(bad.error(), ::testing::HasSubstr("b"));
  ASSERT_TRUE(lan->set_link_rate("b", ""));
  EXPECT_TRUE(reaches(*lan, a(), b()));
}

TEST_F(NetnsLanTest, ErrorsNameTheStepAndTheHost) {
  auto twice = lan->add_host(a());
  ASSERT_FALSE(twice);
  EXPECT_THAT(twice.error(), ::testing::HasSubstr("add_host a"));
  auto nobody = lan->set_host_link("nobody", false);
  ASSERT_FALSE(nobody);
  EXPECT_THAT(nobody.error(), ::testing::HasSubstr("nobody"));
  auto split = lan->set_partition({{"a"}, {"a", "b"}});
  ASSERT_FALSE(split);
  EXPECT_THAT(split.error(), ::testing::HasSubstr("two groups"));
}

TEST(NetnsLan, TeardownLeavesNoNamespaceOfItsPrefix) {
  REQUIRE_PRIVILEGES();
  auto lan = NetnsLan::create({});
  ASSERT_TRUE(lan) << lan.error();
  const std::string prefix = (*lan)->prefix();
  EXPECT_THAT(prefix, ::testing::StartsWith("mgt-" + std::to_string(::getpid()) + "-"));
  ASSERT_TRUE((*lan)->add_host(make_host("one", 1)));
  ASSERT_TRUE((*lan)->add_host(make_host("two", 2)));
  EXPECT_EQ(netns_entries_starting_with(prefix).size(), 3u) << "the switch and two hosts";
  lan->reset();
  EXPECT_THAT(netns_entries_starting_with(prefix), ::testing::IsEmpty());
}

// A child process that has entered the namespace at `path` and waits there until killed; -1 when it could
// not.
pid_t process_inside(const std::string& path) {
  int ready[2];
  if (::pipe(ready) != 0) return -1;
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(ready[0]);
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) ::_exit(1);
    if (::write(ready[1], "!", 1) != 1) ::_exit(1);
    for (;;)
      ::pause();
  }
  ::close(ready[1]);
  char entered = 0;
  const bool inside = child > 0 && ::read(ready[0], &entered, 1) == 1;
  ::close(ready[0]);
  if (!inside && child > 0) ::waitpid(child, nullptr, 0);
  return inside ? child : -1;
}

TEST(NetnsLan, TeardownUnlinksNamespacesThatStillHoldProcesses) {
  REQUIRE_PRIVILEGES();
  auto lan = NetnsLan::create({});
  ASSERT_TRUE(lan) << lan.error();
  ASSERT_TRUE((*lan)->add_host(make_host("busy", 1)));
  const std::string path = (*lan)->netns_path("busy");
  const pid_t child = process_inside(path);
  ASSERT_GT(child, 0);
  const std::string prefix = (*lan)->prefix();
  lan->reset();
  EXPECT_THAT(netns_entries_starting_with(prefix), ::testing::IsEmpty());
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

// A PID that no process has: a child's, after it has exited and been reaped.
pid_t dead_pid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

TEST(NetnsLan, CleanupStaleRemovesADeadRunsNamespacesAndProcessesAndLeavesLiveRunsAlone) {
  REQUIRE_PRIVILEGES();
  auto live = NetnsLan::create({});
  ASSERT_TRUE(live) << live.error();
  ASSERT_TRUE((*live)->add_host(make_host("alive", 1)));
  NetnsLanOptions options;
  options.prefix = "mgt-" + std::to_string(dead_pid()) + "-0";
  auto stale = NetnsLan::create(options);
  ASSERT_TRUE(stale) << stale.error();
  ASSERT_TRUE((*stale)->add_host(make_host("left", 2)));
  // A process left running inside the stale run's host, as a crashed runner would leave it.
  const std::string path = (*stale)->netns_path("left");
  const pid_t inside = process_inside(path);
  ASSERT_GT(inside, 0);
  std::ostringstream log;
  const int removed = NetnsLan::cleanup_stale(log);
  EXPECT_GE(removed, 2) << log.str();
  EXPECT_THAT(netns_entries_starting_with(options.prefix), ::testing::IsEmpty()) << log.str();
  EXPECT_THAT(log.str(), ::testing::HasSubstr(path));
  EXPECT_THAT(log.str(), ::testing::HasSubstr("killed " + std::to_string(inside)));
  int status = 0;
  ASSERT_EQ(::waitpid(inside, &status, 0), inside);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(::access((*live)->netns_path("alive").c_str(), F_OK), 0) << "the live run is left alone";
  stale->reset();  // its namespaces are gone already: the destructor copes
}

TEST(NetnsLan, TwoLansInOneProcessDoNotCollide) {
  REQUIRE_PRIVILEGES();
  auto first = NetnsLan::create({});
  auto second = NetnsLan::create({});
  ASSERT_TRUE(first) << first.error();
  ASSERT_TRUE(second) << second.error();
  EXPECT_NE((*first)->prefix(), (*second)->prefix());
  // The same host names, addresses and MACs on both: each LAN is a world of its own.
  for (auto* lan : {first->get(), second->get()}) {
    for (std::uint8_t i = 1; i <= 2; ++i) {
      auto added = lan->add_host(make_host("h" + std::to_string(i), i));
      ASSERT_TRUE(added) << added.error();
    }
  }
  EXPECT_TRUE(reaches(**first, make_host("h1", 1), make_host("h2", 2)));
  EXPECT_TRUE(reaches(**second, make_host("h2", 2), make_host("h1", 1)));
  EXPECT_NE((*first)->netns_path("h1"), (*second)->netns_path("h1"));
}

TEST(NetnsLan, OptionsShapeEveryLinkFromTheStart) {
  REQUIRE_PRIVILEGES();
  NetnsLanOptions options;
  options.loss = 1.0;
  options.rate = "1Gbps";
  auto lan = NetnsLan::create(options);
  ASSERT_TRUE(lan) << lan.error();
  ASSERT_TRUE((*lan)->add_host(make_host("x", 1)));
  ASSERT_TRUE((*lan)->add_host(make_host("y", 2)));
  EXPECT_EQ(datagrams_arriving(**lan, make_host("x", 1), make_host("y", 2), net::IpAddress::v4(10, 123, 0, 1),
                               net::IpAddress::v4(10, 123, 0, 2), 10, 300ms),
            0);
  NetnsLanOptions unknown_rate;
  unknown_rate.rate = "lots";
  auto bad = NetnsLan::create(unknown_rate);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error(), ::testing::HasSubstr("lots"));
}

}  // namespace
}  // namespace metalgate::twin
