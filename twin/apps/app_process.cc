// The composition root of a twin app process: joins the scenario layer's apps to the live runtime. Like
// engine/cli/serve.cc, it names the io_context the runtime runs on, and nothing else of Boost.Asio.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include "engine/runtime/asio/asio_runtime.h"
#include "scenario/apps/http_load_client.h"
#include "scenario/apps/identity_http_server.h"
#include "scenario/apps/udp_load_client.h"
#include "scenario/apps/udp_responder.h"
#include "twin/apps/app_spec.h"

namespace metalgate::twin {

namespace {

using scenario::observe::RequestRecord;
using std::chrono::milliseconds;
constexpr milliseconds kControlPoll{20};

Result<AppSpec> load_spec(const std::string& file) {
  std::ifstream in(file);
  if (!in) return Failure{file + ": cannot be read"};
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) return Failure{file + ": not JSON"};
  auto spec = app_spec_from_json(j);
  if (!spec) return Failure{file + ": " + spec.error()};
  return spec;
}

// A pod: an identity server on every TCP port and a responder on every UDP port, and its control file
// applied as it changes.
class Pod {
 public:
  Pod(runtime::Runtime& rt, PodAppSpec spec) : rt_(rt), spec_(std::move(spec)), latency_(spec_.latency_ms) {}

  // "" when every port is served; else why one is not.
  std::string start() {
    for (const auto& port : spec_.ports) {
      net::SocketAddress at{spec_.address, port.number};
      if (port.udp) {
        udp_.push_back(std::make_unique<apps::UdpResponder>(rt_, at, spec_.name));
        if (udp_.back()->open_error())
          return "udp " + at.to_string() + ": " + udp_.back()->open_error().message();
      } else {
        http_.push_back(
            std::make_unique<apps::IdentityHttpServer>(rt_, at, spec_.name, milliseconds(latency_)));
        if (http_.back()->listen_error())
          return "tcp " + at.to_string() + ": " + http_.back()->listen_error().message();
      }
    }
    poll_control();
    poll_ = rt_.create_timer([this] { poll_control(); });
    poll_->arm_periodic(kControlPoll);
    return "";
  }

 private:
  // Applies {"latency_ms": N, "healthy": B} where it differs from what runs; an absent, unreadable or
  // malformed file (one being written, say) changes nothing.
  void poll_control() {
    if (spec_.control_file.empty()) return;
    std::ifstream in(spec_.control_file);
    if (!in) return;
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_object()) return;
    auto latency = j.find("latency_ms");
    if (latency != j.end() && latency->is_number_integer() && latency->get<std::int64_t>() >= 0 &&
        latency->get<std::int64_t>() != latency_) {
      latency_ = latency->get<std::int64_t>();
      for (auto& server : http_)
        server->set_latency(milliseconds(latency_));
    }
    auto healthy = j.find("healthy");
    if (healthy != j.end() && healthy->is_boolean() && healthy->get<bool>() != healthy_) {
      healthy_ = healthy->get<bool>();
      for (auto& server : http_)
        server->set_healthy(healthy_);
    }
  }

  runtime::Runtime& rt_;
  PodAppSpec spec_;
  std::int64_t latency_;
  bool healthy_ = true;
  std::vector<std::unique_ptr<apps::IdentityHttpServer>> http_;
  std::vector<std::unique_ptr<apps::UdpResponder>> udp_;
  runtime::TimerPtr poll_;
};

// Whose MAC the client's neighbour table holds for its target, asked as each request or datagram starts.
std::function<std::string()> arp_owner(const ClientAppSpec& c) {
  return [target = c.target.ip, macs = c.node_of_mac] { return neighbour_node(target, macs); };
}

// The HTTP client's options, as the simulator's runner builds them from the scenario's client.
apps::HttpLoadClient::Options http_options(const ClientAppSpec& c) {
  apps::HttpLoadClient::Options co;
  co.target = c.target;
  co.host = c.host;
  co.path = c.path;
  for (const auto& m : c.mix)
    co.mix.push_back({m.host, m.path, m.weight});
  co.rate = c.rate;
  co.concurrency = c.concurrency;
  co.think = std::chrono::duration_cast<runtime::Duration>(milliseconds(c.think_ms));
  co.keep_alive = c.keep_alive;
  co.cookies = c.cookies;
  co.resume_sessions = c.resume;
  co.http2 = c.http2;
  co.timeout = std::chrono::duration_cast<runtime::Duration>(milliseconds(c.timeout_ms));
  co.https = c.https;
  co.vip_node = arp_owner(c);
  return co;
}

apps::UdpLoadClient::Options udp_options(const ClientAppSpec& c) {
  apps::UdpLoadClient::Options uo;
  uo.target = c.target;
  uo.source = {c.address, 40000};  // one flow from a fixed port, as in the simulator
  uo.rate = c.rate;
  uo.timeout = std::chrono::duration_cast<runtime::Duration>(milliseconds(c.timeout_ms));
  uo.vip_node = arp_owner(c);
  return uo;
}

// Writes the records whole under a temporary name, then renames it into place: a reader sees no file or
// all of it. "" when written; else why not.
std::string write_records(const std::string& file, const std::vector<RequestRecord>& records) {
  const std::string temporary = file + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    for (const auto& r : records)
      out << to_json(r).dump() << '\n';
    out.flush();
    if (!out) return temporary + ": cannot be written";
  }
  if (std::rename(temporary.c_str(), file.c_str()) != 0) return file + ": cannot be renamed into place";
  return "";
}

// A client: one load client; on stop, its records on the run's clock, named after it and its target, as the
// simulator's runner collects them.
class Client {
 public:
  Client(runtime::Runtime& rt, ClientAppSpec spec, std::int64_t epoch_ns)
      : rt_(rt), spec_(std::move(spec)), epoch_us_(epoch_ns / 1000) {}
  void set_epoch(std::int64_t epoch_ns) { epoch_us_ = epoch_ns / 1000; }

  std::string start() {
    if (spec_.udp) {
      udp_ = std::make_unique<apps::UdpLoadClient>(rt_, udp_options(spec_));
      udp_->start();
      if (udp_->open_error())
        return "udp " + udp_options(spec_).source.to_string() + ": " + udp_->open_error().message();
    } else {
      http_ = std::make_unique<apps::HttpLoadClient>(rt_, http_options(spec_));
      http_->start();
    }
    return "";
  }

  // Stops the client (requests under way end as observe::kStillRunning) and writes its records file.
  std::string stop_and_write() {
    if (http_) http_->stop();
    if (udp_) udp_->stop();
    std::vector<RequestRecord> records;  // none when stopped before t = 0
    if (http_) records = http_->records();
    if (udp_) records = udp_->records();
    for (auto& r : records) {
      r.start_us -= epoch_us_;
      if (r.end_us != 0)
        r.end_us -= epoch_us_;  // 0: never ended (a datagram still pending), as in the simulator
      r.client = spec_.name;
      r.target = spec_.target.ip;
    }
    return write_records(spec_.records_file, records);
  }

 private:
  runtime::Runtime& rt_;
  ClientAppSpec spec_;
  std::int64_t epoch_us_;
  std::unique_ptr<apps::HttpLoadClient> http_;
  std::unique_ptr<apps::UdpLoadClient> udp_;
};

// A client waiting for the run's start: it said it is up (its ready file) and reads the start file every
// millisecond until it holds t = 0.
struct StartWait {
  std::string file;
  std::function<void(std::int64_t)> start_at;
  runtime::TimerPtr timer;
};

std::unique_ptr<StartWait> wait_for_start(runtime::Runtime& rt, const AppSpec& spec,
                                          std::function<void(std::int64_t)> start_at) {
  if (!std::ofstream(spec.ready_file)) return nullptr;
  auto w = std::make_unique<StartWait>(StartWait{spec.start_file, std::move(start_at), nullptr});
  w->timer = rt.create_timer([raw = w.get()] {
    std::ifstream in(raw->file);
    std::int64_t epoch_ns = 0;
    if (in >> epoch_ns && epoch_ns > 0) return raw->start_at(epoch_ns);
    raw->timer->arm(std::chrono::milliseconds(1));
  });
  w->timer->arm(runtime::Duration::zero());
  return w;
}

int fail(const std::string& why) {
  std::fprintf(stderr, "metalgate-netns app: %s\n", why.c_str());
  return 1;
}

}  // namespace

int run_app(const std::string& spec_file) {
  auto spec = load_spec(spec_file);
  if (!spec) return fail(spec.error());
  boost::asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
  runtime::asio_live::AsioRuntime rt(io, {.seed = spec->client ? spec->client->seed : 1});
  int exit_code = 0;
  std::unique_ptr<Pod> pod;
  std::unique_ptr<Client> client;
  // SIGTERM or SIGINT, handled on the loop: a client stops and writes its records; a pod just ends.
  runtime::asio_live::on_termination_signal(io, [&](int) {
    if (client) {
      if (auto why = client->stop_and_write(); !why.empty()) exit_code = fail(why);
    }
    io.stop();
  });
  if (spec->pod) {
    pod = std::make_unique<Pod>(rt, *spec->pod);
    if (auto why = pod->start(); !why.empty()) return fail(spec->pod->name + ": " + why);
  }
  // A client starts at the run's t = 0 (its first request a period later, as in the simulator), so its
  // requests keep the phase they have there: what a failover's recovery waits for is the next request.
  runtime::TimerPtr starter;
  std::unique_ptr<StartWait> waiter;
  if (spec->client) {
    client = std::make_unique<Client>(rt, *spec->client, spec->epoch_ns);
    starter = rt.create_timer([&] {
      if (auto why = client->start(); !why.empty()) {
        exit_code = fail(spec->client->name + ": " + why);
        io.stop();
      }
    });
    auto start_at = [&](std::int64_t epoch_ns) {
      client->set_epoch(epoch_ns);
      const runtime::Instant epoch{std::chrono::nanoseconds(epoch_ns)};
      starter->arm(std::max(runtime::Duration::zero(), epoch - rt.now()));
    };
    if (spec->start_file.empty()) {
      start_at(spec->epoch_ns);
    } else {
      waiter = wait_for_start(rt, *spec, start_at);
      if (!waiter) return fail(spec->client->name + ": cannot create " + spec->ready_file);
    }
  }
  rt.run();
  return exit_code;
}

}  // namespace metalgate::twin
