// Service addresses through rtnetlink RTM_NEWADDR/RTM_DELADDR, waiting for the kernel's acknowledgement.
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/if_ether.h>
#include <sys/syscall.h>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "engine/runtime/asio/asio_runtime.h"

namespace metalgate::runtime::asio_live {

namespace {

void add_attribute(nlmsghdr* h, std::size_t capacity, unsigned short type, const void* data,
                   std::size_t len) {
  std::size_t at = NLMSG_ALIGN(h->nlmsg_len);
  std::size_t total = RTA_LENGTH(len);
  if (at + RTA_ALIGN(total) > capacity) return;
  auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(h) + at);
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(total);
  std::memcpy(RTA_DATA(rta), data, len);
  h->nlmsg_len = static_cast<std::uint32_t>(at + RTA_ALIGN(total));
}

}  // namespace

std::error_code change_interface_address(const std::string& interface_name, const net::IpAddress& address,
                                         bool add) {
  unsigned ifindex = ::if_nametoindex(interface_name.c_str());
  if (ifindex == 0) return std::make_error_code(std::errc::no_such_device);

  alignas(nlmsghdr) char request[256] = {};
  auto* h = reinterpret_cast<nlmsghdr*>(request);
  h->nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  h->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? (NLM_F_CREATE | NLM_F_EXCL) : 0);
  h->nlmsg_seq = 1;
  auto* ifa = static_cast<ifaddrmsg*>(NLMSG_DATA(h));
  ifa->ifa_family = address.is_v4() ? AF_INET : AF_INET6;
  ifa->ifa_prefixlen = address.is_v4() ? 32 : 128;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = ifindex;
  // No duplicate address detection for IPv6 service addresses: usable (bindable) at once.
  if (address.is_v6()) ifa->ifa_flags = IFA_F_NODAD;
  add_attribute(h, sizeof request, IFA_LOCAL, address.bytes().data(), address.byte_length());
  add_attribute(h, sizeof request, IFA_ADDRESS, address.bytes().data(), address.byte_length());

  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return {errno, std::system_category()};
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  std::error_code result;
  if (::sendto(fd, request, h->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    result = {errno, std::system_category()};
  } else {
    alignas(nlmsghdr) char reply[1024];
    ssize_t n = ::recv(fd, reply, sizeof reply, 0);
    if (n < 0) {
      result = {errno, std::system_category()};
    } else {
      for (auto* r = reinterpret_cast<nlmsghdr*>(reply); NLMSG_OK(r, static_cast<unsigned>(n));
           r = NLMSG_NEXT(r, n)) {
        if (r->nlmsg_type == NLMSG_ERROR) {
          auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(r));
          if (err->error != 0) result = {-err->error, std::system_category()};
          break;
        }
      }
    }
  }
  ::close(fd);
  return result;
}

std::string missing_live_capabilities() {
  // Read the effective capability set; probing by trying would change the system.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0)
    return "cannot read capabilities: " + std::string(std::strerror(errno));
  auto has = [&](int cap) { return (data[cap / 32].effective & (1u << (cap % 32))) != 0; };
  std::string missing;
  if (!has(CAP_NET_RAW)) missing += "CAP_NET_RAW (raw ARP/NDP frames)";
  if (!has(CAP_NET_ADMIN))
    missing += std::string(missing.empty() ? "" : " and ") + "CAP_NET_ADMIN (service addresses, ARP sysctls)";
  return missing.empty()
             ? ""
             : "missing " + missing + ": run as root or grant them (setcap cap_net_raw,cap_net_admin+ep)";
}

std::error_code quiet_kernel_arp(std::vector<std::pair<std::string, std::string>>* previous) {
  for (const char* conf : {"all", "default"}) {
    for (auto [key, value] : {std::pair{"arp_ignore", "1"}, std::pair{"arp_announce", "2"}}) {
      std::string path = std::string("/proc/sys/net/ipv4/conf/") + conf + "/" + key;
      if (previous) {
        std::ifstream in(path);
        std::string old;
        if (in >> old) previous->emplace_back(path, old);
      }
      std::ofstream out(path);
      if (!(out << value << "\n")) return {errno ? errno : EACCES, std::system_category()};
    }
  }
  return {};
}

void restore_kernel_arp(const std::vector<std::pair<std::string, std::string>>& previous) {
  for (const auto& [path, value] : previous)
    std::ofstream(path) << value << "\n";
}

void on_termination_signal(boost::asio::io_context& io, std::function<void(int)> on_signal) {
  auto signals = std::make_shared<boost::asio::signal_set>(io, SIGTERM, SIGINT);
  signals->async_wait(
      [signals, on_signal = std::move(on_signal)](const boost::system::error_code& ec, int number) {
        if (!ec) on_signal(number);
      });
}

namespace {
void wait_for_hangup(const std::shared_ptr<boost::asio::signal_set>& signals,
                     const std::shared_ptr<std::function<void()>>& on_reload) {
  signals->async_wait([signals, on_reload](const boost::system::error_code& ec, int) {
    if (ec) return;
    (*on_reload)();
    wait_for_hangup(signals, on_reload);
  });
}
}  // namespace

void on_reload_signal(boost::asio::io_context& io, std::function<void()> on_reload) {
  wait_for_hangup(std::make_shared<boost::asio::signal_set>(io, SIGHUP),
                  std::make_shared<std::function<void()>>(std::move(on_reload)));
}

}  // namespace metalgate::runtime::asio_live
