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
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr std::size_t kBufferSize = 65536;  // as bare_relay.cc and metalgate's read buffer

struct Pair;

// One socket of a pair: what was received from it and is being sent to its peer.
struct Side {
  Pair* pair = nullptr;
  Side* peer = nullptr;
  int fd = -1;
  char buffer[kBufferSize];
  std::size_t start = 0, end = 0;
  bool read_closed = false, write_closed = false;
};

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

void set_int(int fd, int level, int option, int value) {
  ::setsockopt(fd, level, option, &value, sizeof value);
}

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
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  set_int(server, IPPROTO_TCP, TCP_NODELAY, 1);
  if (delay_ack) set_int(server, IPPROTO_TCP, TCP_QUICKACK, 0);
  auto* p = new Pair;
  p->client.pair = p->server.pair = p;
  p->client.peer = &p->server;
  p->server.peer = &p->client;
  p->client.fd = fd;
  p->server.fd = server;
  io_uring_sqe* e = sqe();
  io_uring_prep_connect(e, server, reinterpret_cast<const sockaddr*>(&upstream), sizeof upstream);
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
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s LISTEN_PORT UPSTREAM_PORT [--delay-ack]\n", argv[0]);
    return 2;
  }
  delay_ack = argc > 3 && std::strcmp(argv[3], "--delay-ack") == 0;
  sockaddr_in bind_to{};
  bind_to.sin_family = upstream.sin_family = AF_INET;
  bind_to.sin_addr.s_addr = upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind_to.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  upstream.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));

  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  set_int(listener, SOL_SOCKET, SO_REUSEADDR, 1);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&bind_to), sizeof bind_to) != 0 ||
      ::listen(listener, 4096) != 0) {
    std::perror("bare_relay_uring: listen");
    return 1;
  }
  if (delay_ack) set_int(listener, IPPROTO_TCP, TCP_QUICKACK, 0);
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
