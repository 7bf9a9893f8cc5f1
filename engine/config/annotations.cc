#include "engine/config/annotations.h"

#include <array>

namespace metalgate::config {

namespace {
constexpr std::uint8_t C = kConfigMap, I = kIngress, S = kService;
constexpr auto kReal = AnnotationOrigin::kController;
constexpr auto kSeed = AnnotationOrigin::kSeedExtension;

// Real names and scopes from the HAProxy Kubernetes Ingress controller's annotation reference. Where
// metalgate reads a real annotation in more places than the controller does (the seed puts timeout-client and
// cookie-persistence on an Ingress), metalgate_scopes is wider; validate notes the difference. Settings of
// the whole frontend (maxconn, request-buffer-size, timeout-http-request, timeout-http-keep-alive) apply
// before a request is routed, so an Ingress cannot set them: their metalgate scope is the ConfigMap. A
// route's settings (forwarded-for, compression) are read per Ingress, not per Service. The scopes are where
// the code looks each name up: AnnotationTable.EveryActedOnNameIsReadInExactlyTheScopesTheTableGives checks
// them.
constexpr std::array kAnnotations = {
    AnnotationSpec{"allow-list", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"auth-realm", C | I, C | I, "Protected Content", kReal, ""},
    AnnotationSpec{"auth-secret", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"auth-type", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"backend-config-snippet", C | I | S, C | I | S, "", kReal, ""},
    AnnotationSpec{"blacklist", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"check", C | I | S, C | I | S, "true", kReal, ""},
    AnnotationSpec{"check-http", C | I | S, C | I | S, "", kReal, ""},
    AnnotationSpec{"check-interval", C | I | S, C | I | S, "2s", kReal, ""},
    AnnotationSpec{"clean-certs", C, C, "true", kReal, "", "metalgate keeps no certificate files to clean"},
    AnnotationSpec{"client-ca", C, C, "", kReal, "",
                   "clients are not asked for certificates (no mutual TLS)"},
    AnnotationSpec{"client-crt-optional", C, C, "false", kReal, "",
                   "clients are not asked for certificates (no mutual TLS)"},
    AnnotationSpec{"client-strict-sni", C, C, "false", kReal, "",
                   "a client with an unknown SNI name gets the default certificate"},
    AnnotationSpec{"cookie-persistence", C | S, C | I | S, "", kReal, ""},
    AnnotationSpec{"cookie-persistence-no-dynamic", C | S, C | I | S, "", kReal, "",
                   "cookie values are the server names, as with it set"},
    AnnotationSpec{"cors-allow-credentials", C | I, C | I, "false", kReal, ""},
    AnnotationSpec{"cors-allow-headers", C | I, C | I, "*", kReal, ""},
    AnnotationSpec{"cors-allow-methods", C | I, C | I, "*", kReal, ""},
    AnnotationSpec{"cors-allow-origin", C | I, C | I, "*", kReal, ""},
    AnnotationSpec{"cors-enable", C | I, C | I, "false", kReal, ""},
    AnnotationSpec{"cors-max-age", C | I, C | I, "5s", kReal, ""},
    // In the controller's code (resSetCORS.go), not in its documentation: OPTIONS answered 204 by the proxy.
    AnnotationSpec{"cors-respond-to-options", C | I, C | I, "false", kReal, ""},
    AnnotationSpec{"deny-list", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"dontlognull", C, C, "true", kReal, "",
                   "connections without a request are not logged anyway"},
    AnnotationSpec{"forwarded-for", C | I | S, C | I, "true", kReal, ""},
    AnnotationSpec{"frontend-config-snippet", C, C, "", kReal, "",
                   "HAProxy configuration lines are not interpreted"},
    AnnotationSpec{"generate-certificates-signer", C, C, "", kReal, "", "no certificates are generated"},
    AnnotationSpec{"global-config-snippet", C, C, "", kReal, ""},
    AnnotationSpec{"hard-stop-after", C, C, "30m", kReal, "",
                   "a reload's old connections run until they end"},
    AnnotationSpec{"http-connection-mode", C, C, "http-keep-alive", kReal, "",
                   "connections are kept alive (http-keep-alive)"},
    AnnotationSpec{"http-keep-alive", C, C, "true", kReal, "", "connections are kept alive"},
    AnnotationSpec{"http-server-close", C, C, "false", kReal, "", "connections are kept alive"},
    AnnotationSpec{"load-balance", C | I | S, C | I | S, "roundrobin", kReal, ""},
    AnnotationSpec{"log-format", C, C, "", kReal, "", "access lines use HAProxy's default HTTP log format"},
    AnnotationSpec{"log-format-tcp", C, C, "", kReal, "", "TCP lines use HAProxy's default TCP log format"},
    AnnotationSpec{"logasap", C, C, "false", kReal, "", "a request is logged when it ends"},
    AnnotationSpec{"maxconn", C, C, "", kReal, ""},
    AnnotationSpec{"nbthread", C, C, "", kReal, ""},
    AnnotationSpec{"path-rewrite", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"pod-maxconn", C | I | S, C | I | S, "", kReal, ""},
    AnnotationSpec{"proxy-protocol", C, C, "", kReal, ""},
    AnnotationSpec{"quic-alt-svc-max-age", C, C, "", kReal, "", "metalgate offers no QUIC"},
    AnnotationSpec{"rate-limit-period", C | I, C | I, "1s", kReal, ""},
    AnnotationSpec{"rate-limit-requests", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"rate-limit-size", C | I, C | I, "100k", kReal, "", "rate tables have no size limit"},
    AnnotationSpec{"rate-limit-status-code", C | I, C | I, "403", kReal, ""},
    AnnotationSpec{"rate-limit-whitelist", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"request-capture", C | I, C | I, "", kReal, "", "no headers are captured in the log"},
    AnnotationSpec{"request-capture-len", C | I, C | I, "128", kReal, "",
                   "no headers are captured in the log"},
    AnnotationSpec{"request-redirect", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"request-redirect-code", C | I, C | I, "302", kReal, ""},
    AnnotationSpec{"request-set-header", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"response-set-header", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"route-acl", S, S, "", kReal, "", "routes are the Ingress rules only"},
    AnnotationSpec{"scale-server-slots", C | I | S, C | I | S, "42", kReal, "",
                   "a backend has exactly its endpoints' servers"},
    AnnotationSpec{"send-proxy-protocol", C | I | S, C | I | S, "", kReal, "", "servers get no PROXY header"},
    AnnotationSpec{"server-ca", C | I | S, C | I | S, "", kReal, ""},
    AnnotationSpec{"server-crt", C | I | S, C | I | S, "", kReal, ""},
    AnnotationSpec{"server-proto", C | I | S, C | I | S, "", kReal, ""},
    AnnotationSpec{"server-ssl", C | I | S, C | I | S, "false", kReal, ""},
    AnnotationSpec{"set-host", C | I, C | I, "", kReal, ""},
    AnnotationSpec{"src-ip-header", C | I, C | I, "", kReal, "", "the client address is the connection's"},
    AnnotationSpec{"ssl-certificate", C, C, "", kReal, "",
                   "the default certificate is the first TLS Secret's"},
    // The controller's reference lists Service too; its code (pkg/ingress/ingress.go) reads the Ingress and
    // the ConfigMap only, and so does metalgate.
    AnnotationSpec{"ssl-passthrough", C | I | S, C | I, "false", kReal, ""},
    AnnotationSpec{"ssl-redirect", C | I, C | I, "false", kReal, ""},
    AnnotationSpec{"ssl-redirect-code", C | I, C | I, "302", kReal, ""},
    AnnotationSpec{"ssl-redirect-port", C | I, C | I, "8443", kReal, ""},
    AnnotationSpec{"standalone-backend", I | S, I | S, "", kReal, "",
                   "Ingresses that share a Service port share its backend"},
    AnnotationSpec{"stats-config-snippet", C, C, "", kReal, "",
                   "HAProxy configuration lines are not interpreted"},
    AnnotationSpec{"syslog-server", C, C, "address:127.0.0.1, facility: local0, level: notice", kReal, "",
                   "access lines go to serve --access-log"},
    AnnotationSpec{"timeout-check", C | I | S, C | I | S, "", kReal, ""},
    AnnotationSpec{"timeout-client", C, C | I, "50s", kReal, ""},
    AnnotationSpec{"timeout-client-fin", C, C, "", kReal, "",
                   "timeout-client applies after a client's FIN too"},
    AnnotationSpec{"timeout-connect", C, C | I | S, "5s", kReal, ""},
    AnnotationSpec{"timeout-http-keep-alive", C, C, "1m", kReal, ""},
    AnnotationSpec{"timeout-http-request", C, C, "5s", kReal, ""},
    AnnotationSpec{"timeout-queue", C, C | I | S, "5s", kReal, ""},
    AnnotationSpec{"timeout-server", C | I | S, C | I | S, "50s", kReal, ""},
    AnnotationSpec{"timeout-server-fin", C, C, "", kReal, "",
                   "timeout-server applies after a server's FIN too"},
    AnnotationSpec{"timeout-tunnel", C, C | I | S, "1h", kReal, ""},
    AnnotationSpec{"tls-alpn", C, C, "h2,http/1.1", kReal, ""},
    AnnotationSpec{"whitelist", C | I, C | I, "", kReal, ""},
    // Names the seed tutorial uses that the real controller does not have.
    AnnotationSpec{"access-log", 0, C | I, "true", kSeed,
                   "ConfigMap syslog-server (and Helm controller.logging.traffic)"},
    AnnotationSpec{"backend-check-interval", 0, C | I | S, "2s", kSeed, "check-interval"},
    AnnotationSpec{"check-fall", 0, C | I | S, "3", kSeed, "backend-config-snippet: default-server fall N"},
    AnnotationSpec{"check-rise", 0, C | I | S, "2", kSeed, "backend-config-snippet: default-server rise N"},
    AnnotationSpec{"compression-algo", 0, C | I, "gzip", kSeed,
                   "backend-config-snippet: compression algo gzip"},
    AnnotationSpec{"compression-type", 0, C | I, "text/html text/plain text/css application/javascript",
                   kSeed, "backend-config-snippet: compression type ..."},
    AnnotationSpec{"cookie-indirect", 0, C | I | S, "true", kSeed,
                   "implied: cookie-persistence always inserts 'indirect nocache'"},
    AnnotationSpec{"cookie-nocache", 0, C | I | S, "true", kSeed,
                   "implied: cookie-persistence always inserts 'indirect nocache'"},
    AnnotationSpec{"headers", 0, C | I, "", kSeed, "response-set-header"},
    AnnotationSpec{"health-check-fall", 0, C | I | S, "3", kSeed,
                   "backend-config-snippet: default-server fall N"},
    AnnotationSpec{"health-check-rise", 0, C | I | S, "2", kSeed,
                   "backend-config-snippet: default-server rise N"},
    AnnotationSpec{"hsts", 0, C | I, "false", kSeed, "response-set-header: Strict-Transport-Security ..."},
    AnnotationSpec{"hsts-include-subdomains", 0, C | I, "false", kSeed,
                   "response-set-header: Strict-Transport-Security ...; includeSubDomains"},
    AnnotationSpec{"hsts-max-age", 0, C | I, "15768000", kSeed,
                   "response-set-header: Strict-Transport-Security max-age=N"},
    AnnotationSpec{"hsts-preload", 0, C | I, "false", kSeed,
                   "response-set-header: Strict-Transport-Security ...; preload"},
    AnnotationSpec{"http-reuse", 0, C | I | S, "safe", kSeed, "backend-config-snippet: http-reuse safe"},
    AnnotationSpec{"request-buffer-size", 0, C, "16384", kSeed, "global-config-snippet: tune.bufsize N"},
    AnnotationSpec{"response-compress", 0, C | I, "false", kSeed,
                   "backend-config-snippet: compression algo gzip"},
    AnnotationSpec{"ssl-options", 0, C, "no-sslv3 no-tlsv10 no-tlsv11", kSeed,
                   "global-config-snippet: ssl-default-bind-options ..."},
    // metalgate's UDP services (the HAProxy controller has none).
    AnnotationSpec{"udp-check", 0, C | S, "", kSeed, "none: the HAProxy controller has no UDP services"},
    AnnotationSpec{"udp-idle-timeout", 0, C | S, "30s", kSeed,
                   "none: the HAProxy controller has no UDP services"},
    AnnotationSpec{"udp-max-flows", 0, C | S, "65536", kSeed,
                   "none: the HAProxy controller has no UDP services"},
};
}  // namespace

std::span<const AnnotationSpec> haproxy_annotations() {
  return kAnnotations;
}

const AnnotationSpec* find_haproxy_annotation(std::string_view name) {
  for (const auto& a : kAnnotations)
    if (a.name == name) return &a;
  return nullptr;
}

std::vector<std::string_view> haproxy_annotation_names() {
  std::vector<std::string_view> out;
  for (const auto& a : kAnnotations)
    out.push_back(a.name);
  return out;
}

std::optional<std::string_view> haproxy_annotation_name(std::string_view key) {
  for (std::string_view prefix : {"haproxy.org/", "haproxy.com/", "ingress.kubernetes.io/"})
    if (key.starts_with(prefix)) return key.substr(prefix.size());
  return std::nullopt;
}

std::optional<MetalLbAnnotationMatch> metallb_annotation(std::string_view key) {
  MetalLbAnnotationMatch m;
  if (key.starts_with("metallb.io/")) {
    m.name = key.substr(11);
  } else if (key.starts_with("metallb.universe.tf/")) {
    m.name = key.substr(20);
    m.legacy_prefix = true;
  } else {
    return std::nullopt;
  }
  if (m.name == "address-pool") m.which = MetalLbAnnotation::kAddressPool;
  if (m.name == "loadBalancerIPs") m.which = MetalLbAnnotation::kLoadBalancerIps;
  if (m.name == "allow-shared-ip") m.which = MetalLbAnnotation::kAllowSharedIp;
  if (m.name == "ip-allocated-from-pool") m.which = MetalLbAnnotation::kIpAllocatedFromPool;
  return m;
}

std::vector<std::string_view> metallb_annotation_names() {
  return {"address-pool", "loadBalancerIPs", "allow-shared-ip", "ip-allocated-from-pool"};
}

std::string scope_names(std::uint8_t scopes) {
  std::string s;
  auto add = [&](std::string_view n) {
    if (!s.empty()) s += ", ";
    s += n;
  };
  if (scopes & kConfigMap) add("ConfigMap");
  if (scopes & kIngress) add("Ingress");
  if (scopes & kService) add("Service");
  return s.empty() ? "nowhere" : s;
}

}  // namespace metalgate::config
