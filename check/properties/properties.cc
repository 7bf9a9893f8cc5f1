#include "check/properties/properties.h"

#include "check/case/case-t.h"

namespace metalgate::check {

const std::vector<Property>& properties() {
  static const std::vector<Property> table = {
      {"vip_safety", "once settled, no two nodes on one side of the LAN claim a VIP", {"single_owner: {}"}},
      {"vip_liveness",
       "once the faults are over, the VIP has one owner and every request is answered",
       {"recovers: {within: " + std::to_string(kRecoveryWithinMs) + "ms}"}},
      {"routing",
       "every answer comes from a pod of the scenario's backends, and there are answers",
       {"routed_to_allowed_backend: {}"}},
      {"test_every_request_succeeds",
       "every request gets a 2xx or 3xx: false in most cases (a fault, a rate limit's 403), here to prove "
       "that check finds a failure, shrinks it and writes a file that replays it",
       {"success_ratio: {min: 1}"},
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
