// The LAN: a switch namespace "<prefix>_switch" holding bridges br0, br1, … and, per host, a namespace
// "<prefix>-<host>" whose eth0 is a veth into that switch; the bridge-side end is "p<n>" (n counts hosts
// added, so a name is never reused within a LAN). Every step is one rtnetlink request through a socket that
// was connected inside the namespace it changes (one socket per namespace, kept for the LAN's life).
//
// Partitions are per-group bridges: group i's ports are enslaved to br<i> (br0 is the first group's, the one
// every unlisted and every new host is in). A frame, broadcasts and ARP included, is forwarded only among the
// ports of one bridge, so nothing crosses groups, and healing moves every port back to br0. Chosen over
// nftables bridge rules because it is plain rtnetlink (one request per moved port), needs no ruleset to keep
// consistent, and an unpartitioned LAN carries no filtering cost at all.
//
// Not thread-safe: one thread drives a LAN.
#include "twin/lan/netns_lan.h"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>

#include "twin/lan/netns_internal.h"

namespace metalgate::twin {
namespace {

std::atomic<unsigned> lan_counter{0};

// Interface indexes in the switch namespace are ours to choose (every device there is made by this class):
// requests then need no lookup.
constexpr int kBridgeIndexBase = 100;
constexpr int kPortIndexBase = 1000;

Failure fail(const std::string& step, int nl_err) {
  return Failure{step + ": " + detail::nl_error(nl_err)};
}

// The link `ifindex` with IFF_UP set or cleared, and/or enslaved to `master` (0: unchanged).
int change_link(nl_sock* sock, int ifindex, std::optional<bool> up, int master) {
  rtnl_link* link = rtnl_link_alloc();
  rtnl_link_set_ifindex(link, ifindex);
  if (up) *up ? rtnl_link_set_flags(link, IFF_UP) : rtnl_link_unset_flags(link, IFF_UP);
  if (master != 0) rtnl_link_set_master(link, master);
  int err = rtnl_link_change(sock, link, link, 0);
  rtnl_link_put(link);
  return err;
}

// A permanent neighbour entry: `ip` is at `mac` on `ifindex`, never resolved, never expired.
int add_permanent_neighbour(nl_sock* sock, int ifindex, const net::IpAddress& ip,
                            const net::MacAddress& mac) {
  rtnl_neigh* neigh = rtnl_neigh_alloc();
  nl_addr* dst = nl_addr_build(ip.is_v4() ? AF_INET : AF_INET6, ip.bytes().data(), ip.byte_length());
  nl_addr* lladdr = nl_addr_build(AF_LLC, mac.bytes().data(), mac.bytes().size());
  rtnl_neigh_set_ifindex(neigh, ifindex);
  int err = rtnl_neigh_set_dst(neigh, dst);
  rtnl_neigh_set_lladdr(neigh, lladdr);
  rtnl_neigh_set_state(neigh, NUD_PERMANENT);
  if (err == 0) err = rtnl_neigh_add(sock, neigh, NLM_F_CREATE | NLM_F_REPLACE);
  nl_addr_put(lladdr);
  nl_addr_put(dst);
  rtnl_neigh_put(neigh);
  return err;
}

int add_address(nl_sock* sock, int ifindex, const net::IpAddress& ip, int prefix_length) {
  rtnl_addr* addr = rtnl_addr_alloc();
  nl_addr* local = nl_addr_build(ip.is_v4() ? AF_INET : AF_INET6, ip.bytes().data(), ip.byte_length());
  nl_addr_set_prefixlen(local, prefix_length);
  rtnl_addr_set_ifindex(addr, ifindex);
  int err = rtnl_addr_set_local(addr, local);
  if (ip.is_v6()) rtnl_addr_set_flags(addr, IFA_F_NODAD);  // usable at once: no duplicate detection wait
  if (err == 0) err = rtnl_addr_add(sock, addr, 0);
  nl_addr_put(local);
  rtnl_addr_put(addr);
  return err;
}

std::string check_host_name(const std::string& name) {
  if (name.empty()) return "a host needs a name";
  if (name.find('/') != std::string::npos || name == "." || name == "..") {
    return "host name \"" + name + "\" cannot name a file in /run/netns";
  }
  if (name.size() > 200) return "host name \"" + name + "\" is longer than 200 characters";
  return "";
}

}  // namespace

struct NetnsLan::State {
  struct Host {
    NetnsHost spec;
    std::string ns;
    detail::Sock sock;  // connected inside the host's namespace
    int eth0 = 0;       // in the host's namespace
    int port = 0;       // the bridge-side end, in the switch namespace
    std::size_t group = 0;
    detail::LinkShape shape;
    detail::ShapeState host_end, port_end;
  };

  NetnsLanOptions options;
  std::string switch_ns;
  detail::Sock switch_sock;
  std::vector<int> bridges;                  // ifindex of br<i>, the bridge of partition group i
  std::vector<std::unique_ptr<Host>> hosts;  // in the order added
  std::map<std::string, Host*> by_name;
  std::vector<std::string> namespaces;  // every namespace made, for the destructor
  int ports_made = 0;

  Host* find(const std::string& name) {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  }
  Result<bool> add_bridge();
  Result<bool> add_veth(Host& host, int ns_fd, int port_number);
  Result<bool> configure_host(Host& host);
  Result<bool> shape(Host& host);
  // One of the host's shape's fields changed by `change`, both ends rebuilt; the shape kept only on success.
  Result<bool> reshape(const std::string& name, const char* what,
                       const std::function<void(detail::LinkShape&)>& change);
};

Result<bool> NetnsLan::State::add_bridge() {
  const std::size_t i = bridges.size();
  const int ifindex = kBridgeIndexBase + static_cast<int>(i);
  rtnl_link* bridge = rtnl_link_bridge_alloc();
  rtnl_link_set_name(bridge, ("br" + std::to_string(i)).c_str());
  rtnl_link_set_ifindex(bridge, ifindex);
  rtnl_link_set_flags(bridge, IFF_UP);
  int err = rtnl_link_add(switch_sock.get(), bridge, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_put(bridge);
  if (err < 0) return fail("adding bridge br" + std::to_string(i) + " in " + switch_ns, err);
  bridges.push_back(ifindex);
  return true;
}

// The veth made in the switch namespace with its peer placed straight into the host's: "p<n>" enslaved to
// br0 and up, "eth0" with the host's MAC (configure_host brings it up). Nothing of it ever exists in the root
// namespace.
Result<bool> NetnsLan::State::add_veth(Host& host, int ns_fd, int port_number) {
  const std::string port_name = "p" + std::to_string(port_number);
  host.port = kPortIndexBase + port_number;
  rtnl_link* port = rtnl_link_veth_alloc();
  rtnl_link_set_name(port, port_name.c_str());
  rtnl_link_set_ifindex(port, host.port);
  rtnl_link_set_master(port, bridges[0]);
  rtnl_link_set_flags(port, IFF_UP);
  rtnl_link* eth0 = rtnl_link_veth_get_peer(port);
  rtnl_link_set_name(eth0, "eth0");
  const auto& mac = host.spec.mac.bytes();
  nl_addr* lladdr = nl_addr_build(AF_LLC, mac.data(), mac.size());
  rtnl_link_set_addr(eth0, lladdr);
  nl_addr_put(lladdr);
  rtnl_link_set_ns_fd(eth0, ns_fd);  // left down: veth refuses to open a peer not yet paired (ENOTCONN)
  rtnl_link_put(eth0);               // the reference rtnl_link_veth_get_peer gave
  int err = rtnl_link_add(switch_sock.get(), port, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_veth_release(port);
  if (err < 0)
    return fail("creating veth " + port_name + "/eth0 from " + switch_ns + " into " + host.ns, err);
  return true;
}

// eth0's index (the kernel picks it in the host's namespace) and the host's addresses.
Result<bool> NetnsLan::State::configure_host(Host& host) {
  rtnl_link* eth0 = nullptr;
  int err = rtnl_link_get_kernel(host.sock.get(), 0, "eth0", &eth0);
  if (err < 0) return fail("finding eth0 in " + host.ns, err);
  host.eth0 = rtnl_link_get_ifindex(eth0);
  rtnl_link_put(eth0);
  if ((err = change_link(host.sock.get(), host.eth0, true, 0)) < 0)
    return fail("bringing eth0 up in " + host.ns, err);
  const net::IpAddress& v4 = host.spec.address;
  err = add_address(host.sock.get(), host.eth0, v4,
                    v4.is_v4() ? options.prefix_length : options.prefix_length6);
  if (err < 0) return fail("adding address " + v4.to_string() + " in " + host.ns, err);
  if (host.spec.address6) {
    err = add_address(host.sock.get(), host.eth0, *host.spec.address6, options.prefix_length6);
    if (err < 0) return fail("adding address " + host.spec.address6->to_string() + " in " + host.ns, err);
  }
  return true;
}

// Both ends of the host's link get its shape: eth0's egress (towards the switch) and the port's (towards it).
Result<bool> NetnsLan::State::shape(Host& host) {
  auto done = detail::apply_shape(host.sock.get(), host.eth0, host.shape, host.host_end, host.ns + " eth0");
  if (!done) return done;
  return detail::apply_shape(switch_sock.get(), host.port, host.shape, host.port_end,
                             switch_ns + " p" + std::to_string(host.port - kPortIndexBase));
}

Result<bool> NetnsLan::State::reshape(const std::string& name, const char* what,
                                      const std::function<void(detail::LinkShape&)>& change) {
  Host* host = find(name);
  if (host == nullptr) return Failure{std::string(what) + ": no host " + name + " on " + switch_ns};
  detail::LinkShape before = host->shape;
  change(host->shape);
  auto done = shape(*host);
  if (done) return done;
  host->shape = before;
  return Failure{std::string(what) + " " + name + ": " + done.error()};
}

Result<std::unique_ptr<NetnsLan>> NetnsLan::create(NetnsLanOptions options) {
  if (options.prefix.empty()) {
    options.prefix = "mgt-" + std::to_string(::getpid()) + "-" + std::to_string(lan_counter.fetch_add(1));
  }
  if (options.prefix.find('/') != std::string::npos)
    return Failure{"LAN prefix " + options.prefix + " has a /"};
  if (!options.rate.empty()) {
    if (auto rate = detail::parse_rate(options.rate); !rate)
      return Failure{"LAN " + options.prefix + ": " + rate.error()};
  }
  std::unique_ptr<NetnsLan> lan(new NetnsLan());
  lan->prefix_ = options.prefix;
  lan->state_ = std::make_unique<State>();
  State& state = *lan->state_;
  state.options = std::move(options);
  state.switch_ns = lan->prefix_ + "_switch";
  auto made = detail::make_namespace(state.switch_ns, /*quiet=*/true);
  if (!made) return Failure{"creating the LAN's switch: " + made.error()};
  state.namespaces.push_back(state.switch_ns);
  ::close(made->fd);
  state.switch_sock = std::move(made->sock);
  if (auto bridge = state.add_bridge(); !bridge)
    return Failure{"creating the LAN's switch: " + bridge.error()};
  return lan;
}

NetnsLan::~NetnsLan() {
  if (!state_) return;
  // Our sockets hold their namespaces; close them first so that unlinking the names lets the namespaces go.
  for (auto& host : state_->hosts)
    host->sock.reset();
  state_->switch_sock.reset();
  for (const std::string& name : state_->namespaces)
    detail::remove_namespace(name);
}

Result<bool> NetnsLan::add_host(const NetnsHost& spec) {
  State& state = *state_;
  if (std::string why = check_host_name(spec.name); !why.empty()) return Failure{"add_host: " + why};
  if (state.find(spec.name) != nullptr) return Failure{"add_host " + spec.name + ": already on the LAN"};
  auto host = std::make_unique<State::Host>();
  host->spec = spec;
  host->ns = prefix_ + "-" + spec.name;
  host->shape = {state.options.delay, state.options.loss, state.options.rate};
  auto made = detail::make_namespace(host->ns, /*quiet=*/false);
  if (!made) return Failure{"add_host " + spec.name + ": " + made.error()};
  host->sock = std::move(made->sock);
  Result<bool> done = state.add_veth(*host, made->fd, state.ports_made++);
  ::close(made->fd);
  if (done) done = state.configure_host(*host);
  if (done && !(host->shape == detail::LinkShape{})) done = state.shape(*host);
  if (!done) {
    host->sock.reset();
    detail::remove_namespace(host->ns);  // its veth goes with it
    return Failure{"add_host " + spec.name + ": " + done.error()};
  }
  state.namespaces.push_back(host->ns);
  state.by_name[spec.name] = host.get();
  state.hosts.push_back(std::move(host));
  return true;
}

Result<bool> NetnsLan::pin_neighbours(const std::vector<std::string>& names) {
  std::vector<State::Host*> pinned;
  for (const auto& name : names) {
    State::Host* host = state_->find(name);
    if (host == nullptr) return Failure{"pin_neighbours: no host " + name + " on LAN " + prefix_};
    pinned.push_back(host);
  }
  for (State::Host* host : pinned) {
    for (State::Host* other : pinned) {
      if (other == host) continue;
      std::vector<net::IpAddress> addresses{other->spec.address};
      if (other->spec.address6) addresses.push_back(*other->spec.address6);
      for (const auto& ip : addresses) {
        int err = add_permanent_neighbour(host->sock.get(), host->eth0, ip, other->spec.mac);
        if (err < 0)
          return fail("pin_neighbours: " + other->spec.name + " (" + ip.to_string() + ") in " + host->ns,
                      err);
      }
    }
  }
  return true;
}

std::string NetnsLan::netns_path(const std::string& host) const {
  return detail::netns_dir_path(prefix_ + "-" + host);
}

std::vector<std::string> NetnsLan::hosts() const {
  std::vector<std::string> names;
  for (const auto& host : state_->hosts)
    names.push_back(host->spec.name);
  return names;
}

Result<bool> NetnsLan::set_host_link(const std::string& name, bool up) {
  State::Host* host = state_->find(name);
  if (host == nullptr) return Failure{"set_host_link: no host " + name + " on LAN " + prefix_};
  // A veth end that goes down takes its peer's carrier: the bridge port stops forwarding too.
  int err = change_link(host->sock.get(), host->eth0, up, 0);
  if (err < 0)
    return fail(std::string("set_host_link ") + name + (up ? " up" : " down") + ": eth0 in " + host->ns, err);
  return true;
}

Result<bool> NetnsLan::set_partition(const std::vector<std::vector<std::string>>& groups) {
  State& state = *state_;
  std::map<std::string, std::size_t> group_of;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (const std::string& name : groups[g]) {
      if (state.find(name) == nullptr)
        return Failure{"set_partition: no host " + name + " on LAN " + prefix_};
      if (!group_of.emplace(name, g).second)
        return Failure{"set_partition: host " + name + " is in two groups"};
    }
  }
  while (state.bridges.size() < groups.size()) {
    if (auto bridge = state.add_bridge(); !bridge) return Failure{"set_partition: " + bridge.error()};
  }
  for (auto& host : state.hosts) {
    auto it = group_of.find(host->spec.name);
    const std::size_t group = it == group_of.end() ? 0 : it->second;  // unlisted: the first group
    if (group == host->group) continue;
    int err = change_link(state.switch_sock.get(), host->port, std::nullopt, state.bridges[group]);
    if (err < 0)
      return fail("set_partition: moving " + host->spec.name + "'s port to br" + std::to_string(group), err);
    host->group = group;
  }
  return true;
}

Result<bool> NetnsLan::set_link_loss(const std::string& host, double loss) {
  if (!(loss >= 0 && loss <= 1)) return Failure{"set_link_loss " + host + ": loss must be within 0..1"};
  return state_->reshape(host, "set_link_loss", [&](detail::LinkShape& shape) { shape.loss = loss; });
}

Result<bool> NetnsLan::set_link_delay(const std::string& host, std::chrono::microseconds delay) {
  if (delay.count() < 0) return Failure{"set_link_delay " + host + ": a delay cannot be negative"};
  return state_->reshape(host, "set_link_delay", [&](detail::LinkShape& shape) { shape.delay = delay; });
}

Result<bool> NetnsLan::set_link_rate(const std::string& host, const std::string& rate) {
  return state_->reshape(host, "set_link_rate", [&](detail::LinkShape& shape) { shape.rate = rate; });
}

}  // namespace metalgate::twin
