// Readiness for the live world's TCP connections: one epoll set of the runtime's own, watched by Asio as a
// single descriptor. A connection is registered once, edge-triggered for reading and writing, and holds no
// record of the reactor's while it waits: a waiting Asio socket kept its reactor's descriptor state (168
// bytes) and a pending wait operation (80) per connection, two thirds of the runtime's share of an idle
// keep-alive connection (reports/proxy-bench.md). The rest of the loop (timers, datagrams, frames, signals)
// stays on Asio.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/smart_ptr/intrusive_ref_counter.hpp>
#include <cstdint>
#include <system_error>
#include <vector>

namespace metalgate::runtime::asio_live {

class StreamReactor : public boost::intrusive_ref_counter<StreamReactor, boost::thread_unsafe_counter> {
 public:
  // Called from the loop with the epoll events (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR) of an
  // owner's descriptor, at each change of its readiness (edge-triggered: read or write until EAGAIN, or
  // remember that more may be there).
  using Dispatch = void (*)(void* owner, std::uint32_t events);

  StreamReactor(boost::asio::io_context& io, Dispatch dispatch);
  ~StreamReactor();
  StreamReactor(const StreamReactor&) = delete;
  StreamReactor& operator=(const StreamReactor&) = delete;

  boost::asio::io_context& io() { return io_; }
  // Reports `fd`'s readiness to `owner` until forget(fd). The current readiness is reported once at first.
  std::error_code watch(int fd, void* owner);
  // Before close(fd): events of `fd` gathered but not yet dispatched are dropped, even if a new descriptor
  // gets the same number in the meantime.
  void forget(int fd);
  // The runtime is going away: nothing more is dispatched. Connections still open close on their own.
  void stop();

 private:
  struct Entry {
    void* owner = nullptr;
    std::uint32_t serial = 0;  // which registration of this descriptor number
  };
  void wait();
  void gather();

  boost::asio::io_context& io_;
  Dispatch dispatch_;
  int epoll_fd_ = -1;
  boost::asio::posix::stream_descriptor watched_;  // epoll_fd_, as Asio's loop sees it
  std::vector<Entry> entries_;                      // by descriptor number
  std::uint32_t next_serial_ = 0;
  bool stopped_ = false;
};

}  // namespace metalgate::runtime::asio_live
