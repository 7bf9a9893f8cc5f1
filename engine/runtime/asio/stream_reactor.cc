#include "engine/runtime/asio/stream_reactor.h"

#include <array>
#include <boost/asio/post.hpp>
#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <cerrno>

#include <sys/epoll.h>
#include <unistd.h>

namespace metalgate::runtime::asio_live {

StreamReactor::StreamReactor(boost::asio::io_context& io, Dispatch dispatch)
    : io_(io), dispatch_(dispatch), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)), watched_(io) {
  if (epoll_fd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  boost::system::error_code ec;
  watched_.assign(::dup(epoll_fd_), ec);  // Asio closes its copy; epoll_fd_ stays ours
  if (ec) throw std::system_error(ec.value(), std::system_category(), "watching the stream reactor");
  wait();
}

StreamReactor::~StreamReactor() {
  stop();
  ::close(epoll_fd_);
}

void StreamReactor::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  watched_.close(ignored);
}

std::error_code StreamReactor::watch(int fd, void* owner) {
  if (stopped_) return std::make_error_code(std::errc::operation_canceled);
  auto slot = static_cast<std::size_t>(fd);
  if (slot >= entries_.size()) entries_.resize(slot + 1 + slot / 2);
  Entry& e = entries_[slot];
  e.owner = owner;
  e.serial = ++next_serial_;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = (std::uint64_t{e.serial} << 32) | static_cast<std::uint32_t>(fd);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    e = {};
    return {errno, std::system_category()};
  }
  return {};
}

void StreamReactor::forget(int fd) {
  // close(2) takes the descriptor out of the epoll set (nothing else holds it): no epoll_ctl needed.
  auto slot = static_cast<std::size_t>(fd);
  if (slot < entries_.size()) entries_[slot] = {};
}

void StreamReactor::wait() {
  watched_.async_wait(boost::asio::posix::descriptor::wait_read,
                      [self = boost::intrusive_ptr<StreamReactor>(this)](const boost::system::error_code& ec) {
                        if (ec || self->stopped_) return;
                        self->gather();
                        if (!self->stopped_) self->wait();
                      });
}

// Asio re-arms its watch of the set at each wait (an epoll_ctl that reports it again while anything in it is
// ready), and reports it at each new event; past a few full batches, the rest waits behind the loop's other
// work.
void StreamReactor::gather() {
  std::array<epoll_event, 64> events;
  for (int pass = 0; pass < 4; ++pass) {
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
    if (n <= 0) return;
    for (int i = 0; i < n && !stopped_; ++i) {
      auto slot = static_cast<std::size_t>(events[i].data.u64 & 0xffffffffu);
      auto serial = static_cast<std::uint32_t>(events[i].data.u64 >> 32);
      if (slot < entries_.size() && entries_[slot].owner && entries_[slot].serial == serial)
        dispatch_(entries_[slot].owner, events[i].events);
    }
    if (n < static_cast<int>(events.size())) return;
  }
  boost::asio::post(io_, [self = boost::intrusive_ptr<StreamReactor>(this)] {
    if (!self->stopped_) self->gather();
  });
}

}  // namespace metalgate::runtime::asio_live
