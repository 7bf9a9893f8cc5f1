#!/usr/bin/env bash
# WebSockets over HTTP/2 (RFC 8441) live, on both sides of `metalgate serve --no-speaker` on loopback, with
# Debian's Python libraries as client and pods (tests/proxy/live/ws_h2.py):
#   - an h2 client as a browser is one (TLS, ALPN h2, extended CONNECT once SETTINGS offer it) to an HTTP/1.1
#     WebSocket pod (python3-websockets): the proxy makes the key the pod needs and checks its accept;
#   - an HTTP/1.1 WebSocket client (python3-websockets, which checks the accept) to an HTTP/2 pod
#     (server-proto h2; python3-h2 with SETTINGS_ENABLE_CONNECT_PROTOCOL, frames by python3-wsproto);
#   - the h2 client to the h2 pod, HTTP/2 on both sides.
# Each message must come back, and each pod must have seen the handshake in its own protocol. Needs no privileges.
set -euo pipefail
metalgate=$1
source "$(dirname "$0")/live_common.sh"
live_common_start metalgate-live-ws-h2
https_port=$(free_port)
h1_pod_port=$(free_port)
h2_pod_port=$(free_port)
: > "$work/h1-events.txt"
: > "$work/h2-events.txt"
/usr/bin/python3 "$here/ws_h2.py" pod-h1 127.0.0.31 "$h1_pod_port" "$work/h1-events.txt" > "$work/pod-h1.log" 2>&1 & pids+=($!)
/usr/bin/python3 "$here/ws_h2.py" pod-h2 127.0.0.32 "$h2_pod_port" "$work/h2-events.txt" > "$work/pod-h2.log" 2>&1 & pids+=($!)

live_certificate chat chat.example.com DNS:chat.example.com,DNS:chat-h2.example.com
mkdir -p "$work/manifests"
{
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: chat, namespace: default}
spec:
  ports: [{name: ws, port: 80, targetPort: $h1_pod_port}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: chat, namespace: default}
subsets:
- addresses: [{ip: 127.0.0.31, targetRef: {kind: Pod, name: chat-1}}]
  ports: [{name: ws, port: $h1_pod_port}]
---
apiVersion: v1
kind: Service
metadata:
  name: chat-h2
  namespace: default
  annotations: {haproxy.org/server-proto: "h2"}
spec:
  ports: [{name: ws, port: 80, targetPort: $h2_pod_port}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: chat-h2, namespace: default}
subsets:
- addresses: [{ip: 127.0.0.32, targetRef: {kind: Pod, name: chat-h2-1}}]
  ports: [{name: ws, port: $h2_pod_port}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: chat, namespace: default}
spec:
  ingressClassName: haproxy
  tls: [{hosts: [chat.example.com, chat-h2.example.com], secretName: chat-tls}]
  rules:
  - host: chat.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: chat, port: {number: 80}}}}]}
  - host: chat-h2.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: chat-h2, port: {number: 80}}}}]}
---
YAML
  live_tls_secret chat-tls chat
} > "$work/manifests/chat.yaml"
"$metalgate" serve --no-speaker --manifests "$work/manifests" --listen 127.0.0.1 \
  --http-port "$http_port" --https-port "$https_port" --access-log "$work/access.log" \
  > "$work/metalgate.log" 2>&1 & pids+=($!)
pods_serving() { grep -q serving "$work/h1-events.txt" && grep -q serving "$work/h2-events.txt"; }
proxy_answers() { [[ $(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$https_port/") != 000 ]]; }
live_wait_for "the pods" pods_serving
live_wait_for "the proxy" proxy_answers

ws() { /usr/bin/python3 "$here/ws_h2.py" "$@"; }
ws client-h2 "$https_port" chat.example.com "$work/chat.crt" /chat hello-from-h2 > "$work/h2-to-h1.txt" 2>&1 ||
  fail "h2 client to the HTTP/1.1 pod: $(cat "$work/h2-to-h1.txt" "$work/pod-h1.log")"
cat "$work/h2-to-h1.txt"
grep -q "upgrade h1 /chat" "$work/h1-events.txt" || fail "the h1 pod saw no Upgrade: $(cat "$work/h1-events.txt")"
grep -q "message hello-from-h2" "$work/h1-events.txt" || fail "the h1 pod got no message"

ws client-h1 "$https_port" chat-h2.example.com "$work/chat.crt" /chat hello-from-h1 > "$work/h1-to-h2.txt" 2>&1 ||
  fail "HTTP/1.1 client to the h2 pod: $(cat "$work/h1-to-h2.txt" "$work/pod-h2.log")"
cat "$work/h1-to-h2.txt"
grep -q "upgrade h2 /chat key=False" "$work/h2-events.txt" ||
  fail "the h2 pod saw no extended CONNECT (or a key it should not): $(cat "$work/h2-events.txt")"
grep -q "message hello-from-h1" "$work/h2-events.txt" || fail "the h2 pod got no message"

ws client-h2 "$https_port" chat-h2.example.com "$work/chat.crt" /chat/both hello-h2-both > "$work/h2-to-h2.txt" 2>&1 ||
  fail "h2 client to the h2 pod: $(cat "$work/h2-to-h2.txt" "$work/pod-h2.log")"
cat "$work/h2-to-h2.txt"
grep -q "upgrade h2 /chat/both" "$work/h2-events.txt" || fail "the h2 pod saw no CONNECT from the h2 client"

grep -q '"GET /chat HTTP/2.0"' "$work/access.log" || fail "no log line for the h2 WebSocket: $(cat "$work/access.log")"
grep -q '"GET /chat HTTP/1.1"' "$work/access.log" || fail "no log line for the h1 WebSocket: $(cat "$work/access.log")"
echo "PASS: WebSockets over HTTP/2 both ways"
