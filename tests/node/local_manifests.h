// Manifests the node tests share (in-memory and ns-3 worlds): an address pool, the ingress controller's Service
// (externalTrafficPolicy: Local) and a database Service whose traffic policy and endpoint node a test picks.
#pragma once

#include <string>

namespace metalgate::node::testing {

// An address pool 192.168.1.240-250 and its L2Advertisement.
inline constexpr const char* kPool = R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec: {addresses: [192.168.1.240-192.168.1.250]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec: {ipAddressPools: [pool]}
)";

inline std::string manifests(const std::string& db_policy, const std::string& db_node) {
  return std::string(kPool) + R"(---
apiVersion: v1
kind: Service
metadata: {name: haproxy-ingress-kubernetes-ingress, namespace: haproxy-ingress}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app.kubernetes.io/name: kubernetes-ingress}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  type: LoadBalancer
  externalTrafficPolicy: )" +
         db_policy + R"(
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: db, namespace: default}
subsets:
- addresses: [{ip: 10.0.0.5, nodeName: )" +
         db_node + R"(}]
  ports: [{name: pg, port: 5432}]
)";
}

}  // namespace metalgate::node::testing
