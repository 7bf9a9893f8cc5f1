// The client side of the failover benchmark: every interval it asks who has the VIP (ARP) and pings it through the
// kernel (so the kernel's own neighbour cache decides where the echo goes, as for any client), and logs every ARP
// reply and echo reply for the VIP with the source MAC and CLOCK_REALTIME nanoseconds:
//   arp <ns> <mac> <round>      icmp <ns> <mac>
// Usage: vip_probe INTERFACE VIP INTERVAL_MS DURATION_MS    (root: raw sockets)
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

static std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

static std::uint16_t checksum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>((p[i] << 8) | p[i + 1]);
  if (n % 2) sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s INTERFACE VIP INTERVAL_MS DURATION_MS\n", argv[0]);
    return 2;
  }
  const char* ifname = argv[1];
  in_addr vip{};
  if (inet_pton(AF_INET, argv[2], &vip) != 1) return 2;
  const std::int64_t interval = std::atoll(argv[3]) * 1000000, duration = std::atoll(argv[4]) * 1000000;
  int ifindex = static_cast<int>(if_nametoindex(ifname));
  int sniff = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  int icmp = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (ifindex == 0 || sniff < 0 || icmp < 0) {
    std::perror("vip_probe");
    return 1;
  }
  sockaddr_ll bind_to{};
  bind_to.sll_family = AF_PACKET;
  bind_to.sll_protocol = htons(ETH_P_ALL);
  bind_to.sll_ifindex = ifindex;
  bind(sniff, reinterpret_cast<sockaddr*>(&bind_to), sizeof bind_to);
  ifreq req{};
  std::strncpy(req.ifr_name, ifname, IFNAMSIZ - 1);
  ioctl(sniff, SIOCGIFHWADDR, &req);
  std::uint8_t my_mac[6];
  std::memcpy(my_mac, req.ifr_hwaddr.sa_data, 6);
  ioctl(sniff, SIOCGIFADDR, &req);
  in_addr my_ip = reinterpret_cast<sockaddr_in*>(&req.ifr_addr)->sin_addr;

  const std::int64_t start = now_ns();
  std::int64_t next_send = start;
  std::uint32_t round = 0;
  std::uint8_t buf[2048];
  while (now_ns() - start < duration) {
    if (now_ns() >= next_send) {
      ++round;
      std::uint8_t arp[42] = {};
      std::memset(arp, 0xff, 6);
      std::memcpy(arp + 6, my_mac, 6);
      arp[12] = 0x08, arp[13] = 0x06, arp[15] = 1, arp[16] = 0x08, arp[18] = 6, arp[19] = 4, arp[21] = 1;
      std::memcpy(arp + 22, my_mac, 6);
      std::memcpy(arp + 28, &my_ip, 4);
      std::memcpy(arp + 38, &vip, 4);
      sockaddr_ll to{};
      to.sll_family = AF_PACKET;
      to.sll_ifindex = ifindex;
      to.sll_halen = 6;
      std::memset(to.sll_addr, 0xff, 6);
      sendto(sniff, arp, sizeof arp, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      std::uint8_t echo[16] = {8, 0, 0, 0, 0x4d, 0x47, static_cast<std::uint8_t>(round >> 8), static_cast<std::uint8_t>(round)};
      std::uint16_t sum = checksum(echo, sizeof echo);
      echo[2] = static_cast<std::uint8_t>(sum >> 8), echo[3] = static_cast<std::uint8_t>(sum);
      sockaddr_in dst{};
      dst.sin_family = AF_INET;
      dst.sin_addr = vip;
      sendto(icmp, echo, sizeof echo, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
      next_send += interval;
    }
    pollfd p{sniff, POLLIN, 0};
    std::int64_t wait_ms = (next_send - now_ns()) / 1000000;
    if (poll(&p, 1, static_cast<int>(wait_ms > 0 ? wait_ms : 0)) <= 0) continue;
    sockaddr_ll from{};
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(sniff, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 42 || from.sll_pkttype == PACKET_OUTGOING) continue;
    std::int64_t t = now_ns();
    char mac[18];
    std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", buf[6], buf[7], buf[8], buf[9], buf[10], buf[11]);
    std::uint16_t type = static_cast<std::uint16_t>((buf[12] << 8) | buf[13]);
    if (type == 0x0806 && buf[21] == 2 && std::memcmp(buf + 28, &vip, 4) == 0)
      std::printf("arp %lld %s %u\n", static_cast<long long>(t), mac, round);
    else if (type == 0x0800 && buf[23] == IPPROTO_ICMP && std::memcmp(buf + 26, &vip, 4) == 0 &&
             buf[14 + (buf[14] & 0x0f) * 4] == 0)
      std::printf("icmp %lld %s\n", static_cast<long long>(t), mac);
    std::fflush(stdout);
  }
  return 0;
}
