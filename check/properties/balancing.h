// Property 5, balancing: roundrobin, leastconn, source and cookie persistence, checked in memory against
// engine/proxy's server choice (no simulation: a choice needs none).
//
// A case is a server set (2–8 servers, weights 1–3 or all equal, up or down, maxconn, queued requests) and a
// request history (requests from a few client addresses, some carrying a persistence cookie; completions;
// servers going down and up; queue lengths changing). An independent model (none of engine/proxy's code)
// follows the loads and judges every choice:
// - roundrobin: in the history's first run (a fresh balancer; a run is a stretch of balanced picks while the
//   set of servers that are up with room stays the same), every prefix of n picks gives each server within
//   ±1 of n·w/W, and every window of L picks within less than 2 of L·w/W (equal weights: within ±1 of each
//   other). After the set changed, a window of L picks is within less than 2·Wall/W of L·w/W (Wall: the
//   weight of every server, W: of those in the run). See balancing.cc for why.
// - leastconn: the picked server never has more (active + queued) / weight than another up server with room.
// - source: one client address goes to one server while the set of up servers stays the same.
// - every algorithm: a balanced request goes to a server that is up with room, and gets one when one is.
// - cookie: a cookie naming a server that is up with room sends the request there; one naming a server that
//   is down, full or unknown sends it nowhere in particular (the balancer chooses).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/case/base.h"
#include "engine/net/ip_address.h"
#include "engine/proxy/balancer.h"
#include "engine/proxy/proxy_config-t.h"

namespace metalgate::check {

// Called inside a RapidCheck property: draws servers, loads and a request history with `*gen`, and fails with
// RC_FAIL naming the invariant broken and the history that breaks it.
void balancing_property(const Base& base);

// The engine's server choice for one backend, as the property drives it. One instance lives for one history,
// so state (roundrobin's counters, leastconn's tie point) carries from request to request.
class ServerChoice {
 public:
  virtual ~ServerChoice() = default;
  // A balanced request from `client` with the servers in state `servers` (as proxy::Backend::choose).
  virtual std::optional<std::size_t> pick(const std::vector<proxy::ServerLoad>& servers,
                                          const net::IpAddress& client) = 0;
  // The server a persistence cookie whose value is `cookie` pins the request to, or nullopt (then the
  // request is balanced), as HttpSession::dispatch asks proxy::Backend::find_server.
  virtual std::optional<std::size_t> pinned(const std::vector<proxy::ServerLoad>& servers,
                                            std::string_view cookie) = 0;
};

// Server i is named server_names(n)[i]; a cookie names a server by that name.
std::vector<std::string> server_names(std::size_t n);

// A fresh choice for a backend of `loads.size()` servers (their weights and maxconn as given) balancing with
// `algorithm`.
using ServerChoiceFactory = std::function<std::unique_ptr<ServerChoice>(
    proxy::Balance algorithm, const std::vector<proxy::ServerLoad>& loads)>;

// The engine's own: a proxy::Backend over an in-memory host (no check runs, no connection is opened).
std::unique_ptr<ServerChoice> engine_server_choice(proxy::Balance algorithm,
                                                   const std::vector<proxy::ServerLoad>& loads);

// The property against any implementation (tests inject broken ones).
void balancing_property(const Base& base, const ServerChoiceFactory& choice);

// ------------------------------------------------------------------------------------------ the checkers
// Each returns an empty string when the invariant holds, else what broke it. `picks` are server indexes.

// Roundrobin over one run of `picks` among `weights` (0: not in the run's set). `fresh`: the run started
// with a fresh balancer; `total_weight`: every server's weight, up or not (Wall).
std::string check_round_robin_run(const std::vector<std::size_t>& picks, const std::vector<int>& weights,
                                  bool fresh, int total_weight);
// Leastconn: `picked` among `servers` (loads before the pick).
std::string check_least_conn_pick(const std::vector<proxy::ServerLoad>& servers, std::size_t picked);

}  // namespace metalgate::check
