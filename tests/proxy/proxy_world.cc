#include "tests/proxy/proxy_world.h"

#include <gtest/gtest.h>

namespace metalgate::proxy::testing {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

std::optional<Response> take_response(std::string& bytes, bool head_request, bool until_close) {
  while (true) {
    http::ResponseHead head;
    http::ParseError error;
    std::string copy = bytes;  // the parser may unfold in place
    auto outcome = http::parse_response(copy.data(), copy.size(), {}, head_request, head, error);
    if (outcome != http::ParseOutcome::kComplete) return std::nullopt;
    Response r;
    r.status = head.status;
    r.head = bytes.substr(0, head.head_length);
    for (const auto& h : head.headers) {
      r.header_list.push_back(h);
      r.headers[lower(h.name)] = std::string(h.value);
    }
    std::size_t pos = head.head_length;
    if (head.status >= 100 && head.status < 200 && head.status != 101) {
      bytes.erase(0, pos);  // interim: skip
      continue;
    }
    switch (head.facts.framing) {
      case http::BodyFraming::kNone:
        break;
      case http::BodyFraming::kContentLength:
        if (bytes.size() - pos < head.facts.content_length) return std::nullopt;
        r.body = bytes.substr(pos, head.facts.content_length);
        pos += head.facts.content_length;
        break;
      case http::BodyFraming::kChunked: {
        http::ChunkedDecoder d;
        auto res = d.feed(runtime::as_bytes(std::string_view(bytes).substr(pos)),
                          [&](runtime::ByteView v) { r.body.append(runtime::as_chars(v)); });
        if (!res.done) return std::nullopt;
        pos += res.consumed;
        break;
      }
      case http::BodyFraming::kUntilClose:
        if (!until_close) return std::nullopt;
        r.body = bytes.substr(pos);
        pos = bytes.size();
        break;
    }
    // Re-point header views at the Response's own copy of the head.
    r.header_list.clear();
    bytes.erase(0, pos);
    return r;
  }
}

// ------------------------------------------------------------------------------------------ server

struct TestHttpServer::Conn final : runtime::StreamHandler {
  TestHttpServer& server;
  runtime::StreamConnectionPtr stream;
  std::string in;
  bool open = true;
  std::vector<runtime::TimerPtr> timers;
  Conn(TestHttpServer& s, runtime::StreamConnectionPtr c) : server(s), stream(std::move(c)) {}

  void on_data(runtime::ByteView data) override {
    in.append(runtime::as_chars(data));
    server.raw.append(runtime::as_chars(data));
    while (open) {
      http::RequestHead head;
      http::ParseError error;
      auto outcome = http::parse_request(in.data(), in.size(), {}, head, error);
      if (outcome != http::ParseOutcome::kComplete) return;
      std::size_t body_len = 0;
      std::string body;
      if (head.facts.framing == http::BodyFraming::kContentLength) {
        if (in.size() - head.head_length < head.facts.content_length) return;
        body_len = head.facts.content_length;
        body = in.substr(head.head_length, body_len);
      } else if (head.facts.framing == http::BodyFraming::kChunked) {
        http::ChunkedDecoder d;
        auto r = d.feed(runtime::as_bytes(std::string_view(in).substr(head.head_length)),
                        [&](runtime::ByteView v) { body.append(runtime::as_chars(v)); });
        if (!r.done) return;
        body_len = r.consumed;
      }
      std::string path(head.path());
      std::string method(head.method);
      bool keep = head.facts.keep_alive && !server.options.close_after;
      bool is_head = head.is_head();
      std::string head_text = in.substr(0, head.head_length);
      in.erase(0, head.head_length + body_len);
      if (path == "/health" && method != "POST") {
        ++server.health_checks;
        respond(server.options.health_status, "health", keep, is_head);
        continue;
      }
      ++server.requests;
      server.heads.push_back(head_text);
      server.bodies.push_back(body);
      if (server.options.silent) continue;
      std::string text =
          server.options.body.empty() ? server.name_ + " " + method + " " + path : server.options.body;
      if (server.options.delay > 0ms) {
        auto t = server.rt_.create_timer(
            [this, text, keep, is_head] { respond(server.options.status, text, keep, is_head); });
        t->arm(server.options.delay);
        timers.push_back(std::move(t));
      } else {
        respond(server.options.status, text, keep, is_head);
      }
    }
  }
  void respond(int status, const std::string& body, bool keep, bool is_head) {
    if (!open) return;
    if (!server.options.raw_response.empty() && body != "health") {
      stream->write(runtime::as_bytes(server.options.raw_response));
      return;
    }
    std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::reason_phrase(status)) +
                    "\r\nX-Served-By: " + server.name_ + "\r\nContent-Type: " + server.options.content_type +
                    "\r\n";
    for (const auto& [k, v] : server.options.extra_headers)
      r += k + ": " + v + "\r\n";
    if (!keep) r += "Connection: close\r\n";
    if (server.options.chunked) {
      r += "Transfer-Encoding: chunked\r\n\r\n";
      if (!is_head) {
        std::size_t half = body.size() / 2;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%zx\r\n", half);
        r += buf + body.substr(0, half) + "\r\n";
        std::snprintf(buf, sizeof buf, "%zx\r\n", body.size() - half);
        r += buf + body.substr(half) + "\r\n0\r\n\r\n";
      }
    } else {
      r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
      if (!is_head) r += body;
    }
    stream->write(runtime::as_bytes(r));
    if (!keep) {
      open = false;
      stream->close();
    }
  }
  void on_peer_shutdown() override {
    if (open) stream->close();
    open = false;
  }
  void on_closed(std::error_code) override { open = false; }
};

TestHttpServer::TestHttpServer(runtime::Runtime& rt, net::SocketAddress at, std::string name)
    : rt_(rt), at_(at), name_(std::move(name)) {
  std::error_code ec;
  listener_ = rt_.listen(
      at_, {},
      [this](runtime::StreamConnectionPtr c) {
        ++accepted;
        auto conn = std::make_unique<Conn>(*this, std::move(c));
        conn->stream->start(*conn);
        conns_.push_back(std::move(conn));
      },
      ec);
  EXPECT_FALSE(ec) << ec.message();
}

TestHttpServer::~TestHttpServer() = default;

int TestHttpServer::open_connections() const {
  int n = 0;
  for (const auto& c : conns_)
    n += c->open ? 1 : 0;
  return n;
}

void TestHttpServer::stop() {
  listener_.reset();
  for (auto& c : conns_) {
    if (c->open) c->stream->reset();
    c->open = false;
  }
}

void TestHttpServer::close_connections() {
  for (auto& c : conns_) {
    if (c->open) c->stream->close();
    c->open = false;
  }
}

// ------------------------------------------------------------------------------------------ client

TestClient::TestClient(runtime::Runtime& rt, net::SocketAddress to) {
  conn = rt.connect(to, *this);
}

// ------------------------------------------------------------------------------------------ world

ProxyWorld::ProxyWorld(std::uint64_t seed)
    : world(seed),
      proxy_host(world.add_host("proxy", {*net::IpAddress::parse("10.0.0.1")})),
      client_host(world.add_host("client", {*net::IpAddress::parse("10.0.0.100")})),
      client2_host(world.add_host("client2", {*net::IpAddress::parse("10.0.0.101")})) {
  for (int i = 1; i <= 3; ++i) {
    std::string name = "web-" + std::to_string(i);
    auto& host = world.add_host(name, {*net::IpAddress::parse("10.0.1." + std::to_string(i))});
    servers[name] = std::make_unique<TestHttpServer>(
        host, net::SocketAddress{*net::IpAddress::parse("10.0.1." + std::to_string(i)), 8080}, name);
  }
}

ProxyWorld::~ProxyWorld() {
  proxy2.reset();
  proxy.reset();
  servers.clear();
}

void ProxyWorld::start(const std::string& ingress_yaml, std::map<std::string, std::string> controller_config,
                       const std::string& extra_yaml) {
  const std::string backends = R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets:
- addresses:
  - {ip: 10.0.1.1, targetRef: {kind: Pod, name: web-1}}
  - {ip: 10.0.1.2, targetRef: {kind: Pod, name: web-2}}
  - {ip: 10.0.1.3, targetRef: {kind: Pod, name: web-3}}
  ports: [{name: http, port: 8080}]
)";
  config::ManifestSet set;
  config::load_manifest_text(backends, "backends.yaml", set, diagnostics);
  config::load_manifest_text(ingress_yaml, "ingress.yaml", set, diagnostics);
  if (!extra_yaml.empty()) config::load_manifest_text(extra_yaml, "extra.yaml", set, diagnostics);
  config::finish_manifest_set(set, diagnostics);
  auto m = std::make_shared<model::Model>(model::resolve_model(std::move(set), {}, diagnostics));
  for (auto& [k, v] : controller_config)
    m->controller_config[k] = v;
  model = m;
  BuildOptions options;
  options.http_port = 80;
  options.https_port = 443;
  config = std::make_shared<ProxyConfig>(build_proxy_config(model, options, diagnostics));
  ASSERT_FALSE(diagnostics.has_errors()) << diagnostics.to_string();
  ProxyOptions po;
  po.access_log = [this](std::string_view line) { access_log.emplace_back(line); };
  if (second_loop) {
    std::string error;
    po.shared = std::make_shared<SharedProxyState>(*config, error);
    ASSERT_EQ(error, "");
    loop2_host = &world.add_host("proxy-loop2", {*net::IpAddress::parse("10.0.0.2")});
    ProxyOptions second = po;
    second.primary = false;
    proxy2 = std::make_unique<Proxy>(*loop2_host, config, second);
    ASSERT_FALSE(proxy2->start());
  }
  proxy = std::make_unique<Proxy>(proxy_host, config, po);
  ASSERT_FALSE(proxy->start());
}

std::optional<Response> ProxyWorld::await(TestClient& client, Duration limit, bool head_request) {
  std::optional<Response> r;
  world.run_until(
      [&] {
        if (!r) r = client.next(head_request);
        return r.has_value() || client.closed;
      },
      limit);
  if (!r) r = client.next(head_request);
  return r;
}

std::optional<Response> ProxyWorld::request(const std::string& raw, Duration limit, bool from_client2) {
  TestClient client(from_client2 ? client2_host : client_host, {*net::IpAddress::parse("10.0.0.1"), 80});
  client.send(raw);
  return await(client, limit, raw.rfind("HEAD ", 0) == 0);
}

std::vector<std::unique_ptr<TestClient>> ProxyWorld::send_on_new_clients(int count, const std::string& raw) {
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < count; ++i) {
    clients.push_back(std::make_unique<TestClient>(client_host, http_address()));
    clients.back()->send(raw);
  }
  return clients;
}

std::string get(const std::string& host, const std::string& path, const std::string& extra) {
  return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "\r\n";
}

}  // namespace metalgate::proxy::testing
