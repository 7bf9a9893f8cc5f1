// `metalgate check --manifests DIR`: a base scenario for the user's manifests alone, when they have no
// scenario file. The LAN is the /24 of the ingress controller's address, with three nodes running both the
// speaker and the proxy. Every Deployment the user wrote gets pods at free addresses (at most 4 replicas).
// Every host the controller's Ingresses route gets a client, HTTPS where a certificate is bound, with a mix
// of its paths. Every TCP and UDP service port gets a client too. The generated cases then draw around it as
// around a scenario file, and `check` writes it as base.yaml, for reading and for hand edits.
#pragma once

#include <optional>
#include <string>

#include "engine/config/diagnostics.h"

namespace metalgate::check {

// The scenario document; nullopt (with the manifests' errors in `diagnostics`) when they do not validate or
// give the controller no IPv4 address.
std::optional<std::string> scenario_for_manifests(const std::string& directory,
                                                  config::Diagnostics& diagnostics);

}  // namespace metalgate::check
