#include "sim/apps/apps.h"

#include <algorithm>

#include "engine/http/message.h"
#include "engine/http/parser.h"
#include "engine/tls/tls_stream.h"

namespace metalgate::sim {

namespace {
std::int64_t us(runtime::Instant t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
}  // namespace

// ------------------------------------------------------------------------------------------ HTTP server

struct IdentityHttpServer::Conn final : runtime::StreamHandler {
  IdentityHttpServer& server;
  runtime::StreamConnectionPtr stream;
  std::string in;
  std::vector<runtime::TimerPtr> pending;
  bool open = true;
  Conn(IdentityHttpServer& s, runtime::StreamConnectionPtr c) : server(s), stream(std::move(c)) {}
  void on_data(runtime::ByteView data) override {
    in.append(runtime::as_chars(data));
    while (open) {
      http::RequestHead head;
      http::ParseError error;
      auto outcome = http::parse_request(in.data(), in.size(), {}, head, error);
      if (outcome == http::ParseOutcome::kError) {
        stream->write(
            runtime::as_bytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        stream->close();
        open = false;
        return;
      }
      if (outcome != http::ParseOutcome::kComplete) return;
      std::size_t body =
          head.facts.framing == http::BodyFraming::kContentLength ? head.facts.content_length : 0;
      if (in.size() < head.head_length + body) return;
      const bool keep = head.facts.keep_alive;
      std::string text = server.pod_ + " " + std::string(head.method) + " " + std::string(head.path()) + "\n";
      std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Served-By: " + server.pod_ +
                             "\r\nContent-Length: " + std::to_string(text.size()) + "\r\n" +
                             (keep ? "" : "Connection: close\r\n") + "\r\n" + (head.is_head() ? "" : text);
      in.erase(0, head.head_length + body);
      ++server.requests_;
      auto send = [this, response, keep] {
        if (!open) return;
        stream->write(runtime::as_bytes(response));
        if (!keep) {
          stream->close();
          open = false;
        }
      };
      if (server.latency_ > runtime::Duration::zero()) {
        auto t = server.rt_.create_timer(send);
        t->arm(server.latency_);
        pending.push_back(std::move(t));
      } else {
        send();
      }
    }
  }
  void on_peer_shutdown() override {
    if (open) stream->close();
    open = false;
  }
  void on_closed(std::error_code) override { open = false; }
};

IdentityHttpServer::IdentityHttpServer(runtime::Runtime& rt, net::SocketAddress at, std::string pod,
                                       runtime::Duration latency)
    : rt_(rt), pod_(std::move(pod)), latency_(latency) {
  std::error_code ec;
  listener_ = rt_.listen(
      at, {},
      [this](runtime::StreamConnectionPtr c) {
        // Forget connections that are done (a long run opens many).
        conns_.erase(std::remove_if(conns_.begin(), conns_.end(), [](const auto& x) { return !x->open; }),
                     conns_.end());
        auto conn = std::make_unique<Conn>(*this, std::move(c));
        conn->stream->start(*conn);
        conns_.push_back(std::move(conn));
      },
      ec);
}

IdentityHttpServer::~IdentityHttpServer() = default;

IdentityUdpServer::IdentityUdpServer(runtime::Runtime& rt, net::SocketAddress at, std::string pod)
    : pod_(std::move(pod)) {
  std::error_code ec;
  socket_ = rt.open_datagram(
      at,
      [this](const net::SocketAddress& from, const net::SocketAddress& to, runtime::ByteView payload) {
        std::string reply = pod_ + ":" + std::string(runtime::as_chars(payload));
        socket_->send_from(to.ip, from, runtime::as_bytes(reply));
      },
      ec);
}

// ------------------------------------------------------------------------------------------ HTTP client

struct HttpLoadClient::Request final : runtime::StreamHandler {
  HttpLoadClient& client;
  RequestRecord record;
  runtime::StreamConnectionPtr conn;
  runtime::TimerPtr timeout;
  std::string in;
  bool done = false;
  explicit Request(HttpLoadClient& c) : client(c) {}

  void on_connected() override {
    std::string req = "GET " + client.options_.path + " HTTP/1.1\r\nHost: " + client.options_.host +
                      "\r\nConnection: close\r\n\r\n";
    conn->write(runtime::as_bytes(req));
  }
  void on_data(runtime::ByteView data) override {
    in.append(runtime::as_chars(data));
    http::ResponseHead head;
    http::ParseError error;
    std::string copy = in;
    auto outcome = http::parse_response(copy.data(), copy.size(), {}, false, head, error);
    if (outcome == http::ParseOutcome::kError) return complete(0, "bad response: " + error.reason);
    if (outcome != http::ParseOutcome::kComplete) return;
    if (head.facts.framing == http::BodyFraming::kContentLength &&
        copy.size() < head.head_length + head.facts.content_length)
      return;
    if (head.facts.framing == http::BodyFraming::kChunked ||
        head.facts.framing == http::BodyFraming::kUntilClose)
      return;  // wait for the close
    record.served_by = std::string(http::find_header(head.headers, "x-served-by").value_or(""));
    complete(head.status, "");
  }
  void on_peer_shutdown() override {
    if (done) return;
    http::ResponseHead head;
    http::ParseError error;
    std::string copy = in;
    if (http::parse_response(copy.data(), copy.size(), {}, false, head, error) ==
        http::ParseOutcome::kComplete) {
      record.served_by = std::string(http::find_header(head.headers, "x-served-by").value_or(""));
      return complete(head.status, "");
    }
    complete(0, "closed before a response");
  }
  void on_closed(std::error_code reason) override { complete(0, reason.message()); }
  void complete(int status, std::string error) {
    if (done) return;
    done = true;
    record.status = status;
    record.error = std::move(error);
    record.end_us = us(client.rt_.now());
    if (conn) {
      if (status == 0)
        conn->reset();
      else
        conn->close();
    }
    client.finish(this);
  }
};

HttpLoadClient::HttpLoadClient(runtime::Runtime& rt, Options options)
    : rt_(rt), options_(std::move(options)) {}
HttpLoadClient::~HttpLoadClient() = default;

void HttpLoadClient::start() {
  ticker_ = rt_.create_timer([this] { launch(); });
  ticker_->arm_periodic(
      std::chrono::duration_cast<runtime::Duration>(std::chrono::duration<double>(1.0 / options_.rate)));
}

void HttpLoadClient::stop() {
  ticker_.reset();
  for (auto& r : in_flight_) {
    if (!r->done) {
      r->record.error = "still running at the end";
      r->record.end_us = us(rt_.now());
      records_.push_back(r->record);
    }
  }
  in_flight_.clear();
}

void HttpLoadClient::launch() {
  // Drop finished requests (their records are kept).
  in_flight_.erase(
      std::remove_if(in_flight_.begin(), in_flight_.end(), [](const auto& r) { return r->done; }),
      in_flight_.end());
  auto r = std::make_unique<Request>(*this);
  r->record.start_us = us(rt_.now());
  Request* raw = r.get();
  r->timeout = rt_.create_timer([raw] { raw->complete(0, "timed out"); });
  r->timeout->arm(options_.timeout);
  if (options_.https) {
    tls::ClientSettings ts;
    ts.server_name = options_.host;
    r->conn = tls::connect_client(rt_, options_.target, *r, ts);
  } else {
    r->conn = rt_.connect(options_.target, *r);
  }
  in_flight_.push_back(std::move(r));
}

void HttpLoadClient::finish(Request* r) {
  records_.push_back(r->record);
  r->timeout->cancel();
  // The connection object may be the caller: let it go on the next launch() sweep.
}

// ------------------------------------------------------------------------------------------ UDP client

UdpLoadClient::UdpLoadClient(runtime::Runtime& rt, Options options) : rt_(rt), options_(std::move(options)) {}

void UdpLoadClient::start() {
  std::error_code ec;
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
      ec);
  ticker_ = rt_.create_timer([this] { launch(); });
  ticker_->arm_periodic(
      std::chrono::duration_cast<runtime::Duration>(std::chrono::duration<double>(1.0 / options_.rate)));
}

void UdpLoadClient::launch() {
  expire();
  std::string payload = "q" + std::to_string(next_++);
  RequestRecord r;
  r.start_us = us(rt_.now());
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
    r.error = "still running at the end";
    records_.push_back(r);
  }
  pending_.clear();
  ticker_.reset();
  socket_.reset();
}

}  // namespace metalgate::sim
