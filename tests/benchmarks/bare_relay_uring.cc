// The bare relay (bare_relay.cc) on io_uring instead of epoll: the same work per request (one new upstream
// connection per client connection; each read relayed as it comes; the same socket hints), with every
// receive, send and connect an io_uring operation, all those of one loop pass submitted together with the
// wait for the next completions (one io_uring_enter per pass), and the listener on a multishot accept. What
// it measures: how much of a relay's CPU per request the system calls of an epoll loop cost, so how far an
// io_uring proxy could get below the epoll floor on this machine.
//
//   bare_relay_uring LISTEN_PORT UPSTREAM_PORT [--delay-ack]     (both on 127.0.0.1)
//
// Benchmark tooling, not product: liburing directly, nothing between it and the kernel.
#include <liburing.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "relay_sockets.h"

namespace {

using relay::kBufferSize;

struct Pair;

struct Side : relay::SideBase<Pair, Side> {};

struct Pair {
  Side client, server;
  int pending = 0;  // operations in flight; freed at zero once dead
  bool dead = false;
};

// What a completion is for: the operation in the low bits of user_data, the side above them.
enum Op : std::uintptr_t { kAccept = 0, kConnect = 1, kRecv = 2, kSend = 3 };

io_uring ring;
sockaddr_in upstream{};
bool delay_ack = false;

using relay::set_int;

io_uring_sqe* sqe() {
  io_uring_sqe* e = io_uring_get_sqe(&ring);
  if (!e) {  // the queue is full: hand it over and take a fresh entry
    io_uring_submit(&ring);
    e = io_uring_get_sqe(&ring);
  }
  return e;
}

void tag(io_uring_sqe* e, Side* s, Op op) {
  io_uring_sqe_set_data64(e, reinterpret_cast<std::uintptr_t>(s) | op);
  ++s->pair->pending;
}

void recv_on(Side& s) {
  io_uring_sqe* e = sqe();
  io_uring_prep_recv(e, s.fd, s.buffer, kBufferSize, 0);
  tag(e, &s, kRecv);
}

// Sends what `from` holds to its peer (the rest of it after a short send).
void send_from(Side& from) {
  io_uring_sqe* e = sqe();
  io_uring_prep_send(e, from.peer->fd, from.buffer + from.start, from.end - from.start, MSG_NOSIGNAL);
  tag(e, &from, kSend);
}

void accept_on(int listener) {
  io_uring_sqe* e = sqe();
  io_uring_prep_multishot_accept(e, listener, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(e, kAccept);
}

void kill(Pair* p) {
  if (p->dead) return;
  p->dead = true;
  ::shutdown(p->client.fd, SHUT_RDWR);  // ends the receives still in flight
  ::shutdown(p->server.fd, SHUT_RDWR);
}

void on_accept(int fd) {
  Pair* p = relay::new_pair<Pair>(fd, 0, delay_ack);
  io_uring_sqe* e = sqe();
  io_uring_prep_connect(e, p->server.fd, reinterpret_cast<const sockaddr*>(&upstream), sizeof upstream);
  tag(e, &p->server, kConnect);
}

void on_received(Side& s, int n) {
  if (n <= 0) {
    s.read_closed = true;
    if (n < 0) return kill(s.pair);
    ::shutdown(s.peer->fd, SHUT_WR);
    s.peer->write_closed = true;
    if (s.peer->read_closed) kill(s.pair);
    return;
  }
  s.start = 0;
  s.end = static_cast<std::size_t>(n);
  send_from(s);
}

void on_sent(Side& from, int n) {
  if (n < 0) return kill(from.pair);
  from.start += static_cast<std::size_t>(n);
  if (from.start < from.end) return send_from(from);
  recv_on(from);  // all of it went: read on
}

void complete(io_uring_cqe* cqe, int listener) {
  const std::uintptr_t data = io_uring_cqe_get_data64(cqe);
  const auto op = static_cast<Op>(data & 3);
  if (op == kAccept) {
    if (cqe->res >= 0) on_accept(cqe->res);
    if (!(cqe->flags & IORING_CQE_F_MORE)) accept_on(listener);  // the multishot accept ended: again
    return;
  }
  Side& s = *reinterpret_cast<Side*>(data & ~std::uintptr_t{3});
  Pair* p = s.pair;
  --p->pending;
  if (!p->dead) {
    if (op == kConnect) {
      if (cqe->res < 0) {
        kill(p);
      } else {
        if (delay_ack) set_int(p->server.fd, IPPROTO_TCP, TCP_QUICKACK, 0);
        recv_on(p->client);
        recv_on(p->server);
      }
    } else if (op == kRecv) {
      on_received(s, cqe->res);
    } else {
      on_sent(s, cqe->res);
    }
  }
  if (p->dead && p->pending == 0) {
    ::close(p->client.fd);
    ::close(p->server.fd);
    delete p;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const relay::Args args = relay::parse(argc, argv);
  delay_ack = args.delay_ack;
  upstream = args.upstream;
  const int listener = relay::listen_on(args, 0, "bare_relay_uring: listen");
  // Completions' work runs in this thread when it asks for them (kernel 6.1+), or is only kept from
  // interrupting it (older kernels).
  io_uring_params params{};
  params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int r = io_uring_queue_init_params(4096, &ring, &params);
  if (r == -EINVAL) {
    params = {};
    params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN;
    r = io_uring_queue_init_params(4096, &ring, &params);
  }
  if (r < 0) {
    std::fprintf(stderr, "bare_relay_uring: io_uring_queue_init: %s\n", std::strerror(-r));
    return 1;
  }
  accept_on(listener);
  for (;;) {
    io_uring_submit_and_wait(&ring, 1);  // this pass's operations, and the wait for the next completions
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      complete(cqe, listener);
      ++seen;
    }
    io_uring_cq_advance(&ring, seen);
  }
}
