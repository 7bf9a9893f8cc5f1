// The client side of HTTP/2 against the server side, bytes shuttled by hand: requests and bodies go out as
// streams, responses come back with their trailers, resets and GOAWAY reach the other end, and the server's
// stream limit is what the client reads.
#include "engine/http2/client_session.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <map>

namespace metalgate::http2 {
namespace {

struct ServerSide : ServerEvents {
  struct Seen {
    Request request;
    std::string body;
    bool ended = false;
    std::uint32_t closed_with = ~0u;
  };
  std::map<std::int32_t, Seen> streams;
  void on_request(std::int32_t id, Request r) override {
    streams[id].request = std::move(r);
    if (!streams[id].request.has_body) streams[id].ended = true;
  }
  void on_request_data(std::int32_t id, runtime::ByteView d) override {
    streams[id].body.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  void on_request_end(std::int32_t id) override { streams[id].ended = true; }
  void on_stream_closed(std::int32_t id, std::uint32_t code) override { streams[id].closed_with = code; }
};

struct ClientSide : ClientEvents {
  struct Got {
    int status = 0;
    std::vector<Field> fields, trailers;
    std::string body;
    bool head_ended = false, ended = false;
    std::uint32_t closed_with = ~0u;
  };
  std::map<std::int32_t, Got> streams;
  ClientSession* session = nullptr;
  void on_response(std::int32_t id, int status, std::vector<Field> f, bool end) override {
    streams[id].status = status;
    streams[id].fields = std::move(f);
    streams[id].head_ended = end;
  }
  void on_response_data(std::int32_t id, runtime::ByteView d) override {
    streams[id].body.append(reinterpret_cast<const char*>(d.data()), d.size());
    session->consumed(id, d.size());
  }
  void on_response_end(std::int32_t id, std::vector<Field> t) override {
    streams[id].ended = true;
    streams[id].trailers = std::move(t);
  }
  void on_stream_closed(std::int32_t id, std::uint32_t code) override { streams[id].closed_with = code; }
};

class ClientAgainstServer : public ::testing::Test {
 protected:
  ClientAgainstServer() { client_events.session = &client; }
  // Moves bytes both ways until neither side has more to say.
  void shuttle() {
    for (int round = 0; round < 100; ++round) {
      std::string to_server, to_client;
      client.take_outgoing(to_server);
      if (!to_server.empty()) {
        ASSERT_TRUE(server.receive(runtime::as_bytes(to_server)));
      }
      server.take_outgoing(to_client);
      if (!to_client.empty()) {
        ASSERT_TRUE(client.receive(runtime::as_bytes(to_client)));
      }
      if (to_server.empty() && to_client.empty()) return;
    }
  }
  Request get(std::string path) { return {"GET", "http", "grpc.example", std::move(path), {}, false, {}}; }

  ServerSide server_events;
  ClientSide client_events;
  Settings settings;
  ServerSession server{server_events, settings};
  ClientSession client{client_events, settings};
};

TEST_F(ClientAgainstServer, ARequestAndItsBodyReachTheServerAndTheResponseComesBackWithItsTrailers) {
  Request r{"POST",
            "http",
            "grpc.example",
            "/echo.Echo/Say",
            {{"content-type", "application/grpc"}, {"te", "trailers"}},
            true,
            {}};
  const std::int32_t id = client.submit(r, false);
  ASSERT_EQ(id, 1);
  client.send_data(id, runtime::as_bytes(std::string("hello ")));
  client.send_data(id, runtime::as_bytes(std::string("world")));
  client.finish(id);
  shuttle();
  ASSERT_TRUE(server_events.streams[1].ended);
  EXPECT_EQ(server_events.streams[1].request.path, "/echo.Echo/Say");
  EXPECT_EQ(server_events.streams[1].request.authority, "grpc.example");
  EXPECT_EQ(server_events.streams[1].body, "hello world");
  ASSERT_EQ(server_events.streams[1].request.headers.size(), 2u);
  EXPECT_EQ(server_events.streams[1].request.headers[1].value, "trailers");

  server.respond(1, 200, {{"content-type", "application/grpc"}}, false);
  server.send_data(1, runtime::as_bytes(std::string("answer")));
  server.finish(1, {{"grpc-status", "0"}, {"grpc-message", ""}});
  shuttle();
  const auto& got = client_events.streams[1];
  EXPECT_EQ(got.status, 200);
  EXPECT_FALSE(got.head_ended);
  EXPECT_EQ(got.body, "answer");
  ASSERT_TRUE(got.ended);
  ASSERT_EQ(got.trailers.size(), 2u);
  EXPECT_EQ(got.trailers[0].name, "grpc-status");
  EXPECT_EQ(got.trailers[0].value, "0");
  EXPECT_EQ(got.closed_with, 0u);
  EXPECT_EQ(client.open_streams(), 0u);
}

TEST_F(ClientAgainstServer, IdleSessionsGiveBackTheirFrameBuffersAndServeOnAfterwards) {
  for (int round = 0; round < 3; ++round) {
    const std::int32_t id = client.submit(get("/" + std::to_string(round)), true);
    shuttle();
    server.respond(id, 200, {}, false);
    server.send_data(id, runtime::as_bytes(std::string(20000, 'a' + round)));  // frames fill the buffer
    server.finish(id);
    shuttle();
    EXPECT_EQ(client_events.streams[id].body, std::string(20000, 'a' + round));
    server.release_idle_memory();
    client.release_idle_memory();
  }
}

TEST_F(ClientAgainstServer, AHeadThatEndsTheStreamIsAResponseWithoutBodyAndItsEnd) {
  client.submit(get("/"), true);
  shuttle();
  server.respond(1, 204, {{"x-a", "1"}}, true);
  shuttle();
  EXPECT_EQ(client_events.streams[1].status, 204);
  EXPECT_TRUE(client_events.streams[1].head_ended);
  EXPECT_TRUE(client_events.streams[1].ended);
  EXPECT_TRUE(client_events.streams[1].trailers.empty());
}

TEST_F(ClientAgainstServer, ManyStreamsShareTheConnectionAndEachGetsItsOwnAnswer) {
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 10; ++i)
    ids.push_back(client.submit(get("/" + std::to_string(i)), true));
  shuttle();
  ASSERT_EQ(server_events.streams.size(), 10u);
  for (auto it = server_events.streams.rbegin(); it != server_events.streams.rend(); ++it) {
    server.respond(it->first, 200, {}, false);
    server.send_data(it->first, runtime::as_bytes(it->second.request.path));
    server.finish(it->first);
  }
  shuttle();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(client_events.streams[ids[i]].body, "/" + std::to_string(i));
}

TEST_F(ClientAgainstServer, AResetFromEitherSideClosesTheStreamWithItsCodeOnTheOtherSide) {
  client.submit(get("/a"), true);
  client.submit(get("/b"), true);
  shuttle();
  server.reset(1, NGHTTP2_INTERNAL_ERROR);
  client.reset(3, NGHTTP2_CANCEL);
  shuttle();
  EXPECT_EQ(client_events.streams[1].closed_with, static_cast<std::uint32_t>(NGHTTP2_INTERNAL_ERROR));
  EXPECT_FALSE(client_events.streams[1].ended);
  EXPECT_EQ(server_events.streams[3].closed_with, static_cast<std::uint32_t>(NGHTTP2_CANCEL));
}

TEST_F(ClientAgainstServer, AfterGoawayNoNewStreamIsTakenAndTheServersLimitIsKnown) {
  client.submit(get("/"), true);
  shuttle();
  EXPECT_EQ(client.max_streams(), settings.max_concurrent_streams) << "read from the server's SETTINGS";
  server.shut_down();
  shuttle();
  EXPECT_TRUE(client.closing());
  EXPECT_EQ(client.submit(get("/late"), true), -1);
  server.respond(1, 200, {}, true);
  std::string last;
  server.take_outgoing(last);
  client.receive(runtime::as_bytes(last));
  EXPECT_TRUE(client.finished()) << "after GOAWAY and the last stream: nothing to read or send";
  EXPECT_TRUE(client_events.streams[1].ended) << "the stream under way still finishes";
}

TEST_F(ClientAgainstServer, AnInterimHeadIsNotTheResponse) {
  client.submit(get("/"), true);
  shuttle();
  server.respond(1, 103, {{"link", "</a.css>"}}, false);
  server.respond(1, 200, {{"x-final", "yes"}}, true);
  shuttle();
  EXPECT_EQ(client_events.streams[1].status, 200);
  ASSERT_EQ(client_events.streams[1].fields.size(), 1u);
  EXPECT_EQ(client_events.streams[1].fields[0].name, "x-final");
}

TEST_F(ClientAgainstServer, GarbageFromTheServerEndsTheConnection) {
  client.submit(get("/"), true);
  std::string out;
  client.take_outgoing(out);
  const std::string bad_settings("\0\0\5\4\0\0\0\0\0" "12345", 14);  // not a multiple of 6 bytes
  client.receive(runtime::as_bytes(bad_settings));
  std::string goaway;
  client.take_outgoing(goaway);
  bool sent_goaway = false;
  for (std::size_t at = 0; at + 9 <= goaway.size();) {
    auto byte = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(goaway[at + i])); };
    sent_goaway |= byte(3) == 7;
    at += 9 + (byte(0) << 16 | byte(1) << 8 | byte(2));
  }
  EXPECT_TRUE(sent_goaway) << "nghttp2's GOAWAY went out";
  EXPECT_TRUE(client.finished());
}

// RFC 8441: a server that says SETTINGS_ENABLE_CONNECT_PROTOCOL takes a CONNECT with :protocol, and the
// stream is a tunnel both ways; one that does not say it refuses such a stream.
TEST_F(ClientAgainstServer, AnExtendedConnectOpensATunnelOnlyOnAServerThatOffersIt) {
  EXPECT_FALSE(client.settings_received());
  shuttle();
  ASSERT_TRUE(client.settings_received());
  ASSERT_TRUE(client.extended_connect()) << "the server session offers it by default, as HAProxy";
  Request ws{"CONNECT", "https",    "chat.example", "/socket", {{"sec-websocket-version", "13"}},
             true,      "websocket"};
  const std::int32_t id = client.submit(ws, false);
  client.send_data(id, runtime::as_bytes(std::string("ping")));
  shuttle();
  ASSERT_EQ(server_events.streams[id].request.protocol, "websocket");
  EXPECT_EQ(server_events.streams[id].request.method, "CONNECT");
  EXPECT_EQ(server_events.streams[id].request.path, "/socket");
  EXPECT_EQ(server_events.streams[id].body, "ping");
  server.respond(id, 200, {}, false);
  server.send_data(id, runtime::as_bytes(std::string("pong")));
  shuttle();
  EXPECT_EQ(client_events.streams[id].status, 200);
  EXPECT_EQ(client_events.streams[id].body, "pong");
  client.finish(id);
  server.finish(id);
  shuttle();
  EXPECT_TRUE(client_events.streams[id].ended);
  EXPECT_EQ(client_events.streams[id].closed_with, 0u);

  ServerSide plain_events;
  Settings without;
  without.extended_connect = false;
  ServerSession plain(plain_events, without);
  ClientSide events;
  ClientSession c(events, settings);
  events.session = &c;
  auto exchange = [&] {  // ten rounds both ways; nghttp2 answers within them
    for (int round = 0; round < 10; ++round) {
      std::string up, down;
      c.take_outgoing(up);
      plain.receive(runtime::as_bytes(up));
      plain.take_outgoing(down);
      c.receive(runtime::as_bytes(down));
    }
  };
  exchange();
  ASSERT_TRUE(c.settings_received());
  EXPECT_FALSE(c.extended_connect());
  const std::int32_t refused = c.submit(ws, true);
  exchange();
  EXPECT_TRUE(plain_events.streams[refused].request.method.empty()) << "no request reached the server";
  EXPECT_EQ(events.streams[refused].closed_with, static_cast<std::uint32_t>(NGHTTP2_PROTOCOL_ERROR));
}

}  // namespace
}  // namespace metalgate::http2
