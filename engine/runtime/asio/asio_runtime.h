// The runtime port for live use: Boost.Asio over epoll for time, TCP and UDP; AF_PACKET raw sockets for
// frames; rtnetlink for link state and service addresses. One AsioRuntime per event loop (io_context),
// single-threaded.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "engine/runtime/runtime.h"

namespace metalgate::runtime::asio_live {

class StreamReactor;

struct AsioRuntimeOptions {
  std::uint64_t seed = 1;
  // Where add_local_address() puts service addresses (a /32 or /128 each).
  std::string vip_interface = "lo";
  LogSink log_sink = stderr_log_sink();
  LogLevel log_level = LogLevel::kInfo;
};

class AsioRuntime final : public Runtime {
 public:
  AsioRuntime(boost::asio::io_context& io, AsioRuntimeOptions options = {});
  ~AsioRuntime() override;

  boost::asio::io_context& io() { return io_; }

  Instant now() const override;
  TimerPtr create_timer(TimerCallback on_fire) override;
  void post(std::function<void()> task) override;
  void post_background(std::function<void()> task) override;
  // Runs the loop until the io_context stops: io_context::run(), plus the background lane (post_background).
  void run();
  // The background lane, for loops driven by hand (tests): one task, if any.
  bool has_background() const { return !background_.empty(); }
  void run_background_one();
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
  std::error_code hand_over(const net::IpAddress& address, const net::IpAddress& previous_owner) override;
  void stop_handing_over(const net::IpAddress& address) override;
  SeededRandom& random() override { return random_; }
  Logger& logger() override { return logger_; }

 private:
  boost::asio::io_context& io_;
  AsioRuntimeOptions options_;
  SeededRandom random_;
  Logger logger_;
  std::deque<std::function<void()>> background_;
  std::unique_ptr<class Handovers> handovers_;   // nftables rules, while an address is handed over
  boost::intrusive_ptr<StreamReactor> streams_;  // TCP connections' readiness (stream_reactor.h)
  // Pending background work is work: the io_context must not stop as idle while some waits.
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> background_work_;
};

// Linux pieces the runtime is built from, usable on their own (the speaker's setup uses them too).
FramePortPtr open_linux_frame_port(boost::asio::io_context& io, const std::string& interface_name,
                                   const std::vector<std::uint16_t>& ethertypes, FrameHandler& handler,
                                   std::error_code& error);
// Adds or removes address/host-prefix on the interface through rtnetlink (needs CAP_NET_ADMIN).
std::error_code change_interface_address(const std::string& interface_name, const net::IpAddress& address,
                                         bool add);

// The handover rules (hand_over): one nftables table per address family, rewritten whole at each change.
class Handovers {
 public:
  ~Handovers();
  // Hands `address` over to `previous_owner`, or stops (nullopt).
  std::error_code set(const net::IpAddress& address, std::optional<net::IpAddress> previous_owner);
  const std::string& error() const { return error_; }  // what nftables said of the last refusal

 private:
  std::error_code apply();
  std::map<net::IpAddress, net::IpAddress> to_;
  bool installed_ = false;
  std::string error_;
};
// The nftables commands for `handovers` (address -> previous owner): tables metalgate_handover (ip, ip6)
// replaced whole; with none, only their removal.
std::string handover_ruleset(const std::map<net::IpAddress, net::IpAddress>& handovers);

// Why a live speaker cannot run here (missing CAP_NET_RAW or CAP_NET_ADMIN), as a sentence; empty when it
// can.
std::string missing_live_capabilities();
// Makes the kernel answer ARP only for addresses on the interface a request arrives on, and announce only
// such addresses (net.ipv4.conf.{all,default}.arp_ignore=1, arp_announce=2): service addresses on `lo` then
// get no answer from the kernel, only from the speaker, and none at all once the speaker is gone.
// Returns what it replaced, for restore_kernel_arp() on a graceful exit.
std::error_code quiet_kernel_arp(std::vector<std::pair<std::string, std::string>>* previous = nullptr);
void restore_kernel_arp(const std::vector<std::pair<std::string, std::string>>& previous);
// Calls `on_signal` once for SIGTERM or SIGINT (from the loop, never from a signal handler).
void on_termination_signal(boost::asio::io_context& io, std::function<void(int)> on_signal);
// Calls `on_reload` for every SIGHUP (from the loop).
void on_reload_signal(boost::asio::io_context& io, std::function<void()> on_reload);

}  // namespace metalgate::runtime::asio_live
