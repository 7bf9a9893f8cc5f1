#include "tests/tls/tls_pod.h"

#include <gtest/gtest.h>

namespace metalgate::tls::testing {

struct TlsPod::Conn final : runtime::StreamHandler {
  TlsPod* pod = nullptr;
  runtime::StreamConnectionPtr stream;
  std::string in;
  void on_data(runtime::ByteView d) override {
    in.append(runtime::as_chars(d));
    if (in.find("\r\n\r\n") == std::string::npos) return;
    std::string line = in.substr(0, in.find("\r\n"));
    pod->requests.push_back(line);
    std::string body = "tls " + pod->name_ + " " + line + "\n";
    stream->write(runtime::as_bytes("HTTP/1.1 200 OK\r\ncontent-length: " + std::to_string(body.size()) +
                                    "\r\nconnection: close\r\n\r\n" + body));
    stream->shutdown_write();
    in.clear();
  }
  void on_peer_shutdown() override {}
  void on_closed(std::error_code) override {}
};

TlsPod::TlsPod(runtime::Runtime& rt, net::SocketAddress at, std::string name, const TestCertificate& cert,
               std::string client_ca)
    : rt_(rt), name_(std::move(name)) {
  ServerSettings s;
  s.certificates.push_back({{}, cert.certificate_pem, cert.private_key_pem, "pod " + name_});
  s.client_ca_pem = std::move(client_ca);
  auto made = ServerContext::create(s);
  EXPECT_TRUE(made) << made.error();
  if (made) ctx_ = std::move(*made);
  std::error_code ec;
  listener_ = rt_.listen(
      at, {}, [this](runtime::StreamConnectionPtr c) { accept(std::move(c)); }, ec);
  EXPECT_FALSE(ec) << ec.message();
}

TlsPod::~TlsPod() = default;

void TlsPod::accept(runtime::StreamConnectionPtr raw) {
  auto c = std::make_unique<Conn>();
  c->pod = this;
  c->stream = ctx_->wrap(rt_, std::move(raw), [this](const std::string&) { ++handshakes_failed; });
  c->stream->start(*c);
  conns_.push_back(std::move(c));
}

TlsClient::TlsClient(runtime::Runtime& rt, net::SocketAddress to, const ClientSettings& settings) {
  conn = connect_client(rt, to, *this, settings, [this](const std::string& why) { failure = why; });
}

namespace {
std::string indent(const std::string& pem) {
  std::string out;
  std::size_t start = 0;
  while (start < pem.size()) {
    std::size_t end = pem.find('\n', start);
    out += "    " + pem.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}
}  // namespace

std::string secret_yaml(const std::string& name, const TestCertificate& c, bool with_key,
                        const std::string& type) {
  std::string y = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: " + name +
                  ", namespace: default}\ntype: " + type + "\nstringData:\n  tls.crt: |\n" +
                  indent(c.certificate_pem);
  if (with_key) y += "  tls.key: |\n" + indent(c.private_key_pem);
  return y;
}

}  // namespace metalgate::tls::testing
