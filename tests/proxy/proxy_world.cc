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

TestHttpServer::TestHttpServer(runtime::Runtime& rt, net::SocketAddress at, std::string name)
    : IdentityHttpServer(rt, at, std::move(name), {.health_path = "/health", .record = true}) {
  EXPECT_FALSE(listen_error()) << listen_error().message();
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
  options.listen_address = net::IpAddress::v4(0);  // every address of the proxy's host
  options.http_port = 80;
  options.https_port = 443;
  config = std::make_shared<ProxyConfig>(build_proxy_config(model, options, diagnostics));
  if (!serve_despite_errors) {
    ASSERT_FALSE(diagnostics.has_errors()) << diagnostics.to_string();
  }
  ProxyOptions po;
  po.access_log = [this](std::string_view line) { access_log.emplace_back(line); };
  po.stats = stats;
  if (second_loop) {
    auto shared = SharedProxyState::create(*config);
    ASSERT_TRUE(shared) << shared.error();
    po.shared = std::move(*shared);
    loop2_host = &world.add_host("proxy-loop2", {*net::IpAddress::parse("10.0.0.2")});
    ProxyOptions second = po;
    second.primary = false;
    second.loop = 1;
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
