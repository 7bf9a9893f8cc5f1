#include "scenario/apps/udp_load_client.h"
#include "scenario/apps/record_clock.h"

#include <string_view>

namespace metalgate::apps {

namespace {
using scenario::observe::RequestRecord;

constexpr auto us = microseconds_of;
}  // namespace

UdpLoadClient::UdpLoadClient(runtime::Runtime& rt, Options options) : rt_(rt), options_(std::move(options)) {}

void UdpLoadClient::start() {
  socket_ = rt_.open_datagram(
      options_.source,
      [this](const net::SocketAddress&, const net::SocketAddress&, runtime::ByteView payload) {
        std::string_view text = runtime::as_chars(payload);
        auto colon = text.find(':');
        if (colon == std::string_view::npos) return;
        auto it = pending_.find(std::string(text.substr(colon + 1)));
        if (it == pending_.end()) return;
        it->second.status = 200;  // answered
        it->second.served_by = std::string(text.substr(0, colon));
        it->second.end_us = us(rt_.now());
        records_.push_back(it->second);
        pending_.erase(it);
      },
      open_error_);
  ticker_ = rt_.create_timer([this] { launch(); });
  ticker_->arm_periodic(
      std::chrono::duration_cast<runtime::Duration>(std::chrono::duration<double>(1.0 / options_.rate)));
}

void UdpLoadClient::launch() {
  expire();
  std::string payload = "q" + std::to_string(next_++);
  RequestRecord r;
  r.start_us = us(rt_.now());
  if (options_.vip_node) r.vip_node = options_.vip_node();
  pending_[payload] = r;
  socket_->send_to(options_.target, runtime::as_bytes(payload));
}

void UdpLoadClient::expire() {
  const std::int64_t now = us(rt_.now());
  const std::int64_t limit = std::chrono::duration_cast<std::chrono::microseconds>(options_.timeout).count();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second.start_us >= limit) {
      it->second.error = "timed out";
      it->second.end_us = now;
      records_.push_back(it->second);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

void UdpLoadClient::stop() {
  expire();
  for (auto& [payload, r] : pending_) {
    r.error = std::string(scenario::observe::kStillRunning);
    records_.push_back(r);
  }
  pending_.clear();
  ticker_.reset();
  socket_.reset();
}

}  // namespace metalgate::apps
