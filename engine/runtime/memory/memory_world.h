// A deterministic in-memory world for unit tests: virtual time, virtual hosts that each implement the runtime
// port, in-memory streams and datagrams between them, and one switched Ethernet segment per name for frames.
// Faults: loss, extra delay, partitions, interfaces down. One seed reproduces a whole run.
//
// Model, briefly (docs/architecture.md has more):
// - IP traffic goes to the host holding the destination address; when several hold it (a VIP on every node),
//   to the one steered with steer(), else to the first that added it.
// - Streams keep order; a segment that cannot cross (partition, link down, loss) is retried every 200 ms,
// like a
//   TCP retransmission, so a healed partition delivers what was written. SYNs retry at 1, 2, 4, 8, 16 s, then
//   connect fails with timed_out. No listener: connection_refused after one round trip.
// - Datagrams and frames that cannot cross are dropped.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "engine/runtime/runtime.h"

namespace metalgate::runtime::memory {

struct PathConditions {
  Duration latency = std::chrono::microseconds(100);
  double loss = 0.0;  // probability that one crossing (segment try, datagram, frame) is lost
};

class MemoryWorld;
struct StreamEnd;
struct ListenerState;
struct DatagramState;
struct FramePortState;

class MemoryHost final : public Runtime {
 public:
  MemoryHost(MemoryWorld& world, std::string name, std::uint32_t index, std::uint64_t seed);
  ~MemoryHost() override;

  const std::string& name() const { return name_; }
  // Adds an interface on a named Ethernet segment (one switch per segment); returns its ifindex.
  int add_interface(const std::string& interface_name, const std::string& segment);
  // An interface address: reachable like any local address, and the source of outgoing connections.
  void assign_address(const net::IpAddress& address);
  const std::vector<net::IpAddress>& addresses() const { return addresses_; }
  bool holds(const net::IpAddress& address) const;

  // Runtime
  Instant now() const override;
  TimerPtr create_timer(TimerCallback on_fire) override;
  void post(std::function<void()> task) override;
  StreamListenerPtr listen(const net::SocketAddress& local, const ListenOptions& options,
                           AcceptCallback on_accept, std::error_code& error) override;
  StreamConnectionPtr connect(const net::SocketAddress& remote, StreamHandler& handler,
                              const ConnectOptions& options = {}) override;
  DatagramSocketPtr open_datagram(const net::SocketAddress& local, DatagramCallback on_datagram,
                                  std::error_code& error) override;
  FramePortPtr open_frame_port(const std::string& interface_name,
                               const std::vector<std::uint16_t>& ethertypes, FrameHandler& handler,
                               std::error_code& error) override;
  std::error_code add_local_address(const net::IpAddress& address) override;
  std::error_code remove_local_address(const net::IpAddress& address) override;
  SeededRandom& random() override { return random_; }
  Logger& logger() override { return logger_; }

 private:
  friend class MemoryWorld;
  friend struct StreamEnd;
  friend class MemoryListener;
  friend class MemoryDatagramSocket;
  friend class MemoryFramePort;

  struct Interface {
    std::string name;
    int ifindex = 0;
    net::MacAddress mac;
    std::string segment;
    bool up = true;
    std::vector<std::weak_ptr<FramePortState>> ports;
  };

  net::IpAddress source_for(const net::IpAddress& destination) const;
  // bind(2) for this world: the address must be ours (or unspecified), port 0 picks one, a live binding
  // refuses.
  template <typename State>
  std::optional<net::SocketAddress> bind_address(
      const net::SocketAddress& local, const std::map<net::SocketAddress, std::weak_ptr<State>>& bound,
      std::error_code& error);
  std::uint16_t ephemeral_port();
  Interface* find_interface(const std::string& name);
  bool any_interface_up() const;

  MemoryWorld& world_;
  std::string name_;
  std::uint32_t index_;
  SeededRandom random_;
  Logger logger_;
  std::vector<Interface> interfaces_;
  std::vector<net::IpAddress> addresses_;        // interface addresses
  std::vector<net::IpAddress> local_addresses_;  // VIPs added through the port
  // Both of the above are held: the world's holders_ index says which host holds an address.
  void hold(const net::IpAddress& address);
  void let_go(const net::IpAddress& address);  // unless it is an interface address too
  std::map<net::SocketAddress, std::weak_ptr<ListenerState>> listeners_;
  std::map<net::SocketAddress, std::weak_ptr<DatagramState>> datagram_sockets_;
  std::uint16_t next_ephemeral_ = 32768;
};

class MemoryWorld {
 public:
  friend class MemoryHost;  // keeps holders_ as its addresses come and go
  explicit MemoryWorld(std::uint64_t seed = 1);
  ~MemoryWorld();
  MemoryWorld(const MemoryWorld&) = delete;
  MemoryWorld& operator=(const MemoryWorld&) = delete;

  // A host with interface eth0 on `segment`, holding `addresses`.
  MemoryHost& add_host(const std::string& name, std::vector<net::IpAddress> addresses = {},
                       const std::string& segment = "lan");
  MemoryHost& host(const std::string& name);

  Instant now() const { return now_; }
  // Runs events in time order until none is due before `deadline`, then sets the clock to `deadline`.
  void run_until(Instant deadline);
  void run_for(Duration duration) { run_until(now_ + duration); }
  // Runs until `done()` holds (checked after each event) or `limit` of virtual time passes; returns done().
  bool run_until(const std::function<bool()>& done, Duration limit);
  std::size_t pending_events() const { return queue_.size(); }
  std::uint64_t events_run() const { return events_run_; }

  // Faults and conditions.
  void set_default_conditions(PathConditions conditions) { default_conditions_ = conditions; }
  void set_conditions(const std::string& a, const std::string& b, PathConditions conditions);
  void partition(const std::vector<std::vector<std::string>>& groups);
  void heal() { partition_group_.clear(); }
  void set_link_up(const std::string& host_name, const std::string& interface_name, bool up);
  // Which holder of a shared address receives IP traffic for it (what ARP would decide on a real LAN).
  void steer(const net::IpAddress& address, const std::string& host_name);

  void set_log_sink(LogSink sink) { log_sink_ = std::move(sink); }

  // Closed streams whose queued bytes have not left yet (kept here, not by themselves, so that a world torn
  // down mid-flight frees them).
  void linger(std::shared_ptr<StreamEnd> end) { lingering_.insert(std::move(end)); }
  void unlinger(const std::shared_ptr<StreamEnd>& end) { lingering_.erase(end); }
  const LogSink& log_sink() const { return log_sink_; }

  // Used by the world's own objects.
  void schedule(Instant at, std::function<void()> fn);
  MemoryHost* resolve(const net::IpAddress& address, const MemoryHost& from);
  bool can_cross(const MemoryHost& a, const MemoryHost& b);  // draws loss
  Duration latency(const MemoryHost& a, const MemoryHost& b) const;
  void deliver_frame(MemoryHost& from, int ifindex, const net::MacAddress& destination,
                     std::uint16_t ethertype, ByteView payload);

 private:
  struct Event {
    Instant at;
    std::uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  const PathConditions& conditions(const MemoryHost& a, const MemoryHost& b) const;
  bool partitioned(const MemoryHost& a, const MemoryHost& b) const;

  Instant now_{};
  std::uint64_t seq_ = 0;
  std::uint64_t events_run_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::vector<std::unique_ptr<MemoryHost>> hosts_;
  SeededRandom random_;
  PathConditions default_conditions_;
  std::map<std::pair<std::string, std::string>, PathConditions> pair_conditions_;
  std::map<std::string, int> partition_group_;
  // Who holds each address, by host index: resolving a destination is a lookup, not a scan of every host's
  // addresses (500 hosts holding 1,000 VIPs each made that scan most of a cold start's time).
  std::map<net::IpAddress, std::set<std::uint32_t>> holders_;
  std::map<net::IpAddress, std::string> steering_;
  LogSink log_sink_;
  std::set<std::shared_ptr<StreamEnd>> lingering_;
};

}  // namespace metalgate::runtime::memory
