// Reads a scenario file. Unknown keys, bad values and dangling names are errors with file:line:column and the
// field path; nothing runs on a scenario with errors.
#pragma once

#include <map>
#include <set>
#include <string>

#include "engine/config/diagnostics.h"
#include "engine/node/node.h"
#include "scenario/schema/scenario-t.h"

namespace metalgate::scenario {

Scenario load_scenario(const std::string& path, config::Diagnostics& diagnostics);
// The same from a document in memory (a scenario built in code): `path` names it in diagnostics, and the
// manifests it lists are found relative to `path`'s directory, as for a file there.
Scenario load_scenario_text(const std::string& text, const std::string& path,
                            config::Diagnostics& diagnostics);

// The pod that runs the `index`-th replica of `backend`'s Deployment: "<deployment name>-<index>".
std::string pod_name(const ScenarioBackend& backend, std::size_t index);
// Every backend's pods.
std::set<std::string> pod_names(const Scenario& scenario);
// Every pod's address and the node it runs "on" (the backend's `nodes`; "" when not given): what every world
// places the Deployments' pods with.
std::map<std::string, node::PodPlacement> pod_placement(const Scenario& scenario);
// A host's IPv6 address on a LAN with lan.subnet6: the prefix and the IPv4 address's last byte, its decimal
// digits read as hex (192.168.1.11 in fd00:1::/64: fd00:1::11). Nullopt without lan.subnet6.
std::optional<net::IpAddress> address6_of(const Scenario& scenario, const net::IpAddress& address);

}  // namespace metalgate::scenario
