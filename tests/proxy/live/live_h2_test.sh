#!/usr/bin/env bash
# HTTP/2 live: `metalgate serve --no-speaker` on loopback, HTTPS offering h2 first as HAProxy's controller does,
# driven by curl --http2 and nghttp (real clients, one connection carrying many streams). Each stream gets what an
# HTTP/1.1 request gets: routing and balancing, local answers (404), the per-request rate limit, bodies both
# ways, HEAD, the access log. HTTP/1.1 is still offered. Needs no privileges; cleans up after itself.
set -euo pipefail
metalgate=$1
source "$(dirname "$0")/live_common.sh"
live_common_start metalgate-live-h2
https_port=$(free_port)

live_certificate app app.example.com DNS:app.example.com,DNS:limited.example.com
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
metadata: {name: web, namespace: default}
spec:
  ingressClassName: haproxy
  tls: [{hosts: [app.example.com, limited.example.com], secretName: app-tls}]
  rules:
  - host: app.example.com
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
} > "$work/manifests.yaml"
metrics_port=$(free_port)
mkdir -p "$work/values"
printf 'controller:\n  metrics: {enabled: true, service: {enabled: true, port: 9101}}\n' > "$work/values/values.yaml"

cp "$work/manifests.yaml" "$work/values/"
"$metalgate" serve --no-speaker --manifests "$work/values" --listen 127.0.0.1 --metrics-port "$metrics_port" \
  --http-port "$http_port" --https-port "$https_port" --access-log "$work/access.log" \
  > "$work/metalgate.log" 2>&1 & pids+=($!)
# HTTPS: plain HTTP is redirected (ssl-redirect), so a 200 there never comes.
answers() {
  [[ $(curl -sk -o /dev/null -w '%{http_code}' --resolve "app.example.com:$https_port:127.0.0.1" \
    "https://app.example.com:$https_port/") == 200 ]]
}
live_wait_for "the proxy and a backend" answers

c() { curl -sS --max-time 10 "$@"; }
h2() { c --http2 --cacert "$work/app.crt" --resolve "$1.example.com:$https_port:127.0.0.1" "https://$1.example.com:$https_port$2" "${@:3}"; }
# nghttp: -m N sends the request N times at once, as N streams of one connection; -v prints every frame.
streams() { nghttp -nv -y -m "$1" -H ":authority: $2.example.com" "https://127.0.0.1:$https_port$3"; }

# curl is offered h2 first and takes it; the stream is routed and balanced like any request.
version=$(h2 app /hello -o "$work/body" -w '%{http_version}')
[[ $version == 2 ]] || fail "curl --http2 got HTTP/$version"
[[ $(cat "$work/body") == "web-"?" GET /hello" ]] || fail "body '$(cat "$work/body")'"
proto=$(h2 app / -D - -o /dev/null | tr -d '\r' | awk -F': ' '$1=="x-seen-x-forwarded-proto"{print $2}')
[[ $proto == https ]] || fail "x-forwarded-proto '$proto' (HTTP/2 field names are lower case)"
# HTTP/1.1 is still offered, for clients without h2.
version=$(c --http1.1 --cacert "$work/app.crt" --resolve "app.example.com:$https_port:127.0.0.1" \
  -o /dev/null -w '%{http_version}' "https://app.example.com:$https_port/")
[[ $version == 1.1 ]] || fail "curl --http1.1 got HTTP/$version"

# Twenty streams on one connection: every one answered, by both backends.
streams 20 app /many > "$work/many.txt" || fail "nghttp failed: $(tail -5 "$work/many.txt")"
[[ $(grep -c ':status: 200' "$work/many.txt") == 20 ]] || fail "20 streams: $(grep -c ':status: 200' "$work/many.txt") answered 200"
[[ $(grep -c 'recv SETTINGS frame' "$work/many.txt") -ge 1 ]] || fail "no SETTINGS from the server"
grep -q 'x-served-by: web-1' "$work/many.txt" && grep -q 'x-served-by: web-2' "$work/many.txt" ||
  fail "the streams of one connection were not balanced over both servers"

# The rate limit counts requests, not connections: five streams at once, three pass.
streams 5 limited / > "$work/limited.txt" || true
[[ $(grep -c ':status: 200' "$work/limited.txt") == 3 && $(grep -c ':status: 403' "$work/limited.txt") == 2 ]] ||
  fail "rate limit over one connection: $(grep -o ':status: [0-9]*' "$work/limited.txt" | tr '\n' ' ')"

# A host no rule names: the proxy's own 404 on the stream.
code=$(c --http2 -k --resolve "nowhere.example:$https_port:127.0.0.1" -o /dev/null -w '%{http_code}' \
  "https://nowhere.example:$https_port/")
[[ $code == 404 ]] || fail "unknown host over h2 gave $code"

# Bodies both ways: a 1 MB upload (DATA frames under the client's flow control) and a 1 MB download.
head -c 1000000 /dev/urandom > "$work/upload"
answer=$(h2 app /upload --data-binary @"$work/upload")
[[ $answer == "web-"?" POST /upload" ]] || fail "upload answered '$answer'"
size=$(h2 app /bytes/1000000 | wc -c)
[[ $size -gt 1000000 ]] || fail "download of 1 MB gave $size bytes"
# HEAD: the head only, its content-length kept.
head=$(h2 app /bytes/5000 -I | tr -d '\r')
grep -q '^HTTP/2 200' <<<"$head" || fail "HEAD: $head"
grep -q '^content-length: 50' <<<"$head" || fail "HEAD lost its content-length: $head"

# The access log names the protocol the client spoke.
sleep 0.2
grep -Eq 'https~ default_web_80/web-[12] .* 200 .*"POST /upload HTTP/2.0"$' "$work/access.log" ||
  { cat "$work/access.log" >&2; fail "access log line of an HTTP/2 request"; }

# What curl never sends, refused as HAProxy refuses it and counted: a connection-specific field costs its
# stream; a burst of rapid resets (CVE-2023-44487) and a PING flood cost the connection.
abuse() { /usr/bin/python3 "$here/h2_abuse.py" "$https_port" "$@"; }
[[ $(abuse connection-header) == "RST_STREAM 1" ]] || fail "connection-specific field: $(abuse connection-header)"
verdict=$(abuse rapid-reset 2000)
[[ $verdict == "GOAWAY "* ]] || fail "2000 rapid resets: $verdict"
# The ACKs of 1,000,000 PINGs (17 MB) outgrow the socket's buffers and then nghttp2's 1,000 unsent ACKs.
verdict=$(abuse ping-flood 1000000)
[[ $verdict == "GOAWAY 11" || $verdict == closed ]] || fail "1000000 PINGs unread: $verdict"
[[ $(h2 app / -o /dev/null -w '%{http_code}') == 200 ]] || fail "the proxy stopped answering after the abuse"
curl -sf "http://127.0.0.1:$metrics_port/metrics" > "$work/metrics.txt" || fail "no /metrics"
counter() { awk -v m="$1" '$1 ~ "^"m"[{]" && $1 ~ /proxy="https"/ {s += $2} END {print s + 0}' "$work/metrics.txt"; }
[[ $(counter metalgate_frontend_h2_stream_errors_total) -ge 1 ]] || fail "stream errors not counted: $(grep h2_ "$work/metrics.txt")"
[[ $(counter metalgate_frontend_h2_floods_total) -ge 2 ]] || fail "floods not counted: $(grep h2_ "$work/metrics.txt")"
[[ $(counter metalgate_frontend_h2_resets_received_total) -ge 1000 ]] || fail "resets not counted"
[[ $(counter metalgate_frontend_h2_streams_total) -ge 30 ]] || fail "streams not counted"
echo "live HTTP/2: all checks passed"
