// A bare relay: the least work a proxy must do, and nothing else. Each accepted connection gets one new
// connection to the upstream; each read is one recv and one send, in one thread, with the same socket hints
// as metalgate (relay_sockets.h). Its sends wait for the end of each epoll batch, as HAProxy's
// tasklets run after polling: measured here, that got more requests through than sending at once. It parses
// nothing, routes nothing, adds no header and keeps no pool, so no HTTP proxy spends less CPU per request.
//
// The benchmarks run it beside metalgate and HAProxy. Where wrk and the origin share the other core, its rate
// shows what a proxy's own CPU buys there: if the bare relay is no faster than HAProxy, no proxy is much
// faster.
//
//   bare_relay LISTEN_PORT UPSTREAM_PORT [--delay-ack]     (both on 127.0.0.1)
//
// Benchmark tooling, not product: it is plain epoll on purpose, so that nothing stands between it and the
// kernel.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "relay_sockets.h"

namespace {

using relay::kBufferSize;

struct Pair;

struct Side : relay::SideBase<Pair, Side> {
  unsigned events = 0;  // what epoll watches now
  bool added = false;   // registered with epoll
  bool queued = false;  // in to_send
};

struct Pair {
  Side client;
  Side server;
  bool connecting = true;
  bool dead = false;
};

int epoll_fd = -1;
bool delay_ack = false;
std::vector<Side*> to_send;    // read in this batch, sent at its end
std::vector<Pair*> graveyard;  // freed after the epoll batch that may still point at them

using relay::set_int;

void watch(Side& s, unsigned events) {
  if (s.added && s.events == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &s;
  ::epoll_ctl(epoll_fd, s.added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s.fd, &ev);
  s.events = events;
  s.added = true;
}

void kill(Pair* p) {
  if (p->dead) return;
  p->dead = true;
  ::close(p->client.fd);
  ::close(p->server.fd);
  graveyard.push_back(p);
}

void maybe_finish(Pair* p) {
  if (p->client.read_closed && p->server.read_closed && p->client.write_closed && p->server.write_closed)
    kill(p);
}

// Sends what `from` holds to its peer; false when the pair died.
bool flush(Side& from) {
  Side& to = *from.peer;
  while (from.start < from.end) {
    ssize_t n = ::send(to.fd, from.buffer + from.start, from.end - from.start, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      from.start += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      return true;
    } else {
      kill(from.pair);
      return false;
    }
  }
  from.start = from.end = 0;
  if (from.read_closed && !to.write_closed) {
    ::shutdown(to.fd, SHUT_WR);
    to.write_closed = true;
    maybe_finish(from.pair);
  }
  return true;
}

// What each side waits for: reading while its buffer is empty, writing while its peer's is not.
void rewatch(Pair* p) {
  if (p->dead) return;
  for (Side* s : {&p->client, &p->server}) {
    unsigned events = 0;
    if (!s->read_closed && s->start == s->end) events |= EPOLLIN;
    if (s->peer->start < s->peer->end) events |= EPOLLOUT;
    watch(*s, events);
  }
}

void on_readable(Side& s) {
  ssize_t n = ::recv(s.fd, s.buffer, kBufferSize, MSG_DONTWAIT);
  if (n > 0) {
    s.start = 0;
    s.end = static_cast<std::size_t>(n);
    s.queued = true;
    to_send.push_back(&s);
  } else if (n == 0) {
    s.read_closed = true;
    s.queued = true;
    to_send.push_back(&s);
  } else if (errno != EAGAIN) {
    kill(s.pair);
  }
}

void on_connected(Pair* p) {
  int error = 0;
  socklen_t length = sizeof error;
  ::getsockopt(p->server.fd, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) return kill(p);
  p->connecting = false;
  if (delay_ack) set_int(p->server.fd, IPPROTO_TCP, TCP_QUICKACK, 0);
  on_readable(p->client);  // a request that came while connecting
}

void on_accept(int listener, const sockaddr_in& upstream) {
  for (;;) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    auto* p = relay::new_pair<Pair>(fd, SOCK_NONBLOCK, delay_ack);
    const int server = p->server.fd;
    if (::connect(server, reinterpret_cast<const sockaddr*>(&upstream), sizeof upstream) != 0 &&
        errno != EINPROGRESS) {
      kill(p);
      continue;
    }
    watch(p->server, EPOLLOUT);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const relay::Args args = relay::parse(argc, argv);
  delay_ack = args.delay_ack;
  const sockaddr_in upstream = args.upstream;
  int listener = relay::listen_on(args, SOCK_NONBLOCK, "bare_relay: listen");
  epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the listener
  ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &ev);

  epoll_event events[256];
  for (;;) {
    int n = ::epoll_wait(epoll_fd, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        on_accept(listener, upstream);
        continue;
      }
      Side& s = *static_cast<Side*>(events[i].data.ptr);
      Pair* p = s.pair;
      if (p->dead) continue;
      if (p->connecting) {
        if (&s == &p->server) on_connected(p);
      } else {
        if ((events[i].events & EPOLLOUT) && !p->dead) flush(*s.peer);
        if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !p->dead && !s.read_closed &&
            s.start == s.end)
          on_readable(s);
      }
      if (!p->connecting && !p->client.queued && !p->server.queued) rewatch(p);  // else after the sends
    }
    for (Side* s : to_send)
      if (s->queued = false; !s->pair->dead) {
        flush(*s);
        rewatch(s->pair);
      }
    to_send.clear();
    for (Pair* p : graveyard)
      delete p;
    graveyard.clear();
  }
}
