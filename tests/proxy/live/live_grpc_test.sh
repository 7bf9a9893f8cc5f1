#!/usr/bin/env bash
# gRPC live through server-proto h2: a grpcio service (h2c) behind `metalgate serve --no-speaker` on loopback,
# called by a grpcio client over the proxy's HTTPS frontend (ALPN h2). Unary calls, streams both ways and from
# the server, an error status with its message, a deadline that cancels the call at the server, the proxy's
# request rules on the way; with the service stopped, the client gets UNAVAILABLE. A second service speaks
# gRPC over TLS (server-ssl with server-proto h2: ALPN h2 towards it). Needs no privileges.
set -euo pipefail
metalgate=$1
source "$(dirname "$0")/live_common.sh"
live_common_start metalgate-live-grpc
https_port=$(free_port)
grpc_port=$(free_port)
events="$work/grpc-events.txt"
: > "$events"
/usr/bin/python3 "$here/grpc_echo.py" serve "127.0.0.21:$grpc_port" "$events" > "$work/grpc.log" 2>&1 & pids+=($!)
grpc_pid=$!
tls_grpc_port=$(free_port)
: > "$work/tls-events.txt"
live_certificate pod echo-tls IP:127.0.0.22
/usr/bin/python3 "$here/grpc_echo.py" serve "127.0.0.22:$tls_grpc_port" "$work/tls-events.txt" "$work/pod.crt" \
  "$work/pod.key" > "$work/grpc-tls.log" 2>&1 & pids+=($!)

live_certificate grpc grpc.example.com DNS:grpc.example.com,DNS:grpc-tls.example.com
mkdir -p "$work/manifests"
{
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  ports: [{name: grpc, port: 50051, targetPort: $grpc_port}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: echo, namespace: default}
subsets:
- addresses: [{ip: 127.0.0.21, targetRef: {kind: Pod, name: echo-1}}]
  ports: [{name: grpc, port: $grpc_port}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: echo
  namespace: default
  annotations: {haproxy.org/server-proto: "h2"}
spec:
  ingressClassName: haproxy
  tls: [{hosts: [grpc.example.com], secretName: grpc-tls}]
  rules:
  - host: grpc.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: echo, port: {number: 50051}}}}]}
---
apiVersion: v1
kind: Service
metadata:
  name: echo-tls
  namespace: default
  annotations: {haproxy.org/server-proto: "h2", haproxy.org/server-ssl: "true"}
spec:
  ports: [{name: grpc, port: 50052, targetPort: $tls_grpc_port}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: echo-tls, namespace: default}
subsets:
- addresses: [{ip: 127.0.0.22, targetRef: {kind: Pod, name: echo-tls-1}}]
  ports: [{name: grpc, port: $tls_grpc_port}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: echo-tls, namespace: default}
spec:
  ingressClassName: haproxy
  tls: [{hosts: [grpc-tls.example.com], secretName: grpc-tls}]
  rules:
  - host: grpc-tls.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: echo-tls, port: {number: 50052}}}}]}
---
YAML
  live_tls_secret grpc-tls grpc
} > "$work/manifests/grpc.yaml"
"$metalgate" validate "$work/manifests" > "$work/validate.txt" || fail "validate: $(cat "$work/validate.txt")"
grep -Eq 'HTTP/2 to the servers of (default_echo-tls_50052, default_echo_50051|default_echo_50051, default_echo-tls_50052) \(server-proto h2\)' "$work/validate.txt" ||
  fail "validate does not say the backend speaks h2: $(cat "$work/validate.txt")"
"$metalgate" serve --no-speaker --manifests "$work/manifests" --listen 127.0.0.1 \
  --http-port "$http_port" --https-port "$https_port" --access-log "$work/access.log" \
  > "$work/metalgate.log" 2>&1 & pids+=($!)
ready() { grep -q serving "$events" && grep -q serving "$work/tls-events.txt" && [[ $(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$https_port/") != 000 ]]; }
live_wait_for "the proxy and both gRPC services" ready

/usr/bin/python3 "$here/grpc_echo.py" call "127.0.0.1:$https_port" grpc.example.com "$work/grpc.crt" "$events" \
  > "$work/calls.txt" 2>&1 || fail "gRPC through the proxy: $(cat "$work/calls.txt" "$work/grpc.log" "$work/access.log")"
cat "$work/calls.txt"
# The same call to the service that speaks gRPC over TLS: the proxy offers it ALPN h2 (server-ssl, not verified).
/usr/bin/python3 "$here/grpc_echo.py" call "127.0.0.1:$https_port" grpc-tls.example.com "$work/grpc.crt" \
  "$work/tls-events.txt" unary > "$work/calls-tls.txt" 2>&1 ||
  fail "gRPC over TLS to the server: $(cat "$work/calls-tls.txt" "$work/grpc-tls.log")"
grep -q "Say b'hello'" "$work/tls-events.txt" || fail "the TLS service saw no call: $(cat "$work/tls-events.txt")"
grep -q '"POST /echo.Echo/Say HTTP/2.0"' "$work/access.log" || fail "no access log line for the call: $(cat "$work/access.log")"

kill "$grpc_pid"; wait "$grpc_pid" 2>/dev/null || true
/usr/bin/python3 "$here/grpc_echo.py" call "127.0.0.1:$https_port" grpc.example.com "$work/grpc.crt" "$events" after-stop \
  > "$work/calls-down.txt" 2>&1 || fail "gRPC with the service down: $(cat "$work/calls-down.txt")"
cat "$work/calls-down.txt"
echo "PASS: gRPC through server-proto h2"
