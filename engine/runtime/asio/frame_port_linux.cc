// Frames through AF_PACKET SOCK_RAW sockets (one per EtherType, so the kernel filters for us) and link state
// from an rtnetlink RTMGRP_LINK subscription. SOCK_RAW rather than SOCK_DGRAM because only the raw form tells
// us the destination MAC, which the speaker checks before answering.
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>

#include "engine/runtime/asio/asio_runtime.h"

namespace metalgate::runtime::asio_live {

namespace asio = boost::asio;

namespace {

std::error_code last_error() {
  return {errno, std::system_category()};
}

struct PortState : std::enable_shared_from_this<PortState> {
  PortState(asio::io_context& io) : io_ref(io), link_watch(io) {}
  asio::io_context& io_ref;
  std::vector<std::unique_ptr<asio::posix::stream_descriptor>> sockets;
  asio::posix::stream_descriptor link_watch;
  FrameHandler* handler = nullptr;
  std::string name;
  int ifindex = 0;
  net::MacAddress mac;
  bool up = false;
  bool open = true;
  std::array<std::uint8_t, 2048> buffer;

  void wait_frames(std::size_t i) {
    sockets[i]->async_wait(asio::posix::stream_descriptor::wait_read,
                           [self = shared_from_this(), i](const boost::system::error_code& ec) {
                             if (!self->open || ec) return;
                             self->drain(i);
                             if (self->open) self->wait_frames(i);
                           });
  }

  void drain(std::size_t i) {
    int fd = sockets[i]->native_handle();
    for (int budget = 64; budget > 0 && open; --budget) {
      sockaddr_ll from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), MSG_DONTWAIT,
                             reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) return;                                  // EAGAIN: drained
      if (from.sll_pkttype == PACKET_OUTGOING) continue;  // our own sends, looped back to packet sockets
      if (n < 14) continue;                               // runt: not even an Ethernet header
      ReceivedFrame f;
      f.ifindex = from.sll_ifindex;
      std::array<std::uint8_t, 6> dst{}, src{};
      std::memcpy(dst.data(), buffer.data(), 6);
      std::memcpy(src.data(), buffer.data() + 6, 6);
      f.destination = net::MacAddress(dst);
      f.source = net::MacAddress(src);
      f.ethertype = static_cast<std::uint16_t>((buffer[12] << 8) | buffer[13]);
      switch (from.sll_pkttype) {
        case PACKET_HOST:
          f.addressing = FrameAddressing::kToUs;
          break;
        case PACKET_BROADCAST:
          f.addressing = FrameAddressing::kBroadcast;
          break;
        case PACKET_MULTICAST:
          f.addressing = FrameAddressing::kMulticast;
          break;
        default:
          f.addressing = FrameAddressing::kToOtherHost;
          break;
      }
      f.payload = ByteView(buffer.data() + 14, static_cast<std::size_t>(n) - 14);
      handler->on_frame(f);
    }
  }

  void wait_link() {
    link_watch.async_wait(asio::posix::stream_descriptor::wait_read,
                          [self = shared_from_this()](const boost::system::error_code& ec) {
                            if (!self->open || ec) return;
                            self->read_link_messages();
                            if (self->open) self->wait_link();
                          });
  }

  void read_link_messages() {
    std::array<char, 8192> msg;
    for (;;) {
      ssize_t n = ::recv(link_watch.native_handle(), msg.data(), msg.size(), MSG_DONTWAIT);
      if (n <= 0) return;
      for (auto* h = reinterpret_cast<nlmsghdr*>(msg.data()); NLMSG_OK(h, static_cast<unsigned>(n));
           h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) continue;
        auto* info = static_cast<ifinfomsg*>(NLMSG_DATA(h));
        if (info->ifi_index != ifindex) continue;
        bool now_up =
            h->nlmsg_type == RTM_NEWLINK && (info->ifi_flags & IFF_UP) && (info->ifi_flags & IFF_RUNNING);
        if (now_up != up) {
          up = now_up;
          handler->on_link_change(up);
          if (!open) return;
        }
      }
    }
  }
};

class LinuxFramePort final : public FramePort {
 public:
  explicit LinuxFramePort(std::shared_ptr<PortState> s) : s_(std::move(s)) {}
  ~LinuxFramePort() override {
    s_->open = false;
    boost::system::error_code ignored;
    for (auto& sock : s_->sockets)
      sock->close(ignored);
    s_->link_watch.close(ignored);
  }
  void send(const net::MacAddress& destination, std::uint16_t ethertype, ByteView payload) override {
    std::array<std::uint8_t, 1514> frame;
    if (payload.size() > frame.size() - 14) return;
    std::memcpy(frame.data(), destination.bytes().data(), 6);
    std::memcpy(frame.data() + 6, s_->mac.bytes().data(), 6);
    frame[12] = static_cast<std::uint8_t>(ethertype >> 8);
    frame[13] = static_cast<std::uint8_t>(ethertype);
    std::memcpy(frame.data() + 14, payload.data(), payload.size());
    std::size_t len = 14 + payload.size();
    if (len < 60) {  // pad to the Ethernet minimum ourselves: virtual NICs (veth) do not
      std::memset(frame.data() + len, 0, 60 - len);
      len = 60;
    }
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = s_->ifindex;
    to.sll_protocol = htons(ethertype);
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, destination.bytes().data(), 6);
    // Best effort like any frame: a full queue (ENOBUFS) or a downed link drops it.
    (void)::sendto(s_->sockets.front()->native_handle(), frame.data(), len, MSG_DONTWAIT,
                   reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  const std::string& interface_name() const override { return s_->name; }
  int ifindex() const override { return s_->ifindex; }
  net::MacAddress mac() const override { return s_->mac; }
  bool link_up() const override { return s_->up; }

 private:
  std::shared_ptr<PortState> s_;
};

}  // namespace

FramePortPtr open_linux_frame_port(asio::io_context& io, const std::string& interface_name,
                                   const std::vector<std::uint16_t>& ethertypes, FrameHandler& handler,
                                   std::error_code& error) {
  if (ethertypes.empty() || interface_name.size() >= IFNAMSIZ) {
    error = std::make_error_code(std::errc::invalid_argument);
    return nullptr;
  }
  auto s = std::make_shared<PortState>(io);
  s->handler = &handler;
  s->name = interface_name;
  s->ifindex = static_cast<int>(::if_nametoindex(interface_name.c_str()));
  if (s->ifindex == 0) {
    error = std::make_error_code(std::errc::no_such_device);
    return nullptr;
  }
  for (auto type : ethertypes) {
    int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(type));
    if (fd < 0) {
      error = last_error();  // EPERM without CAP_NET_RAW
      return nullptr;
    }
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(type);
    addr.sll_ifindex = s->ifindex;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      error = last_error();
      ::close(fd);
      return nullptr;
    }
    // A Neighbor Solicitation for a service address goes to its solicited-node group (33:33:ff:xx:xx:xx). The
    // address lives on the VIP interface (lo), so the kernel never joins that group here, and a NIC that
    // filters multicast (any physical NIC, virtio-net, macvlan) would drop every solicitation before this
    // socket sees it. Receive all multicast while the port is open; the kernel drops the membership with the
    // socket, also when the process is killed.
    if (type == kEtherTypeIpv6) {
      packet_mreq all_multicast{};
      all_multicast.mr_ifindex = s->ifindex;
      all_multicast.mr_type = PACKET_MR_ALLMULTI;
      if (::setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &all_multicast, sizeof all_multicast) < 0) {
        error = last_error();
        ::close(fd);
        return nullptr;
      }
    }
    s->sockets.push_back(std::make_unique<asio::posix::stream_descriptor>(io, fd));
  }

  // MAC address and the initial link state.
  int fd = s->sockets.front()->native_handle();
  ifreq req{};
  std::strncpy(req.ifr_name, interface_name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFHWADDR, &req) == 0) {
    std::array<std::uint8_t, 6> mac{};
    std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, 6);
    s->mac = net::MacAddress(mac);
  }
  if (::ioctl(fd, SIOCGIFFLAGS, &req) == 0) s->up = (req.ifr_flags & IFF_UP) && (req.ifr_flags & IFF_RUNNING);

  int nl = ::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl < 0) {
    error = last_error();
    return nullptr;
  }
  sockaddr_nl groups{};
  groups.nl_family = AF_NETLINK;
  groups.nl_groups = RTMGRP_LINK;
  if (::bind(nl, reinterpret_cast<sockaddr*>(&groups), sizeof groups) < 0) {
    error = last_error();
    ::close(nl);
    return nullptr;
  }
  s->link_watch.assign(nl);

  for (std::size_t i = 0; i < s->sockets.size(); ++i)
    s->wait_frames(i);
  s->wait_link();
  error.clear();
  return std::make_unique<LinuxFramePort>(std::move(s));
}

}  // namespace metalgate::runtime::asio_live
