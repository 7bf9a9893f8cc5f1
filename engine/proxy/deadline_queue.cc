#include "engine/proxy/deadline_queue.h"

namespace metalgate::proxy {

DeadlineQueue::DeadlineQueue(runtime::Runtime& rt) : rt_(rt), timer_(rt.create_timer([this] { fire(); })) {}

DeadlineQueue::Handle DeadlineQueue::add(runtime::Instant when, DeadlineOwner* owner) {
  Handle h = entries_.emplace(when, owner);
  // The timer only ever moves earlier here; a removed entry leaves it waiting for a time at which nothing is
  // due, and it then re-arms for whatever is earliest.
  if (!firing_ && (!armed_for_ || when < *armed_for_)) {
    armed_for_ = when;
    const runtime::Instant now = rt_.now();
    timer_->arm(when > now ? when - now : runtime::Duration::zero());
  }
  return h;
}

void DeadlineQueue::remove(Handle handle) {
  entries_.erase(handle);
}

void DeadlineQueue::fire() {
  firing_ = true;
  armed_for_.reset();
  const runtime::Instant now = rt_.now();
  // Owners may add and remove entries (their own or others') from their callbacks: look at the front anew
  // each time.
  while (!entries_.empty() && entries_.begin()->first <= now) {
    DeadlineOwner* owner = entries_.begin()->second;
    entries_.erase(entries_.begin());
    owner->on_deadline();
  }
  firing_ = false;
  arm_for_earliest();
}

void DeadlineQueue::arm_for_earliest() {
  if (entries_.empty()) return;
  const runtime::Instant when = entries_.begin()->first;
  armed_for_ = when;
  const runtime::Instant now = rt_.now();
  timer_->arm(when > now ? when - now : runtime::Duration::zero());
}

}  // namespace metalgate::proxy
