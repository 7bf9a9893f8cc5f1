// Every session's deadline behind one runtime timer: owners hear on_deadline at their instant, in deadline
// order (ties in the order added), never after removal, and may add or remove entries from the callback.
#include "engine/proxy/deadline_queue.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/memory/memory_world.h"

namespace metalgate::proxy {
namespace {

using namespace std::chrono_literals;
using runtime::Instant;

struct Fired {
  std::string name;
  Instant at;
  bool operator==(const Fired&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Fired& f) {
  return os << f.name << "@" << runtime::format_instant(f.at);
}

class Owner final : public DeadlineOwner {
 public:
  Owner(std::string name, runtime::Runtime& rt, std::vector<Fired>& log)
      : name_(std::move(name)), rt_(rt), log_(log) {}
  void on_deadline() override {
    log_.push_back({name_, rt_.now()});
    if (then) then();
  }
  std::function<void()> then;

 private:
  std::string name_;
  runtime::Runtime& rt_;
  std::vector<Fired>& log_;
};

class DeadlineQueueTest : public ::testing::Test {
 protected:
  runtime::memory::MemoryWorld world{5};
  runtime::memory::MemoryHost& host = world.add_host("proxy");
  DeadlineQueue queue{host};
  std::vector<Fired> fired;
  const Instant t0 = host.now();

  std::unique_ptr<Owner> owner(const std::string& name) { return std::make_unique<Owner>(name, host, fired); }
};

TEST_F(DeadlineQueueTest, OwnersHearTheirDeadlinesInDeadlineOrderEachAtItsInstant) {
  auto a = owner("a"), b = owner("b"), c = owner("c");
  queue.add(t0 + 30ms, c.get());
  queue.add(t0 + 10ms, a.get());
  queue.add(t0 + 20ms, b.get());
  EXPECT_EQ(queue.size(), 3u);
  world.run_for(25ms);
  EXPECT_EQ(fired, (std::vector<Fired>{{"a", t0 + 10ms}, {"b", t0 + 20ms}}));
  EXPECT_EQ(queue.size(), 1u) << "a fired entry is gone";
  world.run_for(1s);
  EXPECT_EQ(fired, (std::vector<Fired>{{"a", t0 + 10ms}, {"b", t0 + 20ms}, {"c", t0 + 30ms}}));
  EXPECT_EQ(queue.size(), 0u);
}

TEST_F(DeadlineQueueTest, EntriesDueAtTheSameInstantFireInTheOrderTheyWereAdded) {
  auto a = owner("a"), b = owner("b"), c = owner("c");
  queue.add(t0 + 10ms, b.get());
  queue.add(t0 + 10ms, c.get());
  queue.add(t0 + 10ms, a.get());
  world.run_for(1s);
  EXPECT_EQ(fired, (std::vector<Fired>{{"b", t0 + 10ms}, {"c", t0 + 10ms}, {"a", t0 + 10ms}}));
}

TEST_F(DeadlineQueueTest, RemovedEntryNeverFiresAndTheOthersStillDoOnTime) {
  auto a = owner("a"), b = owner("b");
  auto ha = queue.add(t0 + 10ms, a.get());  // the timer waits for this one
  queue.add(t0 + 50ms, b.get());
  queue.remove(ha);
  EXPECT_EQ(queue.size(), 1u);
  world.run_for(30ms);
  EXPECT_TRUE(fired.empty());
  world.run_for(1s);
  EXPECT_EQ(fired, (std::vector<Fired>{{"b", t0 + 50ms}}));
}

TEST_F(DeadlineQueueTest, EarlierDeadlineAddedAfterALaterOneFiresOnTime) {
  auto a = owner("a"), b = owner("b");
  queue.add(t0 + 50ms, a.get());
  world.run_for(5ms);
  queue.add(t0 + 20ms, b.get());
  world.run_for(1s);
  EXPECT_EQ(fired, (std::vector<Fired>{{"b", t0 + 20ms}, {"a", t0 + 50ms}}));
}

TEST_F(DeadlineQueueTest, DeadlineAlreadyPastFiresAtOnce) {
  world.run_for(1s);
  const Instant now = host.now();
  auto a = owner("a");
  queue.add(now - 100ms, a.get());
  world.run_for(1ms);
  EXPECT_EQ(fired, (std::vector<Fired>{{"a", now}}));
}

TEST_F(DeadlineQueueTest, OwnerMayAddItsNextDeadlineFromItsCallback) {
  // A keep-alive session moves on to its next deadline from the callback of the last one.
  auto a = owner("a"), b = owner("b");
  int rounds = 0;
  a->then = [&] {
    if (++rounds < 3) queue.add(host.now() + 10ms, a.get());
  };
  queue.add(t0 + 10ms, a.get());
  queue.add(t0 + 25ms, b.get());
  world.run_for(1s);
  EXPECT_EQ(fired, (std::vector<Fired>{{"a", t0 + 10ms}, {"a", t0 + 20ms}, {"b", t0 + 25ms}, {"a", t0 + 30ms}}));
  EXPECT_EQ(queue.size(), 0u);
}

TEST_F(DeadlineQueueTest, OwnerMayRemoveAnotherEntryDueAtTheSameInstantFromItsCallback) {
  auto a = owner("a"), b = owner("b"), c = owner("c");
  queue.add(t0 + 10ms, a.get());
  auto hb = queue.add(t0 + 10ms, b.get());
  a->then = [&] {
    queue.remove(hb);
    queue.add(host.now(), c.get());  // due now: heard in this same pass
  };
  world.run_for(1s);
  EXPECT_EQ(fired, (std::vector<Fired>{{"a", t0 + 10ms}, {"c", t0 + 10ms}}));
  EXPECT_EQ(queue.size(), 0u);
}

TEST(DeadlineQueue, QueueDestroyedWithEntriesPendingCallsNoOne) {
  runtime::memory::MemoryWorld world;
  auto& host = world.add_host("proxy");
  std::vector<Fired> fired;
  Owner a("a", host, fired);
  {
    DeadlineQueue queue(host);
    queue.add(host.now() + 10ms, &a);
  }
  world.run_for(1s);
  EXPECT_TRUE(fired.empty());
}

// Random deadlines, some removed before anything fires and some while the queue runs: every remaining entry
// fires exactly once, at its own instant, in (deadline, order added) order; a removed one never.
RC_GTEST_PROP(DeadlineQueue, FiresWhatRemainsInDeadlineOrderEachAtItsInstant, ()) {
  runtime::memory::MemoryWorld world;
  auto& host = world.add_host("proxy");
  std::vector<Fired> fired;
  DeadlineQueue queue(host);
  const Instant t0 = host.now();

  const auto deadlines = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 200));  // ms after t0
  std::vector<std::unique_ptr<Owner>> owners;
  std::vector<DeadlineQueue::Handle> handles;
  for (std::size_t i = 0; i < deadlines.size(); ++i) {
    owners.push_back(std::make_unique<Owner>(std::to_string(i), host, fired));
    handles.push_back(queue.add(t0 + std::chrono::milliseconds(deadlines[i]), owners.back().get()));
  }
  std::vector<bool> removed(deadlines.size(), false);
  for (std::size_t i = 0; i < deadlines.size(); ++i)
    if (*rc::gen::inRange(0, 4) == 0) {
      queue.remove(handles[i]);
      removed[i] = true;
    }
  // Part way (between whole milliseconds, so nothing is due exactly then), remove some not yet due.
  const int midway_ms = *rc::gen::inRange(0, 200);
  world.run_until(t0 + std::chrono::milliseconds(midway_ms) + 500us);
  for (std::size_t i = 0; i < deadlines.size(); ++i)
    if (!removed[i] && deadlines[i] > midway_ms && *rc::gen::inRange(0, 3) == 0) {
      queue.remove(handles[i]);
      removed[i] = true;
    }
  world.run_for(1s);

  std::vector<std::size_t> expected_order;
  for (std::size_t i = 0; i < deadlines.size(); ++i)
    if (!removed[i]) expected_order.push_back(i);
  std::stable_sort(expected_order.begin(), expected_order.end(),
                   [&](std::size_t x, std::size_t y) { return deadlines[x] < deadlines[y]; });
  std::vector<Fired> expected;
  for (std::size_t i : expected_order)
    expected.push_back({std::to_string(i), t0 + std::chrono::milliseconds(deadlines[i])});
  RC_ASSERT(fired == expected);
  RC_ASSERT(queue.size() == 0u);
}

}  // namespace
}  // namespace metalgate::proxy
