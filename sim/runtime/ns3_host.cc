#include "sim/runtime/ns3_host.h"

#include "sim/runtime/service_address_routing.h"

#include <algorithm>
#include <deque>

#include "ns3/inet-socket-address.h"
#include "ns3/internet-module.h"
#include "ns3/ipv4-packet-info-tag.h"
#include "ns3/mac48-address.h"
#include "ns3/network-module.h"
#include "ns3/packet-socket-address.h"
#include "ns3/packet-socket-factory.h"
#include "ns3/simulator.h"
#include "ns3/tcp-socket-factory.h"
#include "ns3/udp-socket-factory.h"

namespace metalgate::sim {

using runtime::Bytes;
using runtime::ByteView;

namespace {

ns3::Ipv4Address to_ns3(const net::IpAddress& a) {
  return ns3::Ipv4Address(a.v4_host_order());
}
net::IpAddress from_ns3(const ns3::Ipv4Address& a) {
  return net::IpAddress::v4(a.Get());
}
net::SocketAddress from_ns3(const ns3::Address& address) {
  if (!ns3::InetSocketAddress::IsMatchingType(address)) return {};
  auto inet = ns3::InetSocketAddress::ConvertFrom(address);
  return {from_ns3(inet.GetIpv4()), inet.GetPort()};
}
net::MacAddress from_ns3(const ns3::Mac48Address& m) {
  std::array<std::uint8_t, 6> b;
  m.CopyTo(b.data());
  return net::MacAddress(b);
}
ns3::Mac48Address to_ns3(const net::MacAddress& m) {
  ns3::Mac48Address out;
  out.CopyFrom(m.bytes().data());
  return out;
}
runtime::Instant instant(ns3::Time t) {
  return runtime::Instant(runtime::Duration(t.GetNanoSeconds()));
}
ns3::Time to_time(runtime::Duration d) {
  return ns3::NanoSeconds(std::max<std::int64_t>(d.count(), 0));
}

// ------------------------------------------------------------------------------------------------ timers

class Ns3Timer final : public runtime::Timer {
 public:
  explicit Ns3Timer(runtime::TimerCallback cb) : cb_(std::move(cb)) {}
  ~Ns3Timer() override { event_.Cancel(); }
  void arm(runtime::Duration after) override {
    period_ = runtime::Duration::zero();
    deadline_ = ns3::Simulator::Now() + to_time(after);
    // Protocols re-arm after every input, to the same deadline or a later one (idle timeouts): the event
    // already queued for an earlier or equal time stays, and fire() moves on to the real deadline. ns-3
    // cancels lazily, so a fresh event per input would also leave a dead one in the queue.
    if (event_.IsRunning() && event_.GetTs() <= static_cast<std::uint64_t>(deadline_.GetTimeStep())) return;
    event_.Cancel();
    event_ = ns3::Simulator::Schedule(to_time(after), &Ns3Timer::fire, this);
  }
  void arm_periodic(runtime::Duration period) override {
    event_.Cancel();
    period_ = period;
    next_ = ns3::Simulator::Now() + to_time(period);
    event_ = ns3::Simulator::Schedule(to_time(period), &Ns3Timer::fire, this);
  }
  void cancel() override {
    event_.Cancel();
    period_ = runtime::Duration::zero();
  }
  bool armed() const override { return event_.IsRunning(); }

 private:
  void fire() {
    if (period_ == runtime::Duration::zero() && ns3::Simulator::Now() < deadline_) {
      event_ = ns3::Simulator::Schedule(deadline_ - ns3::Simulator::Now(), &Ns3Timer::fire, this);
      return;  // pushed back since this event was queued
    }
    if (period_ > runtime::Duration::zero()) {
      // Deadlines do not drift with callback latency: the next one is a period after this one was due.
      next_ += to_time(period_);
      event_ = ns3::Simulator::Schedule(next_ - ns3::Simulator::Now(), &Ns3Timer::fire, this);
    }
    cb_();  // may destroy this timer: nothing after
  }
  runtime::TimerCallback cb_;
  ns3::EventId event_;
  runtime::Duration period_{};
  ns3::Time next_;
  ns3::Time deadline_;  // of a one-shot arm
};

}  // namespace

// ------------------------------------------------------------------------------------------------ streams

namespace {

// ns-3 3.37 sends a RST only on its own: TcpSocketBase::SendRST (RST, error-close, endpoint freed at once) is
// protected and there is no public abort. A pointer to it formed in a derived class's scope reaches it
// without changing ns-3 ([class.protected]); the class is never instantiated. Without it a reset() was a FIN,
// and each health check (which ends with a reset, as HAProxy's do) left both ends in TIME_WAIT: 1,200
// endpoints per proxy and pod host at 600 checks a second, which ns-3 walks for every segment it receives.
struct TcpAbort : ns3::TcpSocketBase {
  static void send_rst(ns3::TcpSocketBase& s) { (s.*(&TcpAbort::SendRST))(); }
};

// ns-3 reports a received RST as a normal close, as it does a FIN; a FIN has moved the socket to one of these
// states before it says so, a RST leaves the state it found (CloseAndNotify).
bool after_peer_fin(ns3::TcpSocket::TcpStates_t state) {
  return state == ns3::TcpSocket::CLOSE_WAIT || state == ns3::TcpSocket::TIME_WAIT ||
         state == ns3::TcpSocket::CLOSING || state == ns3::TcpSocket::LAST_ACK;
}

}  // namespace

// The state of one TCP connection; shared so that a connection its owner closed can finish sending.
class Ns3StreamState : public std::enable_shared_from_this<Ns3StreamState> {
 public:
  Ns3StreamState(Ns3Host& host, ns3::Ptr<ns3::Socket> socket) : host_(host), socket_(std::move(socket)) {}
  ~Ns3StreamState() { detach(); }

  void attach() {
    socket_->SetRecvCallback(ns3::MakeCallback(&Ns3StreamState::on_recv, this));
    socket_->SetSendCallback(ns3::MakeCallback(&Ns3StreamState::on_send_space, this));
    socket_->SetCloseCallbacks(ns3::MakeCallback(&Ns3StreamState::on_normal_close, this),
                               ns3::MakeCallback(&Ns3StreamState::on_error_close, this));
    socket_->TraceConnectWithoutContext("State", ns3::MakeCallback(&Ns3StreamState::on_state, this));
  }
  void detach() {
    if (!socket_) return;
    socket_->SetRecvCallback(ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>>());
    socket_->SetSendCallback(ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>, uint32_t>());
    socket_->SetCloseCallbacks(ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>>(),
                               ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>>());
    socket_->SetConnectCallback(ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>>(),
                                ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>>());
    socket_->TraceDisconnectWithoutContext("State", ns3::MakeCallback(&Ns3StreamState::on_state, this));
  }

  void on_connect_ok(ns3::Ptr<ns3::Socket>) {
    connected_ = true;
    ns3::Address local;
    socket_->GetSockName(local);
    local_ = from_ns3(local);
    host_.connected(local_.port);
    connect_port_ = 0;
    if (handler_ && !silenced_) handler_->on_connected();
    if (silenced_) return;
    flush(false);
    drain();
  }
  void on_connect_failed(ns3::Ptr<ns3::Socket>) { fail(std::make_error_code(std::errc::connection_refused)); }
  // The peer answered our SYN with a RST (nothing listens there), which ns-3 3.37 itself misreads.
  void refused() {
    if (connected_ || terminated_) return;
    detach();
    socket_->Close();
    fail(std::make_error_code(std::errc::connection_refused));
  }

  // StreamConnection operations.
  void start(runtime::StreamHandler& h) {
    handler_ = &h;
    started_ = true;
    ns3::Simulator::ScheduleNow([weak = weak_from_this()] {
      if (auto s = weak.lock()) s->drain();
    });
  }
  void write(ByteView data) {
    if (fin_queued_ || owner_closed_ || terminated_ || data.empty()) return;
    queue_.emplace_back(data.begin(), data.end());
    queued_bytes_ += data.size();
    if (connected_) flush(false);
  }
  std::size_t backlog() const { return queued_bytes_; }
  void shutdown_write() {
    if (fin_queued_ || terminated_) return;
    fin_queued_ = true;
    if (connected_ && queue_.empty()) socket_->ShutdownSend();
  }
  void close() {
    if (owner_closed_) return;
    owner_closed_ = true;
    silenced_ = true;
    if (terminated_) return;
    if (!connected_ || queue_.empty()) {
      socket_->Close();
      detach();
      return;
    }
    fin_queued_ = true;
    host_.linger(shared_from_this());  // finish sending, then close
  }
  void reset_if_open() {
    if (!owner_closed_) reset();
  }
  void reset() {
    owner_closed_ = silenced_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    detach();
    auto* tcp = dynamic_cast<ns3::TcpSocketBase*>(ns3::PeekPointer(socket_));
    if (!terminated_ && connected_ && tcp)
      TcpAbort::send_rst(*tcp);
    else if (!terminated_)
      socket_->Close();  // before the handshake ends ns-3 owns the answer; a FIN or nothing
    terminated_ = true;
  }
  void set_reading(bool enabled) {
    reading_ = enabled;
    if (enabled)
      ns3::Simulator::ScheduleNow([weak = weak_from_this()] {
        if (auto s = weak.lock()) s->drain();
      });
  }
  net::SocketAddress local() const { return local_; }
  net::SocketAddress peer() const { return peer_; }
  void set_peer(net::SocketAddress p) { peer_ = p; }
  void set_connect_port(std::uint16_t port) { connect_port_ = port; }
  void set_connected(bool c) {
    connected_ = c;
    if (c) {
      ns3::Address local;
      socket_->GetSockName(local);
      local_ = from_ns3(local);
    }
  }
  void set_handler(runtime::StreamHandler& h) { handler_ = &h; }
  void set_started() { started_ = true; }
  void set_forward(runtime::StreamConnection* f) { forward_ = f; }

 private:
  void on_recv(ns3::Ptr<ns3::Socket>) { drain(); }

  // Hands received bytes to the handler while it reads; ns-3 keeps the rest and closes its window.
  void drain() {
    if (!started_ || silenced_ || !handler_) return;
    auto keep = shared_from_this();
    while (reading_ && !silenced_) {
      ns3::Ptr<ns3::Packet> p = socket_->Recv();
      if (!p || p->GetSize() == 0) break;
      buffer_.resize(p->GetSize());
      p->CopyData(buffer_.data(), p->GetSize());
      if (forward_) {
        forward_->write(ByteView(buffer_.data(), buffer_.size()));
        handler_->on_forwarded(buffer_.size());
      } else {
        handler_->on_data(ByteView(buffer_.data(), buffer_.size()));
      }
    }
    if (peer_fin_ && !fin_delivered_ && !silenced_ && socket_->GetRxAvailable() == 0) {
      fin_delivered_ = true;
      handler_->on_peer_shutdown();
    }
  }

  void on_send_space(ns3::Ptr<ns3::Socket>, uint32_t) { flush(true); }

  void flush(bool notify) {
    if (terminated_) return;
    bool had_queue = !queue_.empty();
    while (!queue_.empty()) {
      std::uint32_t room = socket_->GetTxAvailable();
      if (room == 0) return;
      Bytes& front = queue_.front();
      std::size_t take = std::min<std::size_t>(room, front.size() - offset_);
      int sent = socket_->Send(front.data() + offset_, static_cast<std::uint32_t>(take), 0);
      if (sent <= 0) return;
      offset_ += static_cast<std::size_t>(sent);
      queued_bytes_ -= static_cast<std::size_t>(sent);
      if (offset_ == front.size()) {
        queue_.pop_front();
        offset_ = 0;
      }
    }
    if (fin_queued_) {
      if (owner_closed_) {
        socket_->Close();
        detach();
        auto keep = shared_from_this();
        host_.unlinger(keep);
        return;
      }
      socket_->ShutdownSend();
    }
    if (notify && had_queue && !silenced_ && handler_) handler_->on_write_drained();
  }

  void on_normal_close(ns3::Ptr<ns3::Socket>) {
    if (!connected_) return fail(std::make_error_code(std::errc::connection_refused));  // RST to our SYN
    if (!after_peer_fin(tcp_state_)) return fail(std::make_error_code(std::errc::connection_reset));
    // ns-3 says "normal close" when the peer's FIN arrives (half-close): pass it on after the data.
    peer_fin_ = true;
    drain();
  }
  void on_state(ns3::TcpSocket::TcpStates_t, ns3::TcpSocket::TcpStates_t now) { tcp_state_ = now; }
  void on_error_close(ns3::Ptr<ns3::Socket>) {
    fail(std::make_error_code(connected_ ? std::errc::connection_reset : std::errc::connection_refused));
  }

  void fail(std::error_code reason) {
    if (connect_port_) host_.connected(connect_port_);
    connect_port_ = 0;
    terminated_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    auto keep = shared_from_this();
    host_.unlinger(keep);
    if (!silenced_ && handler_) {
      silenced_ = true;
      handler_->on_closed(reason);
    }
    silenced_ = true;
  }

  Ns3Host& host_;
  ns3::Ptr<ns3::Socket> socket_;
  runtime::StreamHandler* handler_ = nullptr;
  runtime::StreamConnection* forward_ = nullptr;
  std::deque<Bytes> queue_;
  std::size_t offset_ = 0, queued_bytes_ = 0;
  Bytes buffer_;
  net::SocketAddress local_, peer_;
  std::uint16_t connect_port_ = 0;  // while our SYN waits for its answer
  ns3::TcpSocket::TcpStates_t tcp_state_ = ns3::TcpSocket::ESTABLISHED;  // its latest change, once attached
  bool started_ = false, reading_ = true, connected_ = false, silenced_ = false, owner_closed_ = false;
  bool fin_queued_ = false, terminated_ = false, peer_fin_ = false, fin_delivered_ = false;
};

namespace {

class Ns3Stream final : public runtime::StreamConnection {
 public:
  explicit Ns3Stream(std::shared_ptr<Ns3StreamState> s) : s_(std::move(s)) {}
  ~Ns3Stream() override { s_->reset_if_open(); }
  void start(runtime::StreamHandler& handler) override { s_->start(handler); }
  void write(ByteView data) override { s_->write(data); }
  std::size_t write_backlog() const override { return s_->backlog(); }
  void shutdown_write() override { s_->shutdown_write(); }
  void close() override { s_->close(); }
  void reset() override { s_->reset(); }
  void set_reading(bool enabled) override { s_->set_reading(enabled); }
  void forward_to(runtime::StreamConnection* destination) override { s_->set_forward(destination); }
  net::SocketAddress local_address() const override { return s_->local(); }
  net::SocketAddress peer_address() const override { return s_->peer(); }

 private:
  std::shared_ptr<Ns3StreamState> s_;
};

class Ns3Listener final : public runtime::StreamListener {
 public:
  Ns3Listener(Ns3Host& host, net::SocketAddress local, runtime::AcceptCallback cb)
      : host_(host), local_(local), cb_(std::move(cb)) {}
  ~Ns3Listener() override { host_.unlisten(local_.port, local_.ip); }
  net::SocketAddress local_address() const override { return local_; }
  runtime::AcceptCallback* callback() { return &cb_; }

 private:
  Ns3Host& host_;
  net::SocketAddress local_;
  runtime::AcceptCallback cb_;
};

// ------------------------------------------------------------------------------------------------ datagrams

class Ns3Datagram final : public runtime::DatagramSocket {
 public:
  Ns3Datagram(Ns3Host& host, net::SocketAddress local, runtime::DatagramCallback cb)
      : host_(host), local_(local), cb_(std::move(cb)) {}
  ~Ns3Datagram() override {
    for (auto& [addr, s] : sockets_) {
      s->SetRecvCallback(ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>>());
      s->Close();
    }
  }
  bool bind(std::error_code& error) {
    auto s = open(local_.ip, error);
    if (!s) return false;
    ns3::Address a;
    s->GetSockName(a);
    local_ = from_ns3(a);
    sockets_[local_.ip] = s;
    return true;
  }
  void send_to(const net::SocketAddress& to, ByteView payload) override {
    auto p = ns3::Create<ns3::Packet>(payload.data(), static_cast<std::uint32_t>(payload.size()));
    sockets_.at(local_.ip)->SendTo(p, 0, ns3::InetSocketAddress(to_ns3(to.ip), to.port));
  }
  void send_from(const net::IpAddress& from, const net::SocketAddress& to, ByteView payload) override {
    if (!local_.ip.is_unspecified() || from.is_unspecified()) return send_to(to, payload);
    // ns-3 picks the source by route; a socket bound to (from, port) sends from it (and, being more specific,
    // also receives what is sent to it, for the same callback).
    auto it = sockets_.find(from);
    if (it == sockets_.end()) {
      std::error_code ec;
      auto s = open(from, ec, local_.port);
      if (!s) return send_to(to, payload);
      it = sockets_.emplace(from, s).first;
    }
    auto p = ns3::Create<ns3::Packet>(payload.data(), static_cast<std::uint32_t>(payload.size()));
    it->second->SendTo(p, 0, ns3::InetSocketAddress(to_ns3(to.ip), to.port));
  }
  net::SocketAddress local_address() const override { return local_; }

 private:
  ns3::Ptr<ns3::Socket> open(const net::IpAddress& ip, std::error_code& error, std::uint16_t port = 0) {
    auto s = ns3::Socket::CreateSocket(host_.node(), ns3::UdpSocketFactory::GetTypeId());
    if (s->Bind(ns3::InetSocketAddress(to_ns3(ip), port ? port : local_.port)) != 0) {
      error = std::make_error_code(std::errc::address_in_use);
      s->Close();
      return nullptr;
    }
    // Only a socket bound to any address needs to be told which one a datagram was sent to (the tag costs an
    // allocation per datagram).
    s->SetRecvPktInfo(local_.ip.is_unspecified());
    s->SetRecvCallback(ns3::MakeCallback(&Ns3Datagram::on_recv, this));
    return s;
  }
  void on_recv(ns3::Ptr<ns3::Socket> s) {
    ns3::Address from;
    while (ns3::Ptr<ns3::Packet> p = s->RecvFrom(from)) {
      if (p->GetSize() == 0) break;
      net::SocketAddress to = local_;
      ns3::Ipv4PacketInfoTag tag;
      if (p->RemovePacketTag(tag)) to.ip = from_ns3(tag.GetAddress());
      buffer_.resize(p->GetSize());
      p->CopyData(buffer_.data(), p->GetSize());
      cb_(from_ns3(from), to, ByteView(buffer_.data(), buffer_.size()));
    }
  }
  Ns3Host& host_;
  net::SocketAddress local_;
  runtime::DatagramCallback cb_;
  std::map<net::IpAddress, ns3::Ptr<ns3::Socket>> sockets_;
  Bytes buffer_;
};

// ------------------------------------------------------------------------------------------------ frames

// Receives through a promiscuous protocol handler on the device (it alone tells the frame's real destination
// and kind; a PacketSocket reports every frame as ours) and sends through a PacketSocket bound to the device.
class Ns3FramePort final : public runtime::FramePort {
 public:
  Ns3FramePort(Ns3Host& host, std::string name, ns3::Ptr<ns3::NetDevice> device, runtime::FrameHandler& h)
      : host_(host), name_(std::move(name)), device_(std::move(device)), handler_(h) {}
  ~Ns3FramePort() override {
    if (!handler_cb_.IsNull())
      for (std::size_t i = 0; i < types_.size(); ++i)  // ns-3 removes one registration per call
        host_.node()->UnregisterProtocolHandler(handler_cb_);
    if (socket_) socket_->Close();
  }
  bool open(const std::vector<std::uint16_t>& types) {
    types_ = types;
    socket_ = ns3::Socket::CreateSocket(host_.node(), ns3::PacketSocketFactory::GetTypeId());
    ns3::PacketSocketAddress a;
    a.SetSingleDevice(device_->GetIfIndex());
    if (socket_->Bind(a) != 0) return false;
    socket_->ShutdownRecv();
    handler_cb_ = ns3::MakeCallback(&Ns3FramePort::on_frame, this);
    // One registration per EtherType: the node then hands us none of the IPv4 traffic.
    for (auto type : types)
      host_.node()->RegisterProtocolHandler(handler_cb_, type, device_, /*promiscuous=*/true);
    return true;
  }
  void send(const net::MacAddress& destination, std::uint16_t ethertype, ByteView payload) override {
    ns3::PacketSocketAddress a;
    a.SetSingleDevice(device_->GetIfIndex());
    a.SetProtocol(ethertype);
    a.SetPhysicalAddress(to_ns3(destination));
    auto p = ns3::Create<ns3::Packet>(payload.data(), static_cast<std::uint32_t>(payload.size()));
    socket_->SendTo(p, 0, a);
  }
  const std::string& interface_name() const override { return name_; }
  int ifindex() const override { return static_cast<int>(device_->GetIfIndex()) + 1; }
  net::MacAddress mac() const override {
    return from_ns3(ns3::Mac48Address::ConvertFrom(device_->GetAddress()));
  }
  bool link_up() const override { return device_->IsLinkUp(); }

 private:
  void on_frame(ns3::Ptr<ns3::NetDevice>, ns3::Ptr<const ns3::Packet> packet, uint16_t protocol,
                const ns3::Address& from, const ns3::Address& to, ns3::NetDevice::PacketType type) {
    if (std::find(types_.begin(), types_.end(), protocol) == types_.end()) return;
    buffer_.resize(packet->GetSize());
    packet->CopyData(buffer_.data(), packet->GetSize());
    runtime::ReceivedFrame f;
    f.ifindex = ifindex();
    f.source = from_ns3(ns3::Mac48Address::ConvertFrom(from));
    if (f.source == mac()) return;  // our own frames are not delivered back
    f.destination = from_ns3(ns3::Mac48Address::ConvertFrom(to));
    f.ethertype = protocol;
    switch (type) {
      case ns3::NetDevice::PACKET_HOST:
        f.addressing = runtime::FrameAddressing::kToUs;
        break;
      case ns3::NetDevice::PACKET_BROADCAST:
        f.addressing = runtime::FrameAddressing::kBroadcast;
        break;
      case ns3::NetDevice::PACKET_MULTICAST:
        f.addressing = runtime::FrameAddressing::kMulticast;
        break;
      default:
        f.addressing = runtime::FrameAddressing::kToOtherHost;
        break;
    }
    f.payload = ByteView(buffer_.data(), buffer_.size());
    handler_.on_frame(f);
  }
  Ns3Host& host_;
  std::string name_;
  ns3::Ptr<ns3::NetDevice> device_;
  runtime::FrameHandler& handler_;
  std::vector<std::uint16_t> types_;
  ns3::Ptr<ns3::Socket> socket_;
  ns3::Node::ProtocolHandler handler_cb_;
  Bytes buffer_;
};

}  // namespace

// ------------------------------------------------------------------------------------------------ host

Ns3Host::Ns3Host(ns3::Ptr<ns3::Node> node, std::string name, Ns3HostOptions options)
    : node_(std::move(node)),
      name_(std::move(name)),
      random_(options.seed),
      logger_([] { return instant(ns3::Simulator::Now()); }, options.log_sink, options.log_level) {
  // Registered here, not on the first connect: that may come from inside ns-3's loop over these very
  // handlers, which a new entry would invalidate.
  ipv4_observer_ = ns3::MakeCallback(&Ns3Host::on_ipv4_frame, this);
  node_->RegisterProtocolHandler(ipv4_observer_, 0x0800, nullptr, false);
}

Ns3Host::~Ns3Host() {
  node_->UnregisterProtocolHandler(ipv4_observer_);
}

void Ns3Host::connecting(std::uint16_t local_port, const std::shared_ptr<Ns3StreamState>& state) {
  // Connects that ended another way (timeout, closed by their owner) leave expired entries behind.
  if (connecting_.size() >= 32)
    std::erase_if(connecting_, [](const auto& entry) { return entry.second.expired(); });
  connecting_[local_port] = state;
}

// ns-3 3.37 answers a SYN to a closed port with a RST whose acknowledgement number is wrong, and the
// connecting side takes it for a bare ACK and retries its SYN until the connect times out. Linux reports
// "connection refused" at once, and a proxy depends on that to retry another server: so every host watches
// the IPv4 frames it receives for a RST to one of its pending SYNs (a peek at the headers; ns-3's own stack
// has seen the frame first).
void Ns3Host::on_ipv4_frame(ns3::Ptr<ns3::NetDevice>, ns3::Ptr<const ns3::Packet> packet, uint16_t,
                            const ns3::Address&, const ns3::Address&, ns3::NetDevice::PacketType) {
  if (connecting_.empty()) return;
  std::uint8_t head[80];
  std::uint32_t size = packet->CopyData(head, sizeof head);
  if (size < 20 || (head[0] >> 4) != 4 || head[9] != 6) return;  // IPv4, TCP
  std::uint32_t ihl = (head[0] & 0x0f) * 4u;
  if (size < ihl + 14) return;
  if (!(head[ihl + 13] & 0x04)) return;  // RST
  std::uint16_t from_port = static_cast<std::uint16_t>(head[ihl] << 8 | head[ihl + 1]);
  std::uint16_t to_port = static_cast<std::uint16_t>(head[ihl + 2] << 8 | head[ihl + 3]);
  auto it = connecting_.find(to_port);
  if (it == connecting_.end()) return;
  auto state = it->second.lock();
  if (!state) {
    connecting_.erase(it);
    return;
  }
  net::SocketAddress from{net::IpAddress::v4(head[12], head[13], head[14], head[15]), from_port};
  if (!(from == state->peer())) return;
  connecting_.erase(it);
  ns3::Simulator::ScheduleNow([weak = std::weak_ptr<Ns3StreamState>(state)] {
    if (auto s = weak.lock()) s->refused();
  });
}

void Ns3Host::name_interface(const std::string& interface_name, std::uint32_t device_index) {
  interfaces_[interface_name] = device_index;
}

runtime::Instant Ns3Host::now() const {
  return instant(ns3::Simulator::Now());
}

runtime::TimerPtr Ns3Host::create_timer(runtime::TimerCallback on_fire) {
  return std::make_unique<Ns3Timer>(std::move(on_fire));
}

void Ns3Host::post(std::function<void()> task) {
  ns3::Simulator::ScheduleNow(std::move(task));
}

runtime::StreamListenerPtr Ns3Host::listen(const net::SocketAddress& local, const runtime::ListenOptions&,
                                           runtime::AcceptCallback on_accept, std::error_code& error) {
  std::uint16_t port = local.port;
  if (port == 0 || !ports_.count(port)) {
    auto s = ns3::Socket::CreateSocket(node_, ns3::TcpSocketFactory::GetTypeId());
    if (s->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), port)) != 0 || s->Listen() != 0) {
      error = std::make_error_code(std::errc::address_in_use);
      s->Close();
      return nullptr;
    }
    ns3::Address bound;
    s->GetSockName(bound);
    port = ns3::InetSocketAddress::ConvertFrom(bound).GetPort();
    s->SetAcceptCallback(ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
                         ns3::MakeCallback(&Ns3Host::on_accept, this).Bind(port));
    ports_[port].socket = s;
  }
  auto& listeners = ports_[port].listeners;
  if (listeners.count(local.ip)) {
    error = std::make_error_code(std::errc::address_in_use);
    return nullptr;
  }
  error.clear();
  auto listener = std::make_unique<Ns3Listener>(*this, net::SocketAddress{local.ip, port}, std::move(on_accept));
  listeners[local.ip] = listener->callback();
  return listener;
}

void Ns3Host::unlisten(std::uint16_t port, const net::IpAddress& address) {
  auto it = ports_.find(port);
  if (it == ports_.end()) return;
  it->second.listeners.erase(address);
  if (!it->second.listeners.empty()) return;
  it->second.socket->SetAcceptCallback(ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
                                       ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>, const ns3::Address&>());
  it->second.socket->Close();
  ports_.erase(it);
}

void Ns3Host::on_accept(std::uint16_t port, ns3::Ptr<ns3::Socket> s, const ns3::Address& from) {
  auto it = ports_.find(port);
  ns3::Address local;
  s->GetSockName(local);
  const net::IpAddress to = from_ns3(local).ip;
  runtime::AcceptCallback* listener = nullptr;
  if (it != ports_.end()) {
    auto exact = it->second.listeners.find(to);
    auto any = it->second.listeners.find(net::IpAddress::v4(0));
    listener = exact != it->second.listeners.end() ? exact->second
               : any != it->second.listeners.end() ? any->second
                                                    : nullptr;
  }
  if (!listener) {
    s->Close();  // nobody listens on that address (Linux would have refused the SYN)
    return;
  }
  auto state = std::make_shared<Ns3StreamState>(*this, s);
  state->attach();
  state->set_peer(from_ns3(from));
  state->set_connected(true);
  (*listener)(std::make_unique<Ns3Stream>(std::move(state)));
}

runtime::StreamConnectionPtr Ns3Host::connect(const net::SocketAddress& remote,
                                              runtime::StreamHandler& handler,
                                              const runtime::ConnectOptions& options) {
  auto s = ns3::Socket::CreateSocket(node_, ns3::TcpSocketFactory::GetTypeId());
  auto state = std::make_shared<Ns3StreamState>(*this, s);
  state->set_handler(handler);
  state->set_started();
  state->set_peer(remote);
  state->attach();
  s->SetConnectCallback(ns3::MakeCallback(&Ns3StreamState::on_connect_ok, state.get()),
                        ns3::MakeCallback(&Ns3StreamState::on_connect_failed, state.get()));
  if (options.source)
    s->Bind(ns3::InetSocketAddress(to_ns3(*options.source), 0));
  else
    s->Bind();
  s->Connect(ns3::InetSocketAddress(to_ns3(remote.ip), remote.port));
  ns3::Address local;
  s->GetSockName(local);
  const std::uint16_t port = ns3::InetSocketAddress::ConvertFrom(local).GetPort();
  state->set_connect_port(port);
  connecting(port, state);
  return std::make_unique<Ns3Stream>(std::move(state));
}

runtime::DatagramSocketPtr Ns3Host::open_datagram(const net::SocketAddress& local,
                                                  runtime::DatagramCallback on_datagram,
                                                  std::error_code& error) {
  auto d = std::make_unique<Ns3Datagram>(*this, local, std::move(on_datagram));
  if (!d->bind(error)) return nullptr;
  error.clear();
  return d;
}

runtime::FramePortPtr Ns3Host::open_frame_port(const std::string& interface_name,
                                               const std::vector<std::uint16_t>& ethertypes,
                                               runtime::FrameHandler& handler, std::error_code& error) {
  auto it = interfaces_.find(interface_name);
  if (it == interfaces_.end()) {
    error = std::make_error_code(std::errc::no_such_device);
    return nullptr;
  }
  auto port = std::make_unique<Ns3FramePort>(*this, interface_name, node_->GetDevice(it->second), handler);
  if (!port->open(ethertypes)) {
    error = std::make_error_code(std::errc::address_in_use);
    return nullptr;
  }
  error.clear();
  return port;
}

std::error_code Ns3Host::add_local_address(const net::IpAddress& address) {
  auto ipv4 = node_->GetObject<ns3::Ipv4>();
  if (!ipv4 || !address.is_v4()) return std::make_error_code(std::errc::address_family_not_supported);
  auto routing = ns3::DynamicCast<ServiceAddressRouting>(ipv4->GetRoutingProtocol());
  if (!routing) return std::make_error_code(std::errc::operation_not_supported);  // see ServiceAddressRouting
  if (!routing->add(to_ns3(address))) return std::make_error_code(std::errc::file_exists);
  return {};
}

std::error_code Ns3Host::remove_local_address(const net::IpAddress& address) {
  auto ipv4 = node_->GetObject<ns3::Ipv4>();
  if (!ipv4) return std::make_error_code(std::errc::address_family_not_supported);
  auto routing = ns3::DynamicCast<ServiceAddressRouting>(ipv4->GetRoutingProtocol());
  if (!routing || !routing->remove(to_ns3(address)))
    return std::make_error_code(std::errc::address_not_available);
  return {};
}

}  // namespace metalgate::sim
