// One client connection's HTTP/1.1 exchange: read a request head, route it, apply the route's policies, pick
// a server (persistence cookie, then the balancer; queue when every server is full), connect or reuse a
// connection, stream the request body and then the response back, and start over for the next request on a
// kept-alive connection. Requests are answered in order (pipelining); Upgrade turns the session into a
// tunnel. Timeouts follow the controller's defaults and the route's overrides.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/http/chunked.h"
#include "engine/http/message-t.h"
#include "engine/proxy/access_log.h"
#include "engine/proxy/backend.h"
#include "engine/proxy/client_session.h"
#include "engine/proxy/deadline_queue.h"
#include "engine/proxy/proxy_config-t.h"
#include "engine/proxy/termination-t.h"
#include "engine/runtime/runtime.h"

namespace metalgate::proxy {

class Proxy;
class Compressor;

class HttpSession final : public ClientSession,
                          public runtime::StreamHandler,
                          public ServerEvents,
                          public QueuedRequest,
                          public DeadlineOwner {
 public:
  // `http2_stream`: the client is one stream of an HTTP/2 connection (H2Connection), which counts as the
  // frontend's session itself.
  HttpSession(Proxy& proxy, const Frontend& frontend, runtime::StreamConnectionPtr client,
              bool http2_stream = false);
  ~HttpSession() override;

  // `accepted`: when the client's connection was accepted, if that was before now (a TLS connection whose
  // session waited for the handshake to choose its protocol); the request timeout runs from then.
  void start(std::optional<runtime::Instant> accepted = std::nullopt);
  // An HTTP/2 stream after the connection's first: not the first request of the client's session, so
  // http-reuse safe may send it over an idle server connection (as HAProxy does for its h2 streams).
  void continues_session() { first_request_ = false; }
  // The proxy is stopping (Proxy::drain): an idle kept-alive connection closes now; one with a request under
  // way closes after its response.
  void drain() override;

  // Client side (StreamHandler).
  void on_data(runtime::ByteView data) override;
  void client_data(runtime::ByteView data);
  void on_peer_shutdown() override;
  void on_closed(std::error_code reason) override;
  void on_write_drained() override;

  // Server side (ServerEvents).
  void on_server_connected() override;
  void on_server_data(runtime::ByteView data) override;
  void server_data(runtime::ByteView data);
  void on_server_shutdown() override;
  void on_server_closed(std::error_code reason) override;
  void on_server_drained() override;

  // QueuedRequest.
  void on_server_slot(std::size_t server) override;

 private:
  enum class Phase : std::uint8_t {
    kWaitRequest,  // keep-alive: no byte of the next request yet
    kRequestHead,  // some bytes of a head
    kQueued,       // waiting for a server slot
    kConnecting,   // connecting to the chosen server
    kExchange,     // request forwarded (body may still stream); response awaited or streaming
    kLocalReply,   // the proxy answered itself; waiting for the write to drain before closing
    kTunnel,       // after 101 Switching Protocols
    kClosed,
  };
  // Every phase change goes through enter(), called only from these functions, with these transitions
  // (a session starts in kRequestHead):
  //   client_data             kWaitRequest -> kRequestHead  (the first byte of the next request)
  //   dispatch                kRequestHead -> kQueued  (every server at maxconn)
  //   connect_server          kRequestHead | kQueued -> kExchange  (a kept or idle connection is reused)
  //   open_server_connection  kRequestHead | kQueued | kConnecting | kExchange -> kConnecting  (a new
  //                           connection; from kExchange when it replaces a reused one the server closed)
  //   on_server_connected     kConnecting -> kExchange
  //   start_tunnel            kExchange -> kTunnel  (101 Switching Protocols)
  //   finish_exchange         kExchange -> kLocalReply  (the client's connection closes after the response)
  //                           kExchange -> kWaitRequest [-> kRequestHead when pipelined bytes wait]
  //   send_local              any open phase -> kLocalReply  (a local answer, then close)
  //                           any open phase -> kWaitRequest [-> kRequestHead when pipelined bytes wait]
  //   close_client, on_closed any phase -> kClosed  (a queued request leaves its backend's queue: the
  //                           session is freed soon after, and the queue must not hand it a slot then)
  void enter(Phase next) {
    if (phase_ == Phase::kQueued && next == Phase::kClosed) leave_queue();
    phase_ = next;
  }
  void leave_queue();
  // The client's FIN has come and nothing is pipelined behind the current request: its answer is the last
  // one, with Connection: close.
  bool last_answer_after_fin() const;

  void advance();
  void handle_request();
  // Applies the route policy's request rules; true when one answered the request itself.
  bool answer_by_policy();
  void redirect(std::string_view scheme, std::string_view authority, int code);
  void dispatch();
  void connect_server();
  // The one way a session opens a server connection: Backend::open (the runtime's connect; the request is
  // written first, so the handshake's ACK may wait for it), the connect timeout armed, the attempt counted.
  // `retry`: a request's later attempt, also counted in its retries (the log's rc) and the proxy's.
  void open_server_connection(bool retry);
  void send_request_head();
  void pump_request_body();
  // Sends what of `data` belongs to the request body: as it is under Content-Length, re-framed when
  // chunked. The bytes taken, or nullopt when the chunked framing was invalid (the client got a 400).
  std::optional<std::size_t> send_request_body(runtime::ByteView data);
  void keep_for_replay(runtime::ByteView sent);
  // Whether the bytes received complete the request body although not all were forwarded yet.
  bool request_body_buffered() const;
  void forward_response_body(runtime::ByteView data);
  void finish_exchange();
  void start_tunnel();
  void retry_or_fail(std::string_view why);

  // Answers from the proxy itself (errors, redirects, denials) and logs it.
  void reply(int status, std::string_view extra_headers, bool close, Termination term);
  void reply_error(int status, Termination term, std::string_view extra_headers = {});
  void send_local(const std::string& response, bool close);
  void append_hsts(std::string& response) const;
  void append_cors(std::string& response) const;
  void close_client(bool reset = false);
  void to_client(runtime::ByteView data);
  // `fin_follows`: the connection closes right after, so the last bytes may leave with the FIN.
  void flush_cork(bool fin_follows = false);
  void drop_server(bool reusable);
  void log_request();
  // The request's timers and outcome as the access log has them (the names and counts it leaves empty).
  AccessRecord record() const;
  // Into the stats: the frontend's response, the backend's and server's request, bytes and times.
  void count_request(const AccessRecord& r);
  // Both the backend's counters and the chosen server's, for what happened to the request there.
  template <typename F>
  void count_on_server(F&& f);

  // The request target as forwarded: path-rewrite's rules applied to its path, the query string kept.
  void append_target(std::string& out) const;
  void build_request_head();
  void build_response_head();
  bool should_compress() const;
  std::string_view persistence_cookie() const;  // the server name the client's cookie names, if any

  // Deadlines: one timer, armed for the earliest.
  void set_client_deadline(std::optional<runtime::Duration> after);
  void set_server_deadline(std::optional<runtime::Duration> after);
  void rearm();
  void stop_timers();
  void on_timer();
  void on_deadline() override { on_timer(); }

  // What one request/response exchange needs, allocated while one is under way and given back when the
  // connection goes idle: an idle keep-alive client then holds ~450 bytes less (10,000 of them are common).
  struct Exchange {
    std::string held_;    // bytes that arrived while the parsed head waited for a server (in_ must not move)
    std::string out_;     // the outgoing request head (kept until the response starts, for retries)
    // The request body as sent (framed), kept until the response starts while it fits kReplayBody, so that a
    // stream the server refused unprocessed (REFUSED_STREAM, or above a GOAWAY's last stream) goes again
    // whole on another connection, as HAProxy's L7 retries do with a request that fits its buffer.
    std::string sent_body_;
    bool body_replayable_ = true;
    std::string srv_in_;  // response head bytes while incomplete
    std::string cork_;    // client-bound bytes gathered during one server read
    int cork_depth_ = 0;
    bool acked_promptly_ = false;  // ack_promptly() asked once while this request was incomplete
    http::RequestHead req_;
    http::ResponseHead resp_;
    http::ChunkedDecoder req_chunks_, resp_chunks_;
    std::unique_ptr<Compressor> compressor_;
    std::string host_;  // normalized, for redirects and logs
    std::string request_line_;
    std::string client_ip_text_;       // for X-Forwarded-For
    std::string websocket_key_;        // a WebSocket Upgrade's Sec-WebSocket-Key, to check the 101's accept
    std::vector<HeaderSetting> cors_;  // the route's CORS headers for this request (cors.h); cleared after it
    // The request's times and attempts, for the log (the session keeps only when it started: an idle
    // session's 320 bytes are one of the allocator's size classes, its 360 were in the next, 384).
    runtime::Instant t_head_{}, t_dispatched_{}, t_connected_{}, t_response_{};
    int connect_attempts_ = 0;
    std::uint32_t retries_ = 0;
    Exchange();
    ~Exchange();
  };
  // The exchange, created on first use (a fresh one has every field at its start value).
  Exchange& x() const {
    if (!ex_) new_exchange();
    return *ex_;
  }
  void new_exchange() const;
  // Gives the exchange back once the current callbacks have returned, if the connection is still idle.
  void release_exchange_when_idle();

  Proxy& proxy_;
  const Frontend& frontend_;
  stats::FrontendCounters& fe_stats_;  // this loop's counters of frontend_
  mutable std::unique_ptr<Exchange> ex_;
  runtime::Runtime& rt_;
  runtime::StreamConnectionPtr client_;
  std::optional<DeadlineQueue::Handle> deadline_;  // in the proxy's queue, for the earliest deadline
  std::optional<runtime::Instant> client_deadline_, server_deadline_;

  std::string in_;  // client bytes not yet forwarded
  std::uint64_t req_body_left_ = 0, resp_body_left_ = 0;
  bool req_body_done_ = true;
  bool resp_head_done_ = false;
  bool client_keep_alive_ = true;
  bool client_shut_ = false;
  bool is_head_ = false;
  bool is_upgrade_ = false;
  bool first_request_ = true;
  bool sent_on_reused_ = false;
  bool response_started_ = false;  // any response byte seen from the server
  bool client_paused_ = false, server_paused_ = false;
  bool client_http10_ = false;
  bool chunk_to_client_ = false;    // re-chunking a transformed body
  bool dechunk_to_client_ = false;  // an HTTP/1.0 client gets a chunked body as plain bytes until close
  bool accepts_gzip_ = false;
  bool head_sent_ = false;  // out_ holds the rewritten head and in_ no longer does
  bool http2_stream_ = false;
  bool timers_on_ = false;  // from start() until the session closes
  Phase phase_ = Phase::kRequestHead;
  bool holds_slot_ = false;
  bool dispatched_ = false;  // the request went to its backend (not answered by a rule before)
  bool cookie_valid_ = false;
  bool logged_ = false;
  // (The flags sit together: with them spread between wider members the session took 392 bytes, one of
  // the allocator's 448-byte blocks per connection, idle ones included.)

  // The request being served.
  std::uint32_t backend_index_ = 0;
  Backend* backend_ = nullptr;
  const RoutePolicy* policy_ = nullptr;
  std::optional<std::size_t> server_;
  ServerConnectionPtr conn_;  // in use for this request
  ServerConnectionPtr own_;   // under http-reuse never: this session's connection, kept between requests

  // Log fields.
  runtime::Instant t_start_{};
  std::uint64_t bytes_out_ = 0;
  std::uint64_t bytes_in_ = 0;  // from the client since the last request was counted
  int status_ = 0;
  Termination term_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards tasks posted to the loop
};

}  // namespace metalgate::proxy
