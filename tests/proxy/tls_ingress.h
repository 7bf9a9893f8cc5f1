// The HTTP/2 tests' proxy: one Ingress for app.example.com over TLS, in front of ProxyWorld's backends.
#pragma once

#include <string>

#include "tests/proxy/proxy_world.h"
#include "tests/tls/test_certificates.h"
#include "tests/tls/tls_pod.h"

namespace metalgate::proxy::testing {

// Starts `w` with one Ingress for app.example.com over TLS (a fresh certificate, returned); `annotations`:
// lines to add under the Ingress's metadata.annotations ("    haproxy.org/...: ...\n" each).
inline tls::testing::TestCertificate start_tls_ingress(ProxyWorld& w, const std::string& annotations = "") {
  auto cert = tls::testing::make_certificate({"app.example.com"});
  w.start(R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: default
  annotations:
)" + (annotations.empty() ? std::string("    {}\n") : annotations) +
              R"(spec:
  ingressClassName: haproxy
  tls: [{hosts: [app.example.com], secretName: app-tls}]
  rules:
  - host: app.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
)",
          {}, tls::testing::secret_yaml("app-tls", cert, true, "kubernetes.io/tls"));
  return cert;
}

}  // namespace metalgate::proxy::testing
