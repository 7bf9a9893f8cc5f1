// Runs Membership over any Runtime: one datagram socket, one timer, events logged, view changes reported.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "engine/membership/membership.h"
#include "engine/runtime/result.h"
#include "engine/runtime/runtime.h"

namespace metalgate::membership {

class MembershipAgent {
 public:
  using ViewCallback = std::function<void(const std::vector<std::string>& live_members)>;

  // Binds the membership socket; the failure says which address and why (taken, not local).
  static Result<std::unique_ptr<MembershipAgent>> open(runtime::Runtime& runtime, std::string self,
                                                       net::SocketAddress bind, MembershipConfig config);
  ~MembershipAgent();
  MembershipAgent(const MembershipAgent&) = delete;  // the socket's and timer's callbacks point here
  MembershipAgent& operator=(const MembershipAgent&) = delete;

  void join(const std::vector<net::SocketAddress>& seeds);
  void leave();
  void set_ready();
  // Called whenever the set of live members, or of ready ones, changes (and once after join).
  void on_view_change(ViewCallback callback) { on_view_ = std::move(callback); }
  // Called when this node refuted others' record of its death (Membership::deaths_refuted).
  void on_death_refuted(std::function<void()> callback) { on_refuted_ = std::move(callback); }
  const Membership& core() const { return *core_; }

 private:
  MembershipAgent(runtime::Runtime& runtime, std::string self, net::SocketAddress bind,
                  MembershipConfig config, std::error_code& error);
  void after_input();

  runtime::Runtime& runtime_;
  std::unique_ptr<Membership> core_;
  runtime::DatagramSocketPtr socket_;
  runtime::TimerPtr timer_;
  ViewCallback on_view_;
  std::function<void()> on_refuted_;
  std::uint64_t last_refuted_ = 0;
  std::vector<std::string> last_view_, last_ready_;
  std::uint64_t last_version_ = ~std::uint64_t{0};
};

}  // namespace metalgate::membership
