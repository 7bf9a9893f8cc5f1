// The syntax Kubernetes requires of names, label keys and values, ConfigMap keys and port names, as the API
// server checks it (k8s.io/apimachinery/pkg/util/validation). Each check returns the first problem in the
// API server's own words, or an empty string when the text is valid.
#pragma once

#include <string>
#include <string_view>

namespace metalgate::config {

// [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters: namespaces, port names, hostnames.
std::string check_dns1123_label(std::string_view s);
// Dot-separated lower-case labels, at most 253 characters in all: most object names, hosts.
std::string check_dns1123_subdomain(std::string_view s);
// "*." followed by a DNS-1123 subdomain: wildcard Ingress hosts.
std::string check_wildcard_dns1123_subdomain(std::string_view s);
// [a-z]([-a-z0-9]*[a-z0-9])?, at most 63 characters: Service names and the Services an Ingress names.
std::string check_dns1035_label(std::string_view s);
// An optional DNS-1123 subdomain prefix and '/', then a name of at most 63 characters: label and annotation
// keys, loadBalancerClass, appProtocol.
std::string check_qualified_name(std::string_view s);
// Empty, or at most 63 alphanumerics, '-', '_' and '.', starting and ending alphanumeric.
std::string check_label_value(std::string_view s);
// [-._a-zA-Z0-9]+, at most 253 characters, not "." or "..", not starting with "..": ConfigMap and Secret
// keys.
std::string check_config_map_key(std::string_view s);
// IANA service names, which named ports (targetPort, an Ingress backend's port.name) must be.
std::string check_iana_port_name(std::string_view s);
// "<DNS-1123 subdomain>/<path>": an IngressClass's spec.controller.
std::string check_domain_prefixed_path(std::string_view s);

inline bool is_dns1123_subdomain(std::string_view s) {
  return check_dns1123_subdomain(s).empty();
}
inline bool is_iana_port_name(std::string_view s) {
  return check_iana_port_name(s).empty();
}

}  // namespace metalgate::config
