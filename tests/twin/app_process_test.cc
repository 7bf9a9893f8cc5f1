// The twin's app processes on loopback in this namespace: a pod and a client, each run_app in a forked child,
// stopped with SIGTERM as the twin's runner stops them; what the client's records file says is what happened.
// The neighbour lookup runs in a private network namespace (root only).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/scenario/temp_file.h"
#include "twin/apps/app_spec.h"

namespace metalgate::twin {
namespace {

using scenario::observe::RequestRecord;
using namespace std::chrono_literals;

std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

net::IpAddress loopback(std::uint8_t last = 1) {
  return net::IpAddress::v4(127, 0, 0, last);
}

// A port of 127.0.0.1 free a moment ago.
std::uint16_t free_port(int type) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof a;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool accepts_connections(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// run_app(spec) in a forked child; SIGKILLed when the test leaves without stopping it.
class AppProcess {
 public:
  explicit AppProcess(const AppSpec& spec, const std::string& name) {
    const std::string file = scenario::testing::write_temp(name + ".json", to_json(spec).dump());
    pid_ = ::fork();
    if (pid_ == 0) ::_exit(run_app(file));
  }
  ~AppProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // SIGTERM, then its exit code (-1: it did not exit by itself).
  int terminate() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

void write_control(const std::string& file, std::int64_t latency_ms, bool healthy) {
  std::ofstream(file + ".new") << nlohmann::json{{"latency_ms", latency_ms}, {"healthy", healthy}}.dump();
  std::filesystem::rename(file + ".new", file);
}

AppSpec pod_spec(std::int64_t epoch_ns, std::uint16_t port, bool udp, const std::string& control_file) {
  AppSpec spec;
  spec.epoch_ns = epoch_ns;
  spec.pod = PodAppSpec{.name = "web-0",
                        .address = loopback(),
                        .ports = {{port, udp}},
                        .latency_ms = 1,
                        .control_file = control_file};
  return spec;
}

AppSpec client_spec(std::int64_t epoch_ns, std::uint16_t port, bool udp, const std::string& records_file) {
  AppSpec spec;
  spec.epoch_ns = epoch_ns;
  ClientAppSpec c;
  c.name = "shopper";
  // UDP sends from port 40000 as in the simulator: an address of this process's own keeps concurrent tests
  // apart.
  c.address = udp ? net::IpAddress::v4(127, 2, static_cast<std::uint8_t>(::getpid() >> 8),
                                       static_cast<std::uint8_t>(::getpid()))
                  : loopback();
  c.target = {loopback(), port};
  c.udp = udp;
  c.host = "shop.example";
  c.rate = 40;
  c.timeout_ms = 2000;
  c.records_file = records_file;
  spec.client = c;
  return spec;
}

std::int64_t since(std::int64_t epoch_ns) {
  return (monotonic_ns() - epoch_ns) / 1000;
}  // in µs

// The records that started within [from_us, to_us) and ended with an answer or an error other than the
// end of the run.
std::vector<RequestRecord> finished_between(const std::vector<RequestRecord>& records, std::int64_t from_us,
                                            std::int64_t to_us) {
  std::vector<RequestRecord> out;
  for (const auto& r : records)
    if (r.start_us >= from_us && r.start_us < to_us && r.error != scenario::observe::kStillRunning)
      out.push_back(r);
  return out;
}

TEST(AppProcess, AnHttpClientRecordsThePodsAnswersOnTheRunsClockAndFollowsItsControlFile) {
  const std::int64_t epoch = monotonic_ns();
  const std::uint16_t port = free_port(SOCK_STREAM);
  const std::string control = scenario::testing::write_temp("web-0.control", "");
  const std::string records_file = scenario::testing::write_temp("shopper.records", "");
  std::filesystem::remove(records_file);
  AppProcess pod(pod_spec(epoch, port, false, control), "web-0");
  for (int i = 0; i < 300 && !accepts_connections(port); ++i)
    std::this_thread::sleep_for(10ms);
  AppProcess client(client_spec(epoch, port, false, records_file), "shopper");

  std::this_thread::sleep_for(500ms);
  const std::int64_t slow_at = since(epoch);
  write_control(control, 150, true);
  std::this_thread::sleep_for(600ms);
  const std::int64_t sick_at = since(epoch);
  write_control(control, 150, false);
  std::this_thread::sleep_for(500ms);
  const std::int64_t stop_at = since(epoch);
  ASSERT_EQ(client.terminate(), 0);
  const std::int64_t ended_at = since(epoch);
  EXPECT_EQ(pod.terminate(), 0);

  auto records = read_records(records_file);
  ASSERT_TRUE(records.ok()) << records.error();
  ASSERT_GT(records->size(), 40u);
  std::vector<std::int64_t> starts;
  for (const auto& r : *records) {
    EXPECT_EQ(r.client, "shopper");
    EXPECT_EQ(r.target, loopback());
    EXPECT_EQ(r.vip_node, "");  // no neighbour entry for a loopback address
    EXPECT_GE(r.start_us, 0);
    EXPECT_LE(r.start_us, ended_at);
    EXPECT_GE(r.end_us, r.start_us);
    starts.push_back(r.start_us);
  }
  std::sort(starts.begin(), starts.end());
  EXPECT_EQ(std::adjacent_find(starts.begin(), starts.end()), starts.end()) << "two requests started at once";

  const std::int64_t settle = 60000;  // the pod polls its control file every 20 ms
  auto fast = finished_between(*records, 0, slow_at);
  auto slow = finished_between(*records, slow_at + settle, sick_at);
  auto sick = finished_between(*records, sick_at + settle, stop_at);
  ASSERT_GT(fast.size(), 5u);
  ASSERT_GT(slow.size(), 5u);
  ASSERT_GT(sick.size(), 3u);
  for (const auto& r : fast) {
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.served_by, "web-0");
    EXPECT_LT(r.end_us - r.start_us, 100000);
  }
  for (const auto& r : slow) {
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_GE(r.end_us - r.start_us, 150000);
  }
  for (const auto& r : sick)
    EXPECT_EQ(r.status, 503) << r.error;
}

TEST(AppProcess, AClientStoppedWithRequestsUnderWayRecordsThemAsStillRunning) {
  const std::int64_t epoch = monotonic_ns();
  const std::uint16_t port = free_port(SOCK_STREAM);
  const std::string control = scenario::testing::write_temp("slow.control", "");
  write_control(control, 400, true);
  const std::string records_file = scenario::testing::write_temp("cut.records", "");
  AppProcess pod(pod_spec(epoch, port, false, control), "slow");
  for (int i = 0; i < 300 && !accepts_connections(port); ++i)
    std::this_thread::sleep_for(10ms);
  AppProcess client(client_spec(epoch, port, false, records_file), "cut");
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(client.terminate(), 0);

  auto records = read_records(records_file);
  ASSERT_TRUE(records.ok()) << records.error();
  ASSERT_GT(records->size(), 3u);
  for (const auto& r : *records) {
    EXPECT_EQ(r.error, scenario::observe::kStillRunning);  // none of them could end within 400 ms
    EXPECT_EQ(r.status, 0);
    EXPECT_GE(r.end_us, r.start_us);
  }
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(records_file).parent_path()))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path() << " left behind";
}

// A client given a start file waits for it: it says it is up (its ready file), sends nothing until the runner
// writes t = 0, then sends its first request one period after that instant, on that clock.
TEST(AppProcess, AClientWithAStartFileSaysItIsUpAndWaitsForTheRunsStart) {
  const std::uint16_t port = free_port(SOCK_STREAM);
  const std::string control = scenario::testing::write_temp("wait.control", "");
  write_control(control, 0, true);
  const std::string records_file = scenario::testing::write_temp("wait.records", "");
  AppProcess pod(pod_spec(monotonic_ns(), port, false, control), "waited");
  for (int i = 0; i < 300 && !accepts_connections(port); ++i)
    std::this_thread::sleep_for(10ms);
  AppSpec spec = client_spec(0, port, false, records_file);
  spec.ready_file = records_file + ".ready";
  spec.start_file = records_file + ".start";
  std::filesystem::remove(spec.ready_file);
  std::filesystem::remove(spec.start_file);
  AppProcess client(spec, "waiting");
  for (int i = 0; i < 500 && !std::filesystem::exists(spec.ready_file); ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(std::filesystem::exists(spec.ready_file)) << "the client never said it is up";
  std::this_thread::sleep_for(300ms);  // 12 periods at 40 per second: none may go out before the start
  const std::int64_t epoch = monotonic_ns() + 50'000'000;
  std::ofstream(spec.start_file) << epoch << "\n";
  std::this_thread::sleep_for(400ms);
  ASSERT_EQ(client.terminate(), 0);
  auto records = read_records(records_file);
  ASSERT_TRUE(records.ok()) << records.error();
  ASSERT_GT(records->size(), 8u);
  EXPECT_GE(records->front().start_us, 0) << "nothing before t = 0, on the run's clock";
  EXPECT_LT(records->front().start_us, 40'000) << "the first request one period (25 ms) after t = 0";
}

TEST(AppProcess, AUdpClientRecordsTheAnswersOfThePodsResponder) {
  const std::int64_t epoch = monotonic_ns();
  const std::uint16_t port = free_port(SOCK_DGRAM);
  const std::string records_file = scenario::testing::write_temp("dns.records", "");
  AppProcess pod(pod_spec(epoch, port, true, ""), "dns-0");
  std::this_thread::sleep_for(200ms);  // no connection to wait on: give the responder time to open
  AppProcess client(client_spec(epoch, port, true, records_file), "dns-client");
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(client.terminate(), 0);
  EXPECT_EQ(pod.terminate(), 0);

  auto records = read_records(records_file);
  ASSERT_TRUE(records.ok()) << records.error();
  int answered = 0;
  for (const auto& r : *records) {
    if (r.status != 200) continue;
    ++answered;
    EXPECT_EQ(r.served_by, "web-0");
    EXPECT_GE(r.start_us, 0);
    EXPECT_GE(r.end_us, r.start_us);
  }
  EXPECT_GT(answered, 10);
}

TEST(AppProcess, AnAppWhoseSpecCannotBeReadExitsWithOneAndRunsNothing) {
  AppSpec spec;  // neither pod nor client
  const std::string file = scenario::testing::write_temp("empty.json", to_json(spec).dump());
  EXPECT_EQ(run_app(file), 1);
  EXPECT_EQ(run_app(file + ".missing"), 1);
}

// In a private network namespace (a veth pair, neighbour entries on one end): what neighbour_node says for
// each address, "|"-joined; nullopt when the namespace cannot be made (not root).
std::optional<std::string> lookups_in_private_namespace(const std::map<std::string, std::string>& macs) {
  int out[2];
  if (::pipe(out) != 0) return std::nullopt;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(out[0]);
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(77);
    const char* setup =
        "ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && "
        "ip addr add 10.9.0.1/24 dev v0 && ip -6 addr add fd09::1/64 dev v0 nodad && "
        "ip neigh add 10.9.0.2 lladdr 02:00:00:00:00:07 dev v0 nud permanent && "
        "ip neigh add 10.9.0.3 lladdr 02:00:00:00:00:99 dev v0 nud stale && "
        "ip neigh add 10.9.0.5 lladdr 02:00:00:00:00:07 dev v0 nud failed && "
        "ip -6 neigh add fd09::2 lladdr 02:00:00:00:00:08 dev v0 nud reachable";
    if (std::system(setup) != 0) ::_exit(78);
    std::string answer;
    for (const char* a : {"10.9.0.2", "10.9.0.3", "fd09::2", "10.9.0.4", "10.9.0.5"})
      answer += neighbour_node(*net::IpAddress::parse(a), macs) + "|";
    ::_exit(::write(out[1], answer.data(), answer.size()) == static_cast<ssize_t>(answer.size()) ? 0 : 1);
  }
  ::close(out[1]);
  std::string answer;
  char buffer[256];
  for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;)
    answer.append(buffer, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return answer;
}

TEST(NeighbourNode, NamesTheNodeWhoseMacTheNeighbourTableHoldsForIpv4AndIpv6) {
  auto answer =
      lookups_in_private_namespace({{"02:00:00:00:00:07", "node-a"}, {"02:00:00:00:00:08", "node-b"}});
  if (!answer) GTEST_SKIP() << "needs root and iproute2 (a private network namespace with a veth pair)";
  // 10.9.0.3's MAC is no node's; 10.9.0.4 has no entry; 10.9.0.5's entry failed (no MAC the kernel uses).
  EXPECT_EQ(*answer, "node-a||node-b|||");
}

}  // namespace
}  // namespace metalgate::twin
