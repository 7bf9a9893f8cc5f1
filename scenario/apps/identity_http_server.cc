#include "scenario/apps/identity_http_server.h"

#include <algorithm>
#include <cstdio>

#include "engine/http/chunked.h"
#include "engine/http/message.h"
#include "engine/http/parser.h"

namespace metalgate::apps {

// What the server answers a request from: taken out of the connection's buffer as it arrives.
struct IdentityHttpServer::Request {
  std::string method, path;
  bool keep_alive = true;
  bool head_only = false;  // HEAD: the answer has no body
};

struct IdentityHttpServer::Conn final : runtime::StreamHandler {
  IdentityHttpServer& server;
  runtime::StreamConnectionPtr stream;
  std::string in;
  std::vector<runtime::TimerPtr> pending;  // answers waiting out the latency
  bool open = true;
  Conn(IdentityHttpServer& s, runtime::StreamConnectionPtr c) : server(s), stream(std::move(c)) {}

  void on_data(runtime::ByteView data) override {
    in.append(runtime::as_chars(data));
    if (server.options.record) server.raw.append(runtime::as_chars(data));
    while (open && take_request()) {
    }
  }
  // Answers one complete request off the front of `in`; false while none is complete (or the connection
  // is done).
  bool take_request() {
    http::RequestHead head;
    http::ParseError error;
    auto outcome = http::parse_request(in.data(), in.size(), {}, head, error);
    if (outcome == http::ParseOutcome::kError) {
      send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", false);
      return false;
    }
    if (outcome != http::ParseOutcome::kComplete) return false;
    std::size_t body_length = 0;
    std::string body;
    if (head.facts.framing == http::BodyFraming::kContentLength) {
      if (in.size() - head.head_length < head.facts.content_length) return false;
      body_length = head.facts.content_length;
      body = in.substr(head.head_length, body_length);
    } else if (head.facts.framing == http::BodyFraming::kChunked) {
      auto r = http::ChunkedDecoder{}.feed(runtime::as_bytes(std::string_view(in).substr(head.head_length)),
                                           [&](runtime::ByteView v) { body.append(runtime::as_chars(v)); });
      if (!r.done) return false;
      body_length = r.consumed;
    }
    Request request{std::string(head.method), std::string(head.path()),
                    head.facts.keep_alive && !server.options.close_after, head.is_head()};
    std::string head_text = in.substr(0, head.head_length);
    in.erase(0, head.head_length + body_length);
    if (!server.options.health_path.empty() && request.path == server.options.health_path &&
        request.method != "POST") {
      ++server.health_checks_;
      const int status = server.options.healthy ? server.options.health_status : 503;
      send(server.response(status, "health", request.keep_alive, request.head_only), request.keep_alive);
      return true;
    }
    ++server.requests_;
    if (server.options.record) {
      server.heads.push_back(std::move(head_text));
      server.bodies.push_back(std::move(body));
    }
    if (server.options.silent) return true;
    // Raw bytes carry their own framing: the connection is left for the peer to end.
    const bool keep = request.keep_alive || !server.options.raw_response.empty();
    answer_after_latency(server.answer(request), keep);
    return true;
  }
  void answer_after_latency(std::string response, bool keep) {
    if (server.options.latency <= runtime::Duration::zero()) return send(response, keep);
    auto t = server.rt_.create_timer([this, response = std::move(response), keep] { send(response, keep); });
    t->arm(server.options.latency);
    pending.push_back(std::move(t));
  }
  // `keep`: the connection stays open after `response`.
  void send(const std::string& response, bool keep) {
    if (!open) return;
    stream->write(runtime::as_bytes(response));
    if (keep) return;
    stream->close();
    open = false;
  }
  void on_peer_shutdown() override {
    if (open) stream->close();
    open = false;
  }
  void on_closed(std::error_code) override { open = false; }
};

IdentityHttpServer::IdentityHttpServer(runtime::Runtime& rt, net::SocketAddress at, std::string name,
                                       Options opts)
    : options(std::move(opts)), rt_(rt), name_(std::move(name)) {
  listener_ = rt_.listen(
      at, {},
      [this](runtime::StreamConnectionPtr c) {
        ++accepted_;
        // Forget connections that are done (a long run opens many).
        conns_.erase(std::remove_if(conns_.begin(), conns_.end(), [](const auto& x) { return !x->open; }),
                     conns_.end());
        auto conn = std::make_unique<Conn>(*this, std::move(c));
        conn->stream->start(*conn);
        conns_.push_back(std::move(conn));
      },
      listen_error_);
}

IdentityHttpServer::IdentityHttpServer(runtime::Runtime& rt, net::SocketAddress at, std::string name,
                                       runtime::Duration latency)
    : IdentityHttpServer(rt, at, std::move(name), Options{.latency = latency}) {}

IdentityHttpServer::~IdentityHttpServer() = default;

// The answer as it is when the request arrives (a later change of health does not alter it).
std::string IdentityHttpServer::answer(const Request& request) const {
  if (!options.raw_response.empty()) return options.raw_response;
  const int status = options.healthy ? options.status : 503;
  std::string body =
      options.body.empty() ? name_ + " " + request.method + " " + request.path + "\n" : options.body;
  return response(status, body, request.keep_alive, request.head_only);
}

std::string IdentityHttpServer::response(int status, const std::string& body, bool keep,
                                         bool head_only) const {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::reason_phrase(status)) +
                  "\r\nContent-Type: " + options.content_type + "\r\nX-Served-By: " + name_ + "\r\n";
  for (const auto& [header, value] : options.extra_headers)
    r += header + ": " + value + "\r\n";
  if (options.chunked) {
    r += "Transfer-Encoding: chunked\r\n";
  } else {
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r += keep ? "\r\n" : "Connection: close\r\n\r\n";
  if (head_only) return r;
  if (!options.chunked) return r + body;
  const std::size_t half = body.size() / 2;
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", half);
  r += size + body.substr(0, half) + "\r\n";
  std::snprintf(size, sizeof size, "%zx\r\n", body.size() - half);
  return r + size + body.substr(half) + "\r\n0\r\n\r\n";
}

int IdentityHttpServer::open_connections() const {
  return static_cast<int>(std::count_if(conns_.begin(), conns_.end(), [](const auto& c) { return c->open; }));
}

void IdentityHttpServer::stop() {
  listener_.reset();
  for (auto& c : conns_) {
    if (c->open) c->stream->reset();
    c->open = false;
  }
}

void IdentityHttpServer::close_connections() {
  for (auto& c : conns_) {
    if (c->open) c->stream->close();
    c->open = false;
  }
}

}  // namespace metalgate::apps
