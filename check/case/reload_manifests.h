// What a generated reload reads besides the base's manifests. The valid addition is an Ingress for a host no
// client asks (reload.metalgate-check.example), of the class and namespace of the first Ingress the
// controller serves and routed to that Ingress's first Service: the reload replaces every proxy (as any valid
// one does) and changes no route a client uses, so the routing reference of the base still holds. Without a
// served Ingress it is a ConfigMap nobody reads. The invalid addition is the same Ingress with a pathType
// Kubernetes does not have, an error at its field, so the reload is refused and must change nothing; before
// that rule it sends the first Host and path a client asks (Exact) to a Service that does not exist, so that
// a reload applied despite its errors shows as 503s.
#pragma once

#include <string>

#include "check/case/base.h"

namespace metalgate::check {

std::string reload_addition(const Base& base, bool valid);

// Writes DIR/valid.yaml and DIR/invalid.yaml and names DIR in base.reload_dir (generated cases then draw
// reload episodes). False, with why in `error`, when DIR cannot be written.
bool write_reload_manifests(Base& base, const std::string& dir, std::string& error);

}  // namespace metalgate::check
