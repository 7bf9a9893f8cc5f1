#include "engine/runtime/memory/memory_world.h"

#include <algorithm>
#include <stdexcept>

namespace metalgate::runtime::memory {

using namespace std::chrono_literals;
namespace {
constexpr Duration kRetransmitInterval = 200ms;
constexpr int kSynAttempts = 6;  // first try plus retries after 1, 2, 4, 8, 16 s

bool is_loopback(const net::IpAddress& a) {
  if (a.is_v4()) return a.bytes()[0] == 127;
  auto b = a.bytes();
  for (int i = 0; i < 15; ++i)
    if (b[static_cast<std::size_t>(i)] != 0) return false;
  return b[15] == 1;
}
}  // namespace

// ---------------------------------------------------------------------------------------------------- timers

struct TimerState {
  TimerCallback callback;
  bool armed = false;
  std::uint64_t generation = 0;
  Duration period{0};
  Instant deadline{};
};

class MemoryTimer final : public Timer {
 public:
  MemoryTimer(MemoryWorld& world, TimerCallback cb) : world_(world), state_(std::make_shared<TimerState>()) {
    state_->callback = std::move(cb);
  }
  ~MemoryTimer() override { cancel(); }
  void arm(Duration after) override { schedule(world_.now() + after, Duration{0}); }
  void arm_periodic(Duration period) override { schedule(world_.now() + period, period); }
  void cancel() override {
    state_->armed = false;
    ++state_->generation;
  }
  bool armed() const override { return state_->armed; }

 private:
  void schedule(Instant deadline, Duration period) {
    auto& s = *state_;
    s.armed = true;
    s.period = period;
    s.deadline = deadline;
    schedule_event(world_, state_, ++s.generation);
  }
  static void schedule_event(MemoryWorld& world, const std::shared_ptr<TimerState>& state,
                             std::uint64_t gen) {
    world.schedule(state->deadline, [&world, weak = std::weak_ptr<TimerState>(state), gen] {
      auto s = weak.lock();
      if (!s || !s->armed || s->generation != gen) return;
      if (s->period.count() > 0) {
        s->deadline += s->period;
        schedule_event(world, s, gen);
      } else {
        s->armed = false;
      }
      s->callback();  // may cancel, re-arm or destroy the timer: `s` keeps the state alive meanwhile
    });
  }
  MemoryWorld& world_;
  std::shared_ptr<TimerState> state_;
};

// ----------------------------------------------------------------------------------------------------
// streams

struct Segment {
  Bytes data;
  bool fin = false;
};

constexpr std::size_t kReceiveWindow = 256 * 1024;

struct StreamEnd : std::enable_shared_from_this<StreamEnd> {
  MemoryWorld* world = nullptr;
  MemoryHost* host = nullptr;
  net::SocketAddress local, peer;
  std::weak_ptr<StreamEnd> remote;
  MemoryHost* remote_host = nullptr;
  StreamHandler* handler = nullptr;
  StreamConnection* forward = nullptr;  // forward_to(): data goes there instead of to the handler
  bool started = false;
  bool reading = true;
  bool connected = false;
  bool silenced = false;      // the owner closed, reset or dropped it: no more callbacks
  bool owner_closed = false;  // data arriving now is answered with RST
  bool fin_queued = false;
  bool terminated = false;  // reset or failed: nothing crosses any more
  std::deque<Segment> inbox;
  std::size_t inbox_bytes = 0;
  // A receive window: a peer that does not read holds the sender back (its segments wait in its outbox), so
  // flow control and slow readers behave as over TCP.
  std::weak_ptr<StreamEnd> blocked_sender;
  std::deque<std::pair<Instant, Segment>> outbox;
  std::size_t outbox_bytes = 0;
  // Set by close(): the socket outlives its owner (held by the world) until what was queued (and the FIN) has
  // left, as a kernel keeps a closed socket's send queue going.
  bool lingering = false;
  void stop_lingering() {
    if (!lingering) return;
    lingering = false;
    world->unlinger(shared_from_this());
  }
  bool pump_scheduled = false;
  Instant pump_at{};

  void notify_closed(std::error_code reason) {
    auto keep = shared_from_this();
    stop_lingering();
    terminated = true;
    outbox.clear();
    outbox_bytes = 0;
    inbox.clear();
    inbox_bytes = 0;
    if (!silenced && handler) {
      silenced = true;
      handler->on_closed(reason);
    }
    silenced = true;
  }

  void queue(Segment seg) {
    // Before the handshake completes there is no far end yet: bytes wait and leave on on_connected.
    Instant ready = world->now() + (remote_host ? world->latency(*host, *remote_host) : Duration{0});
    if (!outbox.empty()) ready = std::max(ready, outbox.back().first);
    outbox_bytes += seg.data.size();
    outbox.emplace_back(ready, std::move(seg));
    schedule_pump(outbox.front().first);
  }

  void schedule_pump(Instant at) {
    if (pump_scheduled && pump_at <= at) return;
    pump_scheduled = true;
    pump_at = at;
    world->schedule(at, [weak = weak_from_this(), at] {
      auto self = weak.lock();
      if (!self || self->pump_at != at) return;  // superseded by an earlier pump
      self->pump_scheduled = false;
      self->pump();
    });
  }

  void pump() {
    if (terminated || !connected || !remote_host) return;
    auto far = remote.lock();
    if (!far || far->terminated) {
      notify_closed(std::make_error_code(std::errc::connection_reset));
      return;
    }
    while (!outbox.empty() && outbox.front().first <= world->now()) {
      if (!outbox.front().second.data.empty() && far->inbox_bytes >= kReceiveWindow) {
        far->blocked_sender = weak_from_this();  // resumes when the far end reads
        return;
      }
      if (!world->can_cross(*host, *remote_host)) {
        outbox.front().first = world->now() + kRetransmitInterval;
        break;
      }
      Segment seg = std::move(outbox.front().second);
      outbox.pop_front();
      outbox_bytes -= seg.data.size();
      far->receive(std::move(seg));
      if (terminated) return;
    }
    if (!outbox.empty()) {
      schedule_pump(outbox.front().first);
    } else if (!silenced && handler) {
      handler->on_write_drained();
    } else if (owner_closed && lingering) {
      auto keep = shared_from_this();  // everything has left: let go (after this function returns)
      stop_lingering();
    }
  }

  void receive(Segment seg) {
    if (terminated) return;
    if (owner_closed && !seg.data.empty()) {
      // Linux answers data for a closed socket with RST.
      send_reset();
      return;
    }
    inbox_bytes += seg.data.size();
    inbox.push_back(std::move(seg));
    deliver_inbox();
  }

  void deliver_inbox() {
    auto keep = shared_from_this();
    while (started && reading && !silenced && !inbox.empty()) {
      Segment seg = std::move(inbox.front());
      inbox.pop_front();
      inbox_bytes -= seg.data.size();
      if (seg.fin) {
        handler->on_peer_shutdown();
      } else if (forward) {
        forward->write(seg.data);
        handler->on_forwarded(seg.data.size());
      } else {
        handler->on_data(seg.data);
      }
    }
    if (silenced) {
      inbox.clear();
      inbox_bytes = 0;
    }
    if (inbox_bytes < kReceiveWindow) {
      if (auto sender = blocked_sender.lock()) {
        blocked_sender.reset();
        sender->schedule_pump(world->now());
      }
    }
  }

  void send_reset() {
    auto keep = shared_from_this();
    stop_lingering();
    terminated = true;
    silenced = true;
    outbox.clear();
    outbox_bytes = 0;
    if (!remote_host) return;
    world->schedule(world->now() + world->latency(*host, *remote_host), [weak = remote] {
      if (auto far = weak.lock()) far->notify_closed(std::make_error_code(std::errc::connection_reset));
    });
  }
};

class MemoryStreamConnection final : public StreamConnection {
 public:
  explicit MemoryStreamConnection(std::shared_ptr<StreamEnd> end) : end_(std::move(end)) {}
  ~MemoryStreamConnection() override {
    if (!end_->owner_closed) reset();
  }
  void start(StreamHandler& handler) override {
    end_->handler = &handler;
    end_->started = true;
    end_->world->schedule(end_->world->now(), [weak = std::weak_ptr<StreamEnd>(end_)] {
      if (auto e = weak.lock()) e->deliver_inbox();
    });
  }
  void write(ByteView data) override {
    if (end_->fin_queued || end_->terminated || data.empty()) return;
    end_->queue(Segment{Bytes(data.begin(), data.end()), false});
  }
  std::size_t write_backlog() const override { return end_->outbox_bytes; }
  void shutdown_write() override {
    if (end_->fin_queued || end_->terminated) return;
    end_->fin_queued = true;
    end_->queue(Segment{{}, true});
  }
  void close() override {
    if (end_->owner_closed) return;
    if (!end_->connected) return reset();
    shutdown_write();
    end_->owner_closed = true;
    end_->silenced = true;
    end_->lingering = true;
    end_->world->linger(end_);
  }
  void reset() override {
    end_->owner_closed = true;
    if (end_->terminated) return;
    end_->send_reset();
  }
  void set_reading(bool enabled) override {
    end_->reading = enabled;
    // Deliver from the loop, never from inside the call (the port's no-re-entrancy rule).
    if (enabled)
      end_->world->schedule(end_->world->now(), [weak = std::weak_ptr<StreamEnd>(end_)] {
        if (auto e = weak.lock()) e->deliver_inbox();
      });
  }
  void forward_to(StreamConnection* destination) override { end_->forward = destination; }
  net::SocketAddress local_address() const override { return end_->local; }
  net::SocketAddress peer_address() const override { return end_->peer; }

 private:
  std::shared_ptr<StreamEnd> end_;
};

struct ListenerState {
  AcceptCallback on_accept;
};

class MemoryListener final : public StreamListener {
 public:
  MemoryListener(MemoryHost& host, net::SocketAddress local, std::shared_ptr<ListenerState> state)
      : host_(host), local_(local), state_(std::move(state)) {}
  ~MemoryListener() override { host_.listeners_.erase(local_); }
  net::SocketAddress local_address() const override { return local_; }

 private:
  MemoryHost& host_;
  net::SocketAddress local_;
  std::shared_ptr<ListenerState> state_;
};

// ----------------------------------------------------------------------------------------------------
// datagrams

struct DatagramState {
  DatagramCallback on_datagram;
};

class MemoryDatagramSocket final : public DatagramSocket {
 public:
  MemoryDatagramSocket(MemoryHost& host, net::SocketAddress local, std::shared_ptr<DatagramState> state)
      : host_(host), local_(local), state_(std::move(state)) {}
  ~MemoryDatagramSocket() override { host_.datagram_sockets_.erase(local_); }
  void send_to(const net::SocketAddress& to, ByteView payload) override { send(local_.ip, to, payload); }
  void send_from(const net::IpAddress& from, const net::SocketAddress& to, ByteView payload) override {
    send(host_.holds(from) ? from : local_.ip, to, payload);
  }
  void send(const net::IpAddress& source, const net::SocketAddress& to, ByteView payload) {
    auto& world = host_.world_;
    MemoryHost* dest = world.resolve(to.ip, host_);
    if (!dest || !world.can_cross(host_, *dest)) return;
    net::SocketAddress from{source, local_.port};
    if (from.ip.is_unspecified()) from.ip = host_.source_for(to.ip);
    world.schedule(world.now() + world.latency(host_, *dest), [dest, from, to,
                                                               data = Bytes(payload.begin(), payload.end())] {
      auto it = dest->datagram_sockets_.find(to);
      if (it == dest->datagram_sockets_.end()) {
        net::SocketAddress any{to.ip.is_v4() ? net::IpAddress::v4(0) : net::IpAddress::v6({}), to.port};
        it = dest->datagram_sockets_.find(any);
      }
      if (it == dest->datagram_sockets_.end()) return;
      if (auto s = it->second.lock()) s->on_datagram(from, to, data);
    });
  }
  net::SocketAddress local_address() const override { return local_; }

 private:
  MemoryHost& host_;
  net::SocketAddress local_;
  std::shared_ptr<DatagramState> state_;
};

// ---------------------------------------------------------------------------------------------------- frames

struct FramePortState {
  FrameHandler* handler = nullptr;
  std::vector<std::uint16_t> ethertypes;
};

class MemoryFramePort final : public FramePort {
 public:
  MemoryFramePort(MemoryHost& host, std::string name, int ifindex, std::shared_ptr<FramePortState> state)
      : host_(host), name_(std::move(name)), ifindex_(ifindex), state_(std::move(state)) {}
  void send(const net::MacAddress& destination, std::uint16_t ethertype, ByteView payload) override {
    host_.world_.deliver_frame(host_, ifindex_, destination, ethertype, payload);
  }
  const std::string& interface_name() const override { return name_; }
  int ifindex() const override { return ifindex_; }
  net::MacAddress mac() const override {
    return host_.interfaces_[static_cast<std::size_t>(ifindex_ - 1)].mac;
  }
  bool link_up() const override { return host_.interfaces_[static_cast<std::size_t>(ifindex_ - 1)].up; }

 private:
  MemoryHost& host_;
  std::string name_;
  int ifindex_;
  std::shared_ptr<FramePortState> state_;
};

// ---------------------------------------------------------------------------------------------------- host

MemoryHost::MemoryHost(MemoryWorld& world, std::string name, std::uint32_t index, std::uint64_t seed)
    : world_(world),
      name_(std::move(name)),
      index_(index),
      random_(seed),
      logger_([&world] { return world.now(); },
              [this](const LogRecord& r) {
                if (!world_.log_sink()) return;
                std::vector<LogField> fields{{"host", name_}};
                fields.insert(fields.end(), r.fields.begin(), r.fields.end());
                world_.log_sink()(LogRecord{r.at, r.level, r.component, r.event, fields});
              }) {}

MemoryHost::~MemoryHost() = default;

int MemoryHost::add_interface(const std::string& interface_name, const std::string& segment) {
  Interface i;
  i.name = interface_name;
  i.ifindex = static_cast<int>(interfaces_.size()) + 1;
  i.mac = net::MacAddress::local(index_ * 16 + static_cast<std::uint32_t>(interfaces_.size()) + 1);
  i.segment = segment;
  interfaces_.push_back(std::move(i));
  return interfaces_.back().ifindex;
}

void MemoryHost::assign_address(const net::IpAddress& address) {
  addresses_.push_back(address);
  hold(address);
}

bool MemoryHost::holds(const net::IpAddress& address) const {
  auto it = world_.holders_.find(address);
  return it != world_.holders_.end() && it->second.count(index_) > 0;
}

void MemoryHost::hold(const net::IpAddress& address) {
  world_.holders_[address].insert(index_);
}

void MemoryHost::let_go(const net::IpAddress& address) {
  if (std::find(addresses_.begin(), addresses_.end(), address) != addresses_.end()) return;
  auto it = world_.holders_.find(address);
  if (it == world_.holders_.end()) return;
  it->second.erase(index_);
  if (it->second.empty()) world_.holders_.erase(it);
}

MemoryHost::Interface* MemoryHost::find_interface(const std::string& name) {
  for (auto& i : interfaces_)
    if (i.name == name) return &i;
  return nullptr;
}

bool MemoryHost::any_interface_up() const {
  if (interfaces_.empty()) return true;
  return std::any_of(interfaces_.begin(), interfaces_.end(), [](const Interface& i) { return i.up; });
}

net::IpAddress MemoryHost::source_for(const net::IpAddress& destination) const {
  if (is_loopback(destination)) return destination;
  for (const auto& a : addresses_)
    if (a.family() == destination.family()) return a;
  return destination.is_v4() ? net::IpAddress::v4(127, 0, 0, 1) : net::IpAddress::v6({});
}

std::uint16_t MemoryHost::ephemeral_port() {
  std::uint16_t p = next_ephemeral_++;
  if (next_ephemeral_ == 0) next_ephemeral_ = 32768;
  return p;
}

Instant MemoryHost::now() const {
  return world_.now();
}

TimerPtr MemoryHost::create_timer(TimerCallback on_fire) {
  return std::make_unique<MemoryTimer>(world_, std::move(on_fire));
}

void MemoryHost::post(std::function<void()> task) {
  world_.schedule(world_.now(), std::move(task));
}

template <typename State>
std::optional<net::SocketAddress> MemoryHost::bind_address(
    const net::SocketAddress& local, const std::map<net::SocketAddress, std::weak_ptr<State>>& bound,
    std::error_code& error) {
  net::SocketAddress address = local;  // not necessarily held yet (Runtime::listen)
  if (address.port == 0) address.port = ephemeral_port();
  auto existing = bound.find(address);
  if (existing != bound.end() && !existing->second.expired()) {
    error = std::make_error_code(std::errc::address_in_use);
    return std::nullopt;
  }
  error.clear();
  return address;
}

StreamListenerPtr MemoryHost::listen(const net::SocketAddress& local, const ListenOptions& /*options*/,
                                     AcceptCallback on_accept, std::error_code& error) {
  auto bound = bind_address(local, listeners_, error);
  if (!bound) return nullptr;
  auto state = std::make_shared<ListenerState>();
  state->on_accept = std::move(on_accept);
  listeners_[*bound] = state;
  return std::make_unique<MemoryListener>(*this, *bound, std::move(state));
}

StreamConnectionPtr MemoryHost::connect(const net::SocketAddress& remote, StreamHandler& handler,
                                        const ConnectOptions& options) {
  auto end = std::make_shared<StreamEnd>();
  end->world = &world_;
  end->host = this;
  end->handler = &handler;
  end->started = true;
  end->peer = remote;
  end->local = net::SocketAddress{options.source ? *options.source : source_for(remote.ip), ephemeral_port()};
  if (options.source && !holds(*options.source) && !is_loopback(*options.source)) {
    // Like bind(2) with an address this host does not have: the attempt fails at once.
    world_.schedule(world_.now(), [weak = std::weak_ptr<StreamEnd>(end)] {
      if (auto e = weak.lock()) e->notify_closed(std::make_error_code(std::errc::address_not_available));
    });
    return std::make_unique<MemoryStreamConnection>(end);
  }
  auto conn = std::make_unique<MemoryStreamConnection>(end);

  // One SYN attempt; on failure to cross it schedules the next with exponential back-off, like Linux.
  struct Syn {
    static void attempt(std::weak_ptr<StreamEnd> weak, int tries_left, Duration backoff) {
      auto e = weak.lock();
      if (!e || e->silenced || e->terminated) return;
      MemoryWorld& w = *e->world;
      MemoryHost* dest = w.resolve(e->peer.ip, *e->host);
      if (!dest || !w.can_cross(*e->host, *dest)) {
        if (tries_left <= 1) return e->notify_closed(std::make_error_code(std::errc::timed_out));
        w.schedule(w.now() + backoff,
                   [weak, tries_left, backoff] { attempt(weak, tries_left - 1, backoff * 2); });
        return;
      }
      Duration one_way = w.latency(*e->host, *dest);
      w.schedule(w.now() + one_way, [weak, dest, one_way] {
        auto e2 = weak.lock();
        if (!e2 || e2->silenced || e2->terminated) return;
        MemoryWorld& w2 = *e2->world;
        auto it = dest->listeners_.find(e2->peer);
        if (it == dest->listeners_.end() || it->second.expired()) {
          net::SocketAddress any{e2->peer.ip.is_v4() ? net::IpAddress::v4(0) : net::IpAddress::v6({}),
                                 e2->peer.port};
          it = dest->listeners_.find(any);
        }
        std::shared_ptr<ListenerState> listener;
        if (it != dest->listeners_.end()) listener = it->second.lock();
        if (!listener) {
          w2.schedule(w2.now() + one_way, [weak] {
            if (auto e3 = weak.lock()) e3->notify_closed(std::make_error_code(std::errc::connection_refused));
          });
          return;
        }
        auto server = std::make_shared<StreamEnd>();
        server->world = &w2;
        server->host = dest;
        server->local = e2->peer;
        server->peer = e2->local;
        server->remote = e2;
        server->remote_host = e2->host;
        server->connected = true;
        e2->remote = server;
        e2->remote_host = dest;
        listener->on_accept(std::make_unique<MemoryStreamConnection>(server));
        w2.schedule(w2.now() + one_way, [weak] {
          auto e3 = weak.lock();
          if (!e3 || e3->terminated) return;
          e3->connected = true;
          if (!e3->silenced && e3->handler) e3->handler->on_connected();
          if (!e3->outbox.empty()) e3->schedule_pump(e3->world->now());
        });
      });
    }
  };
  world_.schedule(world_.now(), [weak = std::weak_ptr<StreamEnd>(end)] {
    Syn::attempt(weak, kSynAttempts, std::chrono::seconds(1));
  });
  return conn;
}

DatagramSocketPtr MemoryHost::open_datagram(const net::SocketAddress& local, DatagramCallback on_datagram,
                                            std::error_code& error) {
  auto bound = bind_address(local, datagram_sockets_, error);
  if (!bound) return nullptr;
  auto state = std::make_shared<DatagramState>();
  state->on_datagram = std::move(on_datagram);
  datagram_sockets_[*bound] = state;
  return std::make_unique<MemoryDatagramSocket>(*this, *bound, std::move(state));
}

FramePortPtr MemoryHost::open_frame_port(const std::string& interface_name,
                                         const std::vector<std::uint16_t>& ethertypes, FrameHandler& handler,
                                         std::error_code& error) {
  Interface* i = find_interface(interface_name);
  if (!i) {
    error = std::make_error_code(std::errc::no_such_device);
    return nullptr;
  }
  auto state = std::make_shared<FramePortState>();
  state->handler = &handler;
  state->ethertypes = ethertypes;
  i->ports.push_back(state);
  error.clear();
  return std::make_unique<MemoryFramePort>(*this, interface_name, i->ifindex, std::move(state));
}

std::error_code MemoryHost::add_local_address(const net::IpAddress& address) {
  if (std::find(local_addresses_.begin(), local_addresses_.end(), address) != local_addresses_.end())
    return std::make_error_code(std::errc::file_exists);
  local_addresses_.push_back(address);
  hold(address);
  return {};
}

std::error_code MemoryHost::remove_local_address(const net::IpAddress& address) {
  auto it = std::find(local_addresses_.begin(), local_addresses_.end(), address);
  if (it == local_addresses_.end()) return std::make_error_code(std::errc::address_not_available);
  local_addresses_.erase(it);
  let_go(address);
  return {};
}

// ---------------------------------------------------------------------------------------------------- world

MemoryWorld::MemoryWorld(std::uint64_t seed) : random_(seed) {}
MemoryWorld::~MemoryWorld() {
  // Drop pending events before the hosts they point into.
  while (!queue_.empty())
    queue_.pop();
}

MemoryHost& MemoryWorld::add_host(const std::string& name, std::vector<net::IpAddress> addresses,
                                  const std::string& segment) {
  for (const auto& h : hosts_)
    if (h->name() == name) throw std::invalid_argument("duplicate host name " + name);
  auto index = static_cast<std::uint32_t>(hosts_.size()) + 1;
  hosts_.push_back(std::make_unique<MemoryHost>(*this, name, index, random_.next_u64()));
  auto& host = *hosts_.back();
  host.add_interface("eth0", segment);
  for (const auto& a : addresses)
    host.assign_address(a);
  return host;
}

MemoryHost& MemoryWorld::host(const std::string& name) {
  for (const auto& h : hosts_)
    if (h->name() == name) return *h;
  throw std::out_of_range("no host " + name);
}

void MemoryWorld::schedule(Instant at, std::function<void()> fn) {
  queue_.push(Event{std::max(at, now_), seq_++, std::move(fn)});
}

void MemoryWorld::run_until(Instant deadline) {
  while (!queue_.empty() && queue_.top().at <= deadline) {
    Event e = std::move(const_cast<Event&>(queue_.top()));
    queue_.pop();
    now_ = e.at;
    ++events_run_;
    e.fn();
  }
  if (deadline > now_) now_ = deadline;
}

bool MemoryWorld::run_until(const std::function<bool()>& done, Duration limit) {
  const Instant deadline = now_ + limit;
  while (!done()) {
    if (queue_.empty() || queue_.top().at > deadline) {
      now_ = std::max(now_, deadline);
      return done();
    }
    Event e = std::move(const_cast<Event&>(queue_.top()));
    queue_.pop();
    now_ = e.at;
    ++events_run_;
    e.fn();
  }
  return true;
}

void MemoryWorld::set_conditions(const std::string& a, const std::string& b, PathConditions c) {
  pair_conditions_[{std::min(a, b), std::max(a, b)}] = c;
}

const PathConditions& MemoryWorld::conditions(const MemoryHost& a, const MemoryHost& b) const {
  auto it = pair_conditions_.find({std::min(a.name(), b.name()), std::max(a.name(), b.name())});
  return it == pair_conditions_.end() ? default_conditions_ : it->second;
}

void MemoryWorld::partition(const std::vector<std::vector<std::string>>& groups) {
  partition_group_.clear();
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (const auto& name : groups[g])
      partition_group_[name] = static_cast<int>(g);
}

bool MemoryWorld::partitioned(const MemoryHost& a, const MemoryHost& b) const {
  if (partition_group_.empty()) return false;
  auto ga = partition_group_.find(a.name());
  auto gb = partition_group_.find(b.name());
  int x = ga == partition_group_.end() ? -1 : ga->second;
  int y = gb == partition_group_.end() ? -1 : gb->second;
  return x != y;
}

bool MemoryWorld::can_cross(const MemoryHost& a, const MemoryHost& b) {
  if (&a == &b) return true;
  if (!a.any_interface_up() || !b.any_interface_up() || partitioned(a, b)) return false;
  double loss = conditions(a, b).loss;
  return loss <= 0.0 || random_.unit() >= loss;
}

Duration MemoryWorld::latency(const MemoryHost& a, const MemoryHost& b) const {
  if (&a == &b) return std::chrono::microseconds(1);
  return conditions(a, b).latency;
}

void MemoryWorld::set_link_up(const std::string& host_name, const std::string& interface_name, bool up) {
  auto& h = host(host_name);
  auto* i = h.find_interface(interface_name);
  if (!i) throw std::out_of_range("no interface " + interface_name + " on " + host_name);
  if (i->up == up) return;
  i->up = up;
  for (const auto& weak : i->ports) {
    schedule(now_, [weak, up] {
      if (auto p = weak.lock()) p->handler->on_link_change(up);
    });
  }
}

void MemoryWorld::steer(const net::IpAddress& address, const std::string& host_name) {
  steering_[address] = host_name;
}

MemoryHost* MemoryWorld::resolve(const net::IpAddress& address, const MemoryHost& from) {
  if (is_loopback(address) || from.holds(address)) return const_cast<MemoryHost*>(&from);
  auto holders = holders_.find(address);
  if (holders == holders_.end()) return nullptr;
  auto steered = steering_.find(address);
  if (steered != steering_.end())
    for (auto index : holders->second)
      if (hosts_[index - 1]->name() == steered->second) return hosts_[index - 1].get();
  return hosts_[*holders->second.begin() - 1].get();  // the first host created among those holding it
}

void MemoryWorld::deliver_frame(MemoryHost& from, int ifindex, const net::MacAddress& destination,
                                std::uint16_t ethertype, ByteView payload) {
  const auto& out = from.interfaces_[static_cast<std::size_t>(ifindex - 1)];
  if (!out.up) return;
  auto shared = std::make_shared<const Bytes>(payload.begin(), payload.end());
  for (const auto& h : hosts_) {
    for (const auto& in : h->interfaces_) {
      if (h.get() == &from && in.ifindex == ifindex) continue;
      if (in.segment != out.segment || !in.up) continue;
      FrameAddressing addressing;
      if (destination.is_broadcast())
        addressing = FrameAddressing::kBroadcast;
      else if (destination.is_multicast())
        addressing = FrameAddressing::kMulticast;
      else if (destination == in.mac)
        addressing = FrameAddressing::kToUs;
      else
        continue;  // a learning switch does not flood known unicast to other ports
      if (!can_cross(from, *h)) continue;
      ReceivedFrame frame;
      frame.ifindex = in.ifindex;
      frame.source = out.mac;
      frame.destination = destination;
      frame.ethertype = ethertype;
      frame.addressing = addressing;
      MemoryHost* to = h.get();
      int to_ifindex = in.ifindex;
      schedule(now_ + latency(from, *h), [to, to_ifindex, frame, shared] {
        const auto& iface = to->interfaces_[static_cast<std::size_t>(to_ifindex - 1)];
        if (!iface.up) return;
        ReceivedFrame f = frame;
        f.payload = *shared;
        for (const auto& weak : iface.ports) {
          auto p = weak.lock();
          if (!p) continue;
          if (std::find(p->ethertypes.begin(), p->ethertypes.end(), f.ethertype) == p->ethertypes.end())
            continue;
          p->handler->on_frame(f);
        }
      });
    }
  }
}

}  // namespace metalgate::runtime::memory
