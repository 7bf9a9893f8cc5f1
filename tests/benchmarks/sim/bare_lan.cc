// The floor under `metalgate sim`: the same switched LAN (sim/lan: one CSMA link per host into a learning
// switch, no qdisc), the same node addresses as tests/benchmarks/sim/large_lan.py, carrying the speakers'
// steady datagrams with no metalgate engine on any host: ns-3's own UDP sockets, driven by ns-3 events.
// Each node probes one peer every probe period (a ping of --ping-bytes, answered with --ack-bytes: the
// membership's traffic, docs/speaker.md), and the VIPs are announced as the speakers announce them at start
// (four rounds 1.1 s apart, two broadcasts per VIP each, of an ARP frame's size). What is not here: the
// election, the proxy, the clients' HTTP and TLS, the judges and the report; their cost is what
// `metalgate sim` spends above this program's time.
//
//   bare_lan --nodes N [--seconds 60] [--vips 1000] [--probe-ms 30] [--ping-bytes B] [--ack-bytes B]
//
// With --replay FILE it carries instead every frame a `metalgate sim --pcap` run sent, as pcap_to_replay.py
// lists them: the run's hosts, and each frame as a UDP datagram of the same IP size from the same host to the
// same host (or broadcast), at the same time. TCP segments become datagrams too: ns-3's TCP (acks, windows,
// timers) is the engine's client traffic's cost, not the LAN's.
//
//   bare_lan --replay FILE [--seconds S]
// Both print "hosts H simulated S s wall W s datagrams D".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ns3/inet-socket-address.h"
#include "ns3/ipv4-address.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"
#include "ns3/udp-socket-factory.h"
#include "sim/lan/switched_lan.h"

namespace {

struct Options {
  std::string replay;
  int nodes = 64;
  int seconds = 60;
  int vips = 1000;
  int probe_ms = 30;
  std::uint32_t ping_bytes = 60;
  std::uint32_t ack_bytes = 61;
};

constexpr std::uint16_t kPort = 7946;
constexpr std::uint16_t kAnnouncePort = 9;  // nobody listens: dropped past UDP, as a frame no one asked for

// As large_lan.py: node-1 .. node-250 at 192.168.2.1-250, node-251 on at 192.168.3.1 and so on.
std::string node_address(int n) {
  return "192.168." + std::to_string(2 + (n - 1) / 250) + "." + std::to_string((n - 1) % 250 + 1);
}

struct Speaker {
  ns3::Ptr<ns3::Socket> socket;
  ns3::Ipv4Address address;
};

class Floor {
 public:
  explicit Floor(const Options& o) : o_(o), random_(1) {}

  void build() {
    metalgate::sim::LanOptions lo;
    lo.prefix_length = 16;  // large_lan.py's subnet
    lan_ = std::make_unique<metalgate::sim::SwitchedLan>(lo);
    for (int n = 1; n <= o_.nodes; ++n)
      lan_->add_host("node-" + std::to_string(n), *metalgate::net::IpAddress::parse(node_address(n)),
                     1000 + static_cast<std::uint64_t>(n));
    lan_->finish();
    for (int n = 1; n <= o_.nodes; ++n) {
      auto node = lan_->host("node-" + std::to_string(n)).node();
      Speaker s;
      s.socket = ns3::Socket::CreateSocket(node, ns3::UdpSocketFactory::GetTypeId());
      s.socket->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), kPort));
      s.socket->SetAllowBroadcast(true);
      s.socket->SetRecvCallback(ns3::MakeCallback(&Floor::receive, this));
      s.address = ns3::Ipv4Address(node_address(n).c_str());
      speakers_.push_back(s);
    }
  }

  void schedule() {
    std::uniform_int_distribution<int> start(0, o_.probe_ms - 1);
    for (std::size_t i = 0; i < speakers_.size(); ++i)
      ns3::Simulator::Schedule(ns3::MilliSeconds(start(random_)), &Floor::probe, this, i);
    for (int round = 0; round < 4; ++round)
      for (int v = 0; v < o_.vips; ++v)
        ns3::Simulator::Schedule(ns3::MilliSeconds(2000 + 1100 * round), &Floor::announce, this,
                                 static_cast<std::size_t>(v) % speakers_.size());
  }

  std::uint64_t datagrams() const { return datagrams_; }

 private:
  void send(std::size_t from, ns3::Ipv4Address to, std::uint16_t port, std::uint32_t bytes) {
    speakers_[from].socket->SendTo(ns3::Create<ns3::Packet>(bytes), 0, ns3::InetSocketAddress(to, port));
    ++datagrams_;
  }

  void probe(std::size_t i) {
    std::uniform_int_distribution<std::size_t> peer(0, speakers_.size() - 2);
    std::size_t j = peer(random_);
    if (j >= i) ++j;  // anyone but itself
    send(i, speakers_[j].address, kPort, o_.ping_bytes);
    ns3::Simulator::Schedule(ns3::MilliSeconds(o_.probe_ms), &Floor::probe, this, i);
  }

  void receive(ns3::Ptr<ns3::Socket> socket) {
    ns3::Address from;
    while (ns3::Ptr<ns3::Packet> p = socket->RecvFrom(from)) {
      if (p->GetSize() != o_.ping_bytes) continue;  // an ack: nothing to answer
      const auto peer = ns3::InetSocketAddress::ConvertFrom(from);
      socket->SendTo(ns3::Create<ns3::Packet>(o_.ack_bytes), 0, peer);
      ++datagrams_;
    }
  }

  void announce(std::size_t owner) {  // a request and a reply, as the speaker's gratuitous ARP
    for (int k = 0; k < 2; ++k)
      send(owner, ns3::Ipv4Address("255.255.255.255"), kAnnouncePort, 0);
  }

  Options o_;
  std::mt19937_64 random_;
  std::unique_ptr<metalgate::sim::SwitchedLan> lan_;
  std::vector<Speaker> speakers_;
  std::uint64_t datagrams_ = 0;
};

// The frames of a recorded run, replayed (see the top).
class Replay {
 public:
  explicit Replay(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
      std::fprintf(stderr, "bare_lan: cannot read %s\n", path.c_str());
      std::exit(2);
    }
    metalgate::sim::LanOptions lo;
    lo.prefix_length = 16;
    lan_ = std::make_unique<metalgate::sim::SwitchedLan>(lo);
    std::string line, kind;
    std::uint64_t seed = 1000;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      fields >> kind;
      if (kind == "host") {
        std::string name, ip;
        fields >> name >> ip;
        lan_->add_host(name, *metalgate::net::IpAddress::parse(ip), ++seed);
        hosts_[name] = {nullptr, ns3::Ipv4Address(ip.c_str())};
      } else if (kind == "send") {
        if (hosts_.size() != sockets_.size()) open_sockets();
        std::uint64_t t = 0;
        std::string from, to;
        std::uint32_t ip_bytes = 0;
        fields >> t >> from >> to >> ip_bytes;
        const ns3::Ipv4Address dst = to == "*" ? ns3::Ipv4Address("255.255.255.255") : hosts_.at(to).address;
        const std::uint32_t payload = ip_bytes > 28 ? ip_bytes - 28 : 0;  // less IPv4's and UDP's headers
        ns3::Simulator::Schedule(ns3::MicroSeconds(static_cast<std::int64_t>(t)), &Replay::send, this,
                                 hosts_.at(from).socket, dst, payload);
      }
    }
  }
  std::size_t hosts() const { return hosts_.size(); }
  std::uint64_t datagrams() const { return datagrams_; }

 private:
  void open_sockets() {
    lan_->finish();
    for (auto& [name, h] : hosts_) {
      h.socket = ns3::Socket::CreateSocket(lan_->host(name).node(), ns3::UdpSocketFactory::GetTypeId());
      h.socket->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), kPort));
      h.socket->SetAllowBroadcast(true);
      h.socket->SetRecvCallback(ns3::MakeCallback(&Replay::drain));
      sockets_.push_back(h.socket);
    }
  }
  static void drain(ns3::Ptr<ns3::Socket> socket) {
    while (socket->Recv()) {
    }
  }
  void send(ns3::Ptr<ns3::Socket> from, ns3::Ipv4Address to, std::uint32_t payload) {
    from->SendTo(ns3::Create<ns3::Packet>(payload), 0, ns3::InetSocketAddress(to, kPort));
    ++datagrams_;
  }

  std::unique_ptr<metalgate::sim::SwitchedLan> lan_;
  std::map<std::string, Speaker> hosts_;
  std::vector<ns3::Ptr<ns3::Socket>> sockets_;
  std::uint64_t datagrams_ = 0;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--replay")
      o.replay = argv[i + 1];
    else if (flag == "--nodes")
      o.nodes = value;
    else if (flag == "--seconds")
      o.seconds = value;
    else if (flag == "--vips")
      o.vips = value;
    else if (flag == "--probe-ms")
      o.probe_ms = value;
    else if (flag == "--ping-bytes")
      o.ping_bytes = static_cast<std::uint32_t>(value);
    else if (flag == "--ack-bytes")
      o.ack_bytes = static_cast<std::uint32_t>(value);
    else {
      std::fprintf(stderr, "bare_lan: unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  if (o.nodes < 2 || o.ping_bytes == o.ack_bytes) {
    std::fprintf(stderr, "bare_lan: --nodes at least 2, and a ping's size apart from an ack's\n");
    std::exit(2);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t datagrams = 0;
  std::size_t hosts = 0;
  double run_wall = 0;  // ns-3 running the simulated time, without building the LAN or reading the replay
  {
    std::unique_ptr<Replay> replay;
    std::unique_ptr<Floor> floor;
    if (!o.replay.empty()) {
      replay = std::make_unique<Replay>(o.replay);
    } else {
      floor = std::make_unique<Floor>(o);
      floor->build();
      floor->schedule();
    }
    ns3::Simulator::Stop(ns3::Seconds(o.seconds));
    const auto running = std::chrono::steady_clock::now();
    ns3::Simulator::Run();
    run_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - running).count();
    datagrams = replay ? replay->datagrams() : floor->datagrams();
    hosts = replay ? replay->hosts() : static_cast<std::size_t>(o.nodes);
  }
  ns3::Simulator::Destroy();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("hosts %zu simulated %d s wall %.1f s running %.1f s datagrams %llu\n", hosts, o.seconds, wall,
              run_wall, static_cast<unsigned long long>(datagrams));
  return 0;
}
