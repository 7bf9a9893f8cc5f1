#include "engine/l4/udp_service.h"

namespace metalgate::l4 {

UdpService::UdpService(runtime::Runtime& rt, const proxy::L4ServiceConfig& config)
    : UdpService(rt, std::make_shared<const proxy::L4ServiceConfig>(config)) {}

UdpService::UdpService(runtime::Runtime& rt, std::shared_ptr<const proxy::L4ServiceConfig> config)
    : rt_(rt),
      config_(std::move(config)),
      backend_(rt, std::shared_ptr<const proxy::BackendConfig>(config_, &config_->backend)) {
  if (config_->client_ip_affinity)
    affinity_.emplace(std::chrono::duration_cast<runtime::Duration>(*config_->client_ip_affinity));
}

UdpService::~UdpService() = default;

std::error_code UdpService::start() {
  if (!config_->service.empty() && config_->backend.servers.empty()) return {};
  std::error_code ec;
  front_ = rt_.open_datagram(
      config_->bind,
      [this](const net::SocketAddress& from, const net::SocketAddress& local, runtime::ByteView payload) {
        on_client(from, local, payload);
      },
      ec);
  if (ec) return ec;
  auto idle = std::chrono::duration_cast<runtime::Duration>(config_->udp_idle_timeout);
  expiry_ = rt_.create_timer([this] { expire(); });
  expiry_->arm_periodic(std::max<runtime::Duration>(idle / 4, std::chrono::milliseconds(10)));
  backend_.start_checks();
  return {};
}

std::optional<std::size_t> UdpService::flow_server(const net::SocketAddress& client) const {
  auto it = flows_.find(client);
  if (it == flows_.end()) return std::nullopt;
  return it->second->server;
}

bool UdpService::bind_upstream(Flow& flow) {
  // One socket per flow, on an ephemeral port: replies from the server find their flow by socket.
  std::error_code ec;
  const net::SocketAddress server = backend_.servers()[flow.server].config.address;
  net::SocketAddress any{server.ip.is_v4() ? net::IpAddress::v4(0) : net::IpAddress::v6({}), 0};
  Flow* f = &flow;
  flow.upstream = rt_.open_datagram(
      any,
      [this, f](const net::SocketAddress& from, const net::SocketAddress&, runtime::ByteView payload) {
        if (from != backend_.servers()[f->server].config.address) return;  // only its server may answer
        f->last = rt_.now();
        ++counters_.datagrams_out;
        front_->send_from(f->local, f->client, payload);
      },
      ec);
  return !ec;
}

std::optional<std::size_t> UdpService::choose(const net::IpAddress& client) {
  if (affinity_)
    if (auto s = affinity_->find(client, rt_.now()))
      if (const auto load = backend_.load(*s); load.up && load.has_room()) return s;
  bool all_full = false;
  auto s = backend_.choose(client, &all_full);
  if (s && affinity_) affinity_->remember(client, *s, rt_.now());
  return s;
}

UdpService::Flow* UdpService::open_flow(const net::SocketAddress& client, const net::IpAddress& local) {
  if (flows_.size() >= config_->udp_max_flows) {
    ++counters_.dropped_table_full;
    return nullptr;
  }
  auto server = choose(client.ip);
  if (!server) {
    ++counters_.dropped_no_server;
    return nullptr;
  }
  auto flow = std::make_unique<Flow>();
  flow->client = client;
  flow->local = local;
  flow->server = *server;
  if (!bind_upstream(*flow)) return nullptr;
  ++counters_.flows_created;
  Flow* raw = flow.get();
  flows_.emplace(client, std::move(flow));
  return raw;
}

void UdpService::on_client(const net::SocketAddress& from, const net::SocketAddress& local,
                           runtime::ByteView payload) {
  ++counters_.datagrams_in;
  Flow* flow = nullptr;
  if (auto it = flows_.find(from); it != flows_.end()) {
    flow = it->second.get();
    if (!backend_.servers()[flow->server].load.up) {
      // Its endpoint went down: the flow moves (a new socket, so late answers of the old server are ignored).
      auto server = choose(from.ip);
      if (!server) {
        ++counters_.dropped_no_server;
        return;
      }
      flow->server = *server;
      if (!bind_upstream(*flow)) return;
      ++counters_.flows_moved;
    }
  } else {
    flow = open_flow(from, local.ip);
    if (!flow) return;
  }
  flow->last = rt_.now();
  flow->upstream->send_to(backend_.servers()[flow->server].config.address, payload);
}

void UdpService::expire() {
  const auto now = rt_.now();
  const auto idle = std::chrono::duration_cast<runtime::Duration>(config_->udp_idle_timeout);
  for (auto it = flows_.begin(); it != flows_.end();) {
    if (now - it->second->last >= idle) {
      ++counters_.flows_expired;
      it = flows_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace metalgate::l4
