// HTTP/2 streams through the proxy, whatever the client does and however the servers behave: any sequence of
// streams opened (with or without a body), body bytes, ends, resets and pauses on one connection, against
// servers that answer at once, late or never, one request each at a time with a queue behind. The proxy never
// touches a stream it has freed (AddressSanitizer watches every case), every complete request is answered or
// reset unless it still waits for a server, and once the client goes nothing is left: no session, no queued
// request, no server slot held.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "engine/tls/tls_stream.h"
#include "tests/http2/frames.h"
#include "tests/proxy/proxy_world.h"
#include "tests/proxy/tls_ingress.h"
#include "tests/tls/test_certificates.h"
#include "tests/tls/tls_pod.h"

namespace metalgate::proxy::testing {
namespace {

using namespace http2::testing;  // NOLINT: the frame vocabulary

enum class Op { kGet, kPost, kData, kEnd, kReset, kWait };

struct Action {
  Op op;
  int stream;  // which of the streams opened so far (modulo their number)
  int amount;  // body bytes, or milliseconds to wait
};

rc::Gen<Action> action() {
  return rc::gen::apply(
      [](Op op, int stream, int amount) {
        return Action{op, stream, amount};
      },
      rc::gen::element(Op::kGet, Op::kPost, Op::kData, Op::kEnd, Op::kReset, Op::kWait),
      rc::gen::inRange(0, 8), rc::gen::inRange(1, 1500));
}

// How each of the three servers behaves for a case.
struct ServerPlan {
  int latency_ms;
  bool silent;
};

// How RapidCheck prints a failing case.
void showValue(const Action& a, std::ostream& os) {
  static const char* names[] = {"GET", "POST", "DATA", "END", "RESET", "WAIT"};
  os << names[static_cast<int>(a.op)] << "(stream " << a.stream << ", " << a.amount << ")";
}
void showValue(const ServerPlan& p, std::ostream& os) {
  os << (p.silent ? "silent" : "answers") << " after " << p.latency_ms << " ms";
}

struct Stream {
  std::uint32_t id;
  bool ended = false;     // END_STREAM sent
  bool reset = false;     // RST_STREAM sent
  bool answered = false;  // a HEADERS came back
  bool refused = false;   // RST_STREAM came back
};

// Runs one case; RC_ASSERTs its properties.
void run_case(const std::vector<ServerPlan>& plans, const std::vector<Action>& actions, bool close_with_fin) {
  ProxyWorld w;
  auto cert = start_tls_ingress(w,
                                "    haproxy.org/pod-maxconn: \"1\"\n    haproxy.org/timeout-queue: 2s\n"
                                "    haproxy.org/timeout-server: 3s\n");
  std::size_t n = 0;
  for (auto& [name, s] : w.servers) {
    s->options.latency = std::chrono::milliseconds(plans[n].latency_ms);
    s->options.silent = plans[n].silent;
    ++n;
  }
  tls::ClientSettings settings;
  settings.server_name = "app.example.com";
  settings.ca_pem = cert.certificate_pem;
  settings.alpn = {"h2"};
  tls::testing::TlsClient client(w.client_host, w.https_address(), settings);
  std::vector<Stream> streams;
  Inflater inflater;
  auto read = [&] {
    std::size_t used = 0;
    for (const Frame& f : parse(client.received)) {
      used += 9 + f.payload.size();
      for (Stream& s : streams)
        if (s.id == f.stream) {
          if (f.type == kHeaders) {
            inflater.fields(f.payload);  // keeps the decoder's table in step
            s.answered = true;
          }
          if (f.type == kRstStream) s.refused = true;
        }
      if (f.type == kSettings && !(f.flags & kAck)) client.conn->write(runtime::as_bytes(frame(kSettings, kAck, 0, "")));
    }
    client.received.erase(0, used);
  };
  auto send = [&](const std::string& bytes) {
    if (!client.closed && !client.peer_closed) client.conn->write(runtime::as_bytes(bytes));
  };
  send(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + frame(kSettings, 0, 0, ""));
  std::size_t body_sent = 0;  // all streams together stay within the connection's first window
  bool queued_once = false, reset_while_queued = false;
  for (const Action& a : actions) {
    // Resets count from the newest stream (the ones likeliest to wait in the queue), the rest from the oldest.
    const std::size_t pick = streams.empty() ? 0 : static_cast<std::size_t>(a.stream) % streams.size();
    Stream* s = streams.empty() ? nullptr : &streams[a.op == Op::kReset ? streams.size() - 1 - pick : pick];
    const bool open = s && !s->ended && !s->reset;
    switch (a.op) {
      case Op::kGet:
      case Op::kPost: {
        const bool get = a.op == Op::kGet;
        streams.push_back({static_cast<std::uint32_t>(2 * streams.size() + 1), get});
        std::vector<std::pair<std::string, std::string>> head = {{":method", get ? "GET" : "POST"},
                                                                 {":scheme", "https"},
                                                                 {":path", "/p" + std::to_string(streams.size())},
                                                                 {":authority", "app.example.com"}};
        send(frame(kHeaders, kEndHeaders | (get ? kEndStream : 0), streams.back().id, block(head)));
        break;
      }
      case Op::kData:
        if (open && body_sent + static_cast<std::size_t>(a.amount) < 60000) {
          send(frame(kData, 0, s->id, std::string(static_cast<std::size_t>(a.amount), 'b')));
          body_sent += static_cast<std::size_t>(a.amount);
        }
        break;
      case Op::kEnd:
        if (open) send(frame(kData, kEndStream, s->id, "")), s->ended = true;
        break;
      case Op::kReset:
        if (s && !s->reset) send(frame(kRstStream, 0, s->id, std::string("\0\0\0\x08", 4))), s->reset = true;
        break;
      case Op::kWait:
        w.world.run_for(std::chrono::milliseconds(a.amount));
        read();
        break;
    }
    queued_once |= w.proxy->backends()[0]->queued() > 0;
    if (a.op == Op::kReset && w.proxy->backends()[0]->queued() > 0) reset_while_queued = true;
  }
  RC_CLASSIFY(queued_once, "a request waited in the queue");
  RC_CLASSIFY(reset_while_queued, "a stream was reset while a request waited");
  // Long enough for every answer: a request may wait in the queue (up to 2 s), then for a silent server (3 s).
  w.world.run_for(6s);
  read();
  const bool connection_alive = !client.closed && !client.peer_closed;
  for (const Stream& s : streams)
    if (s.ended && !s.reset && connection_alive)
      RC_ASSERT(s.answered || s.refused);  // every complete request has had its answer by now
  if (close_with_fin)
    client.conn->close();
  else
    client.conn->reset();
  w.world.run_for(10s);
  RC_ASSERT(w.proxy->idle());
  for (const auto& backend : w.proxy->backends()) {
    RC_ASSERT(backend->queued() == 0u);
    for (std::size_t i = 0; i < backend->servers().size(); ++i)
      RC_ASSERT(backend->load(i).active == 0);
  }
}

RC_GTEST_PROP(H2StreamProperties, WhateverTheClientDoesEveryStreamEndsAndNothingIsLeftOnceItGoes, ()) {
  const auto plans = *rc::gen::container<std::vector<ServerPlan>>(
      3, rc::gen::apply([](int latency, bool silent) { return ServerPlan{latency, silent}; },
                        rc::gen::element(0, 200, 1500), rc::gen::element(false, false, true)));
  const auto actions = *rc::gen::resize(30, rc::gen::nonEmpty(rc::gen::container<std::vector<Action>>(action())));
  run_case(plans, actions, *rc::gen::arbitrary<bool>());
}

}  // namespace
}  // namespace metalgate::proxy::testing
