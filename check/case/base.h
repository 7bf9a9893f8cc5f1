// The base of generated cases: the user's scenario, loaded and checked as `metalgate sim` loads it, and its
// document as written. Generation works around it: its manifests, pods and clients (hosts, paths, ports,
// options) stay; the nodes, the clients' mix and rates, the fault history and the expectations are drawn.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "engine/config/diagnostics.h"
#include "engine/model/model-t.h"
#include "engine/net/ip_address.h"
#include "scenario/schema/scenario-t.h"

namespace metalgate::check {

struct Base {
  std::string file;
  scenario::Scenario scenario;
  YAML::Node document;              // the scenario file as written
  std::vector<std::string> pods;    // every backend's pods, in order: backend_crash targets
  std::vector<int> pod_latency_ms;  // each pod's answer time as written (backend_slow undoes to it)
  std::vector<net::IpAddress> spare_addresses;  // free host addresses of the LAN, for nodes past the base's
  int max_nodes = 0;                            // the base's nodes and the spare addresses, at most 16
  // How long after the last fault the system must be whole again (vip_liveness): the failover bound and
  // the slowest health check's way back up (its timeout, then rise checks an interval apart), at least
  // kRecoveryWithinMs. A server DOWN after a partition needs that long, in HAProxy as here.
  int recovery_within_ms = 5000;
  // The manifests as `metalgate validate` resolves them: the objects the routing property's reference reads,
  // and which Ingresses the controller serves.
  std::shared_ptr<const model::Model> model;
  // Where the reload additions are (check/case/reload_manifests.h: valid.yaml, invalid.yaml), absolute;
  // empty: generated cases reload nothing.
  std::string reload_dir;
  // The matchLabels pairs of the L2Advertisements' nodeSelectors (check/reference/announcers.h): the labels
  // cases draw onto their nodes.
  std::vector<std::pair<std::string, std::string>> announce_labels;
};

// Nullopt (and errors in `diagnostics`, with file:line:column) when the scenario does not load, or has no
// client or no node.
std::optional<Base> load_base(const std::string& scenario_file, config::Diagnostics& diagnostics);
// The same from a document in memory, named `path` (check --manifests builds one).
std::optional<Base> load_base_text(const std::string& text, const std::string& path,
                                   config::Diagnostics& diagnostics);

}  // namespace metalgate::check
