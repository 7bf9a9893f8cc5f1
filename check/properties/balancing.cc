#include "check/properties/balancing.h"

#include <rapidcheck.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <sstream>
#include <variant>

#include "engine/proxy/backend.h"
#include "engine/runtime/memory/memory_world.h"

namespace metalgate::check {

namespace {

using proxy::Balance;
using proxy::ServerLoad;

// ------------------------------------------------------------------------------------------ the engine's

class EngineChoice final : public ServerChoice {
 public:
  EngineChoice(Balance algorithm, const std::vector<ServerLoad>& loads) {
    proxy::BackendConfig config;
    config.name = "check_balancing";
    config.balance = algorithm;
    config.check.enabled = false;
    config.cookie = proxy::CookiePersistence{"SERVERID", true, true};
    const std::vector<std::string> names = server_names(loads.size());
    for (std::size_t i = 0; i < loads.size(); ++i) {
      const net::SocketAddress at{net::IpAddress::v4(10, 2, 0, static_cast<std::uint8_t>(i + 1)), 80};
      config.servers.push_back(
          proxy::ServerConfig{names[i], at, loads[i].weight, loads[i].maxconn, "", true});
    }
    backend_ = std::make_unique<proxy::Backend>(host_, config);
  }

  std::optional<std::size_t> pick(const std::vector<ServerLoad>& servers,
                                  const net::IpAddress& client) override {
    load(servers);
    bool all_full = false;
    return backend_->choose(client, &all_full);
  }
  std::optional<std::size_t> pinned(const std::vector<ServerLoad>& servers,
                                    std::string_view cookie) override {
    load(servers);
    return backend_->find_server(cookie);
  }

 private:
  // The backend's servers take the model's state: up, active, queued (weight and maxconn as configured).
  void load(const std::vector<ServerLoad>& servers) {
    for (std::size_t i = 0; i < servers.size(); ++i)
      backend_->servers()[i].load = servers[i];
  }

  runtime::memory::MemoryWorld world_{1};
  runtime::memory::MemoryHost& host_ = world_.add_host("proxy", {net::IpAddress::v4(10, 0, 0, 1)});
  std::unique_ptr<proxy::Backend> backend_;
};

// ------------------------------------------------------------------------------------------ the case

struct Request {
  std::size_t client = 0;
  std::optional<std::size_t> cookie;  // the server it names; the server count: a name no server has
};
struct Completion {
  std::size_t nth = 0;  // which request in flight ends, modulo how many there are
};
struct UpDown {
  std::size_t server = 0;
  bool up = true;
};
struct QueueLength {
  std::size_t server = 0;
  int queued = 0;
};
using Event = std::variant<Request, Completion, UpDown, QueueLength>;

constexpr std::size_t kClients = 6;

net::IpAddress client_address(std::size_t i) {
  if (i < 4) return net::IpAddress::v4(10, 1, 0, static_cast<std::uint8_t>(i + 1));
  std::array<std::uint8_t, 16> bytes{0xfd};
  bytes[15] = static_cast<std::uint8_t>(i);
  return net::IpAddress::v6(bytes);
}

std::vector<ServerLoad> draw_servers() {
  const auto n = *rc::gen::inRange<std::size_t>(2, 9);
  const bool equal = *rc::gen::arbitrary<bool>();
  const int shared_weight = *rc::gen::inRange(1, 4);
  std::vector<ServerLoad> servers(n);
  for (auto& s : servers) {
    s.weight = equal ? shared_weight : *rc::gen::inRange(1, 4);
    s.up = *rc::gen::weightedElement<bool>({{5, true}, {1, false}});
    s.maxconn = *rc::gen::weightedElement<int>({{6, 0}, {1, 1}, {1, 2}, {1, 4}});
    s.queued = *rc::gen::weightedElement<int>({{4, 0}, {1, 1}, {1, 3}});
  }
  return servers;
}

rc::Gen<Event> event_gen(std::size_t n) {
  using namespace rc;
  auto request = gen::map(gen::pair(gen::inRange<std::size_t>(0, kClients),
                                    gen::weightedOneOf<std::optional<std::size_t>>(
                                        {{2, gen::just(std::optional<std::size_t>())},
                                         {1, gen::map(gen::inRange<std::size_t>(0, n + 1),
                                                      [](std::size_t s) { return std::optional(s); })}})),
                          [](const auto& p) {
                            return Event(Request{p.first, p.second});
                          });
  auto completion =
      gen::map(gen::inRange<std::size_t>(0, 8), [](std::size_t k) { return Event(Completion{k}); });
  auto updown =
      gen::map(gen::pair(gen::inRange<std::size_t>(0, n), gen::arbitrary<bool>()), [](const auto& p) {
        return Event(UpDown{p.first, p.second});
      });
  auto queue = gen::map(gen::pair(gen::inRange<std::size_t>(0, n), gen::inRange(0, 4)), [](const auto& p) {
    return Event(QueueLength{p.first, p.second});
  });
  return gen::weightedOneOf<Event>({{8, request}, {5, completion}, {1, updown}, {1, queue}});
}

std::string describe(const std::vector<ServerLoad>& servers) {
  std::ostringstream out;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    const auto& s = servers[i];
    out << (i ? " " : "") << 's' << i << "(w" << s.weight << (s.up ? "" : ",down");
    if (s.maxconn) out << ",max" << s.maxconn;
    if (s.queued) out << ",q" << s.queued;
    out << ')';
  }
  return out.str();
}

std::string show(std::optional<std::size_t> server) {
  return server ? "s" + std::to_string(*server) : std::string("none");
}

bool usable(const ServerLoad& s) {
  return s.up && s.weight > 0 && (s.maxconn == 0 || s.active < s.maxconn);
}

std::vector<bool> usable_set(const std::vector<ServerLoad>& servers) {
  std::vector<bool> set;
  for (const auto& s : servers)
    set.push_back(usable(s));
  return set;
}

// ------------------------------------------------------------------------------------------ the judge

// Follows one history: the model's loads, the runs, what each client got; `fail` on the first broken
// invariant with the servers at the start and the history so far.
class Judge {
 public:
  Judge(Balance algorithm, std::vector<ServerLoad> servers, ServerChoice& choice)
      : algorithm_(algorithm), initial_(servers), loads_(std::move(servers)), choice_(choice) {
    for (const auto& s : loads_)
      total_weight_ += s.weight;
  }

  void apply(const Event& event) {
    if (const auto* r = std::get_if<Request>(&event)) return request(*r);
    if (const auto* c = std::get_if<Completion>(&event)) {
      if (in_flight_.empty()) return;
      auto it = in_flight_.begin() + static_cast<std::ptrdiff_t>(c->nth % in_flight_.size());
      --loads_[*it].active;
      history_ << " done:s" << *it;
      in_flight_.erase(it);
      return;
    }
    if (const auto* u = std::get_if<UpDown>(&event)) {
      loads_[u->server].up = u->up;
      history_ << " s" << u->server << (u->up ? ":up" : ":down");
      return;
    }
    const auto& q = std::get<QueueLength>(event);
    loads_[q.server].queued = q.queued;
    history_ << " s" << q.server << ":q" << q.queued;
  }

  void finish() { end_round_robin_run(); }

 private:
  void fail(const std::string& invariant, const std::string& what) {
    RC_FAIL(invariant + ": " + what + "\n  balance " + std::string(proxy::to_string(algorithm_)) +
            ", servers " + describe(initial_) + "\n  history:" + history_.str());
  }

  void request(const Request& r) {
    const std::vector<std::string> names = server_names(loads_.size());
    history_ << " c" << r.client;
    if (r.cookie) {
      const bool known = *r.cookie < loads_.size();
      const std::string cookie = known ? names[*r.cookie] : std::string("gone");
      history_ << "[" << cookie << "]";
      const auto expected = known && usable(loads_[*r.cookie]) ? r.cookie : std::nullopt;
      const auto got = choice_.pinned(loads_, cookie);
      if (got != expected)
        fail(expected ? "a cookie naming a server up with room pins the request to it"
                      : "a cookie naming a server down, full or unknown pins nothing",
             "the cookie " + cookie + " pinned " + show(got) + ", expected " + show(expected));
      if (got) return serve(*got, "=");
    }
    balanced(client_address(r.client), r.client);
  }

  void balanced(const net::IpAddress& client, std::size_t client_index) {
    const std::vector<bool> set = usable_set(loads_);
    const bool any = std::find(set.begin(), set.end(), true) != set.end();
    const auto got = choice_.pick(loads_, client);
    history_ << "->" << show(got);
    if (got && (*got >= loads_.size() || !set[*got]))
      fail("a balanced request goes to a server up with room", show(got) + " was chosen");
    if (!got && any && algorithm_ != Balance::kSource)
      fail("a balanced request gets a server while one is up with room", "none was chosen");
    if (got && algorithm_ == Balance::kLeastConn) {
      const std::string why = check_least_conn_pick(loads_, *got);
      if (!why.empty()) fail("leastconn picks no busier server than another up with room", why);
    }
    if (algorithm_ == Balance::kRoundRobin && got) round_robin(set, *got);
    if (algorithm_ == Balance::kSource && got) source(client_index, *got);
    if (got) serve(*got, "");
  }

  void round_robin(const std::vector<bool>& set, std::size_t got) {
    if (set != run_set_) {
      end_round_robin_run();
      run_set_ = set;
    }
    run_.push_back(got);
  }

  void end_round_robin_run() {
    if (run_.empty()) return;
    std::vector<int> weights;
    for (std::size_t i = 0; i < loads_.size(); ++i)
      weights.push_back(run_set_[i] ? loads_[i].weight : 0);
    const std::string why = check_round_robin_run(run_, weights, !picked_before_, total_weight_);
    if (!why.empty()) fail("roundrobin gives every server its weighted share", why);
    picked_before_ = true;
    run_.clear();
  }

  // The set the hash is over: the servers that are up, full or not.
  void source(std::size_t client, std::size_t got) {
    std::vector<bool> up;
    for (const auto& s : loads_)
      up.push_back(s.up);
    if (up != hash_set_) {
      hash_set_ = up;
      home_.clear();
    }
    auto [it, fresh] = home_.emplace(client, got);
    if (!fresh && it->second != got)
      fail("source sends one client to one server while the up servers stay the same",
           "c" + std::to_string(client) + " went to s" + std::to_string(it->second) + ", now to s" +
               std::to_string(got));
  }

  void serve(std::size_t server, const char* mark) {
    history_ << mark;
    ++loads_[server].active;
    in_flight_.push_back(server);
  }

  Balance algorithm_;
  std::vector<ServerLoad> initial_;
  std::vector<ServerLoad> loads_;
  ServerChoice& choice_;
  int total_weight_ = 0;
  std::deque<std::size_t> in_flight_;
  std::ostringstream history_;
  std::vector<bool> run_set_;
  std::vector<std::size_t> run_;
  bool picked_before_ = false;
  std::vector<bool> hash_set_;
  std::map<std::size_t, std::size_t> home_;
};

}  // namespace

std::vector<std::string> server_names(std::size_t n) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i)
    names.push_back("web-" + std::to_string(i));
  return names;
}

std::unique_ptr<ServerChoice> engine_server_choice(Balance algorithm, const std::vector<ServerLoad>& loads) {
  return std::make_unique<EngineChoice>(algorithm, loads);
}

// Smooth weighted round robin (balancer.cc) keeps a counter per server: a pick adds every usable server's
// weight w to its counter and takes W (the run's total) from the largest. After n picks from zero,
// k = (n·w − c)/W with |c| ≤ W, so a fresh run's prefixes are within ±1 of n·w/W; a window is the difference
// of two prefixes, within less than 2 (the largest measured over every set of 2–8 servers with weights 1–3
// is 1.65). Equal weights from zero are a strict rotation: any window within ±1 between servers. The counters
// of servers that leave the set (down or full) are kept as they are, so after a change the run starts from
// counters anywhere within ±Wall (every server's weight; measured over 200000 random histories, ±Wall
// reached, never passed): a window's count is then within 2·Wall/W of L·w/W, and equal weights may give one
// server two picks before another gets one.
std::string check_round_robin_run(const std::vector<std::size_t>& picks, const std::vector<int>& weights,
                                  bool fresh, int total_weight) {
  std::int64_t w_run = 0;
  int first = 0;
  bool equal = true;
  for (int w : weights) {
    if (w == 0) continue;
    if (first == 0) first = w;
    equal = equal && w == first;
    w_run += w;
  }
  const auto window = [&](std::size_t from, std::size_t to) {
    return "picks " + std::to_string(from + 1) + ".." + std::to_string(to + 1) + " of the run";
  };
  const std::size_t n = weights.size();
  for (std::size_t a = 0; a < picks.size(); ++a) {
    std::vector<std::int64_t> count(n, 0);
    for (std::size_t b = a; b < picks.size(); ++b) {
      ++count[picks[b]];
      const auto length = static_cast<std::int64_t>(b - a + 1);
      std::int64_t most = 0, least = length;
      for (std::size_t i = 0; i < n; ++i) {
        if (weights[i] == 0) continue;
        const std::int64_t off = std::llabs(count[i] * w_run - length * weights[i]);  // |k − L·w/W|·W
        const std::string at = "s" + std::to_string(i) + " got " + std::to_string(count[i]) + " in " +
                               window(a, b) + " (weight " + std::to_string(weights[i]) + " of " +
                               std::to_string(w_run);
        if (fresh && a == 0 && off > w_run) return at + "): more than 1 off its share from the start";
        if (fresh && off >= 2 * w_run) return at + "): 2 or more off its share";
        if (!fresh && off > 2 * std::int64_t{total_weight})
          return at + ", after a change): more than 2·" + std::to_string(total_weight) + "/W off its share";
        most = std::max(most, count[i]);
        least = std::min(least, count[i]);
      }
      if (fresh && equal && most - least > 1)
        return window(a, b) + ": equal weights, yet one server got " + std::to_string(most) +
               " and another " + std::to_string(least);
    }
  }
  return {};
}

std::string check_least_conn_pick(const std::vector<ServerLoad>& servers, std::size_t picked) {
  const ServerLoad& p = servers[picked];
  if (!usable(p)) return "s" + std::to_string(picked) + " is not up with room";
  for (std::size_t j = 0; j < servers.size(); ++j) {
    const ServerLoad& o = servers[j];
    if (j == picked || !usable(o)) continue;
    // (a_p + q_p)/w_p > (a_o + q_o)/w_o without division.
    if (std::int64_t{p.active + p.queued} * o.weight > std::int64_t{o.active + o.queued} * p.weight)
      return "s" + std::to_string(picked) + " with " + std::to_string(p.active + p.queued) + "/" +
             std::to_string(p.weight) + " picked over s" + std::to_string(j) + " with " +
             std::to_string(o.active + o.queued) + "/" + std::to_string(o.weight);
  }
  return {};
}

void balancing_property(const Base& base, const ServerChoiceFactory& choice) {
  (void)base;  // the servers and the algorithm are drawn; the base's backends do not narrow them yet
  const Balance algorithm = *rc::gen::element(Balance::kRoundRobin, Balance::kLeastConn, Balance::kSource);
  const std::vector<ServerLoad> servers = draw_servers();
  const auto length = *rc::gen::inRange<std::size_t>(1, 121);
  const auto events = *rc::gen::container<std::vector<Event>>(length, event_gen(servers.size()));
  const std::unique_ptr<ServerChoice> engine = choice(algorithm, servers);
  Judge judge(algorithm, servers, *engine);
  for (const Event& e : events)
    judge.apply(e);
  judge.finish();
}

void balancing_property(const Base& base) {
  balancing_property(base, engine_server_choice);
}

}  // namespace metalgate::check
