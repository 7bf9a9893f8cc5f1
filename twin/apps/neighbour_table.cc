#include <linux/neighbour.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "engine/net/mac_address.h"
#include "twin/apps/app_spec.h"

namespace metalgate::twin {

namespace {

// The states in which the kernel sends to an entry's MAC (the kernel's NUD_VALID): not INCOMPLETE, FAILED.
constexpr int kUsable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;

struct SocketFree {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct CacheFree {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};

bool same_address(nl_addr* a, const net::IpAddress& ip) {
  const int family = ip.is_v4() ? AF_INET : AF_INET6;
  return a && nl_addr_get_family(a) == family && nl_addr_get_len(a) == ip.byte_length() &&
         std::memcmp(nl_addr_get_binary_addr(a), ip.bytes().data(), ip.byte_length()) == 0;
}

// The MAC of a usable entry for `ip` in this namespace's neighbour table, if any.
std::optional<net::MacAddress> neighbour_mac(const net::IpAddress& ip) {
  std::unique_ptr<nl_sock, SocketFree> sock(nl_socket_alloc());
  if (!sock || nl_connect(sock.get(), NETLINK_ROUTE) < 0) return std::nullopt;
  nl_cache* raw = nullptr;
  if (rtnl_neigh_alloc_cache(sock.get(), &raw) < 0) return std::nullopt;
  std::unique_ptr<nl_cache, CacheFree> cache(raw);
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* neigh = reinterpret_cast<rtnl_neigh*>(o);
    if (!(rtnl_neigh_get_state(neigh) & kUsable) || !same_address(rtnl_neigh_get_dst(neigh), ip)) continue;
    nl_addr* ll = rtnl_neigh_get_lladdr(neigh);
    if (!ll || nl_addr_get_len(ll) != 6) continue;
    std::array<std::uint8_t, 6> bytes{};
    std::memcpy(bytes.data(), nl_addr_get_binary_addr(ll), bytes.size());
    return net::MacAddress(bytes);
  }
  return std::nullopt;
}

}  // namespace

std::string neighbour_node(const net::IpAddress& address,
                           const std::map<std::string, std::string>& node_of_mac) {
  auto mac = neighbour_mac(address);
  if (!mac) return "";
  auto it = node_of_mac.find(mac->to_string());
  return it == node_of_mac.end() ? "" : it->second;
}

}  // namespace metalgate::twin
