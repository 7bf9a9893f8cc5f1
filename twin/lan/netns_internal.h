// Pieces of the netns LAN shared by its .cc files; not part of the contract (netns_lan.h is).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/runtime/result.h"

struct nl_sock;

namespace metalgate::twin::detail {

struct SockFree {
  void operator()(nl_sock* sock) const;
};
// A NETLINK_ROUTE socket, bound for its whole life to the namespace it was connected in.
using Sock = std::unique_ptr<nl_sock, SockFree>;

// libnl's words for a (negative) libnl error code.
std::string nl_error(int err);
// "<step>: <strerror(errno)>".
std::string sys_error(const std::string& step);

// /run/netns exists and is a shared mount (as `ip netns add` leaves it), once per process.
Result<bool> ensure_netns_dir();
std::string netns_dir_path(const std::string& name);  // /run/netns/<name>

// A new network namespace bind-mounted at /run/netns/<name>, made on a short-lived thread (unshare, mount,
// connect a socket), with lo up and, when quiet, IPv6 off (the switch: its bridge and ports send nothing).
// Without quiet, IPv6 duplicate address detection is off in it (addresses usable at once).
struct MadeNamespace {
  Sock sock;
  int fd = -1;  // an O_RDONLY descriptor of the namespace (the caller closes it)
};
Result<MadeNamespace> make_namespace(const std::string& name, bool quiet);
// Unmounts (lazily) and unlinks /run/netns/<name>; the namespace dies with its last process and socket.
// Returns false (errno set) when neither was possible, true when the name is gone.
bool remove_namespace(const std::string& name);

// The shape of one end of a host's link: what netem (or its fallbacks) and tbf apply to its egress.
struct LinkShape {
  std::chrono::microseconds delay{0};
  double loss = 0;
  std::string rate;
  friend bool operator==(const LinkShape&, const LinkShape&) = default;
};
// What is installed on one device, so that a change removes only what is there.
struct ShapeState {
  bool root = false;    // a root qdisc of ours (netem or tbf)
  bool clsact = false;  // the loss program's clsact (kernels without sch_netem)
};
// Replaces the device's shaping with `shape`. `where` names the end for messages.
Result<bool> apply_shape(nl_sock* sock, int ifindex, const LinkShape& shape, ShapeState& state,
                         const std::string& where);
// "1Gbps", "100Mbps", "64kbit", … as bits per second; nullopt-like failure with words otherwise.
Result<std::uint64_t> parse_rate(const std::string& text);

}  // namespace metalgate::twin::detail
