// Runs a Speaker over any Runtime: one frame port per interface (ARP and IPv6), one timer for announcements.
// Only the runtime port is used, so live nodes and simulated nodes run this same code.
#pragma once

#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "engine/runtime/runtime.h"
#include "engine/speaker/speaker.h"

namespace metalgate::speaker {

class SpeakerAgent {
 public:
  // Opens the interfaces; on failure `error` says why (e.g. operation_not_permitted without CAP_NET_RAW) and
  // the agent holds no ports.
  SpeakerAgent(runtime::Runtime& runtime, const std::vector<std::string>& interfaces, AnnouncePolicy policy,
               std::error_code& error);
  ~SpeakerAgent();

  void set_owned(const Speaker::Owned& owned, bool restart_all = false);
  void reannounce();
  const Speaker& core() const { return *speaker_; }

 private:
  struct Port;
  void send(const std::vector<OutgoingFrame>& frames);
  void rearm();

  runtime::Runtime& runtime_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::unique_ptr<Speaker> speaker_;
  runtime::TimerPtr timer_;
};

}  // namespace metalgate::speaker
