// Service addresses through rtnetlink RTM_NEWADDR/RTM_DELADDR, waiting for the kernel's acknowledgement.
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

}  // namespace metalgate::runtime::asio_live
