// Every HAProxy-controller annotation and ConfigMap key metalgate knows, where it may appear, its default,
// and whether the real HAProxy Kubernetes Ingress controller has it or it is one of the names the seed
// tutorial invented (metalgate implements those as the tutorial describes and names the real controller's
// equivalent). Each name is in one of three states: acted on (where metalgate_scopes says), accepted but not
// acted on (not_acted_on says what happens instead; a warning), or unknown (not in the table; a warning with
// the closest name). The table is the source of truth: docs/configuration.md lists it and a test checks both.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace metalgate::config {

enum Scope : std::uint8_t { kConfigMap = 1, kIngress = 2, kService = 4 };

enum class AnnotationOrigin { kController, kSeedExtension };

struct AnnotationSpec {
  std::string_view name;           // without prefix: "rate-limit-requests"
  std::uint8_t controller_scopes;  // where the real controller reads it (0 for seed extensions)
  std::uint8_t metalgate_scopes;   // where metalgate reads it
  std::string_view default_value;
  AnnotationOrigin origin;
  std::string_view controller_equivalent;  // for seed extensions: how to say it to the real controller
  // Accepted but not acted on: what metalgate does instead (validate and the reload log warn with it). Empty
  // for the names metalgate acts on wherever metalgate_scopes allows them.
  std::string_view not_acted_on = {};
};

std::span<const AnnotationSpec> haproxy_annotations();
const AnnotationSpec* find_haproxy_annotation(std::string_view name);
std::vector<std::string_view> haproxy_annotation_names();

// "haproxy.org/x", "haproxy.com/x" and "ingress.kubernetes.io/x" are one annotation "x"; nullopt for other
// keys.
std::optional<std::string_view> haproxy_annotation_name(std::string_view key);

// MetalLB service annotations, under metallb.io/ or the legacy metallb.universe.tf/.
enum class MetalLbAnnotation { kAddressPool, kLoadBalancerIps, kAllowSharedIp, kIpAllocatedFromPool };
struct MetalLbAnnotationMatch {
  std::optional<MetalLbAnnotation> which;  // nullopt: the prefix is MetalLB's but the name is unknown
  std::string_view name;
  bool legacy_prefix = false;
};
std::optional<MetalLbAnnotationMatch> metallb_annotation(std::string_view key);
std::vector<std::string_view> metallb_annotation_names();

std::string scope_names(std::uint8_t scopes);  // "ConfigMap, Ingress"

}  // namespace metalgate::config
