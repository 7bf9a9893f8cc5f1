#include "engine/runtime/asio/asio_runtime.h"
#include "engine/runtime/asio/stream_reactor.h"

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <cerrno>
#include <deque>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace metalgate::runtime::asio_live {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

std::error_code to_std(const boost::system::error_code& ec) {
  if (ec == asio::error::eof) return std::make_error_code(std::errc::connection_aborted);
  if (ec.category() == boost::system::system_category() || ec.category() == boost::system::generic_category())
    return {ec.value(), std::system_category()};
  return std::make_error_code(std::errc::io_error);
}

asio::ip::address to_asio(const net::IpAddress& a) {
  if (a.is_v4()) return asio::ip::address_v4(a.v4_host_order());
  asio::ip::address_v6::bytes_type b;
  std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
  return asio::ip::address_v6(b);
}

net::IpAddress from_asio(const asio::ip::address& a) {
  if (a.is_v4()) return net::IpAddress::v4(a.to_v4().to_uint());
  auto v6 = a.to_v6();
  if (v6.is_v4_mapped())
    return net::IpAddress::v4(asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_uint());
  std::array<std::uint8_t, 16> b{};
  auto bytes = v6.to_bytes();
  std::copy(bytes.begin(), bytes.end(), b.begin());
  return net::IpAddress::v6(b);
}

template <typename Endpoint>
net::SocketAddress from_endpoint(const Endpoint& e) {
  return {from_asio(e.address()), e.port()};
}

// ------------------------------------------------------------------------------------------------ timers

struct TimerState {
  explicit TimerState(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  TimerCallback callback;
  bool armed = false;
  std::uint64_t generation = 0;
  Duration period{0};
};

class AsioTimer final : public Timer {
 public:
  AsioTimer(asio::io_context& io, TimerCallback cb) : state_(std::make_shared<TimerState>(io)) {
    state_->callback = std::move(cb);
  }
  ~AsioTimer() override { cancel(); }
  void arm(Duration after) override { start(after, Duration{0}); }
  void arm_periodic(Duration period) override { start(period, period); }
  void cancel() override {
    state_->armed = false;
    ++state_->generation;
    state_->timer.cancel();
  }
  bool armed() const override { return state_->armed; }

 private:
  void start(Duration after, Duration period) {
    auto& s = *state_;
    s.armed = true;
    s.period = period;
    s.timer.expires_after(after);
    wait(state_, ++s.generation);
  }
  static void wait(const std::shared_ptr<TimerState>& state, std::uint64_t gen) {
    state->timer.async_wait(
        [weak = std::weak_ptr<TimerState>(state), gen](const boost::system::error_code& ec) {
          auto s = weak.lock();
          if (!s || ec || !s->armed || s->generation != gen) return;
          if (s->period.count() > 0) {
            s->timer.expires_at(s->timer.expiry() + s->period);  // no drift: next deadline from the last one
            wait(s, gen);
          } else {
            s->armed = false;
          }
          s->callback();
        });
  }
  std::shared_ptr<TimerState> state_;
};

// ------------------------------------------------------------------------------------------------ streams

// Reactor style: wait for readiness (StreamReactor: edge-triggered, no record per waiting connection), then
// read or write without blocking. Reads land in one buffer per thread (an idle connection holds no read
// buffer at all); writes go straight to the socket and only what the kernel does not take is queued. Both
// matter at 10,000 connections and at 30,000 requests a second.
struct StreamState : std::enable_shared_from_this<StreamState> {
  explicit StreamState(boost::intrusive_ptr<StreamReactor> r) : reactor(std::move(r)) {}
  ~StreamState() { close_fd(); }
  boost::intrusive_ptr<StreamReactor> reactor;
  StreamHandler* handler = nullptr;
  int fd = -1;
  bool started = false, reading = true, peer_eof = false, connecting = false;
  bool connected = false, silenced = false, owner_closed = false, fin_queued = false, write_wait = false;
  bool fin_sent = false;
  bool delay_ack = false;  // ConnectOptions::delay_ack
  // Edge-triggered readiness: true once a read found the socket empty, until the reactor reports it
  // readable again. A read that stops early (its rounds used up, or reading paused) leaves it false, and
  // start_read() continues from the loop instead of waiting for an edge that will not come.
  bool read_drained = false, read_posted = false;
  // The peer's FIN (or an error) came with the last report: a short read then is not the end of what
  // there is to read, since no later edge will announce the end of stream.
  bool peer_hung_up = false;
  // The local address is asked for rarely (a wildcard listener's VIP, logs): getsockname(2) on first use.
  bool local_known = false;
  // Unsent bytes: out[out_offset, end). One flat buffer (a std::deque would allocate ~600 bytes even empty,
  // per connection).
  Bytes out;
  std::size_t out_offset = 0;
  std::size_t out_bytes = 0;
  net::SocketAddress local, peer;
  // forward_to(): a live destination is spliced to through a pipe (created on first use); any other stream
  // gets a copy. Only TCP services forward, so this lives apart, allocated on first use: an HTTP client
  // connection (10,000 idle ones are common) does not carry it.
  struct Forwarding {
    std::weak_ptr<StreamState> splice_to;
    StreamConnection* copy_to = nullptr;
    int pipe_read = -1, pipe_write = -1;
    std::size_t pipe_pending = 0;  // spliced in, not yet out
    std::size_t copied_before_splice = 0;
    bool eof_after_pipe = false;
    std::weak_ptr<StreamState> resume_reader;  // a splicing source waiting for this one's queue to drain
    std::weak_ptr<StreamState> splice_waiter;  // a splicing source waiting for this one to take more
    ~Forwarding() {
      if (pipe_read >= 0) ::close(pipe_read);
      if (pipe_write >= 0) ::close(pipe_write);
    }
  };
  // Like HAProxy's splice-auto: the first bytes of a forwarded stream are copied, bulk is spliced.
  static constexpr std::size_t kSpliceAfter = 64 * 1024;
  std::unique_ptr<Forwarding> fwd;
  Forwarding& forwarding() {
    if (!fwd) fwd = std::make_unique<Forwarding>();
    return *fwd;
  }
  bool pipe_holds_bytes() const { return fwd && fwd->pipe_pending > 0; }

  static std::array<std::uint8_t, 65536>& read_buffer() {
    static thread_local std::array<std::uint8_t, 65536> buffer;
    return buffer;
  }

  template <typename F>
  void post(F&& task) {
    asio::post(reactor->io(), std::forward<F>(task));
  }

  // Takes a non-blocking descriptor over and watches it; false (the descriptor closed) when it cannot be.
  bool adopt(int descriptor) {
    fd = descriptor;
    if (reactor->watch(fd, this)) {
      ::close(fd);
      fd = -1;
      return false;
    }
    return true;
  }

  void close_fd() {
    if (fd < 0) return;
    reactor->forget(fd);
    ::close(fd);
    fd = -1;
  }

  static void dispatch(void* owner, std::uint32_t events) {
    auto self = static_cast<StreamState*>(owner)->shared_from_this();
    self->on_events(events);
  }

  void on_events(std::uint32_t events) {
    if (connecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      finish_connect();
      if (silenced || fd < 0) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      read_drained = false;
      if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_hung_up = true;
      if (may_read()) read_ready();
    }
    // Writing goes on after the owner closed (silenced): close() flushes what it queued, then the FIN.
    if (fd < 0 || !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    if (write_wait) {
      write_wait = false;
      flush(true);
    }
    if (auto waiter = fwd ? fwd->splice_waiter.lock() : nullptr) {
      fwd->splice_waiter.reset();
      if (!waiter->silenced && waiter->fwd)
        if (auto d = waiter->fwd->splice_to.lock()) waiter->splice_ready(d);
    }
  }

  // The descriptor is already non-blocking (accept4 with SOCK_NONBLOCK, or socket(2) with it); every read
  // and write passes MSG_DONTWAIT anyway.
  void on_established() {
    connected = true;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  void finish_connect() {
    connecting = false;
    read_drained = true;  // the event that said so also says whether the server spoke first
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) return fail(std::error_code(error, std::system_category()));
    established_by_connect();
  }

  void established_by_connect() {
    on_established();
    if (delay_ack) {  // the handshake left delayed-ACK mode; go back to it
      const int zero = 0;
      ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
    }
    handler->on_connected();
    if (silenced) return;
    start_read();
    if (out_bytes > 0)
      flush(true);  // written before the connection was up: on_write_drained is due once it has gone
    else if (fin_queued)
      flush(false);
  }

  const net::SocketAddress& local_address() {
    if (!local_known && fd >= 0) {
      tcp::endpoint e;
      auto length = static_cast<socklen_t>(e.capacity());
      if (::getsockname(fd, e.data(), &length) == 0) {
        e.resize(length);
        local = from_endpoint(e);
        local_known = true;
      }
    }
    return local;
  }

  void fail(std::error_code reason) {
    close_fd();
    Bytes().swap(out);
    out_offset = 0;
    out_bytes = 0;
    if (!silenced && handler) {
      silenced = true;
      handler->on_closed(reason);
    }
    silenced = true;
  }

  bool may_read() const {
    return started && reading && !silenced && !peer_eof && connected && fd >= 0 && !pipe_holds_bytes();
  }

  // Reads what is there without waiting for readiness (nothing there: one EAGAIN, then the usual wait).
  void read_speculatively() {
    if (may_read()) read_ready();
  }

  // Reading may go on: at once from the loop if bytes may be waiting, else at the next edge.
  void start_read() {
    if (!may_read() || read_drained || read_posted) return;
    read_posted = true;
    post([self = shared_from_this()] {
      self->read_posted = false;
      if (!self->read_drained) self->read_speculatively();
    });
  }

  // splice(2): socket -> pipe -> destination socket, never through user space. The pipe is the only buffer:
  // nothing more is read while it holds bytes the destination has not taken, and the end of stream is passed
  // on only after the pipe has drained, so order is kept.
  void splice_ready(const std::shared_ptr<StreamState>& dst) {
    Forwarding& f = forwarding();
    if (f.pipe_read < 0) {
      int fds[2];
      if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return fail(std::error_code(errno, std::system_category()));
      f.pipe_read = fds[0];
      f.pipe_write = fds[1];
    }
    for (int round = 0; round < 8 && !silenced; ++round) {
      if (f.pipe_pending > 0) {
        ssize_t m = ::splice(f.pipe_read, nullptr, dst->fd, nullptr, f.pipe_pending,
                             SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (m < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
          return fail(std::error_code(errno, std::system_category()));
        if (m > 0) {
          f.pipe_pending -= static_cast<std::size_t>(m);
          handler->on_forwarded(static_cast<std::size_t>(m));
          if (silenced) return;
        }
        // The destination took part: try again; took nothing (EAGAIN): it is full, and says when it is not.
        if (f.pipe_pending > 0) {
          if (m > 0) continue;
          return wait_destination(dst);
        }
      }
      if (f.eof_after_pipe) {
        f.eof_after_pipe = false;
        peer_eof = true;
        handler->on_peer_shutdown();
        return;
      }
      if (!reading || peer_eof) return;
      if (dst->out_bytes > 0) {  // the destination's own queue goes first
        dst->forwarding().resume_reader = weak_from_this();
        return;
      }
      ssize_t n = ::splice(fd, nullptr, f.pipe_write, nullptr, 1 << 16, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n == 0) {
        f.eof_after_pipe = true;
        continue;
      }
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
          return fail(std::error_code(errno, std::system_category()));
        read_drained = true;
        break;
      }
      f.pipe_pending += static_cast<std::size_t>(n);
    }
    if (silenced) return;
    // Out of rounds with bytes still in the pipe (or the end of stream still to pass on): continue from the
    // loop, without waiting for either side.
    if (f.pipe_pending > 0 || f.eof_after_pipe) {
      post([self = shared_from_this(), weak = std::weak_ptr<StreamState>(dst)] {
        if (self->silenced) return;
        if (auto d = weak.lock()) self->splice_ready(d);
      });
      return;
    }
    start_read();
  }

  void wait_destination(const std::shared_ptr<StreamState>& dst) {
    if (dst->fd < 0) return;
    dst->forwarding().splice_waiter = weak_from_this();
  }

  void read_ready() {
    if (fwd && (fwd->copied_before_splice >= kSpliceAfter || fwd->pipe_pending > 0 || fwd->eof_after_pipe))
      if (auto dst = fwd->splice_to.lock()) return splice_ready(dst);
    auto& buffer = read_buffer();
    // A few reads per wake-up, then back to the loop so one busy peer cannot starve the others. A short
    // read took all there was (later bytes bring a new edge), unless the peer's FIN is behind it.
    for (int round = 0; round < 4 && reading && !silenced && !peer_eof; ++round) {
      ssize_t got = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          read_drained = true;
          break;
        }
        return fail(std::error_code(errno, std::system_category()));
      }
      if (got == 0) {
        peer_eof = true;
        handler->on_peer_shutdown();
        return;
      }
      auto n = static_cast<std::size_t>(got);
      const bool all_there_was = n < buffer.size() && !peer_hung_up;
      if (all_there_was) read_drained = true;
      if (!deliver(buffer, n)) return;
      if (all_there_was || (fwd && fwd->copied_before_splice >= kSpliceAfter)) break;
    }
    start_read();
  }

  // Hands `n` bytes read to the handler, or to the forwarding destination; false when this connection ended
  // (failed, closed by its owner, or at the end of stream).
  bool deliver(std::array<std::uint8_t, 65536>& buffer, std::size_t n) {
    if (auto dst = fwd ? fwd->splice_to.lock() : nullptr) return copy_forward(buffer, n, *dst);
    if (fwd && fwd->copy_to) {
      fwd->copy_to->write(ByteView(buffer.data(), n));
      handler->on_forwarded(n);
    } else {
      handler->on_data(ByteView(buffer.data(), n));
    }
    return !silenced;
  }

  // Forwarding, still below the splice threshold: a copy (a short exchange never needs a pipe). When the
  // peer's FIN came with the bytes (a server's last answer and its close come together), it is read now, so
  // that the bytes and the FIN leave in one segment and the peer wakes once (HAProxy does the same on
  // EPOLLRDHUP).
  bool copy_forward(std::array<std::uint8_t, 65536>& buffer, std::size_t n, StreamState& dst) {
    int after = 0;  // 0: more may come; -1: end of stream; else an errno to fail with once forwarded
    if (n < buffer.size() && peer_hung_up) {
      ssize_t more = ::recv(fd, buffer.data() + n, buffer.size() - n, MSG_DONTWAIT);
      if (more > 0)
        n += static_cast<std::size_t>(more);
      else if (more == 0)
        after = -1;
      else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        after = errno;
    }
    dst.write(ByteView(buffer.data(), n), /*more=*/after == -1);
    fwd->copied_before_splice += n;
    handler->on_forwarded(n);
    if (silenced) return false;
    if (after > 0) {
      fail(std::error_code(after, std::system_category()));
      return false;
    }
    if (after == -1) {
      peer_eof = true;
      handler->on_peer_shutdown();
      // The owner passes the end on at once (a TCP service does); if it did not, the held-back bytes must
      // not wait for it: TCP_NODELAY set again pushes them.
      if (!dst.fin_queued && dst.fd >= 0) {
        const int one = 1;
        ::setsockopt(dst.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      }
      return false;
    }
    return true;
  }

  // Sends what it can now; returns false after a failure. `more`: MSG_MORE (see
  // StreamConnection::write_more).
  bool send_now(ByteView data, std::size_t& sent, bool more = false) {
    sent = 0;
    const int flags = MSG_DONTWAIT | MSG_NOSIGNAL | (more ? MSG_MORE : 0);
    while (sent < data.size()) {
      ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, flags);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        fail(std::error_code(errno, std::system_category()));
        return false;
      }
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  void write(ByteView data, bool more = false) {
    if (!connected || out_bytes > 0 || write_wait) {
      out.insert(out.end(), data.begin(), data.end());
      out_bytes += data.size();
      if (connected) wait_writable();
      return;
    }
    std::size_t sent = 0;
    if (!send_now(data, sent, more)) return;
    if (sent < data.size()) {
      out.assign(data.begin() + static_cast<std::ptrdiff_t>(sent), data.end());
      out_offset = 0;
      out_bytes = data.size() - sent;
      wait_writable();
    }
  }

  // The socket took less than it was given (EAGAIN), so it is full: the reactor reports when it is not.
  void wait_writable() {
    if (connected && fd >= 0) write_wait = true;
  }

  // Sends queued bytes; when the queue empties, sends FIN or closes as the owner asked, and (from the loop
  // only, `notify`) says so.
  void flush(bool notify) {
    if (out_bytes > 0) {
      std::size_t sent = 0;
      if (!send_now(ByteView(out.data() + out_offset, out_bytes), sent)) return;
      out_offset += sent;
      out_bytes -= sent;
      if (out_bytes > 0) return wait_writable();
      Bytes().swap(out);  // a drained connection keeps no buffer
      out_offset = 0;
      if (auto reader = fwd ? fwd->resume_reader.lock() : nullptr) {
        fwd->resume_reader.reset();
        post([reader] {
          if (reader->silenced || !reader->fwd) return;
          if (auto d = reader->fwd->splice_to.lock()) reader->splice_ready(d);
        });
      }
    }
    if (fin_queued && !fin_sent) {
      fin_sent = true;
      ::shutdown(fd, SHUT_WR);
    }
    if (owner_closed) return close_fd();
    if (notify && !silenced && handler) handler->on_write_drained();
  }

  // Queued bytes wait for the socket to take them (write_wait); with none, the FIN or close goes now.
  void finish_when_drained() {
    if (connected && !write_wait) flush(false);
  }
};

class AsioStreamConnection final : public StreamConnection {
 public:
  explicit AsioStreamConnection(std::shared_ptr<StreamState> s) : s_(std::move(s)) {}
  ~AsioStreamConnection() override {
    if (!s_->owner_closed) reset();
  }
  void start(StreamHandler& handler) override {
    s_->handler = &handler;
    s_->started = true;
    // Deliver from the loop, never from inside start(): the contract forbids re-entrant callbacks. Read at
    // once rather than wait for readiness: a client's first bytes (an HTTP request, a ClientHello) are
    // usually there already, and a turn through epoll would queue them behind everything else that is ready.
    s_->post([s = s_] { s->read_speculatively(); });
  }
  void write(ByteView data) override { send(data, false); }
  void write_more(ByteView data) override { send(data, true); }
  void ack_promptly() override {
    const int one = 1;
    ::setsockopt(s_->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  }
  std::size_t write_backlog() const override { return s_->out_bytes; }
  void shutdown_write() override {
    if (s_->fin_queued) return;
    s_->fin_queued = true;
    s_->finish_when_drained();
  }
  void close() override {
    if (s_->owner_closed) return;
    s_->silenced = true;
    if (!s_->connected) return reset();
    s_->fin_queued = true;
    s_->owner_closed = true;
    s_->finish_when_drained();
  }
  void reset() override {
    s_->owner_closed = true;
    s_->silenced = true;
    if (s_->fd >= 0) {
      const linger abort{1, 0};  // close() then sends RST
      ::setsockopt(s_->fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
      s_->close_fd();
    }
    Bytes().swap(s_->out);
    s_->out_bytes = 0;
  }
  void set_reading(bool enabled) override {
    s_->reading = enabled;
    if (enabled) s_->start_read();
  }
  void forward_to(StreamConnection* destination) override {
    auto& f = s_->forwarding();
    f.splice_to.reset();
    f.copy_to = nullptr;
    if (auto* live_destination = dynamic_cast<AsioStreamConnection*>(destination))
      f.splice_to = live_destination->s_;
    else
      f.copy_to = destination;
  }
  net::SocketAddress local_address() const override { return s_->local_address(); }
  net::SocketAddress peer_address() const override { return s_->peer; }

 private:
  void send(ByteView data, bool more) {
    if (s_->fin_queued || s_->owner_closed || data.empty() || s_->fd < 0) return;
    s_->write(data, more);
  }

  std::shared_ptr<StreamState> s_;
};

struct ListenerState : std::enable_shared_from_this<ListenerState> {
  ListenerState(asio::io_context& io, boost::intrusive_ptr<StreamReactor> r)
      : acceptor(io), reactor(std::move(r)) {}
  tcp::acceptor acceptor;
  boost::intrusive_ptr<StreamReactor> reactor;
  AcceptCallback on_accept;
  bool open = true;
  // What the listener is bound to: every accepted socket's local address, unless it is a wildcard.
  net::SocketAddress bound;

  // Readiness, then accept(2) until the queue is empty (at most a batch per wake-up, as HAProxy's maxaccept):
  // one loop turn per burst of connections rather than one per connection.
  void accept_next() {
    acceptor.async_wait(tcp::acceptor::wait_read,
                        [self = shared_from_this()](const boost::system::error_code& ec) {
                          if (!self->open || ec == asio::error::operation_aborted) return;
                          if (!ec) self->accept_batch();
                          if (self->open) self->accept_next();
                        });
  }

  void accept_batch() {
    for (int i = 0; i < 64 && open; ++i) {
      // accept4(2) hands over the peer's address and a non-blocking descriptor: no getpeername, no fcntl.
      tcp::endpoint peer;
      auto length = static_cast<socklen_t>(peer.capacity());
      int fd = ::accept4(acceptor.native_handle(), peer.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
      // EAGAIN ends the batch; EMFILE, ECONNABORTED and friends are transient: try again on the next wake-up.
      if (fd < 0) return;
      peer.resize(length);
      auto s = std::make_shared<StreamState>(reactor);
      if (!s->adopt(fd)) continue;
      s->on_established();
      s->peer = from_endpoint(peer);
      if (!bound.ip.is_unspecified()) {
        s->local = bound;
        s->local_known = true;
      }
      on_accept(std::make_unique<AsioStreamConnection>(std::move(s)));
    }
  }
};

class AsioListener final : public StreamListener {
 public:
  explicit AsioListener(std::shared_ptr<ListenerState> s) : s_(std::move(s)) {}
  ~AsioListener() override {
    s_->open = false;
    boost::system::error_code ignored;
    s_->acceptor.close(ignored);
  }
  net::SocketAddress local_address() const override {
    boost::system::error_code ec;
    return from_endpoint(s_->acceptor.local_endpoint(ec));
  }

 private:
  std::shared_ptr<ListenerState> s_;
};

// ------------------------------------------------------------------------------------------------ datagrams

// Reactor style like streams: recvmsg(2) into one buffer per thread (a UDP proxy opens a socket per flow;
// none may carry 64 KiB), with IP_PKTINFO so a wildcard-bound socket learns which address a datagram was sent
// to.
struct DatagramState : std::enable_shared_from_this<DatagramState> {
  explicit DatagramState(asio::io_context& io) : socket(io) {}
  udp::socket socket;
  DatagramCallback on_datagram;
  net::SocketAddress local;
  bool open = true;

  void receive_next() {
    socket.async_wait(udp::socket::wait_read,
                      [self = shared_from_this()](const boost::system::error_code& ec) {
                        if (!self->open || ec == asio::error::operation_aborted) return;
                        if (!ec) self->drain();
                        if (self->open) self->receive_next();
                      });
  }

  void drain() {
    static thread_local std::array<std::uint8_t, 65536> buffer;
    for (int round = 0; round < 64 && open; ++round) {
      sockaddr_storage peer{};
      iovec iov{buffer.data(), buffer.size()};
      alignas(cmsghdr) char control[256];
      msghdr msg{};
      msg.msg_name = &peer;
      msg.msg_namelen = sizeof peer;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n = ::recvmsg(socket.native_handle(), &msg, MSG_DONTWAIT);
      if (n < 0) return;  // EAGAIN, or an ICMP error queued on the socket: nothing to deliver
      net::SocketAddress to = local;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          in_pktinfo info;
          std::memcpy(&info, CMSG_DATA(c), sizeof info);
          to.ip = net::IpAddress::v4(ntohl(info.ipi_addr.s_addr));
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
          in6_pktinfo info;
          std::memcpy(&info, CMSG_DATA(c), sizeof info);
          std::array<std::uint8_t, 16> b;
          std::memcpy(b.data(), &info.ipi6_addr, 16);
          to.ip = net::IpAddress::v6(b);
        }
      }
      net::SocketAddress from = from_sockaddr(peer);
      on_datagram(from, to, ByteView(buffer.data(), static_cast<std::size_t>(n)));
    }
  }

  static net::SocketAddress from_sockaddr(const sockaddr_storage& ss) {
    if (ss.ss_family == AF_INET) {
      const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
      return {net::IpAddress::v4(ntohl(a.sin_addr.s_addr)), ntohs(a.sin_port)};
    }
    const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
    std::array<std::uint8_t, 16> b;
    std::memcpy(b.data(), &a.sin6_addr, 16);
    return {net::IpAddress::v6(b), ntohs(a.sin6_port)};
  }
};

class AsioDatagramSocket final : public DatagramSocket {
 public:
  explicit AsioDatagramSocket(std::shared_ptr<DatagramState> s) : s_(std::move(s)) {}
  ~AsioDatagramSocket() override {
    s_->open = false;
    boost::system::error_code ignored;
    s_->socket.close(ignored);
  }
  void send_to(const net::SocketAddress& to, ByteView payload) override {
    boost::system::error_code ignored;  // UDP is best effort: ENOBUFS, ECONNREFUSED and friends are drops
    s_->socket.send_to(asio::buffer(payload.data(), payload.size()), udp::endpoint(to_asio(to.ip), to.port),
                       0, ignored);
  }
  void send_from(const net::IpAddress& from, const net::SocketAddress& to, ByteView payload) override {
    if (!s_->local.ip.is_unspecified() || from.family() != to.ip.family()) return send_to(to, payload);
    udp::endpoint dest(to_asio(to.ip), to.port);
    iovec iov{const_cast<std::uint8_t*>(payload.data()), payload.size()};
    alignas(cmsghdr) char control[64] = {};
    msghdr msg{};
    msg.msg_name = dest.data();
    msg.msg_namelen = static_cast<socklen_t>(dest.size());
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    cmsghdr* c = reinterpret_cast<cmsghdr*>(control);
    if (from.is_v4()) {
      msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo info{};
      info.ipi_spec_dst.s_addr = htonl(from.v4_host_order());
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    } else {
      msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      in6_pktinfo info{};
      std::memcpy(&info.ipi6_addr, from.bytes().data(), 16);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }
    ::sendmsg(s_->socket.native_handle(), &msg, MSG_DONTWAIT);  // best effort, as send_to
  }
  net::SocketAddress local_address() const override { return s_->local; }

 private:
  std::shared_ptr<DatagramState> s_;
};

}  // namespace

// ------------------------------------------------------------------------------------------------ runtime

AsioRuntime::AsioRuntime(asio::io_context& io, AsioRuntimeOptions options)
    : io_(io),
      options_(std::move(options)),
      random_(options_.seed),
      logger_([this] { return now(); }, options_.log_sink, options_.log_level),
      streams_(new StreamReactor(io, &StreamState::dispatch)) {}

AsioRuntime::~AsioRuntime() {
  streams_->stop();
}

Instant AsioRuntime::now() const {
  return Instant(std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch()));
}

TimerPtr AsioRuntime::create_timer(TimerCallback on_fire) {
  return std::make_unique<AsioTimer>(io_, std::move(on_fire));
}

void AsioRuntime::post(std::function<void()> task) {
  asio::post(io_, std::move(task));
}

void AsioRuntime::post_background(std::function<void()> task) {
  if (background_.empty()) background_work_.emplace(io_.get_executor());
  background_.push_back(std::move(task));
}

void AsioRuntime::run() {
  while (!io_.stopped()) {
    if (background_.empty()) {
      if (io_.run_one() == 0) break;  // out of work, or stopped
      continue;
    }
    // A pass over what is ready now (bounded, so the background lane always gets its turn), then one task
    // of the background lane. While it holds work the loop never blocks.
    for (int handled = 0; handled < 64 && io_.poll_one() > 0; ++handled) {
    }
    if (io_.stopped()) break;
    run_background_one();
  }
}

void AsioRuntime::run_background_one() {
  if (background_.empty()) return;
  auto task = std::move(background_.front());
  background_.pop_front();
  if (background_.empty()) background_work_.reset();
  task();
}

namespace {
// A service address is bound before this node holds it (IP_FREEBIND): its listeners are ready the moment the
// speaker adds it, and a node that never owns it simply never sees its traffic.
void allow_free_bind(int fd, const net::IpAddress& ip, boost::system::error_code& ec) {
  if (ip.is_unspecified()) return;
  int on = 1;
  int rc = ip.is_v4() ? ::setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof on)
                      : ::setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &on, sizeof on);
  if (rc != 0) ec.assign(errno, boost::system::system_category());
}
}  // namespace

StreamListenerPtr AsioRuntime::listen(const net::SocketAddress& local, const ListenOptions& options,
                                      AcceptCallback on_accept, std::error_code& error) {
  auto s = std::make_shared<ListenerState>(io_, streams_);
  s->on_accept = std::move(on_accept);
  tcp::endpoint endpoint(to_asio(local.ip), local.port);
  boost::system::error_code ec;
  s->acceptor.open(endpoint.protocol(), ec);
  if (!ec) s->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && options.reuse_port) {
    using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    s->acceptor.set_option(reuse_port(true), ec);
  }
  if (!ec) allow_free_bind(s->acceptor.native_handle(), local.ip, ec);
  if (!ec) s->acceptor.bind(endpoint, ec);
  if (!ec) s->acceptor.listen(options.backlog, ec);
  if (!ec && options.delay_ack) {
    // After listen(2), which clears it. Accepted sockets inherit it: they start in delayed-ACK
    // ("ping-pong") mode.
    using quick_ack = asio::detail::socket_option::boolean<IPPROTO_TCP, TCP_QUICKACK>;
    s->acceptor.set_option(quick_ack(false), ec);
  }
  if (!ec) s->acceptor.non_blocking(true, ec);  // accept_batch() stops at EAGAIN
  if (!ec) s->bound = from_endpoint(s->acceptor.local_endpoint(ec));
  if (ec) {
    error = to_std(ec);
    return nullptr;
  }
  error.clear();
  s->accept_next();
  return std::make_unique<AsioListener>(std::move(s));
}

namespace {
std::error_code last_error() {
  return {errno, std::system_category()};
}

// A non-blocking socket(2) and connect(2), watched from then on; its outcome comes as the reactor's first
// event (StreamState::finish_connect), or at once from the loop when the kernel settled it in the call.
std::error_code start_connect(const std::shared_ptr<StreamState>& s, const tcp::endpoint& target,
                              const ConnectOptions& options) {
  int fd = ::socket(target.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_error();
  auto fail = [fd] {
    std::error_code e = last_error();
    ::close(fd);
    return e;
  };
  if (options.source) {
    const tcp::endpoint from(to_asio(*options.source), 0);
    if (::bind(fd, from.data(), static_cast<socklen_t>(from.size())) != 0) return fail();
  }
  const int zero = 0;
  if (options.delay_ack) ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
  int rc = ::connect(fd, target.data(), static_cast<socklen_t>(target.size()));
  if (rc != 0 && errno != EINPROGRESS) return fail();
  s->delay_ack = options.delay_ack;
  s->connecting = rc != 0;
  if (!s->adopt(fd)) return std::make_error_code(std::errc::too_many_files_open);
  if (rc == 0)
    s->post([s] {
      if (!s->silenced) s->established_by_connect();
    });
  return {};
}
}  // namespace

StreamConnectionPtr AsioRuntime::connect(const net::SocketAddress& remote, StreamHandler& handler,
                                         const ConnectOptions& options) {
  auto s = std::make_shared<StreamState>(streams_);
  s->handler = &handler;
  s->started = true;
  s->peer = remote;
  if (std::error_code error = start_connect(s, tcp::endpoint(to_asio(remote.ip), remote.port), options))
    s->post([s, error] {  // reported from the loop, never from inside connect()
      if (!s->silenced) s->fail(error);
    });
  return std::make_unique<AsioStreamConnection>(std::move(s));
}

DatagramSocketPtr AsioRuntime::open_datagram(const net::SocketAddress& local, DatagramCallback on_datagram,
                                             std::error_code& error) {
  auto s = std::make_shared<DatagramState>(io_);
  s->on_datagram = std::move(on_datagram);
  udp::endpoint endpoint(to_asio(local.ip), local.port);
  boost::system::error_code ec;
  s->socket.open(endpoint.protocol(), ec);
  if (!ec) allow_free_bind(s->socket.native_handle(), local.ip, ec);
  if (!ec) s->socket.bind(endpoint, ec);
  if (ec) {
    error = to_std(ec);
    return nullptr;
  }
  s->local = from_endpoint(s->socket.local_endpoint(ec));
  int on = 1;
  if (endpoint.protocol() == udp::v4())
    ::setsockopt(s->socket.native_handle(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  else
    ::setsockopt(s->socket.native_handle(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
  s->socket.non_blocking(true, ec);
  error.clear();
  s->receive_next();
  return std::make_unique<AsioDatagramSocket>(std::move(s));
}

FramePortPtr AsioRuntime::open_frame_port(const std::string& interface_name,
                                          const std::vector<std::uint16_t>& ethertypes, FrameHandler& handler,
                                          std::error_code& error) {
  return open_linux_frame_port(io_, interface_name, ethertypes, handler, error);
}

std::error_code AsioRuntime::add_local_address(const net::IpAddress& address) {
  return change_interface_address(options_.vip_interface, address, true);
}

std::error_code AsioRuntime::remove_local_address(const net::IpAddress& address) {
  return change_interface_address(options_.vip_interface, address, false);
}

}  // namespace metalgate::runtime::asio_live
