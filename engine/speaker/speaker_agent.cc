#include "engine/speaker/speaker_agent.h"

namespace metalgate::speaker {

struct SpeakerAgent::Port final : runtime::FrameHandler {
  SpeakerAgent* agent = nullptr;
  std::string name;
  runtime::FramePortPtr port;
  void on_frame(const runtime::ReceivedFrame& frame) override {
    agent->send(agent->speaker_->on_frame(name, frame, agent->runtime_.now()));
  }
  void on_link_change(bool up) override {
    agent->runtime_.logger().log(runtime::LogLevel::kInfo, "speaker", up ? "link-up" : "link-down",
                                 {{"interface", name}});
    // Back on the wire: the switch may have forgotten us; announce everything we own again.
    if (up) agent->reannounce();
  }
};

SpeakerAgent::SpeakerAgent(runtime::Runtime& runtime, AnnouncePolicy policy) : runtime_(runtime), policy_(policy) {}

Result<std::unique_ptr<SpeakerAgent>> SpeakerAgent::open(runtime::Runtime& runtime,
                                                         const std::vector<std::string>& interfaces,
                                                         AnnouncePolicy policy) {
  std::unique_ptr<SpeakerAgent> agent(new SpeakerAgent(runtime, policy));
  if (auto error = agent->open_ports(interfaces); !error.empty()) return Failure{error};
  return agent;
}

std::string SpeakerAgent::open_ports(const std::vector<std::string>& interfaces) {
  std::vector<SpeakerInterface> described;
  for (const auto& name : interfaces) {
    auto p = std::make_unique<Port>();
    p->agent = this;
    p->name = name;
    std::error_code error;
    p->port = runtime_.open_frame_port(name, {runtime::kEtherTypeArp, runtime::kEtherTypeIpv6}, *p, error);
    if (error) {
      ports_.clear();
      return "cannot open interface " + name + ": " + error.message();
    }
    described.push_back({name, p->port->mac()});
    ports_.push_back(std::move(p));
  }
  speaker_ = std::make_unique<Speaker>(std::move(described), policy_);
  timer_ = runtime_.create_timer([this] { send(speaker_->handle_timeout(runtime_.now())); });
  return {};
}

SpeakerAgent::~SpeakerAgent() = default;

void SpeakerAgent::set_owned(const Speaker::Owned& owned, bool restart_all) {
  const bool log = runtime_.logger().enabled(runtime::LogLevel::kInfo);
  for (const auto& address : log ? speaker_->owned_addresses() : std::vector<net::IpAddress>{})
    if (!owned.count(address))
      runtime_.logger().log(runtime::LogLevel::kInfo, "speaker", "ownership-lost",
                            {{"vip", address.to_string()}});
  for (const auto& [address, interfaces] : owned)
    if (log && !speaker_->owns(address))
      runtime_.logger().log(runtime::LogLevel::kInfo, "speaker", "ownership-gained",
                            {{"vip", address.to_string()}});
  send(speaker_->set_owned(owned, runtime_.now(), restart_all));
}

void SpeakerAgent::reannounce() {
  send(speaker_->reannounce(runtime_.now()));
}

void SpeakerAgent::send(const std::vector<OutgoingFrame>& frames) {
  for (const auto& f : frames)
    for (const auto& p : ports_)
      if (p->name == f.interface) p->port->send(f.destination, f.ethertype, f.payload);
  rearm();
}

void SpeakerAgent::rearm() {
  if (!timer_) return;
  auto next = speaker_->next_timeout();
  if (!next) {
    timer_->cancel();
    return;
  }
  auto now = runtime_.now();
  timer_->arm(*next > now ? *next - now : runtime::Duration::zero());
}

}  // namespace metalgate::speaker
