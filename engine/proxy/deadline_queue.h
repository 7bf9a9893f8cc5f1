// The deadlines of every session of a proxy behind one runtime timer. A session holds a handle into an
// ordered map instead of a timer of its own: at 10,000 idle keep-alive connections that is a map node each
// rather than a live timer with its pending wait (about 350 bytes less per connection with Asio).
#pragma once

#include <cstddef>
#include <map>
#include <optional>

#include "engine/runtime/runtime.h"

namespace metalgate::proxy {

class DeadlineOwner {
 public:
  // The owner's entry is already gone when this is called; it may add a new one.
  virtual void on_deadline() = 0;

 protected:
  ~DeadlineOwner() = default;
};

class DeadlineQueue {
 public:
  using Entries = std::multimap<runtime::Instant, DeadlineOwner*>;
  using Handle = Entries::iterator;

  explicit DeadlineQueue(runtime::Runtime& rt);
  DeadlineQueue(const DeadlineQueue&) = delete;
  DeadlineQueue& operator=(const DeadlineQueue&) = delete;

  // Entries due at the same instant fire in the order they were added.
  Handle add(runtime::Instant when, DeadlineOwner* owner);
  void remove(Handle handle);
  std::size_t size() const { return entries_.size(); }

 private:
  void fire();
  void arm_for_earliest();

  runtime::Runtime& rt_;
  Entries entries_;
  runtime::TimerPtr timer_;
  std::optional<runtime::Instant> armed_for_;  // the timer waits for this (an entry may be gone meanwhile)
  bool firing_ = false;
};

}  // namespace metalgate::proxy
