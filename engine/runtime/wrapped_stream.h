// A stream layered over another one, for layers that only read or take off a connection's first bytes (the
// PROXY protocol header, a ClientHello peek): every call goes down to the raw connection and every event up
// to the handler given to start(), unless the layer overrides it. Header only: it is all delegation.
#pragma once

#include "engine/runtime/stream.h"

namespace metalgate::runtime {

class WrappedStream : public StreamConnection, public StreamHandler {
 public:
  explicit WrappedStream(StreamConnectionPtr raw) : raw_(std::move(raw)) {}

  // StreamConnection: down to the raw connection.
  void start(StreamHandler& handler) override {
    handler_ = &handler;
    raw_->start(*this);
  }
  void write(ByteView data) override { raw_->write(data); }
  void write_more(ByteView data) override { raw_->write_more(data); }
  std::size_t write_backlog() const override { return raw_->write_backlog(); }
  void shutdown_write() override { raw_->shutdown_write(); }
  void close() override { raw_->close(); }
  void reset() override { raw_->reset(); }
  void ack_promptly() override { raw_->ack_promptly(); }
  void set_reading(bool enabled) override { raw_->set_reading(enabled); }
  void forward_to(StreamConnection* destination) override { raw_->forward_to(destination); }
  net::SocketAddress local_address() const override { return raw_->local_address(); }
  net::SocketAddress peer_address() const override { return raw_->peer_address(); }
  std::string_view application_protocol() const override { return raw_->application_protocol(); }

  // StreamHandler (the raw connection's): up to the handler.
  void on_data(ByteView data) override { handler_->on_data(data); }
  void on_peer_shutdown() override { handler_->on_peer_shutdown(); }
  void on_closed(std::error_code reason) override { handler_->on_closed(reason); }
  void on_write_drained() override { handler_->on_write_drained(); }
  void on_forwarded(std::size_t bytes) override { handler_->on_forwarded(bytes); }

 protected:
  StreamConnectionPtr raw_;
  StreamHandler* handler_ = nullptr;
};

}  // namespace metalgate::runtime
