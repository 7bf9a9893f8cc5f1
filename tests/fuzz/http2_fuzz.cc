// libFuzzer target for the HTTP/2 input path: the client preface, then any bytes as frames, split into reads at
// byte-chosen points, into the server session the proxy runs, which answers every request it hands on (head,
// body, trailers) the way the proxy's streams do. Each request also goes through the HTTP/1 bridge, and the
// head it becomes must parse as HTTP/1.1 or be refused with a reason, never crash the parser. Invariants: no
// crash or sanitizer report; a request is handed on once per stream; a stream is closed at most once and only
// after it was opened; no output after the session says it is finished.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "engine/http/parser.h"
#include "engine/http2/h1_bridge.h"
#include "engine/http2/server_session.h"

using namespace metalgate;

static void check(bool ok) {
  if (!ok) std::abort();
}

namespace {

struct Answering : http2::ServerEvents {
  http2::ServerSession* session = nullptr;
  std::set<std::int32_t> opened, closed;
  void on_request(std::int32_t stream, http2::Request request) override {
    check(opened.insert(stream).second);
    http2::H1Request h1 = http2::to_h1(request, "AAAAAAAAAAAAAAAAAAAAAA==");  // an extended CONNECT's key
    http::RequestHead head;
    http::ParseError error;
    const auto outcome = http::parse_request(h1.head.data(), h1.head.size(), http::Limits{}, head, error);
    check(outcome != http::ParseOutcome::kIncomplete);  // the bridge writes a whole head, blank line included
    check(outcome == http::ParseOutcome::kComplete || !error.reason.empty());
    // Answer as a proxied stream does: some at once, some with a body and trailers.
    if (stream % 4 == 1) return session->respond(stream, 204, {}, true);
    session->respond(stream, 200, {{"content-type", "text/plain"}}, false);
    session->send_data(stream, runtime::as_bytes(std::string_view("hello")));
    if (stream % 4 == 3) return session->finish(stream, {{"grpc-status", "0"}});
    session->finish(stream);
  }
  void on_request_data(std::int32_t stream, runtime::ByteView data) override {
    check(opened.count(stream) == 1);
    session->consumed(stream, data.size());
  }
  void on_request_end(std::int32_t stream) override { check(opened.count(stream) == 1); }
  void on_stream_closed(std::int32_t stream, std::uint32_t) override {
    check(closed.insert(stream).second);  // once per stream (a stream closed unopened is a reset one)
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t step = 1 + data[0] % 64;  // how the bytes are split into reads
  Answering events;
  http2::Settings settings;
  settings.max_header_list_size = 4096;
  http2::ServerSession session(events, settings);
  events.session = &session;
  std::string out;
  session.take_outgoing(out);
  std::string input = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  input.append(reinterpret_cast<const char*>(data + 1), size - 1);
  for (std::size_t at = 0; at < input.size(); at += step) {
    const std::string_view piece = std::string_view(input).substr(at, step);
    const bool ok = session.receive(runtime::as_bytes(piece));
    out.clear();
    session.take_outgoing(out);
    if (!ok || session.finished()) break;
  }
  if (session.finished()) {
    out.clear();
    session.take_outgoing(out);
    check(out.empty());
  }
  return 0;
}
