// The Layer-2 speaker's protocol core, sans I/O: frames, ownership and `now` in; frames to send out.
//
// - Answers ARP requests and IPv6 Neighbor Solicitations for an address only while this node owns it, only on
// the
//   interfaces its L2Advertisement allows, only for frames sent to broadcast/multicast or to our MAC,
//   replying unicast to the asker from the interface's MAC.
// - On taking ownership announces at once (ARP: a gratuitous request and a gratuitous reply; IPv6: an
// unsolicited
//   NA with the Override flag to ff02::1) and repeats per AnnouncePolicy; optionally refreshes forever after.
// - Stops answering the instant ownership is lost.
// - Malformed, truncated and foreign frames are counted and ignored.
// Which addresses it owns comes from outside (membership + election); the caller passes only pool addresses.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/net/ip_address.h"
#include "engine/net/mac_address.h"
#include "engine/runtime/bytes.h"
#include "engine/runtime/frame_port.h"
#include "engine/runtime/time.h"

namespace metalgate::speaker {

struct SpeakerInterface {
  std::string name;
  net::MacAddress mac;
};

struct AnnouncePolicy {
  // Announcement rounds when ownership is taken: the first at once, the rest `spacing` apart.
  int rounds = 4;
  // Linux takes a reply-form GARP as an update only after its 1 s locktime since the last change: keep > 1 s.
  runtime::Duration spacing = std::chrono::milliseconds(1100);
  // Announce again every `refresh` after the burst (switch MAC tables age out); zero turns it off.
  runtime::Duration refresh = runtime::Duration::zero();
};

struct OutgoingFrame {
  std::string interface;
  net::MacAddress destination;
  std::uint16_t ethertype = 0;
  runtime::Bytes payload;
};

struct SpeakerCounters {
  std::uint64_t arp_requests_seen = 0;
  std::uint64_t arp_replies_sent = 0;
  std::uint64_t neighbor_solicitations_seen = 0;
  std::uint64_t neighbor_advertisements_sent = 0;
  std::uint64_t announcements_sent = 0;  // gratuitous ARP and unsolicited NA frames
  std::uint64_t malformed = 0;
  std::uint64_t ignored_not_owner = 0;
  std::uint64_t ignored_wrong_interface = 0;
  std::uint64_t ignored_not_addressed_to_us = 0;
  std::uint64_t conflicts_seen = 0;  // another MAC announced an address we own
};

// Per address, as MetalLB's metallb_layer2_* counters (label ip): requests for it while owned (ARP requests
// and neighbor solicitations), answers, and announcements (gratuitous ARP and unsolicited NA frames).
struct AddressCounters {
  std::uint64_t requests_received = 0;
  std::uint64_t responses_sent = 0;
  std::uint64_t gratuitous_sent = 0;
};

class Speaker {
 public:
  using Owned =
      std::map<net::IpAddress, std::vector<std::string>>;  // address -> allowed interfaces (empty: all)

  explicit Speaker(std::vector<SpeakerInterface> interfaces, AnnouncePolicy policy = {});

  // Replaces what this node owns. Newly owned addresses are announced at once (the frames are returned) and
  // then per the policy through handle_timeout; addresses no longer owned get no answer from now on.
  // With restart_all, addresses already owned announce again too: at once when their burst is over, and by
  // extending the burst when one is under way (a wave of membership changes, as when a whole rack boots,
  // must not multiply the broadcasts: the burst already in flight keeps announcing after the latest change).
  std::vector<OutgoingFrame> set_owned(const Owned& owned, runtime::Instant now, bool restart_all = false);
  // Starts a new announcement burst for everything owned (the owner re-announces on every membership change).
  std::vector<OutgoingFrame> reannounce(runtime::Instant now);

  std::vector<OutgoingFrame> on_frame(const std::string& interface, const runtime::ReceivedFrame& frame,
                                      runtime::Instant now);
  std::vector<OutgoingFrame> handle_timeout(runtime::Instant now);
  std::optional<runtime::Instant> next_timeout() const;

  bool owns(const net::IpAddress& address) const { return owned_.count(address) > 0; }
  std::vector<net::IpAddress> owned_addresses() const;
  const SpeakerCounters& counters() const { return counters_; }
  // Every address owned now or before (kept when ownership moves on, as counters are).
  const std::map<net::IpAddress, AddressCounters>& address_counters() const { return per_address_; }

 private:
  struct Ownership {
    std::vector<std::string> interfaces;
    int rounds_left = 0;
    runtime::Instant next_round{};
    bool scheduled = false;
    bool bursting = false;  // within the `rounds` of a burst (not waiting for a refresh)
  };
  const SpeakerInterface* interface_named(const std::string& name) const;
  bool allowed_on(const Ownership& o, const std::string& interface) const;
  void announce(const net::IpAddress& address, const Ownership& o, std::vector<OutgoingFrame>& out);
  void start_burst(Ownership& o, runtime::Instant now);
  void on_arp(const SpeakerInterface& ifc, const runtime::ReceivedFrame& frame,
              std::vector<OutgoingFrame>& out);
  void on_ipv6(const SpeakerInterface& ifc, const runtime::ReceivedFrame& frame,
               std::vector<OutgoingFrame>& out);

  std::vector<SpeakerInterface> interfaces_;
  AnnouncePolicy policy_;
  std::map<net::IpAddress, Ownership> owned_;
  SpeakerCounters counters_;
  std::map<net::IpAddress, AddressCounters> per_address_;
};

}  // namespace metalgate::speaker
