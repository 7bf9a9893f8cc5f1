// A whole generated base for `metalgate check --generate`: manifests (a MetalLB pool, the ingress controller,
// Deployments and Services, Ingresses with exact and wildcard hosts, every pathType, default backends, a
// tcp-services map) and a base scenario whose clients ask the requests that tell a right router from a
// nearly right one. For users without manifests, and for the mutants (tests/check/mutants/).
#pragma once

#include <cstdint>
#include <string>

namespace metalgate::check {

// Writes DIR/manifests/*.yaml and DIR/base.yaml, drawn from `seed` (the same seed, the same files), and
// returns DIR/base.yaml's path. Other .yaml files in DIR/manifests (an earlier seed's) are removed, so that
// the directory holds this seed's manifests alone. Throws std::runtime_error when a file cannot be written.
//
// The manifests: a pool and its L2Advertisement; the controller's Service and Helm values as the seed's
// (class haproxy); 2-4 apps, each a Deployment of 1-2 pods and its Service; 1-3 Ingresses sharing rules for
// an exact host with the nested prefixes /api and /api/v1, a wildcard host with the prefix /foo/, mostly a
// rule without a host, and sometimes www.example.test and *.api.example.test, with further paths of every
// pathType; an Ingress defaultBackend, the values' defaultBackendService, a tcp-services entry and
// annotations that keep every answer its pod's, each sometimes. No TLS: the seed's certificates name other
// hosts. base.yaml: three nodes with the speaker and the proxy, every app's pods, and one HTTP client whose
// mix asks the requests that tell a right router from a nearly right one (and a TCP client with the map).
std::string write_generated_base(std::uint64_t seed, const std::string& dir);

}  // namespace metalgate::check
