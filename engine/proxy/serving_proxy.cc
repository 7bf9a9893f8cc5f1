#include "engine/proxy/serving_proxy.h"

#include <algorithm>
#include <chrono>

namespace metalgate::proxy {

void ServingProxy::reset() {
  sweep_.reset();
  draining_.clear();
  current_.reset();
}

void ServingProxy::drain(runtime::Duration keep_accepting) {
  if (current_) current_->drain(keep_accepting);
  for (auto& p : draining_)
    p->drain();
}

bool ServingProxy::idle() const {
  return (!current_ || current_->idle()) &&
         std::all_of(draining_.begin(), draining_.end(), [](const auto& p) { return p->idle(); });
}

std::error_code ServingProxy::replace(std::unique_ptr<Proxy> next, runtime::Runtime& rt) {
  current_->release_datagram_ports();  // UDP ports cannot be shared, even for a moment
  if (auto ec = next->start(current_.get())) {
    current_->start_datagram_services();
    return ec;
  }
  current_->stop_accepting();
  draining_.push_back(std::move(current_));
  current_ = std::move(next);
  if (!sweep_) {
    sweep_ = rt.create_timer([this] {
      std::erase_if(draining_, [](const auto& p) { return p->idle(); });
      if (draining_.empty()) sweep_->cancel();
    });
  }
  if (!sweep_->armed()) sweep_->arm_periodic(std::chrono::seconds(1));
  return {};
}

}  // namespace metalgate::proxy
