#include "engine/proxy/http_session.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "engine/http/message.h"
#include "engine/http/parser.h"
#include "engine/http/websocket.h"
#include "engine/proxy/basic_auth.h"
#include "engine/proxy/compression.h"
#include "engine/proxy/cors.h"
#include "engine/proxy/path_rewrite.h"
#include "engine/proxy/proxy.h"
#include "engine/proxy/rate_limiter.h"

namespace metalgate::proxy {

namespace {

using runtime::ByteView;
using runtime::Duration;
using std::chrono::duration_cast;

// "LR": HAProxy's termination state for an `http-request return` answer (processed locally).
constexpr Termination kLocalReturn{'L', 'R'};

// Stop reading the other side while this much is queued towards a slow peer (bounded buffering).
constexpr std::size_t kHighWater = 256 * 1024;
// The most of a request body kept for a retry of a refused stream: HAProxy's buffer (tune.bufsize), which
// bounds its L7 retries the same way.
constexpr std::size_t kReplayBody = 16 * 1024;

Duration to_duration(milliseconds ms) {
  return duration_cast<Duration>(ms);
}

std::int64_t ms_between(runtime::Instant a, runtime::Instant b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

// HAProxy's error pages: small HTML bodies, never cached, connection closed.
std::string error_body(int status) {
  std::string_view detail;
  switch (status) {
    case 400:
      detail = "Your browser sent an invalid request.";
      break;
    case 401:
      detail = "You need a valid user and password to access this content.";
      break;
    case 403:
      detail = "Request forbidden by administrative rules.";
      break;
    case 404:
      detail = "The requested URL was not found on this server.";
      break;
    case 408:
      detail = "Your browser didn't send a complete request in time.";
      break;
    case 502:
      detail = "The server returned an invalid or incomplete response.";
      break;
    case 503:
      detail = "No server is available to handle this request.";
      break;
    case 504:
      detail = "The server didn't respond in time.";
      break;
    default:
      detail = "";
  }
  std::string body = "<html><body><h1>" + std::to_string(status) + " " +
                     std::string(http::reason_phrase(status)) + "</h1>\n" + std::string(detail) +
                     "\n</body></html>\n";
  return body;
}

bool is_hop_by_hop(std::string_view name) {
  return http::equals_ignore_case(name, "connection") || http::equals_ignore_case(name, "keep-alive") ||
         http::equals_ignore_case(name, "proxy-connection");
}

// Content-Length and Transfer-Encoding never pass as received: the proxy writes its own (append_framing).
bool is_framing(std::string_view name) {
  return http::equals_ignore_case(name, "content-length") || http::equals_ignore_case(name, "transfer-encoding");
}

bool named_in(std::string_view name, const std::vector<HeaderSetting>& settings) {
  for (const auto& s : settings)
    if (http::equals_ignore_case(name, s.name)) return true;
  return false;
}

// Whether a request may go on an idle connection another request used, under http-reuse `mode`.
bool may_take_idle(HttpReuse mode, bool first_request) {
  switch (mode) {
    case HttpReuse::kNever:
      return false;
    case HttpReuse::kSafe:
      return !first_request;
    case HttpReuse::kAggressive:
    case HttpReuse::kAlways:
      return true;
  }
  return false;
}

// Calls visit(name, value, "name=value") for each cookie of a Cookie header until it returns true.
template <typename Visit>
void for_each_cookie(std::string_view header, Visit&& visit) {
  while (!header.empty()) {
    std::size_t semi = header.find(';');
    std::string_view item = header.substr(0, semi);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    if (!item.empty()) {
      std::size_t eq = item.find('=');
      std::string_view name = item.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      if (visit(name, value, item)) return;
    }
    if (semi == std::string_view::npos) return;
    header.remove_prefix(semi + 1);
  }
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// The one framing header a message is forwarded with: "Transfer-Encoding: chunked" for a chunked body
// (the proxy re-frames it), else one normalised Content-Length (RFC 9110 §8.6: "5, 5" becomes "5"), none
// when a chunked body also carried Content-Length (it was dropped, and the connection closes after).
void append_framing(std::string& out, const http::MessageFacts& facts) {
  if (facts.framing == http::BodyFraming::kChunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  } else if (facts.has_content_length && !facts.close_after) {
    append_header(out, "Content-Length", std::to_string(facts.content_length));
  }
}

}  // namespace

HttpSession::HttpSession(Proxy& proxy, const Frontend& frontend, runtime::StreamConnectionPtr client,
                         bool http2_stream)
    : proxy_(proxy),
      frontend_(frontend),
      fe_stats_(proxy.frontend_stats(frontend)),
      rt_(proxy.runtime()),
      client_(std::move(client)),
      http2_stream_(http2_stream) {
  if (http2_stream_) return;
  fe_stats_.sessions.add();
  fe_stats_.sessions_total.add();
  fe_stats_.session_rate.add(runtime::milliseconds_of(rt_.now()));
}

HttpSession::~HttpSession() {
  if (!http2_stream_) fe_stats_.sessions.sub();
  stop_timers();
  if (phase_ == Phase::kQueued) leave_queue();
  if (holds_slot_ && backend_ && server_) backend_->release(*server_);
  *alive_ = false;
  if (conn_) {
    conn_->attach(nullptr);
    conn_->stream().reset();
  }
  // A session's private connection becomes shareable when the session ends (http-reuse safe).
  if (own_) own_->backend().park(std::move(own_));
}

void HttpSession::start(std::optional<runtime::Instant> accepted) {
  t_start_ = accepted.value_or(rt_.now());
  timers_on_ = true;
  // timeout-http-request runs from the connection's accept, the TLS handshake included.
  const Duration waited = rt_.now() - t_start_;
  set_client_deadline(
      std::max(Duration::zero(), to_duration(proxy_.config().frontend_timeouts.http_request) - waited));
  client_->start(*this);
}

// ------------------------------------------------------------------------------------------ client events

void HttpSession::on_data(ByteView data) {
  fe_stats_.bytes_in.add(data.size());
  bytes_in_ += data.size();
  client_data(data);
  // Still short of the whole request: the client may be holding its next bytes for our ACK (Nagle), which
  // the listener delays so that it can ride on the response. Ask for a prompt one, once per request, as
  // HAProxy re-enables quick-ack.
  const bool short_of_request =
      (phase_ == Phase::kRequestHead && !in_.empty()) ||
      ((phase_ == Phase::kQueued || phase_ == Phase::kConnecting || phase_ == Phase::kExchange) &&
       !req_body_done_);
  if (short_of_request && !x().acked_promptly_) {
    x().acked_promptly_ = true;
    client_->ack_promptly();
  }
}

void HttpSession::client_data(ByteView data) {
  switch (phase_) {
    case Phase::kClosed:
    case Phase::kLocalReply:
      return;
    case Phase::kTunnel:
      if (conn_) {
        conn_->stream().write(data);
        set_server_deadline(to_duration(backend_->config().timeouts.tunnel));
        if (conn_->stream().write_backlog() > kHighWater) client_->set_reading(false), client_paused_ = true;
      }
      return;
    case Phase::kWaitRequest:
      enter(Phase::kRequestHead);
      t_start_ = rt_.now();
      set_client_deadline(to_duration(proxy_.config().frontend_timeouts.http_request));
      [[fallthrough]];
    default:
      break;
  }
  // Zero copy for request bodies: when nothing is buffered and the server is ready, forward the view.
  if (phase_ == Phase::kExchange && in_.empty() && !req_body_done_ && conn_ && conn_->connected()) {
    std::optional<std::size_t> taken = send_request_body(data);
    if (!taken) return;
    const std::size_t take = *taken;
    if (take < data.size()) in_.append(runtime::as_chars(data.subspan(take)));
    set_client_deadline(req_body_done_
                            ? std::nullopt
                            : std::optional<Duration>(to_duration(proxy_.config().frontend_timeouts.client)));
    if (conn_->stream().write_backlog() > kHighWater) client_->set_reading(false), client_paused_ = true;
    return;
  }
  if (!head_sent_ && (phase_ == Phase::kQueued || phase_ == Phase::kConnecting)) {
    // The parsed head points into in_: in_ must not grow (and move) until the head has gone out. Hold the
    // bytes aside.
    x().held_.append(runtime::as_chars(data));
    if (x().held_.size() > proxy_.config().limits.max_head_bytes && !client_paused_) {
      client_->set_reading(false);
      client_paused_ = true;
    }
    return;
  }
  in_.append(runtime::as_chars(data));
  advance();
}

void HttpSession::on_peer_shutdown() {
  client_shut_ = true;
  if (phase_ == Phase::kTunnel) {
    if (conn_) conn_->stream().shutdown_write();
    return;
  }
  if (phase_ == Phase::kWaitRequest || (phase_ == Phase::kRequestHead && in_.empty())) return close_client();
  if (phase_ == Phase::kRequestHead) {
    return advance();  // a whole request may be waiting (its parse posted); half a one gets its 400 there
  }
  if (!req_body_done_ && !request_body_buffered()) {
    // The client gave up while sending its body: the server will never get a complete request.
    term_ = termination::kClientAbortData;
    drop_server(false);
    return close_client(true);
  }
  // Request complete: its response still goes out (HAProxy's default without abortonclose), and so do the
  // answers to requests pipelined behind it; then the connection closes (finish_exchange).
}

void HttpSession::on_closed(std::error_code) {
  if (phase_ == Phase::kClosed) return;
  if (term_ == termination::kNormal) {  // nothing else ended it: the client did
    term_ = phase_ != Phase::kExchange ? termination::kClientAbortRequest
            : resp_head_done_          ? termination::kClientAbortData
                                       : termination::kClientAbortHeaders;
  }
  if (phase_ != Phase::kWaitRequest && !(phase_ == Phase::kRequestHead && in_.empty())) log_request();
  drop_server(false);
  enter(Phase::kClosed);
  stop_timers();
  proxy_.finished(this);
}

void HttpSession::on_write_drained() {
  if (phase_ == Phase::kLocalReply) return close_client();
  if (server_paused_ && conn_) {
    server_paused_ = false;
    conn_->stream().set_reading(true);
  }
}

// ------------------------------------------------------------------------------------------ request

void HttpSession::advance() {
  if (phase_ != Phase::kRequestHead) {
    if (phase_ == Phase::kExchange) pump_request_body();
    // Pipelined bytes wait until the current response ends; do not let them pile up without bound.
    if (in_.size() > proxy_.config().limits.max_head_bytes && !client_paused_) {
      client_->set_reading(false);
      client_paused_ = true;
    }
    return;
  }
  http::ParseError error;
  auto outcome = http::parse_request(in_.data(), in_.size(), proxy_.config().limits, x().req_, error);
  if (outcome == http::ParseOutcome::kIncomplete) {
    // Half a request and then FIN: it will never be whole. HAProxy answers 400 ("CR").
    if (client_shut_) reply_error(400, termination::kClientAbortRequest);
    return;
  }
  x().t_head_ = rt_.now();
  if (outcome == http::ParseOutcome::kError) {
    ++proxy_.counters().bad_requests;
    fe_stats_.request_errors.add();
    x().request_line_ = "<BADREQ>";
    rt_.logger().log(runtime::LogLevel::kDebug, "proxy", "bad-request",
                     {{"client", client_->peer_address().to_string()},
                      {"reason", error.reason},
                      {"offset", std::to_string(error.offset)}});
    return reply_error(error.status, termination::kProxyRequest);
  }
  if (x().req_.facts.framing == http::BodyFraming::kChunked) {
    // Whatever of a chunked body is already here is checked before anything goes to a server, so a
    // request whose framing is invalid reaches none.
    auto body = runtime::as_bytes(std::string_view(in_).substr(x().req_.head_length));
    if (auto r = http::ChunkedDecoder{}.check(body); r.error) {
      ++proxy_.counters().bad_requests;
      fe_stats_.request_errors.add();
      rt_.logger().log(runtime::LogLevel::kDebug, "proxy", "bad-request-body",
                       {{"client", client_->peer_address().to_string()}, {"reason", r.why}});
      return reply_error(400, termination::kProxyRequest);
    }
  }
  handle_request();
}

void HttpSession::drain() {
  client_keep_alive_ = false;
  if (phase_ == Phase::kWaitRequest && in_.empty()) close_client();
}

void HttpSession::handle_request() {
  const ProxyConfig& cfg = proxy_.config();
  ++proxy_.counters().requests;
  fe_stats_.http.requests.add();
  fe_stats_.request_rate.add(runtime::milliseconds_of(rt_.now()));
  x().request_line_.assign(x().req_.method);
  x().request_line_ += ' ';
  x().request_line_.append(x().req_.target);
  x().request_line_ += ' ';
  // An HTTP/2 stream's request reaches this session as HTTP/1.1; its log line says what the client spoke, as
  // HAProxy's does.
  if (http2_stream_)
    x().request_line_.append("HTTP/2.0");
  else
    x().request_line_.append(http::version_text(x().req_.version));
  is_head_ = x().req_.is_head();
  client_http10_ = x().req_.version == http::Version::kHttp10;
  client_keep_alive_ = x().req_.facts.keep_alive && !proxy_.draining();
  is_upgrade_ = x().req_.facts.upgrade;
  x().websocket_key_.clear();
  if (is_upgrade_ && http::is_websocket(http::find_header(x().req_.headers, "upgrade").value_or("")))
    x().websocket_key_ = http::find_header(x().req_.headers, "sec-websocket-key").value_or("");
  head_sent_ = false;
  auto accept_encoding = http::find_header(x().req_.headers, "accept-encoding");
  accepts_gzip_ = accept_encoding && http::accepts_coding(*accept_encoding, "gzip");
  req_body_left_ = x().req_.facts.content_length;
  req_body_done_ = x().req_.facts.framing == http::BodyFraming::kNone;
  x().req_chunks_.reset();
  resp_head_done_ = false;
  response_started_ = false;
  status_ = 0;
  bytes_out_ = 0;
  term_ = termination::kNormal;
  x().retries_ = 0;
  x().connect_attempts_ = 0;
  logged_ = false;
  backend_ = nullptr;
  dispatched_ = false;
  policy_ = &cfg.policies[0];
  set_client_deadline(std::nullopt);

  char host_buf[256];
  x().host_ = routing::normalize_host(x().req_.host, host_buf);
  const routing::Route* route = cfg.model->routes.match(x().host_, x().req_.path());
  std::optional<std::uint32_t> target;
  if (route) {
    target = route->target;
    auto it = cfg.route_policy.find(route);
    if (it != cfg.route_policy.end()) policy_ = &cfg.policies[it->second];
  } else {
    target = cfg.default_backend;
  }
  // The CORS headers every answer to this request gets, worked out while the request's headers are at hand.
  x().cors_.clear();
  if (policy_->cors) x().cors_ = policy_->cors->response_headers(Cors::request_origin(x().req_.headers));
  if (target) {
    backend_index_ = *target;
    backend_ = proxy_.backend(*target);
  }

  if (answer_by_policy()) return;
  if (!backend_) return reply_error(404, termination::kNormal);
  dispatch();
}

// The route policy's request rules in the controller's order (rules.Type): deny (allow/deny lists), track
// (the rate counts every request), auth, rate limit, redirects (ssl-redirect before request-redirect), and
// last the CORS preflight answer (REQ_RETURN_STATUS: `http-request return status 204` for OPTIONS).
bool HttpSession::answer_by_policy() {
  const ProxyConfig& cfg = proxy_.config();
  const net::IpAddress client_ip = client_->peer_address().ip;
  const RoutePolicy& p = *policy_;
  auto in_list = [&](const std::vector<net::Cidr>& list) {
    return std::any_of(list.begin(), list.end(), [&](const net::Cidr& c) { return c.contains(client_ip); });
  };
  if ((!p.allow_list.empty() && !in_list(p.allow_list)) || (!p.deny_list.empty() && in_list(p.deny_list))) {
    ++proxy_.counters().denied;
    fe_stats_.denied.add();
    reply_error(403, termination::kProxyRequest);
    return true;
  }
  std::uint32_t rate = 0;
  const bool rate_limited = p.rate_limit.requests > 0 && !in_list(p.rate_limit.whitelist);
  if (rate_limited) rate = proxy_.rate_table(p.rate_table).count(client_ip, rt_.now());
  if (p.basic_auth && !p.basic_auth->allows(http::find_header(x().req_.headers, "authorization"))) {
    // HAProxy's `http-request auth`: its 401 page and the challenge; the connection stays open for the retry.
    reply_error(401, termination::kProxyRequest,
                "www-authenticate: Basic realm=\"" + p.basic_auth->realm() + "\"\r\n");
    return true;
  }
  if (rate_limited && rate > p.rate_limit.requests) {
    ++proxy_.counters().rate_limited;
    fe_stats_.denied.add();
    reply_error(p.rate_limit.status, termination::kProxyRequest);
    return true;
  }
  if (p.ssl_redirect && !frontend_.tls && !cfg.tls.certificates.empty()) {
    std::uint16_t port = p.ssl_redirect_port.value_or(cfg.https_port);
    std::string authority = x().host_;
    if (port != 443) authority += ":" + std::to_string(port);
    redirect("https", authority, p.ssl_redirect_code);
    return true;
  }
  if (p.request_redirect) {
    redirect(p.request_redirect->scheme, p.request_redirect->authority, p.request_redirect->code);
    return true;
  }
  if (p.cors && p.cors->answers_preflight() && x().req_.method == "OPTIONS") {
    reply(204, {}, !req_body_done_, kLocalReturn);
    return true;
  }
  return false;
}

// Answers with `code` and a Location of the request's own URI (origin-form: an absolute-form target's path
// and query) on `scheme`://`authority`, as HAProxy's `%[capture.req.uri]` keeps path and query. As HAProxy
// does, a temporary redirect (302, 303, 307) also says cache-control: no-cache.
void HttpSession::redirect(std::string_view scheme, std::string_view authority, int code) {
  ++proxy_.counters().redirects;
  std::string_view uri = x().req_.target;
  if (x().req_.absolute_form()) {
    const std::size_t slash = uri.find('/', uri.find("://") + 3);
    uri = slash == std::string_view::npos ? std::string_view() : uri.substr(slash);
  }
  std::string location = "location: ";
  location.append(scheme).append("://").append(authority);
  location.append(uri.empty() || uri.front() != '/' ? std::string_view("/") : uri);
  location += "\r\n";
  if (code == 302 || code == 303 || code == 307) location += "cache-control: no-cache\r\n";
  reply(code, location, !req_body_done_, termination::kProxyRequest);
}

void HttpSession::dispatch() {
  dispatched_ = true;
  const net::IpAddress client_ip = client_->peer_address().ip;
  x().t_dispatched_ = rt_.now();
  cookie_valid_ = false;
  server_.reset();
  if (backend_->config().cookie) {
    std::string_view named = persistence_cookie();
    if (!named.empty()) {
      server_ = backend_->find_server(named);
      cookie_valid_ = server_.has_value();
    }
  }
  if (!server_) {
    if (!backend_->any_up()) return reply_error(503, termination::kNoServer);
    bool all_full = false;
    server_ = backend_->choose(client_ip, &all_full);
    if (!server_) {
      if (!all_full) return reply_error(503, termination::kNoServer);
      enter(Phase::kQueued);
      backend_->enqueue(this, client_ip);
      set_server_deadline(to_duration(backend_->config().timeouts.queue));
      return;
    }
  }
  backend_->acquire(*server_);
  holds_slot_ = true;
  connect_server();
}

void HttpSession::on_server_slot(std::size_t server) {
  server_ = server;
  backend_->acquire(server);
  holds_slot_ = true;
  set_server_deadline(std::nullopt);
  connect_server();
}

void HttpSession::connect_server() {
  sent_on_reused_ = false;
  // http-reuse: the session's own connection first; then, except for a session's first request under
  // "safe" (the client could not retry it), an idle one from the pool; else a new one.
  if (own_ && own_->server() == *server_ && own_->connected()) {
    conn_ = std::move(own_);
    sent_on_reused_ = true;
  } else {
    if (own_) own_->backend().park(std::move(own_));
    if (may_take_idle(backend_->config().http_reuse, first_request_) && !is_upgrade_)
      conn_ = backend_->take_idle(*server_);
    if (conn_) sent_on_reused_ = true;
  }
  if (!conn_) return open_server_connection(/*retry=*/false);
  conn_->attach(this);
  ++conn_->uses;
  x().t_connected_ = rt_.now();
  enter(Phase::kExchange);
  send_request_head();
}

void HttpSession::open_server_connection(bool retry) {
  if (retry) {
    ++x().retries_;
    ++proxy_.counters().connect_retries;  // a resend after a reused connection failed too, as HAProxy counts
    count_on_server([](stats::ServiceCounters& c) { c.retries.add(); });
  }
  ++x().connect_attempts_;
  enter(Phase::kConnecting);
  conn_ = backend_->open(*server_, this, /*we_speak_first=*/true);
  set_server_deadline(to_duration(backend_->config().timeouts.connect));
}

void HttpSession::on_server_connected() {
  if (phase_ != Phase::kConnecting) return;
  x().t_connected_ = rt_.now();
  enter(Phase::kExchange);
  ++conn_->uses;
  send_request_head();
}

void HttpSession::append_target(std::string& out) const {
  const std::string_view target = x().req_.target;
  const bool has_path = !target.empty() && (target.front() == '/' || x().req_.absolute_form());
  if (policy_->path_rewrites.empty() || !has_path) {
    out.append(target);
    return;
  }
  const std::string_view original = x().req_.path();
  std::string path(original);
  for (const auto& rule : policy_->path_rewrites)
    if (std::optional<std::string> rewritten = rule->apply(path)) path = std::move(*rewritten);
  if (path.empty() || path.front() != '/') path.insert(0, 1, '/');  // still an origin-form path
  out.append(with_path(target, original, path));
}

void HttpSession::build_request_head() {
  const RoutePolicy& p = *policy_;
  const auto& cookie = backend_->config().cookie;
  x().out_.clear();
  x().out_.append(x().req_.method);
  x().out_ += ' ';
  append_target(x().out_);
  x().out_ += ' ';
  x().out_.append(http::version_text(x().req_.version));
  x().out_.append("\r\n");
  for (const http::Header& h : x().req_.headers) {
    if (is_hop_by_hop(h.name) || is_framing(h.name)) continue;
    if ((p.set_host || x().req_.absolute_form()) && http::equals_ignore_case(h.name, "host")) continue;
    if (frontend_.tls && http::equals_ignore_case(h.name, "x-forwarded-proto")) continue;
    if (!p.request_set_headers.empty() && named_in(h.name, p.request_set_headers)) continue;
    if (cookie && cookie->indirect && http::equals_ignore_case(h.name, "cookie")) {
      // Strip our persistence cookie; keep the application's.
      std::string kept;
      for_each_cookie(h.value, [&](std::string_view name, std::string_view, std::string_view item) {
        if (name == cookie->name) return false;
        if (!kept.empty()) kept += "; ";
        kept.append(item);
        return false;
      });
      if (!kept.empty()) append_header(x().out_, h.name, kept);
      continue;
    }
    append_header(x().out_, h.name, h.value);
  }
  append_framing(x().out_, x().req_.facts);
  // An absolute-form target's authority wins over Host (RFC 9112 §3.2.2): it routed the request, and a
  // proxy forwarding it must send it as Host, so the server sees the host the route was chosen for.
  if (p.set_host)
    append_header(x().out_, "Host", *p.set_host);
  else if (x().req_.absolute_form())
    append_header(x().out_, "Host", x().req_.host);
  for (const auto& s : p.request_set_headers)
    append_header(x().out_, s.name, s.value);
  if (frontend_.tls) append_header(x().out_, "X-Forwarded-Proto", "https");
  if (p.forwarded_for) {
    if (x().client_ip_text_.empty())
      x().client_ip_text_ = client_->peer_address().ip.to_string();  // once per exchange
    append_header(x().out_, "X-Forwarded-For", x().client_ip_text_);
  }
  if (is_upgrade_) {
    x().out_.append("Connection: upgrade\r\n");
  } else if (client_http10_) {
    // Keep the server connection reusable even for HTTP/1.0 clients.
    x().out_.append("Connection: keep-alive\r\n");
  }
  x().out_.append("\r\n");
}

void HttpSession::send_request_head() {
  if (!head_sent_) {
    build_request_head();
    // The head's bytes leave in_ now: views into it (the parsed headers) are not used after this point.
    in_.erase(0, x().req_.head_length);
    head_sent_ = true;
    if (!x().held_.empty()) {
      in_.append(x().held_);
      std::string().swap(x().held_);
    }
    x().req_chunks_.reset();
  }
  // out_ holds the head until the response starts, so a retry on a new connection sends it again, and
  // sent_body_ what of the body had gone (send_request_body).
  conn_->stream().write(runtime::as_bytes(x().out_));
  if (!x().sent_body_.empty()) conn_->stream().write(runtime::as_bytes(x().sent_body_));
  pump_request_body();
  set_server_deadline(to_duration(backend_->config().timeouts.server));
}

void HttpSession::pump_request_body() {
  if (req_body_done_ || !conn_ || !conn_->connected() || in_.empty()) return;
  std::optional<std::size_t> take = send_request_body(runtime::as_bytes(in_));
  if (!take) return;
  in_.erase(0, *take);
  if (!req_body_done_) set_client_deadline(to_duration(proxy_.config().frontend_timeouts.client));
  if (conn_->stream().write_backlog() > kHighWater && !client_paused_) {
    client_->set_reading(false);
    client_paused_ = true;
  } else if (client_paused_ && !req_body_done_ && conn_->stream().write_backlog() <= kHighWater) {
    // The body held while connecting paused the client (client_data); it all went out at once, so no
    // on_server_drained will come to resume it.
    client_paused_ = false;
    client_->set_reading(true);
  }
}

std::optional<std::size_t> HttpSession::send_request_body(ByteView data) {
  if (x().req_.facts.framing == http::BodyFraming::kContentLength) {
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(req_body_left_, data.size()));
    req_body_left_ -= take;
    req_body_done_ = req_body_left_ == 0;
    keep_for_replay(data.subspan(0, take));
    conn_->stream().write(data.subspan(0, take));
    return take;
  }
  std::string framed;
  auto r = x().req_chunks_.reframe(data, framed);
  if (r.error) {
    rt_.logger().log(runtime::LogLevel::kDebug, "proxy", "bad-request-body",
                     {{"client", client_->peer_address().to_string()}, {"reason", r.why}});
    ++proxy_.counters().bad_requests;
    fe_stats_.request_errors.add();
    drop_server(false);  // its request can never be completed
    reply_error(400, termination::kClientAbortData);
    return std::nullopt;
  }
  req_body_done_ = r.done;
  keep_for_replay(runtime::as_bytes(framed));
  if (!framed.empty()) conn_->stream().write(runtime::as_bytes(framed));
  return r.consumed;
}

void HttpSession::keep_for_replay(ByteView sent) {
  Exchange& e = x();
  if (!e.body_replayable_ || response_started_ || sent.empty()) return;
  if (e.sent_body_.size() + sent.size() > kReplayBody) {
    e.body_replayable_ = false;
    std::string().swap(e.sent_body_);
    return;
  }
  e.sent_body_.append(runtime::as_chars(sent));
}

bool HttpSession::request_body_buffered() const {
  std::string_view body = in_;
  if (!head_sent_) body.remove_prefix(std::min(body.size(), x().req_.head_length));
  if (x().req_.facts.framing == http::BodyFraming::kContentLength)
    return body.size() + x().held_.size() >= req_body_left_;
  std::string all(body);
  all += x().held_;
  return x().req_chunks_.check(runtime::as_bytes(all)).done;
}

void HttpSession::on_server_drained() {
  if (client_paused_ && phase_ != Phase::kClosed) {
    client_paused_ = false;
    client_->set_reading(true);
  }
}

// ------------------------------------------------------------------------------------------ response

void HttpSession::to_client(ByteView data) {
  fe_stats_.bytes_out.add(data.size());
  if (x().cork_depth_ > 0)
    x().cork_.append(runtime::as_chars(data));
  else
    client_->write(data);
}

void HttpSession::flush_cork(bool fin_follows) {
  if (x().cork_.empty()) return;
  // More of a body of known length is on its way from the server: let the kernel hold a partial segment
  // for it, as HAProxy does (MSG_MORE while bytes remain to forward). The client then gets a small
  // response as one segment even when the server sent head and body apart (nginx does).
  const bool body_follows = phase_ == Phase::kExchange && resp_head_done_ && resp_body_left_ > 0 &&
                            x().resp_.facts.framing == http::BodyFraming::kContentLength;
  if (body_follows || fin_follows)
    client_->write_more(runtime::as_bytes(x().cork_));
  else
    client_->write(runtime::as_bytes(x().cork_));
  std::string().swap(x().cork_);
}

// Everything one server read produces for the client (a response head and the body bytes that came with it)
// leaves in one write: one syscall, and over TLS one record.
void HttpSession::on_server_data(ByteView data) {
  ++x().cork_depth_;
  server_data(data);
  --x().cork_depth_;
  if (phase_ != Phase::kClosed) flush_cork();
}

void HttpSession::server_data(ByteView data) {
  if (phase_ == Phase::kTunnel) {
    to_client(data);
    bytes_out_ += data.size();
    set_server_deadline(to_duration(backend_->config().timeouts.tunnel));
    if (client_->write_backlog() > kHighWater) conn_->stream().set_reading(false), server_paused_ = true;
    return;
  }
  if (phase_ != Phase::kExchange) return;
  if (!response_started_) std::string().swap(x().sent_body_);  // no retry from here on
  response_started_ = true;
  if (resp_head_done_) return forward_response_body(data);

  x().srv_in_.append(runtime::as_chars(data));
  while (true) {
    http::ParseError error;
    auto outcome = http::parse_response(x().srv_in_.data(), x().srv_in_.size(), proxy_.config().limits,
                                        is_head_, x().resp_, error);
    if (outcome == http::ParseOutcome::kIncomplete) return;
    if (outcome == http::ParseOutcome::kError) {
      rt_.logger().log(runtime::LogLevel::kWarning, "proxy", "bad-response",
                       {{"backend", backend_->name()},
                        {"server", backend_->servers()[*server_].config.name},
                        {"reason", error.reason}});
      drop_server(false);
      return reply_error(502, termination::kServerAbortHeaders);
    }
    if (x().resp_.status >= 100 && x().resp_.status < 200 && x().resp_.status != 101) {
      // Interim responses (100 Continue, 103 Early Hints) pass through; the final one follows.
      to_client(runtime::as_bytes(std::string_view(x().srv_in_).substr(0, x().resp_.head_length)));
      x().srv_in_.erase(0, x().resp_.head_length);
      continue;
    }
    break;
  }
  resp_head_done_ = true;
  x().t_response_ = rt_.now();
  status_ = x().resp_.status;
  x().out_.clear();
  if (x().resp_.status == 101 && is_upgrade_ && !x().websocket_key_.empty() &&
      http::find_header(x().resp_.headers, "sec-websocket-accept") !=
          std::optional<std::string_view>(http::websocket_accept(x().websocket_key_))) {
    // RFC 6455 §4.2.2: a switch whose accept is not the key's is no WebSocket; its client gets 502, as from
    // HAProxy (which, between two HTTP/1.1 sides, checks only that the field is there).
    rt_.logger().log(runtime::LogLevel::kWarning, "proxy", "bad-websocket-accept",
                     {{"backend", backend_->name()}});
    term_ = termination::kServerAbortHeaders;
    count_on_server([](stats::ServiceCounters& c) { c.response_errors.add(); });
    drop_server(false);
    return reply_error(502, termination::kServerAbortHeaders);
  }
  if (x().resp_.status == 101 && is_upgrade_) {
    // Switching Protocols: forward the head untouched and tunnel both ways.
    to_client(runtime::as_bytes(std::string_view(x().srv_in_).substr(0, x().resp_.head_length)));
    bytes_out_ += x().resp_.head_length;
    std::string rest = x().srv_in_.substr(x().resp_.head_length);
    x().srv_in_.clear();
    start_tunnel();
    if (!rest.empty()) server_data(runtime::as_bytes(rest));
    return;
  }
  const bool more = x().srv_in_.size() > x().resp_.head_length;
  if (more && x().resp_.facts.framing == http::BodyFraming::kChunked) {
    // A chunked body that came with the head is checked before the head goes out, so that its client
    // gets a 502 rather than half a response.
    auto body = runtime::as_bytes(std::string_view(x().srv_in_).substr(x().resp_.head_length));
    if (auto r = http::ChunkedDecoder{}.check(body); r.error) {
      rt_.logger().log(runtime::LogLevel::kWarning, "proxy", "bad-response-body",
                       {{"backend", backend_->name()}, {"reason", r.why}});
      drop_server(false);
      return reply_error(502, termination::kServerAbortHeaders);
    }
  }
  resp_body_left_ = x().resp_.facts.content_length;
  x().resp_chunks_.reset();
  build_response_head();
  to_client(runtime::as_bytes(x().out_));
  bytes_out_ += x().out_.size();
  x().out_.clear();
  set_server_deadline(to_duration(backend_->config().timeouts.server));
  if (x().resp_.facts.framing == http::BodyFraming::kNone) {
    x().srv_in_.clear();
    if (more) x().resp_.facts.keep_alive = false;  // bytes after a bodiless response: not reusable
    return finish_exchange();
  }
  if (more) {
    // The body bytes that came with the head, straight from the head buffer (it is not touched meanwhile).
    std::string head_buffer;
    head_buffer.swap(x().srv_in_);
    forward_response_body(runtime::as_bytes(std::string_view(head_buffer).substr(x().resp_.head_length)));
  } else {
    x().srv_in_.clear();
  }
}

bool HttpSession::should_compress() const {
  // HAProxy's rules: the client accepts gzip, status 200-203, a body, not already encoded, not no-transform,
  // and a listed content type.
  const Compression& c = policy_->compression;
  if (!c.enabled || !accepts_gzip_ || is_head_) return false;
  if (x().resp_.status < 200 || x().resp_.status > 203) return false;
  if (x().resp_.facts.framing == http::BodyFraming::kNone) return false;
  if (http::find_header(x().resp_.headers, "content-encoding")) return false;
  if (auto cc = http::find_header(x().resp_.headers, "cache-control");
      cc && http::list_contains(*cc, "no-transform"))
    return false;
  auto type = http::find_header(x().resp_.headers, "content-type");
  return type && content_type_listed(*type, c.types);
}

void HttpSession::build_response_head() {
  const RoutePolicy& p = *policy_;
  const bool compress = should_compress();
  if (compress) x().compressor_ = std::make_unique<Compressor>();
  // A transformed body, or a chunked one for an HTTP/1.0 client, is re-framed by us.
  chunk_to_client_ = compress && !client_http10_;
  const bool until_close_to_client =
      (compress && client_http10_) ||
      (client_http10_ && x().resp_.facts.framing == http::BodyFraming::kChunked) ||
      x().resp_.facts.framing == http::BodyFraming::kUntilClose;
  if (until_close_to_client) client_keep_alive_ = false;
  if (!req_body_done_) client_keep_alive_ = false;  // answered before the request body ended: close after
  if (x().req_.facts.close_after || x().resp_.facts.close_after) client_keep_alive_ = false;
  if (last_answer_after_fin()) client_keep_alive_ = false;
  dechunk_to_client_ = client_http10_ && x().resp_.facts.framing == http::BodyFraming::kChunked && !compress;

  x().out_.append(http::version_text(client_http10_ ? http::Version::kHttp10 : http::Version::kHttp11));
  x().out_ += ' ';
  x().out_.append(std::to_string(x().resp_.status));
  x().out_ += ' ';
  x().out_.append(x().resp_.reason);
  x().out_.append("\r\n");
  const auto& cookie = backend_->config().cookie;
  for (const http::Header& h : x().resp_.headers) {
    if (is_hop_by_hop(h.name) || is_framing(h.name)) continue;
    if (!p.response_set_headers.empty() && named_in(h.name, p.response_set_headers)) continue;
    if (!x().cors_.empty() && named_in(h.name, x().cors_)) continue;
    if (frontend_.tls && p.hsts.enabled && http::equals_ignore_case(h.name, "strict-transport-security"))
      continue;
    if (compress && http::equals_ignore_case(h.name, "etag")) {
      // A strong validator no longer matches the bytes we send: weaken it (RFC 9110 §8.8.1).
      if (h.value.substr(0, 2) == "W/")
        append_header(x().out_, h.name, h.value);
      else
        append_header(x().out_, h.name, "W/" + std::string(h.value));
      continue;
    }
    if (compress && http::equals_ignore_case(h.name, "vary")) continue;  // rewritten below
    append_header(x().out_, h.name, h.value);
  }
  if (!compress && !dechunk_to_client_) append_framing(x().out_, x().resp_.facts);
  if (compress) {
    std::string vary;
    for (const http::Header& h : x().resp_.headers)
      if (http::equals_ignore_case(h.name, "vary")) vary = std::string(h.value);
    if (vary.empty())
      vary = "Accept-Encoding";
    else if (!http::list_contains(vary, "accept-encoding"))
      vary += ", Accept-Encoding";
    append_header(x().out_, "Vary", vary);
    append_header(x().out_, "Content-Encoding", "gzip");
    if (chunk_to_client_) append_header(x().out_, "Transfer-Encoding", "chunked");
  }
  for (const auto& s : p.response_set_headers)
    if (x().cors_.empty() || !named_in(s.name, x().cors_)) append_header(x().out_, s.name, s.value);
  if (frontend_.tls && p.hsts.enabled)
    append_header(x().out_, "Strict-Transport-Security", p.hsts.header_value());
  append_cors(x().out_);
  if (cookie && server_ && !cookie_valid_) {
    // insert: tell the client which server served it, unless it already presented that (indirect keeps it
    // from the server; nocache keeps shared caches from storing it).
    append_header(x().out_, "Set-Cookie",
                  cookie->name + "=" + backend_->servers()[*server_].config.name + "; path=/");
    if (cookie->nocache) append_header(x().out_, "Cache-Control", "private");
  }
  if (!client_keep_alive_ && !client_http10_) x().out_.append("Connection: close\r\n");
  if (client_keep_alive_ && client_http10_) x().out_.append("Connection: keep-alive\r\n");
  x().out_.append("\r\n");
}

void HttpSession::forward_response_body(ByteView data) {
  set_server_deadline(to_duration(backend_->config().timeouts.server));
  std::size_t take = data.size();
  bool done = false;
  const bool transform = x().compressor_ || dechunk_to_client_;
  std::string transformed, reframed;
  auto emit = [&](ByteView piece) {
    if (x().compressor_)
      x().compressor_->compress(piece, transformed);
    else if (dechunk_to_client_)
      transformed.append(runtime::as_chars(piece));
  };
  switch (x().resp_.facts.framing) {
    case http::BodyFraming::kContentLength:
      take = static_cast<std::size_t>(std::min<std::uint64_t>(resp_body_left_, data.size()));
      resp_body_left_ -= take;
      done = resp_body_left_ == 0;
      if (transform) emit(data.subspan(0, take));
      break;
    case http::BodyFraming::kChunked: {
      http::ChunkedDecoder::Result r =
          transform ? x().resp_chunks_.feed(data, emit) : x().resp_chunks_.reframe(data, reframed);
      if (r.error) {
        rt_.logger().log(runtime::LogLevel::kWarning, "proxy", "bad-response-body",
                         {{"backend", backend_->name()}, {"reason", r.why}});
        term_ = termination::kServerAbortData;
        drop_server(false);
        return close_client(true);
      }
      take = r.consumed;
      done = r.done;
      break;
    }
    case http::BodyFraming::kUntilClose:
      if (transform) emit(data);
      break;
    case http::BodyFraming::kNone:
      take = 0;
      done = true;
      break;
  }
  if (take < data.size())
    x().resp_.facts.keep_alive = false;  // the server sent more than the body: not reusable
  if (done && x().compressor_) x().compressor_->finish(transformed);
  if (transform) {
    if (chunk_to_client_) {
      std::string framed;
      http::append_chunk(framed, runtime::as_bytes(transformed));
      if (done) http::append_last_chunk(framed, {});
      transformed.swap(framed);
    }
    to_client(runtime::as_bytes(transformed));
    bytes_out_ += transformed.size();
  } else if (x().resp_.facts.framing == http::BodyFraming::kChunked) {
    to_client(runtime::as_bytes(reframed));
    bytes_out_ += reframed.size();
  } else {
    to_client(data.subspan(0, take));
    bytes_out_ += take;
  }
  if (client_->write_backlog() > kHighWater && conn_ && !server_paused_) {
    conn_->stream().set_reading(false);
    server_paused_ = true;
  }
  if (done) finish_exchange();
}

void HttpSession::finish_exchange() {
  // The response is complete.
  x().compressor_.reset();
  log_request();
  first_request_ = false;
  set_server_deadline(std::nullopt);
  if (holds_slot_) {
    holds_slot_ = false;
    backend_->release(*server_);
  }
  drop_server(x().resp_.facts.keep_alive && req_body_done_);
  x().out_.clear();
  if (!client_keep_alive_ || (client_shut_ && in_.empty())) {  // after a FIN, what was pipelined is answered
    enter(Phase::kLocalReply);
    if (client_->write_backlog() == 0) close_client();
    return;
  }
  enter(Phase::kWaitRequest);
  x().cors_.clear();  // the next request works out its own
  set_client_deadline(to_duration(proxy_.config().frontend_timeouts.http_keep_alive));
  if (client_paused_ && !server_paused_) {
    client_paused_ = false;
    client_->set_reading(true);
  }
  if (!in_.empty()) {
    // A pipelined request is already here.
    enter(Phase::kRequestHead);
    t_start_ = rt_.now();
    set_client_deadline(to_duration(proxy_.config().frontend_timeouts.http_request));
    advance();
  } else {
    // Idle keep-alive connections hold no buffers (memory per idle connection is what limits 10k+ clients).
    std::string().swap(in_);
    release_exchange_when_idle();
  }
}

HttpSession::Exchange::Exchange() = default;
HttpSession::Exchange::~Exchange() = default;

void HttpSession::new_exchange() const {
  ex_ = std::make_unique<Exchange>();
}

void HttpSession::release_exchange_when_idle() {
  // Not now: the callers of finish_exchange() may still look at the response's state on their way out.
  rt_.post([this, alive = alive_] {
    if (*alive && phase_ == Phase::kWaitRequest && in_.empty()) ex_.reset();
  });
}

void HttpSession::start_tunnel() {
  enter(Phase::kTunnel);
  set_client_deadline(std::nullopt);
  set_server_deadline(to_duration(backend_->config().timeouts.tunnel));
  log_request();
  if (!in_.empty()) {
    conn_->stream().write(runtime::as_bytes(in_));
    in_.clear();
  }
}

void HttpSession::on_server_shutdown() {
  if (phase_ == Phase::kTunnel) {
    client_->shutdown_write();
    return;
  }
  if (phase_ != Phase::kExchange) return;
  if (resp_head_done_ && x().resp_.facts.framing == http::BodyFraming::kUntilClose) {
    x().resp_.facts.keep_alive = false;
    if (x().compressor_) {
      std::string tail;
      x().compressor_->finish(tail);
      to_client(runtime::as_bytes(tail));
      bytes_out_ += tail.size();
    }
    return finish_exchange();
  }
  on_server_closed(std::make_error_code(std::errc::connection_reset));
}

void HttpSession::on_server_closed(std::error_code reason) {
  if (phase_ == Phase::kTunnel) {
    term_ = termination::kServerAbortData;
    conn_.reset();
    return close_client();
  }
  if (phase_ == Phase::kConnecting) {
    ++backend_->servers()[*server_].failed_connects;
    count_on_server([](stats::ServiceCounters& c) { c.connection_errors.add(); });
    return retry_or_fail(reason.message());
  }
  if (phase_ != Phase::kExchange) return;
  // An HTTP/2 server refused the stream without processing it (RFC 9113 §8.7): it goes again, body and all,
  // as a failed connect would (retries, then redispatch).
  if (!response_started_ && reason == std::errc::connection_refused && x().body_replayable_) {
    count_on_server([](stats::ServiceCounters& c) { c.connection_errors.add(); });
    return retry_or_fail("stream refused");
  }
  if (!response_started_ && sent_on_reused_ && x().req_.facts.framing == http::BodyFraming::kNone) {
    // A kept-alive connection the server had closed meanwhile: send the request again on a new one.
    conn_->attach(nullptr);
    conn_.reset();
    sent_on_reused_ = false;
    return open_server_connection(/*retry=*/true);
  }
  term_ = resp_head_done_ ? termination::kServerAbortData : termination::kServerAbortHeaders;
  count_on_server([](stats::ServiceCounters& c) { c.response_errors.add(); });
  drop_server(false);
  if (!resp_head_done_) return reply_error(502, termination::kServerAbortHeaders);
  close_client(true);  // mid-body: the client must see the response was cut
}

void HttpSession::retry_or_fail(std::string_view why) {
  const BackendConfig& bc = backend_->config();
  if (conn_) {
    conn_->attach(nullptr);
    conn_.reset();
  }
  if (x().connect_attempts_ <= bc.timeouts.connect_retries) {
    // The last retry goes to another server when there is one (HAProxy's option redispatch).
    if (x().connect_attempts_ == bc.timeouts.connect_retries && backend_->servers().size() > 1) {
      bool all_full = false;
      if (auto other = backend_->choose(client_->peer_address().ip, &all_full, server_);
          other && *other != *server_) {
        count_on_server([](stats::ServiceCounters& c) { c.redispatches.add(); });
        backend_->release(*server_);
        server_ = other;
        backend_->acquire(*server_);
        // Persistence is broken: the answer pins the client to the server that gave it, as HAProxy's does
        // (found live: a client kept its dead pod's cookie and bounced between the others for 6 s).
        cookie_valid_ = false;
      }
    }
    return open_server_connection(/*retry=*/true);
  }
  rt_.logger().log(runtime::LogLevel::kDebug, "proxy", "connect-failed",
                   {{"backend", backend_->name()},
                    {"server", backend_->servers()[*server_].config.name},
                    {"reason", std::string(why)}});
  reply_error(503, termination::kServerRefused);
}

// ------------------------------------------------------------------------------------------ local replies

void HttpSession::reply(int status, std::string_view extra_headers, bool close, Termination term) {
  status_ = status;
  term_ = term;
  if (close || !req_body_done_ || last_answer_after_fin()) client_keep_alive_ = false;
  if (!client_keep_alive_) close = true;
  std::string response = "HTTP/1.1 " + std::to_string(status) + " " +
                         std::string(http::reason_phrase(status)) +
                         (status == 204 ? "\r\n" : "\r\ncontent-length: 0\r\n");  // 204 has no length
  response.append(extra_headers);
  append_hsts(response);
  append_cors(response);
  response.append(close ? "connection: close\r\n\r\n" : "\r\n");
  send_local(response, close);
}

void HttpSession::reply_error(int status, Termination term, std::string_view extra_headers) {
  status_ = status;
  term_ = term;
  std::string body = error_body(status);
  // HAProxy closes after its own errors, except 404/403 from rules on a healthy request stream.
  bool close = status == 400 || status == 408 || status >= 500 || !req_body_done_ || !client_keep_alive_ ||
               last_answer_after_fin();
  if (close) client_keep_alive_ = false;
  std::string response = "HTTP/1.1 " + std::to_string(status) + " " +
                         std::string(http::reason_phrase(status)) +
                         "\r\ncontent-length: " + std::to_string(body.size()) +
                         "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n";
  response.append(extra_headers);
  append_hsts(response);
  append_cors(response);
  response.append(close ? "connection: close\r\n\r\n" : "\r\n");
  response.append(body);
  send_local(response, close);
}

// HSTS goes on every answer of a TLS frontend whose policy asks for it, the proxy's own included (a browser
// that first meets the site through a 404 or a 503 must learn it all the same).
void HttpSession::append_hsts(std::string& response) const {
  const RoutePolicy& p = policy_ ? *policy_ : proxy_.config().policies[0];
  if (frontend_.tls && p.hsts.enabled) append_header(response, "strict-transport-security", p.hsts.header_value());
}

// The request's CORS headers (http-after-response: on the server's answers and the proxy's own alike).
void HttpSession::append_cors(std::string& response) const {
  for (const HeaderSetting& h : x().cors_)
    append_header(response, h.name, h.value);
}

bool HttpSession::last_answer_after_fin() const {
  if (!client_shut_) return false;
  const std::size_t own = head_sent_ ? 0 : std::min(in_.size(), x().req_.head_length);  // this request's head
  return in_.size() == own;  // nothing pipelined behind it
}

void HttpSession::leave_queue() {
  if (backend_) backend_->dequeue(this);
}

void HttpSession::send_local(const std::string& response, bool close) {
  if (phase_ == Phase::kQueued) leave_queue();
  if (holds_slot_) {
    holds_slot_ = false;
    backend_->release(*server_);
  }
  to_client(runtime::as_bytes(response));
  bytes_out_ += response.size();
  log_request();
  set_server_deadline(std::nullopt);
  if (close) {
    drop_server(false);
    enter(Phase::kLocalReply);
    set_client_deadline(to_duration(proxy_.config().frontend_timeouts.client));
    if (client_->write_backlog() == 0) close_client();
    return;
  }
  // Kept alive: the request head (and no body) is consumed; go on with the next one.
  if (!head_sent_) in_.erase(0, std::min(in_.size(), x().req_.head_length));
  first_request_ = false;
  enter(Phase::kWaitRequest);
  x().cors_.clear();  // the next request works out its own
  set_client_deadline(to_duration(proxy_.config().frontend_timeouts.http_keep_alive));
  if (!in_.empty()) {
    enter(Phase::kRequestHead);
    t_start_ = rt_.now();
    set_client_deadline(to_duration(proxy_.config().frontend_timeouts.http_request));
    rt_.post([this, alive = alive_] {
      if (*alive) advance();
    });
  }
}

void HttpSession::close_client(bool reset) {
  if (phase_ == Phase::kClosed) return;
  if (!reset) flush_cork(true);  // a response then FIN: one segment
  // An exchange cut short (a timeout, a server gone mid-body) is logged too, with its termination state.
  if (phase_ != Phase::kWaitRequest && !(phase_ == Phase::kRequestHead && in_.empty())) log_request();
  drop_server(false);
  enter(Phase::kClosed);
  // The connection object lives until the session is destroyed (it may be the caller).
  if (reset)
    client_->reset();
  else
    client_->close();
  stop_timers();
  proxy_.finished(this);
}

void HttpSession::drop_server(bool reusable) {
  if (!conn_) return;
  if (server_paused_) {
    conn_->stream().set_reading(true);
    server_paused_ = false;
  }
  if (reusable && conn_->connected()) {
    conn_->attach(nullptr);
    if (backend_->config().http_reuse == HttpReuse::kNever) {
      own_ = std::move(conn_);  // never shared: kept private to this session until it ends
      return;
    }
    // Into the server's pool at once, as HAProxy's idle lists: this session's next request takes it back
    // (or another's, under safe only for a request that is not its first), and an idle client then holds
    // no server connection, so the pool's cap bounds them whatever the number of idle clients.
    Backend& backend = conn_->backend();
    backend.park(std::move(conn_));
    return;
  }
  conn_->attach(nullptr);
  if (reusable)
    conn_->stream().close();
  else
    conn_->stream().reset();
  conn_.reset();
}

// ------------------------------------------------------------------------------------------ logging

void HttpSession::log_request() {
  if (logged_) return;
  logged_ = true;
  int cls = status_ / 100;
  ++proxy_.counters().responses_by_class[cls >= 1 && cls <= 5 ? cls : 0];
  AccessRecord r = record();
  count_request(r);
  if (!proxy_.logs_access() || !(proxy_.config().access_log || (policy_ && policy_->access_log))) return;
  r.client = client_->peer_address();
  r.unix_ms = proxy_.unix_ms(t_start_);
  std::string frontend_name = frontend_.tls ? frontend_.name + "~" : frontend_.name;  // HAProxy marks TLS "~"
  r.frontend = frontend_name;
  r.backend = backend_ ? std::string_view(backend_->name()) : std::string_view("<NOSRV>");
  r.server = backend_ && server_ ? std::string_view(backend_->servers()[*server_].config.name)
                                 : std::string_view("<NOSRV>");
  r.frontend_connections = static_cast<std::uint32_t>(proxy_.client_connections());
  r.active_connections = r.frontend_connections;
  if (backend_) {
    r.backend_queue = static_cast<std::uint32_t>(backend_->queued());
    if (server_) r.server_connections = static_cast<std::uint32_t>(backend_->load(*server_).active);
    for (std::size_t i = 0; i < backend_->servers().size(); ++i)
      r.backend_connections += static_cast<std::uint32_t>(backend_->load(i).active);
  }
  r.request_line = x().request_line_;
  proxy_.log_access(r);
}

AccessRecord HttpSession::record() const {
  const runtime::Instant now = rt_.now();
  const Exchange& e = x();
  AccessRecord r;
  auto since = [&](runtime::Instant from, runtime::Instant to) { return ms_between(from, to); };
  r.t_request = e.t_head_ >= t_start_ ? since(t_start_, e.t_head_) : -1;
  const bool dispatched = e.t_dispatched_ >= e.t_head_ && server_.has_value();
  r.t_queue = dispatched ? 0 : -1;
  r.t_connect = dispatched && e.t_connected_ >= e.t_dispatched_ ? since(e.t_dispatched_, e.t_connected_) : -1;
  r.t_response =
      resp_head_done_ && e.t_response_ >= e.t_connected_ ? since(e.t_connected_, e.t_response_) : -1;
  r.t_active = since(t_start_, now);
  r.status = status_;
  r.bytes = bytes_out_;
  r.termination = term_;
  r.retries = e.retries_;
  return r;
}

template <typename F>
void HttpSession::count_on_server(F&& f) {
  if (!backend_) return;
  f(static_cast<stats::ServiceCounters&>(backend_->stats()));
  if (server_) f(static_cast<stats::ServiceCounters&>(backend_->server_stats(*server_)));
}

void HttpSession::count_request(const AccessRecord& r) {
  const int cls = r.status / 100;
  const std::size_t slot = cls >= 1 && cls <= 5 ? static_cast<std::size_t>(cls) : 0;
  fe_stats_.http.responses[slot].add();
  const std::uint64_t in = std::exchange(bytes_in_, 0);
  // A request answered before it reached its backend (denied, redirected, refused by auth or a rate limit)
  // counts in the frontend only: HAProxy's controller applies those rules in the frontend.
  if (!backend_ || !dispatched_) return;
  backend_->stats().http.requests.add();
  if (!server_) {
    backend_->stats().http.responses[slot].add();
    return;
  }
  const std::int64_t started = t_start_.time_since_epoch().count();
  const std::int64_t now_ms = runtime::milliseconds_of(rt_.now());
  count_on_server([&](stats::ServiceCounters& c) {
    c.sessions_total.add();
    c.session_rate.add(now_ms);
    c.http.responses[slot].add();
    c.bytes_in.add(in);
    c.bytes_out.add(r.bytes);
    if (r.t_queue >= 0) c.queue_ms.add(static_cast<std::uint64_t>(r.t_queue));
    if (r.t_connect >= 0) c.connect_ms.add(static_cast<std::uint64_t>(r.t_connect));
    if (r.t_response >= 0) c.response_ms.add(static_cast<std::uint64_t>(r.t_response));
    c.total_ms.add(static_cast<std::uint64_t>(std::max<std::int64_t>(r.t_active, 0)));
    c.last_session_ns.store(started, std::memory_order_relaxed);
  });
  backend_->server_stats(*server_).http.requests.add();
}

std::string_view HttpSession::persistence_cookie() const {
  const auto& cookie = backend_->config().cookie;
  std::string_view found;
  for (const http::Header& h : x().req_.headers) {
    if (!http::equals_ignore_case(h.name, "cookie")) continue;
    for_each_cookie(h.value, [&](std::string_view name, std::string_view value, std::string_view) {
      if (name != cookie->name) return false;
      found = value;
      return true;
    });
    if (!found.empty()) return found;
  }
  return {};
}

// ------------------------------------------------------------------------------------------ timers

void HttpSession::set_client_deadline(std::optional<Duration> after) {
  client_deadline_ = after ? std::optional<runtime::Instant>(rt_.now() + *after) : std::nullopt;
  rearm();
}

void HttpSession::set_server_deadline(std::optional<Duration> after) {
  server_deadline_ = after ? std::optional<runtime::Instant>(rt_.now() + *after) : std::nullopt;
  rearm();
}

void HttpSession::rearm() {
  if (!timers_on_) return;
  std::optional<runtime::Instant> next = client_deadline_;
  if (server_deadline_ && (!next || *server_deadline_ < *next)) next = server_deadline_;
  if (!next) return;  // an entry left for an earlier deadline finds nothing due and re-arms
  // Deadlines mostly move later: re-arm only when the new one is earlier than the entry waiting.
  if (deadline_ && (*deadline_)->first <= *next) return;
  if (deadline_) proxy_.deadlines().remove(*deadline_);
  deadline_ = proxy_.deadlines().add(*next, this);
}

void HttpSession::stop_timers() {
  timers_on_ = false;
  if (deadline_) proxy_.deadlines().remove(*deadline_);
  deadline_.reset();
}

void HttpSession::on_timer() {
  deadline_.reset();  // the queue has let go of the entry
  const runtime::Instant now = rt_.now();
  if (server_deadline_ && now >= *server_deadline_) {
    server_deadline_.reset();
    switch (phase_) {
      case Phase::kQueued:  // send_local takes it out of the queue
        return reply_error(503, termination::kQueueTimeout);
      case Phase::kConnecting:
        return retry_or_fail("connect timeout");
      case Phase::kExchange:
        term_ = resp_head_done_ ? termination::kServerTimeoutData : termination::kServerTimeoutHeaders;
        drop_server(false);
        if (!resp_head_done_) return reply_error(504, termination::kServerTimeoutHeaders);
        return close_client(true);
      case Phase::kTunnel:
        term_ = termination::kServerTimeoutData;
        return close_client();
      default:
        break;
    }
  }
  if (client_deadline_ && now >= *client_deadline_) {
    client_deadline_.reset();
    switch (phase_) {
      case Phase::kWaitRequest:
        return close_client();  // keep-alive timeout: quietly
      case Phase::kRequestHead:
        if (in_.empty() && !first_request_) return close_client();
        return reply_error(408, termination::kClientTimeoutRequest);
      case Phase::kExchange:
        term_ = termination::kClientTimeoutData;
        drop_server(false);
        return close_client(true);
      case Phase::kLocalReply:
        return close_client(true);
      default:
        break;
    }
  }
  rearm();
}

}  // namespace metalgate::proxy
