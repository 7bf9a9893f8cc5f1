#!/usr/bin/env bash
# The proxy live: `metalgate serve --no-speaker` on loopback in front of two real backends the test starts,
# driven by curl. Routing, balancing, 404, TLS with SNI (and TLS 1.1 refused), the HTTPS redirect, the rate
# limit and the access log, from manifests as a user writes them. Needs no privileges; cleans up after itself.
# A second argument runs the proxy with that many event loops (nbthread): the same checks then also prove
# that health, rate tables and TLS are shared, and the test checks that every loop took connections.
set -euo pipefail
metalgate=$1
threads=${2:-1}
source "$(dirname "$0")/live_common.sh"
live_common_start metalgate-live-proxy
https_port=$(free_port)

live_certificate app app.example.com DNS:app.example.com
live_certificate api api.example.com DNS:api.example.com
{
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ports: [{port: 80, targetPort: $backend_port}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets:
- addresses:
  - {ip: 127.0.0.11, targetRef: {kind: Pod, name: web-1}}
  - {ip: 127.0.0.12, targetRef: {kind: Pod, name: web-2}}
  ports: [{port: $backend_port}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: default
  annotations:
    haproxy.org/access-log: "true"
    haproxy.org/check-http: /
    haproxy.org/check-interval: 1s
spec:
  ingressClassName: haproxy
  tls:
  - {hosts: [app.example.com], secretName: app-tls}
  - {hosts: [api.example.com], secretName: api-tls}
  rules:
  - host: app.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
  - host: api.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: limited
  namespace: default
  annotations:
    haproxy.org/rate-limit-requests: "3"
    haproxy.org/rate-limit-period: 1m
spec:
  ingressClassName: haproxy
  rules:
  - host: limited.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
---
YAML
  live_tls_secret app-tls app
  echo ---
  live_tls_secret api-tls api
} > "$work/manifests.yaml"

"$metalgate" serve --no-speaker --manifests "$work/manifests.yaml" --listen 127.0.0.1 \
  --http-port "$http_port" --https-port "$https_port" --access-log "$work/access.log" --threads "$threads" \
  > "$work/metalgate.log" 2>&1 & pids+=($!)
mg_pid=$!

for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$http_port/" && break
  sleep 0.1
done

c() { curl -sS --max-time 5 "$@"; }
https() { c --cacert "$work/$1.crt" --resolve "$1.example.com:$https_port:127.0.0.1" "https://$1.example.com:$https_port$2" "${@:3}"; }

# Routing and balancing: both backends answer, each with its identity.
seen=""
for _ in 1 2 3 4; do seen+=$(https app /hello -o - | cut -d' ' -f1)" "; done
[[ $seen == *web-1* && $seen == *web-2* ]] || fail "round robin over both backends, saw: $seen"
body=$(https app /hello/world)
[[ $body == "web-"?" GET /hello/world" ]] || fail "body '$body'"

# Unknown host: 404 from the default backend.
code=$(c -o /dev/null -w '%{http_code}' -H 'Host: nowhere.example' "http://127.0.0.1:$http_port/")
[[ $code == 404 ]] || fail "unknown host gave $code"

# TLS: SNI picks each host's certificate (curl verifies it), the backend learns the request came over TLS.
https api / -o /dev/null || fail "api.example.com certificate"
proto=$(https app / -D - -o /dev/null | tr -d '\r' | awk -F': ' 'tolower($1)=="x-seen-x-forwarded-proto"{print $2}')
[[ $proto == https ]] || fail "X-Forwarded-Proto '$proto'"
if https app / --tls-max 1.1 -o /dev/null 2>/dev/null; then fail "TLS 1.1 was accepted"; fi

# Plain HTTP to a host of spec.tls is redirected.
location=$(c -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: app.example.com' "http://127.0.0.1:$http_port/x?y=1")
[[ $location == "302 https://app.example.com:$https_port/x?y=1" ]] || fail "redirect: $location"

# Rate limit: the fourth request in the period is refused.
codes=""
for _ in 1 2 3 4 5; do codes+=$(c -o /dev/null -w '%{http_code}' -H 'Host: limited.example.com' "http://127.0.0.1:$http_port/")" "; done
[[ $codes == "200 200 200 403 403 " ]] || fail "rate limit codes: $codes"

# Access log in HAProxy's HTTP format (curl speaks HTTP/2 over TLS: the frontend offers h2 first, as HAProxy's
# controller does).
sleep 0.2
grep -Eq '^127\.0\.0\.1:[0-9]+ \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:.]+\] https~ default_web_80/web-[12] [0-9-]+/[0-9-]+/[0-9-]+/[0-9-]+/[0-9]+ 200 [0-9]+ - - ---- .* "GET /hello/world HTTP/2.0"$' \
  "$work/access.log" || { cat "$work/access.log" >&2; fail "access log format"; }

# Health checks (check-http /, every second, fall 3): a backend that stops is taken out, and no client sees it.
kill -9 "$web2_pid"
for _ in $(seq 60); do grep -q 'server-down.*web-2' "$work/metalgate.log" && break; sleep 0.1; done
grep -q 'server-down.*web-2' "$work/metalgate.log" || fail "web-2 stopped and its health check never took it out"
seen=""
for _ in 1 2 3 4 5 6; do seen+=$(https app /after | cut -d' ' -f1)" "; done
[[ $seen == "web-1 web-1 web-1 web-1 web-1 web-1 " ]] || fail "after web-2 went down: $seen"

# Every loop took connections (the kernel spreads them by SO_REUSEPORT's hash over 30 new connections), and
# the counts add up after a graceful stop.
if [ "$threads" -gt 1 ]; then
  grep -q "threads=$threads" "$work/metalgate.log" || fail "the proxy did not start $threads loops"
  for _ in $(seq 30); do c -o /dev/null -H 'Host: app.example.com' "http://127.0.0.1:$http_port/" || true; done
  kill -TERM "$mg_pid"
  wait "$mg_pid" 2>/dev/null || true
  per_loop=$(grep -o 'connections_per_loop=[0-9,]*' "$work/metalgate.log" | cut -d= -f2)
  [ -n "$per_loop" ] || fail "no per-loop connection counts in the stop line"
  IFS=, read -ra counts <<<"$per_loop"
  [ "${#counts[@]}" -eq "$threads" ] || fail "expected $threads loops, got counts '$per_loop'"
  for n in "${counts[@]}"; do [ "$n" -gt 0 ] || fail "a loop took no connection: $per_loop"; done
  echo "connections per loop: $per_loop"
fi
echo "live proxy ($threads event loop(s)): all checks passed"
