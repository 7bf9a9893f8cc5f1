// What the two bare relays (bare_relay.cc on epoll, bare_relay_uring.cc on io_uring) share: their command
// line, their listener, and a new pair of sockets with metalgate's hints (TCP_NODELAY; with --delay-ack the
// ACK of a request rides on its answer, as HAProxy's tcp-smart-accept and tcp-smart-connect do). Header
// only: each relay is built from its one file and this (the benchmark scripts build them with c++ alone).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace relay {

// As metalgate's read buffer: one receive takes a 16 KiB answer whole.
constexpr std::size_t kBufferSize = 65536;

// One socket of a pair, and the bytes read from it that its peer has not taken yet. `Side` is the relay's
// own type deriving from this one.
template <class Pair, class Side>
struct SideBase {
  Pair* pair = nullptr;
  Side* peer = nullptr;
  int fd = -1;
  char buffer[kBufferSize];
  std::size_t start = 0;
  std::size_t end = 0;
  bool read_closed = false;   // EOF seen on this socket
  bool write_closed = false;  // FIN sent on this socket
};

inline void set_int(int fd, int level, int option, int value) {
  ::setsockopt(fd, level, option, &value, sizeof value);
}

struct Args {
  sockaddr_in bind_to{}, upstream{};  // both on 127.0.0.1
  bool delay_ack = false;
};

// NAME LISTEN_PORT UPSTREAM_PORT [--delay-ack]; exits with the usage on fewer arguments.
inline Args parse(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s LISTEN_PORT UPSTREAM_PORT [--delay-ack]\n", argv[0]);
    std::exit(2);
  }
  Args a;
  a.delay_ack = argc > 3 && std::strcmp(argv[3], "--delay-ack") == 0;
  a.bind_to.sin_family = a.upstream.sin_family = AF_INET;
  a.bind_to.sin_addr.s_addr = a.upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.bind_to.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  a.upstream.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  return a;
}

// The listening socket (`flags` beside SOCK_STREAM | SOCK_CLOEXEC); exits when it cannot listen.
inline int listen_on(const Args& a, int flags, const char* name) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  set_int(listener, SOL_SOCKET, SO_REUSEADDR, 1);
  if (::bind(listener, reinterpret_cast<const sockaddr*>(&a.bind_to), sizeof a.bind_to) != 0 ||
      ::listen(listener, 4096) != 0) {
    std::perror(name);
    std::exit(1);
  }
  if (a.delay_ack) set_int(listener, IPPROTO_TCP, TCP_QUICKACK, 0);  // after listen(2), as metalgate sets it
  return listener;
}

// A pair for an accepted client socket: its upstream socket made (`flags` as above), both sides linked,
// the hints set. Pair has `client` and `server` sides with `pair`, `peer` and `fd`.
template <class Pair>
Pair* new_pair(int client_fd, int flags, bool delay_ack) {
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  set_int(client_fd, IPPROTO_TCP, TCP_NODELAY, 1);
  set_int(server, IPPROTO_TCP, TCP_NODELAY, 1);
  if (delay_ack) set_int(server, IPPROTO_TCP, TCP_QUICKACK, 0);
  auto* p = new Pair;
  p->client.pair = p->server.pair = p;
  p->client.peer = &p->server;
  p->server.peer = &p->client;
  p->client.fd = client_fd;
  p->server.fd = server;
  return p;
}

}  // namespace relay
