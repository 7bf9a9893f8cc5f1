// Runs a Speaker over any Runtime: one frame port per interface (ARP and IPv6), one timer for announcements.
// Only the runtime port is used, so live nodes and simulated nodes run this same code.
#pragma once

#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "engine/runtime/result.h"
#include "engine/runtime/runtime.h"
#include "engine/speaker/speaker.h"

namespace metalgate::speaker {

class SpeakerAgent {
 public:
  // Opens the interfaces; the failure names the interface and why (e.g. operation not permitted without
  // CAP_NET_RAW, no such device), and then no port stays open.
  static Result<std::unique_ptr<SpeakerAgent>> open(runtime::Runtime& runtime,
                                                    const std::vector<std::string>& interfaces,
                                                    AnnouncePolicy policy);
  ~SpeakerAgent();
  SpeakerAgent(const SpeakerAgent&) = delete;  // the ports point back here
  SpeakerAgent& operator=(const SpeakerAgent&) = delete;

  void set_owned(const Speaker::Owned& owned, bool restart_all = false);
  void reannounce();
  const Speaker& core() const { return *speaker_; }

 private:
  struct Port;
  SpeakerAgent(runtime::Runtime& runtime, AnnouncePolicy policy);
  std::string open_ports(const std::vector<std::string>& interfaces);
  void send(const std::vector<OutgoingFrame>& frames);
  void rearm();

  runtime::Runtime& runtime_;
  AnnouncePolicy policy_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::unique_ptr<Speaker> speaker_;
  runtime::TimerPtr timer_;
};

}  // namespace metalgate::speaker
