#include "scenario/apps/http_load_client.h"
#include "scenario/apps/record_clock.h"

#include <algorithm>

#include "engine/http/message.h"
#include "engine/http/parser.h"
#include "engine/http2/client_session.h"
#include "engine/tls/tls_stream.h"

namespace metalgate::apps {

namespace {
using scenario::observe::RequestRecord;

constexpr auto us = microseconds_of;
}  // namespace

struct HttpLoadClient::Request {
  HttpLoadClient& client;
  RequestRecord record;
  Connection* connection = nullptr;
  runtime::TimerPtr timeout;
  int user = -1;  // closed loop: which virtual user sent it
  bool done = false;
  explicit Request(HttpLoadClient& c) : client(c) {}
  void complete(int status, std::string error);
};

// One connection; carries one request at a time (no pipelining), then idles if kept alive. With `http2`, each
// request is a stream of the connection (http2/client_session), agreed in TLS by ALPN.
struct HttpLoadClient::Connection final : runtime::StreamHandler, http2::ClientEvents {
  HttpLoadClient& client;
  std::string host;  // SNI and the only Host it carries
  runtime::StreamConnectionPtr stream;
  Request* request = nullptr;
  std::string in;
  bool connected = false;
  bool open = true;
  bool keep = true;  // the server did not say close
  std::uint64_t served = 0;
  std::int64_t opened_us = 0;
  std::unique_ptr<http2::ClientSession> h2;
  int h2_status = 0;
  std::string h2_served_by;
  Connection(HttpLoadClient& c, std::string h, std::int64_t opened)
      : client(c), host(std::move(h)), opened_us(opened) {
    if (c.options_.http2) h2 = std::make_unique<http2::ClientSession>(*this, http2::Settings{});
  }

  void on_connected() override {
    connected = true;
    if (h2 && stream->application_protocol() != "h2") return fail("the server did not agree on h2 (ALPN)");
    if (request) client.send(*request, *this);
  }
  void on_data(runtime::ByteView data) override {
    if (h2) {
      if (!h2->receive(data)) fail("bad HTTP/2 from the server");
      return flush_h2();
    }
    in.append(runtime::as_chars(data));
    http::ResponseHead head;
    http::ParseError error;
    std::string copy = in;
    auto outcome = http::parse_response(copy.data(), copy.size(), {}, false, head, error);
    if (outcome == http::ParseOutcome::kError) return fail("bad response: " + error.reason);
    if (outcome != http::ParseOutcome::kComplete) return;
    if (head.facts.framing == http::BodyFraming::kContentLength &&
        copy.size() < head.head_length + head.facts.content_length)
      return;
    if (head.facts.framing == http::BodyFraming::kChunked ||
        head.facts.framing == http::BodyFraming::kUntilClose) {
      keep = false;
      return;  // wait for the close
    }
    std::size_t used =
        head.head_length +
        (head.facts.framing == http::BodyFraming::kContentLength ? head.facts.content_length : 0);
    keep = keep && head.facts.keep_alive;
    answered(head);
    in.erase(0, used);
  }
  void answered(const http::ResponseHead& head) {
    for (const auto& h : head.headers)
      if (http::equals_ignore_case(h.name, "set-cookie")) keep_cookie(h.value);
    answered(head.status, std::string(http::find_header(head.headers, "x-served-by").value_or("")));
  }
  void keep_cookie(std::string_view value) {
    if (!client.options_.cookies) return;
    std::string_view pair = value.substr(0, value.find(';'));
    auto eq = pair.find('=');
    if (eq != std::string_view::npos)
      client.cookies_[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
  }
  void answered(int status, std::string served_by) {
    if (!request) return;
    request->record.served_by = std::move(served_by);
    Request* r = request;
    request = nullptr;
    r->complete(status, "");
    if (!client.options_.keep_alive || !keep) close();
  }
  // HTTP/2 (ClientEvents): the answer counts when its stream ends.
  void on_response(std::int32_t, int status, std::vector<http2::Field> fields, bool) override {
    h2_status = status;
    h2_served_by.clear();
    for (const auto& f : fields) {
      if (f.name == "x-served-by") h2_served_by = f.value;
      if (f.name == "set-cookie") keep_cookie(f.value);
    }
  }
  void on_response_data(std::int32_t id, runtime::ByteView data) override { h2->consumed(id, data.size()); }
  void on_response_end(std::int32_t, std::vector<http2::Field>) override {
    answered(h2_status, std::move(h2_served_by));
  }
  void on_stream_closed(std::int32_t, std::uint32_t error_code) override {
    if (request && error_code != 0) fail("stream reset (HTTP/2 error " + std::to_string(error_code) + ")");
  }
  void flush_h2() {
    std::string out;
    h2->take_outgoing(out);
    if (!out.empty() && open) stream->write(runtime::as_bytes(out));
    if (h2->closing() && !request) keep = false;
  }
  void on_peer_shutdown() override {
    http::ResponseHead head;
    http::ParseError error;
    std::string copy = in;
    keep = false;
    if (request && http::parse_response(copy.data(), copy.size(), {}, false, head, error) ==
                       http::ParseOutcome::kComplete)
      answered(head);
    fail("closed before a response");
  }
  void on_closed(std::error_code reason) override {
    open = false;
    if (request) fail(reason.message());
  }
  void fail(const std::string& why) {
    Request* r = request;
    request = nullptr;
    reset();
    if (r) r->complete(0, why);
  }
  void close() {
    if (!open) return;
    open = false;
    stream->close();
  }
  void reset() {
    if (!open) return;
    open = false;
    stream->reset();
  }
  bool idle() const { return open && connected && keep && !request; }
};

void HttpLoadClient::Request::complete(int status, std::string error) {
  if (done) return;
  done = true;
  record.status = status;
  record.error = std::move(error);
  record.end_us = us(client.rt_.now());
  if (connection && connection->request == this) {
    connection->request = nullptr;
    connection->reset();  // timed out: the connection is of no further use
  }
  client.finish(this);
}

HttpLoadClient::HttpLoadClient(runtime::Runtime& rt, Options options)
    : rt_(rt), options_(std::move(options)), random_(rt.random().fork(0x6874747063)) {}
HttpLoadClient::~HttpLoadClient() = default;

void HttpLoadClient::start() {
  if (options_.concurrency > 0) {
    for (int user = 0; user < options_.concurrency; ++user) {
      users_.push_back(rt_.create_timer([this, user] { launch(user); }));
      users_.back()->arm(runtime::Duration::zero());
    }
    return;
  }
  ticker_ = rt_.create_timer([this] { launch(); });
  ticker_->arm_periodic(
      std::chrono::duration_cast<runtime::Duration>(std::chrono::duration<double>(1.0 / options_.rate)));
}

void HttpLoadClient::stop() {
  ticker_.reset();
  users_.clear();
  for (auto& r : in_flight_) {
    if (!r->done) {
      r->record.error = std::string(scenario::observe::kStillRunning);
      r->record.end_us = us(rt_.now());
      records_.push_back(r->record);
    }
  }
  in_flight_.clear();
  connections_.clear();
}

void HttpLoadClient::launch(int user) {
  // Drop finished requests (their records are kept) and closed connections.
  in_flight_.erase(
      std::remove_if(in_flight_.begin(), in_flight_.end(), [](const auto& r) { return r->done; }),
      in_flight_.end());
  connections_.erase(std::remove_if(connections_.begin(), connections_.end(),
                                    [](const auto& c) { return !c->open && !c->request; }),
                     connections_.end());
  auto r = std::make_unique<Request>(*this);
  r->user = user;
  r->record.start_us = us(rt_.now());
  r->record.host = options_.host;
  r->record.path = options_.path;
  if (!options_.mix.empty()) {
    double total = 0;
    for (const auto& t : options_.mix)
      total += t.weight;
    double pick = random_.unit() * total;
    const Target* chosen = &options_.mix.back();
    for (const auto& t : options_.mix) {
      if (pick < t.weight) {
        chosen = &t;
        break;
      }
      pick -= t.weight;
    }
    r->record.host = chosen->host;
    r->record.path = chosen->path;
  }
  if (options_.vip_node) r->record.vip_node = options_.vip_node();
  Request* raw = r.get();
  r->timeout = rt_.create_timer([raw] { raw->complete(0, "timed out"); });
  r->timeout->arm(options_.timeout);
  in_flight_.push_back(std::move(r));

  Connection* c = nullptr;
  if (options_.keep_alive)
    for (auto& candidate : connections_)
      if (candidate->idle() && candidate->host == raw->record.host) {
        c = candidate.get();
        break;
      }
  if (c) {
    raw->record.reused = true;
    raw->record.connection_opened_us = c->opened_us;
    raw->connection = c;
    c->request = raw;
    send(*raw, *c);
    return;
  }
  auto fresh = std::make_unique<Connection>(*this, raw->record.host, us(rt_.now()));
  raw->record.connection_opened_us = fresh->opened_us;
  c = fresh.get();
  connections_.push_back(std::move(fresh));
  raw->connection = c;
  c->request = raw;
  if (options_.https) {
    tls::ClientSettings ts;
    ts.server_name = raw->record.host;
    ts.resume_sessions = options_.resume_sessions;
    if (options_.http2) ts.alpn = {"h2"};
    c->stream = tls::connect_client(rt_, options_.target, *c, ts);
  } else {
    c->stream = rt_.connect(options_.target, *c);
  }
}

void HttpLoadClient::send(Request& r, Connection& c) {
  if (c.h2) return send_h2(r, c);
  std::string req = "GET " + r.record.path + " HTTP/1.1\r\nHost: " + r.record.host + "\r\n";
  if (!options_.keep_alive) req += "Connection: close\r\n";
  if (options_.cookies && !cookies_.empty()) {
    req += "Cookie: ";
    bool first = true;
    for (const auto& [name, value] : cookies_) {
      req += (first ? "" : "; ") + name + "=" + value;
      first = false;
    }
    req += "\r\n";
  }
  req += "\r\n";
  ++c.served;
  c.stream->write(runtime::as_bytes(req));
}

void HttpLoadClient::send_h2(Request& r, Connection& c) {
  http2::Request q{"GET", "https", r.record.host, r.record.path, {}, false, {}};
  if (options_.cookies && !cookies_.empty()) {
    std::string cookie;
    for (const auto& [name, value] : cookies_)
      cookie += (cookie.empty() ? "" : "; ") + name + "=" + value;
    q.headers.push_back({"cookie", cookie});
  }
  ++c.served;
  if (c.h2->submit(q, true) < 0) return c.fail("the server refuses new streams (GOAWAY)");
  c.flush_h2();
}

void HttpLoadClient::finish(Request* r) {
  records_.push_back(r->record);
  r->timeout->cancel();
  // The objects may be the caller: they go on the next launch() sweep.
  if (r->user >= 0) {
    // A request that failed the instant it began (no ports left, say) would otherwise spin in zero
    // simulated time: that user backs off 10 ms.
    auto pause = options_.think;
    if (r->record.end_us == r->record.start_us && r->record.status == 0)
      pause = std::max<runtime::Duration>(pause, std::chrono::milliseconds(10));
    users_[static_cast<std::size_t>(r->user)]->arm(pause);
  }
}

}  // namespace metalgate::apps
