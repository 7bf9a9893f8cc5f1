#include "engine/proxy/ssl_passthrough.h"

namespace metalgate::proxy {

std::optional<std::size_t> passthrough_for(const std::map<std::string, std::size_t, std::less<>>& hosts,
                                           std::string_view name) {
  if (name.empty()) return std::nullopt;
  if (auto it = hosts.find(name); it != hosts.end()) return it->second;
  const auto dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  if (auto it = hosts.find("*" + std::string(name.substr(dot))); it != hosts.end()) return it->second;
  return std::nullopt;
}

ClientHelloStream::ClientHelloStream(runtime::Runtime& rt, runtime::StreamConnectionPtr raw,
                                     runtime::Duration inspect, Decided decided,
                                     std::function<void(ClientHelloStream&)> on_gone)
    : WrappedStream(std::move(raw)),
      rt_(rt),
      inspect_(inspect),
      decided_(std::move(decided)),
      on_gone_(std::move(on_gone)) {}

ClientHelloStream::~ClientHelloStream() = default;

void ClientHelloStream::begin() {
  timer_ = rt_.create_timer([this] {
    if (deciding_) decide(tls::ClientHelloPeek{});  // kNeedMore: the inspect delay ran out
  });
  timer_->arm(inspect_);
  raw_->start(*this);
}

void ClientHelloStream::decide(const tls::ClientHelloPeek& peek) {
  deciding_ = false;
  timer_->cancel();       // not destroyed: this may be its callback
  decided_(*this, peek);  // may start() this at once, for a new owner
}

void ClientHelloStream::start(runtime::StreamHandler& handler) {
  handler_ = &handler;
  if (!seen_.empty()) {
    std::string seen;
    seen.swap(seen_);
    handler_->on_data(runtime::as_bytes(seen));
  }
  if (peer_shut_) handler_->on_peer_shutdown();
  if (closed_) handler_->on_closed(*closed_);
}

void ClientHelloStream::on_data(runtime::ByteView data) {
  if (handler_) return handler_->on_data(data);
  seen_.append(runtime::as_chars(data));
  if (!deciding_) return;
  tls::ClientHelloPeek peek = tls::peek_client_hello(seen_);
  if (peek.status == tls::ClientHelloPeek::Status::kNeedMore) return raw_->ack_promptly();
  decide(peek);
}

void ClientHelloStream::on_peer_shutdown() {
  if (handler_) return handler_->on_peer_shutdown();
  peer_shut_ = true;
  // A client that stops sending before its hello is complete will never complete it.
  if (deciding_) decide(tls::peek_client_hello(seen_));
}

void ClientHelloStream::on_closed(std::error_code reason) {
  if (handler_) return handler_->on_closed(reason);
  closed_ = reason;
  if (deciding_) {
    deciding_ = false;
    timer_->cancel();
    if (on_gone_) on_gone_(*this);
  }
}

void ClientHelloStream::on_write_drained() {
  if (handler_) handler_->on_write_drained();
}

void ClientHelloStream::on_forwarded(std::size_t bytes) {
  if (handler_) handler_->on_forwarded(bytes);
}

}  // namespace metalgate::proxy
