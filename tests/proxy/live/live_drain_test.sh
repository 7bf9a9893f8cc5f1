#!/usr/bin/env bash
# Stopping gracefully, live: `metalgate serve --no-speaker` on loopback gets SIGTERM while one request is under
# way (its backend takes 1.5 s) and another client sits on an idle kept-alive connection. The request under way
# must complete (200, with Connection: close), the idle connection must be closed at once, new connections must
# be refused, and the process must exit 0 once drained, before --grace, saying so. A second run with --grace
# 200ms shows the bound: the slow request is cut and the process still exits. Needs no privileges.
set -euo pipefail
metalgate=$1
source "$(dirname "$0")/live_common.sh"
live_common_start metalgate-live-drain
cat >"$work/manifests.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {ports: [{port: 80, targetPort: $backend_port}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets: [{addresses: [{ip: 127.0.0.11}], ports: [{port: $backend_port}]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default, annotations: {haproxy.org/check: "false"}}
spec:
  ingressClassName: haproxy
  rules: [{host: app.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
YAML

run() {  # GRACE: start serve, one slow request and one idle kept-alive connection, then SIGTERM
  "$metalgate" serve --no-speaker --manifests "$work/manifests.yaml" --listen 127.0.0.1 --http-port "$http_port" \
    --https-port "$(free_port)" --grace "$1" >"$work/metalgate.log" 2>&1 &
  mg=$!
  pids+=("$mg")
  # Ready when a request reaches a backend through the proxy (the backends start beside it).
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: app.example.com' "http://127.0.0.1:$http_port/")" = 200 ] && break
    sleep 0.1
  done
  # The idle client: one request on a kept-alive connection, then it waits for the proxy to close (EOF).
  /usr/bin/python3 - "$http_port" >"$work/idle.txt" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /idle HTTP/1.1\r\nHost: app.example.com\r\n\r\n")
got = b""
while b"\r\n\r\n" not in got or not got.endswith(b"\n"):
    got += s.recv(4096)
start = time.time()
s.settimeout(10)
rest = s.recv(4096)
print("closed" if rest == b"" else "data", round(time.time() - start, 2))
PY
  idle=$!
  curl -sS --max-time 10 -D "$work/slow.head" -o "$work/slow.body" -H 'Host: app.example.com' \
    "http://127.0.0.1:$http_port/sleep/1.5" 2>"$work/slow.err" &
  slow=$!
  sleep 0.5
  sent=$(date +%s%3N)
  kill -TERM "$mg"
  sleep 0.1
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$http_port/"; then fail "a new connection was served after SIGTERM"; fi
  wait "$mg" || fail "serve exited $? after SIGTERM"
  exited=$(( $(date +%s%3N) - sent ))
  wait "$idle" || true
  slow_ok=0
  if wait "$slow"; then slow_ok=1; fi
}

run 30s
[ "$slow_ok" = 1 ] || { cat "$work/slow.err"; fail "the request under way failed during the drain"; }
[[ $(cat "$work/slow.body") == "web-1 GET /sleep/1.5" ]] || fail "slow body: $(cat "$work/slow.body")"
grep -qi '^connection: close' "$work/slow.head" || { cat "$work/slow.head"; fail "no Connection: close on the drained response"; }
read -r idle_state idle_after <"$work/idle.txt" || true
[ "$idle_state" = closed ] || { cat "$work/idle.txt"; fail "the idle kept-alive connection was not closed"; }
awk -v t="$idle_after" 'BEGIN { exit !(t < 0.6) }' || fail "the idle connection was closed only after ${idle_after} s"
grep -q 'stopping.*drained=yes' "$work/metalgate.log" || fail "the stop line does not say drained=yes"
[ "$exited" -lt 5000 ] || fail "serve took ${exited} ms to exit after draining"
echo "drain: the request under way answered with Connection: close, the idle connection closed, new ones refused, exit after ${exited} ms"

run 200ms
[ "$slow_ok" = 0 ] || fail "the slow request completed although --grace was 200ms"
grep -q 'stopping.*drained="no: --grace ran out"\|stopping.*drained=no' "$work/metalgate.log" ||
  { cat "$work/metalgate.log"; fail "the stop line does not say the grace ran out"; }
[ "$exited" -lt 1500 ] || fail "with --grace 200ms serve took ${exited} ms to exit"
echo "grace: with --grace 200ms the slow request is cut and serve exits after ${exited} ms"
echo "PASS: graceful stop"
