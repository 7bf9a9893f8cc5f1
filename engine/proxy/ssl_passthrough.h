// ssl-passthrough: the HTTPS frontend reads a new connection's ClientHello without answering it, and a hello
// whose SNI names a passthrough host goes on, still encrypted, to that host's backend as TCP (the server
// terminates TLS); any other connection is terminated here as usual. This is the HAProxy controller's `ssl`
// frontend (`req_ssl_sni` looked up in its SNI map, exact names first, then `*.` wildcards) without the
// loopback hop it makes to its HTTPS frontend.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "engine/runtime/runtime.h"
#include "engine/runtime/wrapped_stream.h"
#include "engine/tls/client_hello.h"

namespace metalgate::proxy {

// The value `hosts` maps the SNI `name` to: the exact name first, then "*.<parent>" (one label, as a
// certificate wildcard); nullopt for an empty name or none.
std::optional<std::size_t> passthrough_for(const std::map<std::string, std::size_t, std::less<>>& hosts,
                                           std::string_view name);

// Holds a new connection until its first bytes tell (tls::peek_client_hello) or `inspect` runs out, then
// calls `decided` once, with the peek (a kNeedMore peek means the time ran out). From then on it is the
// connection, for whichever owner decided() gives it to: start(handler) hands that handler the bytes read
// so far, then everything else as it comes. A connection that closes before the decision only ends (decided
// is not called); `on_gone` hears of it, so the proxy can let it go.
class ClientHelloStream final : public runtime::WrappedStream {
 public:
  using Decided = std::function<void(ClientHelloStream& self, const tls::ClientHelloPeek& peek)>;
  ClientHelloStream(runtime::Runtime& rt, runtime::StreamConnectionPtr raw, runtime::Duration inspect,
                    Decided decided, std::function<void(ClientHelloStream&)> on_gone);
  ~ClientHelloStream() override;

  // Starts reading (the inspect timer too).
  void begin();

  // The raw connection was started by begin(): the new owner's handler gets the bytes read so far.
  void start(runtime::StreamHandler& handler) override;

  // StreamHandler (the raw connection's): held back until start(), then passed up.
  void on_data(runtime::ByteView data) override;
  void on_peer_shutdown() override;
  void on_closed(std::error_code reason) override;
  void on_write_drained() override;
  void on_forwarded(std::size_t bytes) override;

 private:
  void decide(const tls::ClientHelloPeek& peek);

  runtime::Runtime& rt_;
  runtime::Duration inspect_;
  Decided decided_;
  std::function<void(ClientHelloStream&)> on_gone_;
  runtime::TimerPtr timer_;
  bool deciding_ = true;
  std::string seen_;  // the bytes read before start()
  bool peer_shut_ = false;
  std::optional<std::error_code> closed_;
};

}  // namespace metalgate::proxy
