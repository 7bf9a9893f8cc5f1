#!/usr/bin/env bash
# The admin socket live: `metalgate serve --no-speaker --admin-socket` on loopback with two real backends, and
# `metalgate ctl` as the operator's client. The socket is root-only (mode 0600); `show servers state` lists
# both servers; `set server … state maint` and `drain` take web-2 out of balancing (every request then goes to
# web-1), `ready` brings it back; a wrong command or name is an error answer (exit 1) saying what is expected;
# a socket nobody serves is exit 2. Needs no privileges.
set -euo pipefail
metalgate=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/harness.sh"
harness_start metalgate-live-admin
fail() { echo "FAIL: $*" >&2; echo "--- metalgate log" >&2; cat "$work/metalgate.log" >&2 || true; exit 1; }
free_port() { harness_free_port "$@"; }
backend_port=$(free_port) http_port=$(free_port)
for i in 1 2; do
  /usr/bin/python3 "$here/../proxy/live/identity_server.py" "web-$i" "127.0.0.1$i" "$backend_port" & pids+=($!)
done
sock="$work/admin.sock"
cat >"$work/manifests.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {ports: [{port: 80, targetPort: $backend_port}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets:
- addresses: [{ip: 127.0.0.11, targetRef: {kind: Pod, name: web-1}}, {ip: 127.0.0.12, targetRef: {kind: Pod, name: web-2}}]
  ports: [{port: $backend_port}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default}
spec:
  ingressClassName: haproxy
  rules: [{host: app.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
YAML
"$metalgate" serve --no-speaker --manifests "$work/manifests.yaml" --listen 127.0.0.1 --http-port "$http_port" \
  --https-port "$(free_port)" --admin-socket "$sock" >"$work/metalgate.log" 2>&1 & pids+=($!)
# Ready when a request reaches a backend through the proxy (the backends start beside it).
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: app.example.com' "http://127.0.0.1:$http_port/")" = 200 ] && break
  sleep 0.1
done
ctl() { "$metalgate" ctl --socket "$sock" "$@"; }
served_by() {  # six requests: who answered
  local seen=""
  for _ in 1 2 3 4 5 6; do
    seen+=$(curl -sS --max-time 5 -H 'Host: app.example.com' "http://127.0.0.1:$http_port/" | cut -d' ' -f1)" "
  done
  echo "$seen"
}

[ "$(stat -c %a "$sock")" = 600 ] || fail "the admin socket's mode is $(stat -c %a "$sock"), not 600"
state=$(ctl show servers state)
grep -q '^default_web_80 web-1 127.0.0.11:[0-9]* UP ready ' <<<"$state" || { echo "$state"; fail "web-1 not listed ready"; }
grep -q '^default_web_80 web-2 127.0.0.12:[0-9]* UP ready ' <<<"$state" || { echo "$state"; fail "web-2 not listed ready"; }
seen=$(served_by)
[[ $seen == *web-1* && $seen == *web-2* ]] || fail "both servers should answer at first: $seen"

for admin in maint drain; do
  ctl set server default_web_80/web-2 state "$admin" || fail "set server … $admin"
  grep -q "^default_web_80 web-2 .* $admin " <<<"$(ctl show servers state)" || fail "web-2 is not shown in $admin"
  seen=$(served_by)
  [ "$seen" = "web-1 web-1 web-1 web-1 web-1 web-1 " ] || fail "web-2 in $admin still got requests: $seen"
  ctl set server default_web_80/web-2 state ready
  seen=$(served_by)
  [[ $seen == *web-2* ]] || fail "web-2 back in ready got no request: $seen"
done
echo "set server state: maint and drain take web-2 out of balancing, ready brings it back"

out=$(ctl set server default_web_80/web-9 state maint) && fail "an unknown server was accepted"
[[ $out == "error: backend default_web_80 has no server 'web-9'" ]] || fail "unknown server answer: $out"
out=$(ctl set server default_web_80/web-2 state asleep) && fail "an unknown state was accepted"
[[ $out == "error: 'asleep' is not ready, drain or maint" ]] || fail "unknown state answer: $out"
out=$(ctl show vips) && fail "show vips without a speaker succeeded"
[[ $out == "error: this node runs no speaker" ]] || fail "show vips answer: $out"
grep -q '^Backends: 1$' <<<"$(ctl show info)" || fail "show info: $(ctl show info)"
code=0; "$metalgate" ctl --socket "$work/nobody.sock" help >/dev/null 2>&1 || code=$?
[ "$code" = 2 ] || fail "ctl to a socket nobody serves exited $code, not 2"
echo "PASS: admin socket (mode 600), show/set commands, errors"
