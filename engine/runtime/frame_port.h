// Ethernet frames of chosen EtherTypes on one named interface: how the speaker sends and hears ARP and NDP.
// Shaped after what every world can give: Linux AF_PACKET and ns-3's PacketSocket hand over the payload after
// the Ethernet header, the source MAC, the interface index and a packet kind, so that is the whole contract.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/net/mac_address.h"
#include "engine/runtime/bytes.h"

namespace metalgate::runtime {

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;

// Who the frame was addressed to, as Linux's sll_pkttype tells it.
enum class FrameAddressing : std::uint8_t { kToUs, kBroadcast, kMulticast, kToOtherHost };

struct ReceivedFrame {
  int ifindex = 0;
  net::MacAddress source;
  // Known in the live world; worlds that cannot tell (ns-3) give our own MAC or broadcast by addressing.
  net::MacAddress destination;
  std::uint16_t ethertype = 0;
  FrameAddressing addressing = FrameAddressing::kToUs;
  ByteView payload;  // after the Ethernet header; valid only during the call; may carry trailing padding
};

class FrameHandler {
 public:
  virtual ~FrameHandler() = default;
  virtual void on_frame(const ReceivedFrame& frame) = 0;
  virtual void on_link_change(bool up) = 0;
};

class FramePort {
 public:
  // Destroying the port stops delivery at once.
  virtual ~FramePort() = default;
  // Sends one frame from this interface's own MAC. Frames this port sends are not delivered back to it.
  virtual void send(const net::MacAddress& destination, std::uint16_t ethertype, ByteView payload) = 0;
  virtual const std::string& interface_name() const = 0;
  virtual int ifindex() const = 0;
  virtual net::MacAddress mac() const = 0;
  virtual bool link_up() const = 0;
};

using FramePortPtr = std::unique_ptr<FramePort>;

}  // namespace metalgate::runtime
