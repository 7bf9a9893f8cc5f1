#include "engine/stats/stats_server.h"

#include "engine/http/message.h"
#include "engine/http/parser.h"
#include "engine/proxy/basic_auth.h"

namespace metalgate::stats {

// One client: its request head, then the answer and close.
class StatsConnection final : public runtime::StreamHandler {
 public:
  StatsConnection(StatsServer& server, runtime::Runtime& rt, bool stats_listener,
                  runtime::StreamConnectionPtr c)
      : server_(server), stats_listener_(stats_listener), stream_(std::move(c)) {
    timer_ = rt.create_timer([this] { end(); });
    timer_->arm(StatsServer::kTimeout);
  }
  void start() { stream_->start(*this); }

  void on_data(runtime::ByteView data) override {
    if (answered_) return;
    in_.append(runtime::as_chars(data));
    http::RequestHead head;
    http::ParseError error;
    const auto outcome = http::parse_request(in_.data(), in_.size(), http::Limits{}, head, error);
    if (outcome == http::ParseOutcome::kIncomplete) return;
    StatsServer::Answer a;
    if (outcome == http::ParseOutcome::kError)
      a = {error.status, "text/plain", "bad request\n", ""};
    else
      a = server_.answer(stats_listener_, head.method, head.path(),
                         http::find_header(head.headers, "authorization"));
    const bool head_only = outcome == http::ParseOutcome::kComplete && head.is_head();
    std::string out = "HTTP/1.1 " + std::to_string(a.status) + " " +
                      std::string(http::reason_phrase(a.status)) + "\r\ncontent-type: " + a.content_type +
                      "\r\ncontent-length: " + std::to_string(a.body.size()) +
                      "\r\ncache-control: no-cache\r\nconnection: close\r\n" + a.extra_headers + "\r\n";
    if (!head_only) out += a.body;
    answered_ = true;
    stream_->write(runtime::as_bytes(out));
    end();  // close() sends what is queued first
  }
  void on_peer_shutdown() override { end(); }
  void on_closed(std::error_code) override { end(); }

 private:
  void end() {
    if (ended_) return;
    ended_ = true;
    timer_->cancel();
    stream_->close();
    server_.finished(this);
  }

  StatsServer& server_;
  bool stats_listener_;
  runtime::StreamConnectionPtr stream_;
  runtime::TimerPtr timer_;
  std::string in_;
  bool answered_ = false, ended_ = false;
};

namespace {

// Compares without returning early, so the time taken tells nothing of where a guess went wrong.
bool same(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

StatsServer::StatsServer(runtime::Runtime& rt, proxy::MonitorConfig config, Render render)
    : rt_(rt), config_(std::move(config)), render_(std::move(render)) {}

StatsServer::~StatsServer() {
  *alive_ = false;
}

Result<std::unique_ptr<StatsServer>> StatsServer::start(runtime::Runtime& rt,
                                                        const proxy::MonitorConfig& config, Render render) {
  std::unique_ptr<StatsServer> s(new StatsServer(rt, config, std::move(render)));
  for (bool stats : {true, false}) {
    for (const auto& bind : stats ? config.stats : config.metrics) {
      std::error_code ec;
      runtime::ListenOptions lo;
      auto listener = rt.listen(
          bind, lo,
          [raw = s.get(), stats](runtime::StreamConnectionPtr c) { raw->accept(stats, std::move(c)); }, ec);
      if (ec)
        return Failure{std::string(stats ? "stats" : "metrics") + " listener on " + bind.to_string() + ": " +
                       ec.message()};
      s->listeners_.push_back(std::move(listener));
    }
  }
  return s;
}

std::vector<net::SocketAddress> StatsServer::addresses() const {
  std::vector<net::SocketAddress> out;
  for (const auto& l : listeners_)
    out.push_back(l->local_address());
  return out;
}

void StatsServer::accept(bool stats_listener, runtime::StreamConnectionPtr c) {
  auto conn = std::make_unique<StatsConnection>(*this, rt_, stats_listener, std::move(c));
  StatsConnection* raw = conn.get();
  connections_.emplace(raw, std::move(conn));
  raw->start();
}

void StatsServer::finished(StatsConnection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  finished_.push_back(std::move(it->second));
  connections_.erase(it);
  rt_.post([this, alive = alive_] {
    if (*alive) finished_.clear();
  });
}

StatsServer::Answer StatsServer::answer(bool stats_listener, std::string_view method, std::string_view path,
                                        std::optional<std::string_view> authorization) const {
  if (method != "GET" && method != "HEAD")
    return {405, "text/plain", "only GET and HEAD\n", "allow: GET, HEAD\r\n"};
  if (stats_listener && config_.user) {
    auto given = authorization ? proxy::parse_basic_authorization(*authorization) : std::nullopt;
    bool ok = false;
    if (given) {
      const bool user = same(given->user, *config_.user);
      const bool password = same(given->password, config_.password.value_or(""));
      ok = user && password;
    }
    if (!ok)
      return {401, "text/plain", "authentication required\n",
              "www-authenticate: Basic realm=\"metalgate statistics\"\r\n"};
  }
  if (path == "/metrics")
    return {200, "text/plain; version=0.0.4; charset=utf-8", render_(Page::kMetrics), ""};
  if (!stats_listener) return {404, "text/plain", "this listener serves /metrics\n", ""};
  if (ends_with(path, ";csv")) return {200, "text/plain; charset=utf-8", render_(Page::kCsv), ""};
  return {200, "text/html; charset=utf-8", render_(Page::kHtml), ""};
}

}  // namespace metalgate::stats
