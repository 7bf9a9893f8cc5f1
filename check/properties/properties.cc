#include "check/properties/properties.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "check/case/emit.h"
#include "check/properties/allocation.h"
#include "check/properties/balancing.h"
#include "check/properties/health.h"
#include "check/properties/rate_limit.h"
#include "check/reference/announcers.h"
#include "check/reference/ingress_rules.h"

namespace metalgate::check {

namespace {

// A client that sends to the ingress controller's addresses (the default), not another Service's.
bool to_the_controller(const Base& base, const scenario::ScenarioClient& client) {
  const auto* controller = base.model->ingress_controller();
  if (!client.target) return true;
  return controller && std::find(controller->addresses.begin(), controller->addresses.end(),
                                 *client.target) != controller->addresses.end();
}

// Per Host and path the case's clients ask of the controller's VIP, the pods the reference allows: the
// Ingress rules' on its HTTP and HTTPS ports, the tcp-services ConfigMap's on a TCP service port, the
// udp-services ConfigMap's on a UDP one. One
// answered_by each, as JSON (which YAML reads). Nothing need be answered: a case may deny a Host everything
// (a client at its rate limit, measured in docs/checking.md) or keep a client's target down for its whole
// run; liveness is vip_liveness's question.
std::vector<std::string> routing(const Base& base, const Case& c) {
  std::vector<std::string> out;
  const ReferenceRouting reference{base.model->manifests, base.model->ingresses, base.scenario};
  std::map<std::pair<std::string, std::string>, std::set<std::string>> asked;  // (Host, path) → pods
  for (const auto& cc : c.clients) {
    const auto& client = base.scenario.clients.at(cc.base_index);
    if (!to_the_controller(base, client)) continue;
    if (client.udp) {
      // A datagram's record has no Host or path: the UDP maps' pods of every port the case's clients ask.
      if (auto pods = reference.pods_for_udp_port(client.port)) asked[{"", ""}].merge(*pods);
      continue;
    }
    if (client.port != (client.https ? 443 : 80)) {
      // A TCP service port: whatever the request says, the ConfigMap's Service answers.
      if (auto pods = reference.pods_for_tcp_port(client.port))
        asked[{client.host, client.path}].merge(*pods);
      continue;
    }
    // Records carry no port: requests alike on two ports may be answered by the pods of either.
    if (client.mix.empty())
      asked[{client.host, client.path}].merge(reference.pods_for(client.host, client.path));
    for (const auto& m : client.mix)
      asked[{m.host, m.path}].merge(reference.pods_for(m.host, m.path));
  }
  for (const auto& [request, pods] : asked)
    out.push_back(
        "answered_by: " +
        nlohmann::json{{"host", request.first}, {"path", request.second}, {"pods", pods}, {"min_answers", 0}}
            .dump());
  return out;
}

// vip_safety: one owner per side once settled, and only the nodes the reference lets announce the
// controller's VIP (its L2Advertisements' node selectors over the case's labels; proxy nodes for Local).
std::vector<std::string> vip_safety(const Base& base, const Case& c) {
  std::vector<std::string> nodes;
  const auto may = may_announce_controller_vip(base, c);
  for (int i = 0; i < c.nodes; ++i)
    if (may[i]) nodes.push_back(node_name(base, i));
  return {"single_owner: {}", "announced_by: " + nlohmann::json{{"nodes", nodes}}.dump()};
}

// The reload property: the reloads' outcomes (a valid episode reloads twice, an invalid one is refused and
// then reloads the base's manifests), nothing failed or moved, and every route as the base's reference says:
// a valid reload changes no route a client asks for, an invalid one changes nothing.
std::vector<std::string> reload(const Base& base, const Case& c) {
  int accepted = 0, refused = 0;
  for (const auto& e : c.episodes) {
    if (e.kind == EpisodeKind::kReloadValid) accepted += 2;
    if (e.kind == EpisodeKind::kReloadInvalid) ++accepted, ++refused;
  }
  std::vector<std::string> out = {"reloads: " +
                                  nlohmann::json{{"accepted", accepted}, {"refused", refused}}.dump()};
  for (auto& route : routing(base, c))
    out.push_back(std::move(route));
  return out;
}

}  // namespace

const std::vector<Property>& properties() {
  static const std::vector<Property> table = {
      {"vip_safety",
       "once settled, no two nodes on one side of the LAN claim a VIP, and only nodes that may announce it "
       "ever do",
       vip_safety},
      {"vip_liveness",
       "clients follow the VIP's owner within the failover bound; once the faults are over, the VIP has one "
       "owner and every request is answered",
       [](const Base& base, const Case&) {
         return std::vector<std::string>{
             "recovers: {within: " + std::to_string(base.recovery_within_ms) + "ms}",
             "clients_follow_owner: {within: " + std::to_string(kFailoverBoundMs) + "ms}"};
       }},
      {"routing",
       "every answer to a Host and path comes from a pod that an independent reference of the Ingress rules "
       "allows",
       routing},
      {"allocation",
       "every Service's addresses come from its pools, avoid buggy addresses when asked, are shared only as "
       "allow-shared-ip allows, honour requests, and do not depend on document order or unrelated Services",
       nullptr, allocation_property},
      {"balancing",
       "roundrobin gives each up server its share within one, leastconn never picks a busier server, source "
       "and cookie persistence stick while the servers stay",
       nullptr, balancing_property},
      {"health",
       "a failed server stops getting requests after fall checks and gets them again after rise passing ones",
       nullptr, health_property},
      {"rate_limit",
       "a source's requests through one proxy: no period lets more than the limit through, and within half "
       "the limit nothing is denied",
       nullptr, rate_limit_property},
      {"reload",
       "under load, a valid reload fails no request and moves no VIP; an invalid one is refused and changes "
       "no route",
       reload, nullptr, false, FaultMix::kReloadsOnly},
      {"test_every_request_succeeds",
       "every request gets a 2xx or 3xx: false in most cases (a fault, a rate limit's 403), here to prove "
       "that check finds a failure, shrinks it and writes a file that replays it",
       [](const Base&, const Case&) { return std::vector<std::string>{"success_ratio: {min: 1}"}; }, nullptr,
       true},
  };
  return table;
}

const Property* find_property(std::string_view name) {
  for (const auto& p : properties())
    if (p.name == name) return &p;
  return nullptr;
}

std::string property_names() {
  std::string names;
  for (const auto& p : properties())
    names += (names.empty() ? "" : ", ") + std::string(p.name);
  return names;
}

}  // namespace metalgate::check
