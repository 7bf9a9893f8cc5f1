#include "check/properties/properties.h"

#include <set>

#include <nlohmann/json.hpp>

#include "check/reference/ingress_rules.h"

namespace metalgate::check {

namespace {

// Per Host and path the case's HTTP clients ask for (through the controller's HTTP or HTTPS port), the pods
// the reference of the Ingress rules allows: one answered_by each, as JSON (which YAML reads). Nothing need
// be answered: a case may deny a Host everything (a client at its rate limit, measured in docs/checking.md)
// or keep a client's target down for its whole run; liveness is vip_liveness's question.
std::vector<std::string> routing(const Base& base, const Case& c) {
  std::vector<std::string> out;
  const ReferenceRouting reference{base.model->manifests, base.model->ingresses, base.scenario};
  std::set<std::pair<std::string, std::string>> asked;
  for (const auto& cc : c.clients) {
    const auto& client = base.scenario.clients.at(cc.base_index);
    if (client.udp || client.port != (client.https ? 443 : 80)) continue;
    if (client.mix.empty()) asked.emplace(client.host, client.path);
    for (const auto& m : client.mix)
      asked.emplace(m.host, m.path);
  }
  for (const auto& [host, path] : asked) {
    const auto pods = reference.pods_for(host, path.substr(0, path.find('?')));
    out.push_back("answered_by: " +
                  nlohmann::json{{"host", host}, {"path", path}, {"pods", pods}, {"min_answers", 0}}.dump());
  }
  return out;
}

}  // namespace

const std::vector<Property>& properties() {
  static const std::vector<Property> table = {
      {"vip_safety", "once settled, no two nodes on one side of the LAN claim a VIP",
       [](const Base&, const Case&) { return std::vector<std::string>{"single_owner: {}"}; }},
      {"vip_liveness", "once the faults are over, the VIP has one owner and every request is answered",
       [](const Base&, const Case&) {
         return std::vector<std::string>{"recovers: {within: " + std::to_string(kRecoveryWithinMs) + "ms}"};
       }},
      {"routing",
       "every answer to a Host and path comes from a pod that an independent reference of the Ingress rules "
       "allows",
       routing},
      {"test_every_request_succeeds",
       "every request gets a 2xx or 3xx: false in most cases (a fault, a rate limit's 403), here to prove "
       "that check finds a failure, shrinks it and writes a file that replays it",
       [](const Base&, const Case&) { return std::vector<std::string>{"success_ratio: {min: 1}"}; }, true},
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
