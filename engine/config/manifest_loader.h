// Reads Kubernetes manifests (multi-document YAML files, directories of them, or inline text) and the ingress
// controller's Helm values files into a ManifestSet. Every problem is reported with file:line:column and
// field path, all at once; callers must not act on a set whose Diagnostics has errors (nothing is
// half-applied).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/config/diagnostics.h"
#include "engine/config/manifest-t.h"

namespace metalgate::config {

// Where the Helm chart's objects live when built from values files (the tutorial installs the release
// "haproxy-ingress" into the namespace "haproxy-ingress"; the chart names its objects
// "<release>-kubernetes-ingress").
inline constexpr std::string_view kControllerNamespace = "haproxy-ingress";
inline constexpr std::string_view kControllerName = "haproxy-ingress-kubernetes-ingress";

// Files are read in the order given; a directory contributes its *.yaml and *.yml files, recursively, sorted
// by path (so values files named 10-…, 20-… merge in that order, as `helm -f a -f b` would).
ManifestSet load_manifest_paths(const std::vector<std::string>& paths, Diagnostics& diagnostics);

// Reads one YAML text of one or more documents as the file `file_name` (used for inline scenario manifests).
void load_manifest_text(std::string_view text, const std::string& file_name, ManifestSet& set,
                        Diagnostics& diagnostics);

// Checks across objects (duplicates, overlapping pools) and builds the controller's own objects from the Helm
// values. load_manifest_paths calls it; callers of load_manifest_text call it once after the last text.
void finish_manifest_set(ManifestSet& set, Diagnostics& diagnostics);

// True for the LoadBalancer Service in front of the ingress controller's pods.
bool is_controller_service(const Service& service, const ManifestSet& set);

}  // namespace metalgate::config
