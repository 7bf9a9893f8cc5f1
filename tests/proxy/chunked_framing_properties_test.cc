// Chunked request bodies of every syntax through the proxy: what the server receives is either the same
// body in canonical framing (same data, same trailers) or never a complete request; a body whose framing is
// invalid and arrives with its head reaches no server at all.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "tests/proxy/proxy_world.h"

namespace metalgate::proxy::testing {
namespace {

// A piece of chunk-line or trailer syntax, and whether RFC 9112 (with HAProxy's allowances) accepts it.
struct Form {
  std::string text;
  bool valid;
};

const std::vector<Form>& extension_forms() {
  static const std::vector<Form> forms = {
      {"", true},           {";a", true},         {";a=b", true},          {" ; a = b", true},
      {";a=\"q s\"", true}, {";a=\"\\\"\"", true}, {";a;b=c", true},        {" \t", true},
      {";", false},         {";a=", false},       {";a=\"x", false},       {" junk", false},
      {";a b", false},      {";a=\"\x01\"", false}, {";a=b\rc", false},     {"x", false},
  };
  return forms;
}

const std::vector<Form>& trailer_forms() {
  static const std::vector<Form> forms = {
      {"Checksum: 42\r\n", true}, {"X-A:v\n", true},          {"X-B:  spaced  \r\n", true},
      {"X-C:\r\n", true},         {"X : v\r\n", false},       {" folded\r\n", false},
      {"X: \x01\r\n", false},     {"X@Y: 1\r\n", false},      {"X: v\rY\r\n", false},
  };
  return forms;
}

struct Body {
  std::string wire;      // as the client sends it
  std::string data;      // the chunk data it carries
  std::string trailers;  // canonical "name: value\r\n" lines
  bool valid = true;
};

std::string hex(std::size_t n, bool upper, int zeros) {
  char buf[32];
  std::snprintf(buf, sizeof buf, upper ? "%zX" : "%zx", n);
  return std::string(static_cast<std::size_t>(zeros), '0') + buf;
}

std::string canonical_trailer(const std::string& line) {
  std::string name = line.substr(0, line.find(':'));
  std::string value = line.substr(line.find(':') + 1);
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r'))
    value.pop_back();
  auto not_ws = [](char c) { return c != ' ' && c != '\t'; };
  value.erase(value.begin(), std::find_if(value.begin(), value.end(), not_ws));
  value.erase(std::find_if(value.rbegin(), value.rend(), not_ws).base(), value.end());
  return name + ": " + value + "\r\n";
}

rc::Gen<Body> gen_body() {
  return rc::gen::exec([] {
    Body b;
    const int chunks = *rc::gen::inRange(0, 5);
    for (int i = 0; i < chunks; ++i) {
      const std::string data = *rc::gen::container<std::string>(
          static_cast<std::size_t>(*rc::gen::inRange(1, 40)), rc::gen::inRange<char>('a', 'z'));
      const Form& ext = *rc::gen::elementOf(extension_forms());
      const bool bare_lf = *rc::gen::arbitrary<bool>();
      const bool overlong = *rc::gen::weightedOneOf<bool>({{9, rc::gen::just(false)}, {1, rc::gen::just(true)}});
      const std::string eol = bare_lf ? "\n" : "\r\n";
      b.wire += hex(data.size() - (overlong ? 1 : 0), *rc::gen::arbitrary<bool>(), *rc::gen::inRange(0, 3)) +
                ext.text + eol + data + eol;
      b.data += overlong ? data.substr(0, data.size() - 1) : data;
      b.valid = b.valid && ext.valid && !overlong;
    }
    const Form& last_ext = *rc::gen::elementOf(extension_forms());
    b.wire += "0" + last_ext.text + "\r\n";
    b.valid = b.valid && last_ext.valid;
    const int trailers = *rc::gen::inRange(0, 3);
    for (int i = 0; i < trailers; ++i) {
      const Form& t = *rc::gen::elementOf(trailer_forms());
      b.wire += t.text;
      if (t.valid) b.trailers += canonical_trailer(t.text);
      b.valid = b.valid && t.valid;
    }
    b.wire += "\r\n";
    return b;
  });
}

// Reads a body in canonical framing only: lower-case hex sizes without leading zeros or extensions, CRLF
// everywhere. `complete` when the last chunk and the final CRLF are there; `canonical` false at the first
// byte that is not canonical.
struct Canonical {
  std::string data, trailers;
  bool complete = false, canonical = true;
};

Canonical read_canonical(std::string_view in) {
  Canonical c;
  while (true) {
    std::size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return c;
    std::string_view size = in.substr(0, eol);
    if (size.empty() || size.find_first_not_of("0123456789abcdef") != std::string_view::npos ||
        (size.size() > 1 && size[0] == '0')) {
      c.canonical = false;
      return c;
    }
    std::size_t n = std::stoul(std::string(size), nullptr, 16);
    in.remove_prefix(eol + 2);
    if (n == 0) break;
    if (in.size() < n + 2) return c;
    if (in.substr(n, 2) != "\r\n") {
      c.canonical = false;
      return c;
    }
    c.data += in.substr(0, n);
    in.remove_prefix(n + 2);
  }
  std::size_t end = in.find("\r\n\r\n");
  if (in.substr(0, 2) == "\r\n") {
    c.complete = in.size() == 2;
  } else if (end != std::string_view::npos) {
    c.trailers = in.substr(0, end + 2);
    c.complete = in.size() == end + 4;
  }
  return c;
}

std::string received_body(const TestHttpServer& s) {
  std::size_t at = s.raw.find("POST /p ");
  if (at == std::string::npos) return {};
  std::size_t head_end = s.raw.find("\r\n\r\n", at);
  return head_end == std::string::npos ? std::string() : s.raw.substr(head_end + 4);
}

const std::string kHead = "POST /p HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string ingress() {
  return R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default}
spec:
  ingressClassName: haproxy
  rules:
  - host: app.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
)";
}

RC_GTEST_PROP(ChunkedFraming, TheServerGetsTheSameBodyInCanonicalFramingOrNoCompleteRequest, ()) {
  const Body body = *gen_body();
  const std::size_t split = *rc::gen::inRange<std::size_t>(0, body.wire.size() + 1);
  const bool at_once = split == body.wire.size();
  ProxyWorld w;
  w.start(ingress());
  TestClient c(w.client_host, w.http_address());
  c.send(kHead + body.wire.substr(0, split));
  w.world.run_for(50ms);
  if (!at_once) c.send(std::string_view(body.wire).substr(split));
  auto r = w.await(c, 2s);
  std::string got;
  std::uint64_t requests = 0;
  for (auto& [n, s] : w.servers) {
    requests += s->requests();
    if (std::string b = received_body(*s); !b.empty()) got = b;
  }
  const Canonical seen = read_canonical(got);
  RC_ASSERT(seen.canonical);
  if (body.valid) {
    RC_ASSERT(r.has_value());
    RC_ASSERT(r->status == 200);
    RC_ASSERT(seen.complete);
    RC_ASSERT(seen.data == body.data);
    RC_ASSERT(seen.trailers == body.trailers);
    return;
  }
  RC_ASSERT(requests == 0u);
  RC_ASSERT(!seen.complete);
  RC_ASSERT(body.data.compare(0, seen.data.size(), seen.data) == 0);
  if (split == 0 || at_once) RC_ASSERT(got.empty());
  if (r) RC_ASSERT(r->status == 400);
}

}  // namespace
}  // namespace metalgate::proxy::testing
