#include "engine/membership/membership_agent.h"

namespace metalgate::membership {

MembershipAgent::MembershipAgent(runtime::Runtime& runtime, std::string self, net::SocketAddress bind,
                                 MembershipConfig config, std::error_code& error)
    : runtime_(runtime),
      core_(std::make_unique<Membership>(self, bind, config, runtime.random().next_u64())) {
  socket_ = runtime_.open_datagram(
      bind,
      [this](const net::SocketAddress& from, const net::SocketAddress&, runtime::ByteView payload) {
        core_->on_datagram(from, payload, runtime_.now());
        after_input();
      },
      error);
  timer_ = runtime_.create_timer([this] {
    core_->handle_timeout(runtime_.now());
    after_input();
  });
}

Result<std::unique_ptr<MembershipAgent>> MembershipAgent::open(runtime::Runtime& runtime, std::string self,
                                                               net::SocketAddress bind,
                                                               MembershipConfig config) {
  std::error_code error;
  std::unique_ptr<MembershipAgent> agent(new MembershipAgent(runtime, std::move(self), bind, config, error));
  if (error) return Failure{"cannot bind the membership socket " + bind.to_string() + ": " + error.message()};
  return agent;
}

MembershipAgent::~MembershipAgent() = default;

void MembershipAgent::join(const std::vector<net::SocketAddress>& seeds) {
  core_->join(seeds, runtime_.now());
  after_input();
}

void MembershipAgent::set_ready() {
  core_->set_ready(runtime_.now());
  after_input();
}

void MembershipAgent::leave() {
  core_->leave(runtime_.now());
  after_input();
}

void MembershipAgent::after_input() {
  if (socket_)
    for (const auto& d : core_->take_outgoing())
      socket_->send_to(d.to, d.payload);
  auto events = core_->take_events();
  if (runtime_.logger().enabled(runtime::LogLevel::kInfo))
    for (const auto& e : events)
      runtime_.logger().log(runtime::LogLevel::kInfo, "membership",
                            "member-" + std::string(to_string(e.state)),
                            {{"self", core_->self()}, {"member", e.member}, {"reason", e.reason}});
  if (core_->deaths_refuted() != last_refuted_) {
    last_refuted_ = core_->deaths_refuted();
    if (on_refuted_) on_refuted_();
  }
  // Views are rebuilt only when something in them may have changed (most messages change nothing).
  if (core_->view_version() != last_version_) {
    last_version_ = core_->view_version();
    auto view = core_->live_members();
    auto ready = core_->ready_members();
    if (view != last_view_ || ready != last_ready_) {
      last_view_ = view;
      last_ready_ = std::move(ready);
      if (on_view_) on_view_(view);
    }
  }
  if (auto next = core_->next_timeout()) {
    auto now = runtime_.now();
    timer_->arm(*next > now ? *next - now : runtime::Duration::zero());
  } else {
    timer_->cancel();
  }
}

}  // namespace metalgate::membership
