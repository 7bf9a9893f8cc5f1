// What the HTTP proxy runs from: frontends, backends with their servers and policies, and per-Ingress route
// policies, all resolved from the Model and the HAProxy annotations (proxy_config.h builds it). Types only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/config/diagnostics.h"
#include "engine/http/message-t.h"
#include "engine/model/model-t.h"
#include "engine/net/ip_address.h"
#include "engine/routing/route_table.h"
#include "engine/runtime/time.h"
#include "engine/tls/tls_stream.h"

namespace metalgate::proxy {

using std::chrono::milliseconds;

class BasicAuth;    // basic_auth.h
class Cors;         // cors.h
class PathRewrite;  // path_rewrite.h

enum class Balance : std::uint8_t { kRoundRobin, kLeastConn, kSource };
std::string_view to_string(Balance b);

// HAProxy's `http-reuse`: which requests may go on an idle server connection that another request used.
enum class HttpReuse : std::uint8_t {
  kNever,       // none: a session keeps its own connection between its requests, closed when it ends
  kSafe,        // a session's later requests; never its first (its client could not retry it)
  // Any request. HAProxy's aggressive takes only connections that carried a request before, and always any
  // idle one; the pool holds none other (a connection is parked after an exchange), so both act alike.
  kAggressive,
  kAlways,
};

// The controller's timeouts (its defaults, not HAProxy's bare ones).
struct Timeouts {
  milliseconds connect{5000};
  int connect_retries = 3;
  milliseconds client{50000};
  milliseconds server{50000};
  milliseconds http_request{5000};
  milliseconds http_keep_alive{60000};
  milliseconds queue{5000};
  milliseconds tunnel{3600000};
};

struct HealthCheck {
  bool enabled = true;  // `check`
  // The checks start with the first connection or datagram to the backend, not with the proxy. Set for the
  // Services a node forwards as kube-proxy would (l4::forwarding_only): every node probing every Service's
  // pods made a 64-node LAN with 1,000 Services run about 190,000 checks every 2 s, and the simulator more
  // than 50 times slower; a forwarder probes the pods of the Services whose traffic reaches it.
  bool on_demand = false;
  bool http = false;    // `check-http` given
  bool udp = false;     // a UDP probe (udp-check): send `udp_send`; a reply starting with `udp_expect` passes
  std::string udp_send;
  std::string udp_expect;
  std::string method = "GET";
  std::string uri = "/";
  milliseconds interval{2000};          // `check-interval`
  std::optional<milliseconds> timeout;  // `timeout-check`; HAProxy uses `inter` when unset
  int rise = 2;
  int fall = 3;
  std::optional<std::uint16_t> port;  // checks another port than the server's (a readiness probe's)
};

struct CookiePersistence {
  std::string name;
  bool indirect = true;  // strip the cookie before the request reaches the server
  bool nocache = true;   // Cache-Control: private on responses that set it
};

struct ServerConfig {
  std::string name;  // the pod, "SRV_1" style names when the endpoint has none
  net::SocketAddress address;
  int weight = 1;
  int maxconn = 0;  // 0: no limit
  std::string node;   // where the endpoint runs, when known (externalTrafficPolicy: Local picks by it)
  bool ready = true;  // false: serving while terminating, used only when no endpoint is ready (kube-proxy)
};

struct HeaderSetting {
  std::string name;
  std::string value;
};

struct Compression {
  bool enabled = false;
  std::vector<std::string> types{"text/html", "text/plain", "text/css", "application/javascript"};
};

struct Hsts {
  bool enabled = false;
  std::int64_t max_age = 15768000;
  bool include_subdomains = false;
  bool preload = false;
  std::string header_value() const;
};

struct RateLimit {
  std::uint32_t requests = 0;  // 0: off
  milliseconds period{1000};
  int status = 403;
  std::vector<net::Cidr> whitelist;
};

// request-redirect: every request of the route answered with a redirect to the same URI on another host.
struct RequestRedirect {
  std::string scheme = "http";  // "https" when the annotation's value starts with https://
  std::string authority;        // host[:port]
  int code = 302;               // request-redirect-code
};

// What a route's Ingress asks for, applied after routing (HAProxy applies these per Ingress rule), in the
// controller's rule order: allow/deny lists, rate counting, basic auth, the rate limit, ssl-redirect,
// request-redirect; then, on the forwarded request, headers, set-host and path-rewrite; then the CORS
// preflight answer. CORS response headers go on every answer once the route is known.
struct RoutePolicy {
  std::string ingress;  // "namespace/name"; empty for the built-in default
  std::vector<net::Cidr> allow_list;
  std::vector<net::Cidr> deny_list;
  RateLimit rate_limit;
  std::uint32_t rate_table = 0;  // which rate table counts its requests (one per distinct period)
  bool ssl_redirect = false;
  int ssl_redirect_code = 302;
  std::optional<std::uint16_t> ssl_redirect_port;  // unset: the HTTPS frontend's port
  Hsts hsts;
  std::vector<HeaderSetting> request_set_headers;
  std::vector<HeaderSetting> response_set_headers;
  std::optional<std::string> set_host;
  bool forwarded_for = true;
  Compression compression;
  bool access_log = true;
  std::optional<milliseconds> client_timeout;  // Ingress timeout-client
  // auth-type basic-auth: requests without a listed user's credentials get 401. Null: the route is open.
  std::shared_ptr<const BasicAuth> basic_auth;
  std::optional<RequestRedirect> request_redirect;
  std::vector<std::shared_ptr<const PathRewrite>> path_rewrites;  // applied in order to the forwarded path
  // cors-enable: the CORS headers and preflight answer (cors.h); null: none.
  std::shared_ptr<const Cors> cors;
};

// TLS to a backend's servers (server-ssl, server-ca, server-crt), as the controller writes `ssl verify none`
// or `ssl verify required ca-file …` and `crt …` on its servers. Health checks use it too (HAProxy's checks
// follow the server's `ssl`).
struct ServerTls {
  std::string ca_pem;  // server-ca: verify the server's chain against it (no host name check, as HAProxy's
                       // `verify required` without `verifyhost`); empty: not verified (`verify none`)
  std::string certificate_pem, private_key_pem;  // server-crt: the client certificate, for mutual TLS
};

// What the proxy speaks to a backend's servers (server-proto).
enum class ServerProtocol : std::uint8_t {
  kHttp1,  // HTTP/1.1, one request at a time per connection
  kHttp2,  // server-proto h2: HTTP/2 (h2c over TCP, or ALPN h2 with server-ssl), requests as streams
};

struct BackendConfig {
  std::string name;  // HAProxy controller style: "default_web-app_80"
  std::vector<ServerConfig> servers;
  std::optional<ServerTls> tls;  // unset: plain TCP to the servers
  ServerProtocol protocol = ServerProtocol::kHttp1;
  Balance balance = Balance::kRoundRobin;
  HealthCheck check;
  Timeouts timeouts;  // connect, server, queue, tunnel (the client side's: ProxyConfig::frontend_timeouts)
  std::optional<CookiePersistence> cookie;
  HttpReuse http_reuse = HttpReuse::kSafe;
  std::string problem;  // why it has no servers
};

struct TlsCertificate {
  std::vector<std::string> hosts;  // SNI names it serves ("*.example.com" allowed); empty: the default
  std::string certificate_pem;
  std::string private_key_pem;
  std::string source;  // "Secret default/app-tls-secret"
};

struct TlsSettings {
  std::vector<TlsCertificate> certificates;  // the first one is the default
  tls::Offer offer;  // ssl-options and global-config-snippet's ssl-default-bind-* lines
  // ALPN on HTTPS frontends, in order of preference (tls-alpn; HAProxy's controller offers h2 first).
  std::vector<std::string> alpn{"h2", "http/1.1"};
};

struct Frontend {
  std::string name;  // "http" / "https"
  net::SocketAddress bind;
  bool tls = false;
};

// A TCP or UDP service: a port of the controller's TCP/UDP services ConfigMaps (on the controller's addresses),
// or a port of another LoadBalancer Service on one of its own addresses (kube-proxy's part).
struct L4ServiceConfig {
  std::string name;  // "tcp-5432" / "udp-53", as the controller names its frontends; "default_pg_tcp_5432"
  // The LoadBalancer Service whose own port this is ("namespace/name"); empty for a ConfigMap's port. Such a
  // port follows kube-proxy: servers ready on this node (l4/forwarding.h), refused when it has none.
  std::string service;
  bool local_only = false;                         // externalTrafficPolicy: Local
  std::optional<milliseconds> client_ip_affinity;  // sessionAffinity: ClientIP and its timeout
  bool udp = false;
  net::SocketAddress bind;
  bool ssl = false;  // TLS offload (the ":ssl" suffix): the default certificate terminates TLS
  BackendConfig backend;
  milliseconds udp_idle_timeout{30000};
  std::size_t udp_max_flows = 65536;
};

// The values' `stats` and `metrics` sections: where the stats page (with `;csv` and /metrics) and the
// metrics endpoint listen, on the frontends' addresses, and the stats page's basic auth (`stats.auth`).
struct MonitorConfig {
  std::vector<net::SocketAddress> stats;    // empty: stats.enabled is false
  std::vector<net::SocketAddress> metrics;  // empty: metrics.enabled is false, or the stats port serves it
  std::optional<std::string> user, password;
  bool operator==(const MonitorConfig&) const = default;
};

struct ProxyConfig {
  std::vector<Frontend> frontends;
  MonitorConfig monitor;
  std::vector<BackendConfig> backends;                                    // indexed like Model::backends
  std::vector<RoutePolicy> policies;                                      // [0] is the default (no Ingress)
  std::unordered_map<const routing::Route*, std::uint32_t> route_policy;  // route -> policies index
  std::vector<milliseconds> rate_periods;  // one rate table per distinct period
  // The Model the routes live in (route_policy keys point into its route table); shared so that a running
  // proxy keeps the configuration it serves alive across reloads.
  std::shared_ptr<const model::Model> model;
  std::optional<std::uint32_t> default_backend;
  Timeouts frontend_timeouts;  // client, http-request, http-keep-alive from the ConfigMap
  http::Limits limits;
  TlsSettings tls;
  std::uint16_t https_port = 443;
  std::size_t maxconn = 0;  // global cap on client connections (0: none)
  int nbthread = 1;         // event loops of a live proxy (the simulator runs one per node)
  bool access_log = false;  // ConfigMap-level: log every request (Ingress access-log adds per route)
  // proxy-protocol (ConfigMap): connections from these sources to the HTTP and HTTPS frontends must start
  // with a PROXY protocol header (v1 or v2), whose source address is then the client's.
  std::vector<net::Cidr> proxy_protocol_sources;
  std::vector<L4ServiceConfig> l4_services;
  // ssl-passthrough (ssl_passthrough.h): an HTTPS connection whose SNI is one of these hosts ("shop.example.com",
  // "*.example.com") goes, still encrypted, to passthrough_services[index] (one per Service port; no listener).
  std::map<std::string, std::size_t, std::less<>> passthrough_hosts;
  std::vector<L4ServiceConfig> passthrough_services;
};

}  // namespace metalgate::proxy
