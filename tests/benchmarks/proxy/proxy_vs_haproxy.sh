#!/usr/bin/env bash
# metalgate's HTTP proxy side by side with Debian's HAProxy 2.6 on this machine, in one invocation:
# both single-threaded on CPU 1, wrk and the nginx origin on CPU 0, runs alternating between the two proxies,
# the median of ROUNDS rounds per case. Prints (and with --report writes) the table for reports/proxy-bench.md.
# The plain-HTTP cases also run through bare_relay (../bare_relay.cc), the least work any proxy must do: what
# a proxy's own CPU can buy on this machine shows in how its rate compares with HAProxy's; and through the
# same relay on io_uring (../bare_relay_uring.cc), what an io_uring proxy could save below it. The TLS handshake
# case gets its floors in the same run: OpenSSL's own server work per handshake (../tls_handshake_floor.cc)
# and its cryptography alone (openssl speed), pinned as the proxies are.
#   tests/benchmarks/proxy/proxy_vs_haproxy.sh build/release/engine/metalgate [--report reports/proxy-bench.md]
# CASES=TLS runs only the cases whose name contains it; IDLE=0 leaves out the memory case; PROFILE=FILE
# records metalgate with perf.
# Needs root only to raise the open-file limit for the 10,000-connection memory case.
set -euo pipefail
metalgate=$(realpath "$1")
report=""
[ "${2:-}" = "--report" ] && report=$3
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CONNS=${CONNS:-50}
IDLE=${IDLE:-9000}  # 2 descriptors each; the open-file limit here is 20,000
here=$(cd "$(dirname "$0")" && pwd)

source "$here/../../lib/harness.sh"
harness_need_packages haproxy wrk nginx-light liburing-dev
harness_start metalgate-proxy-bench
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
free_port() { harness_free_port "$@"; }
origin=$(free_port); mg_http=$(free_port); mg_https=$(free_port); hp_http=$(free_port); hp_https=$(free_port)
relay_http=$(free_port); uring_http=$(free_port)
c++ -O2 -Wall -Wextra -Werror -o "$work/bare_relay" "$here/../bare_relay.cc"
c++ -O2 -Wall -Wextra -Werror -o "$work/bare_relay_uring" "$here/../bare_relay_uring.cc" -luring

# The origin: nginx, keep-alive, 100 B and 16 KiB bodies.
mkdir -p "$work/www"
head -c 100 /dev/zero | tr '\0' a > "$work/www/100b"
head -c 16384 /dev/zero | tr '\0' b > "$work/www/16k"
harness_start_nginx "$origin"

# One certificate (ECDSA P-256) for both proxies.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.local \
  -addext subjectAltName=DNS:bench.local -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
cat "$work/tls.crt" "$work/tls.key" > "$work/tls.pem"

# metalgate from manifests.
cat > "$work/manifests.yaml" <<YAML
$(harness_origin_manifests "$origin")
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bench
  namespace: default
  annotations: {haproxy.org/check: "false", haproxy.org/ssl-redirect: "false"}
spec:
  ingressClassName: haproxy
  tls: [{hosts: [bench.local], secretName: bench-tls}]
  rules:
  - host: bench.local
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
---
apiVersion: v1
kind: Secret
metadata: {name: bench-tls, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: $(base64 -w0 < "$work/tls.crt"), tls.key: $(base64 -w0 < "$work/tls.key")}
YAML
taskset -c 1 nice -n -20 "$metalgate" serve --no-speaker --manifests "$work/manifests.yaml" --listen 127.0.0.1 \
  --http-port "$mg_http" --https-port "$mg_https" --access-log off > "$work/metalgate.log" 2>&1 & pids+=($!)
mg_pid=$!
# PROFILE=FILE records metalgate with perf for the whole run (pair it with CASES to profile one case).
if [ -n "${PROFILE:-}" ]; then perf record -g -o "$PROFILE" -p "$mg_pid" 2>/dev/null & pids+=($!); fi

# HAProxy with the equivalent configuration (what the controller generates for this Ingress, reduced).
cat > "$work/haproxy.cfg" <<HAPROXY
global
  nbthread 1
  maxconn 9500
  tune.ssl.default-dh-param 2048
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode http
  timeout connect 5s
  timeout client 50s
  timeout server 50s
  timeout http-request 5s
  timeout http-keep-alive 1m
  timeout queue 5s
  option http-keep-alive
  option forwardfor
  http-reuse safe
frontend http
  bind 127.0.0.1:$hp_http
  bind 127.0.0.1:$hp_https ssl crt $work/tls.pem alpn http/1.1
  http-request set-header X-Forwarded-Proto https if { ssl_fc }
  use_backend default_web_80 if { req.hdr(host) -i bench.local }
backend default_web_80
  balance roundrobin
  server origin 127.0.0.1:$origin
HAPROXY
taskset -c 1 nice -n -20 haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 & pids+=($!)
hp_pid=$!
# The bare relay: metalgate's socket hints (a request's ACK rides on its answer), nothing else.
taskset -c 1 nice -n -20 "$work/bare_relay" "$relay_http" "$origin" --delay-ack & pids+=($!)
relay_pid=$!
taskset -c 1 nice -n -20 "$work/bare_relay_uring" "$uring_http" "$origin" --delay-ack & pids+=($!)
uring_pid=$!
sleep 1
for port in "$mg_http" "$hp_http" "$relay_http" "$uring_http"; do
  code=$(curl -s -o /dev/null -w "%{http_code}" -H "Host: bench.local" "http://127.0.0.1:$port/100b" || true)
  [ "$code" = 200 ] || { cat "$work"/*.log; echo "proxy on $port answered $code"; exit 1; }
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# run PID URL [wrk args...] -> "req_per_s p99_ms cpu_us_per_req"
run() {
  local pid=$1 url=$2; shift 2
  local before after out
  before=$(cpu_ticks "$pid")
  out=$(taskset -c 0 nice -n -20 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -H 'Host: bench.local' "$@" "$url")
  after=$(cpu_ticks "$pid")
  local rps req p99
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  req=$(awk '/requests in/{print $1}' <<<"$out")
  p99=$(awk '$1=="99%"{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  local errors
  errors=$(awk '/Non-2xx|Socket errors/{print}' <<<"$out")
  [ -n "$errors" ] && echo "  ($errors)" >&2
  echo "$rps $p99 $(awk -v t=$((after - before)) -v hz="$hz" -v n="$req" 'BEGIN{printf "%.1f", t * 1e6 / hz / n}')"
}

# Memory per idle keep-alive connection at $IDLE connections, measured first, on fresh processes: after the
# load cases the growth of RSS depends on how much freed memory each allocator kept from them (it moved by
# ±20 % between runs), not on what a connection holds.
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
idle_case() {  # pid port -> bytes per connection
  local pid=$1 port=$2 before after
  before=$(rss_kb "$pid")
  exec {fd}> >(true)
  coproc IDLE_CLIENT { /usr/bin/python3 "$here/idle_connections.py" 127.0.0.1 "$port" "$IDLE" bench.local; }
  local line
  read -r line <&"${IDLE_CLIENT[0]}"
  sleep 1
  after=$(rss_kb "$pid")
  exec {IDLE_CLIENT[1]}>&-
  wait "$IDLE_CLIENT_PID" 2>/dev/null || true
  echo "$line" | grep -q "ready $IDLE" || echo "  (idle client: $line)" >&2
  awk -v a="$after" -v b="$before" -v n="$IDLE" 'BEGIN{printf "%.0f", (a - b) * 1024 / n}'
}
mg_idle=0 hp_idle=0
if [ "$IDLE" -gt 0 ]; then  # IDLE=0 leaves the memory case out
  mg_idle=$(idle_case "$mg_pid" "$mg_http"); sleep 2
  hp_idle=$(idle_case "$hp_pid" "$hp_http")
fi

# "close": a new connection per request (wrk honours the header only written exactly "Connection: close").
cases=("keep-alive 100 B|http|/100b|" "keep-alive 16 KiB|http|/16k|" "Connection: close 100 B|http|/100b|close"
       "TLS keep-alive 100 B|https|/100b|" "TLS new handshakes (ECDSA P-256)|https|/100b|close")
declare -A results
for round in $(seq "$ROUNDS"); do
  for c in "${cases[@]}"; do
    IFS='|' read -r name scheme path extra <<<"$c"
    [[ -n "${CASES:-}" && "$name" != *"$CASES"* ]] && continue  # CASES=TLS: only the cases whose name has it
    proxies=(metalgate haproxy); [ "$scheme" = http ] && proxies+=(relay uring)
    # Each round starts with the next one, so that no proxy always runs first (or right after another).
    shift_by=$((round % ${#proxies[@]}))
    proxies=("${proxies[@]:shift_by}" "${proxies[@]:0:shift_by}")
    for proxy in "${proxies[@]}"; do
      case $proxy in
        metalgate) pid=$mg_pid; port=$([ "$scheme" = https ] && echo "$mg_https" || echo "$mg_http") ;;
        haproxy) pid=$hp_pid; port=$([ "$scheme" = https ] && echo "$hp_https" || echo "$hp_http") ;;
        relay) pid=$relay_pid; port=$relay_http ;;
        uring) pid=$uring_pid; port=$uring_http ;;
      esac
      if [ "$extra" = close ]; then r=$(run "$pid" "$scheme://127.0.0.1:$port$path" -H "Connection: close")
      else r=$(run "$pid" "$scheme://127.0.0.1:$port$path"); fi
      echo "round $round  $name  $proxy: $r" >&2
      results["$name|$proxy"]+="$r;"
    done
  done
done

median() { tr ';' '\n' | sed '/^$/d' | awk -v f="$1" '{print $f}' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

# Floors under a full handshake: OpenSSL's server handshake alone, in process (with its default two session
# tickets, and without), and the cryptography of one: an ECDSA P-256 signature and two X25519 operations (the
# key share's generation, the shared secret), from openssl speed.
handshakes="TLS new handshakes (ECDSA P-256)"
floors=""
if [ -n "${results["$handshakes|metalgate"]:-}" ]; then
  c++ -O2 -Wall -Wextra -Werror -o "$work/tls_handshake_floor" "$here/../tls_handshake_floor.cc" -lssl -lcrypto
  read -r alone_tickets alone_none < <(taskset -c 1 nice -n -20 "$work/tls_handshake_floor" "$work/tls.crt" \
    "$work/tls.key" 2000)
  speed=$(taskset -c 1 nice -n -20 openssl speed -seconds 2 ecdsap256 ecdhx25519 2>/dev/null)
  sign=$(awk '/ecdsa \(nistp256\)/{print $(NF-1)}' <<<"$speed")
  x25519=$(awk '/ecdh \(X25519\)/{print $NF}' <<<"$speed")
  floors="$alone_tickets $alone_none $(awk -v s="$sign" -v x="$x25519" 'BEGIN{printf "%.1f", 1e6 / s + 2e6 / x}')"
  echo "floors: OpenSSL alone $alone_tickets µs (no tickets $alone_none), ECDSA P-256 sign/s $sign, X25519 op/s $x25519" >&2
fi

{
  echo "| case | metalgate req/s | HAProxy req/s | req/s ratio | metalgate p99 ms | HAProxy p99 ms | p99 ratio | metalgate CPU µs/req | HAProxy CPU µs/req | CPU ratio (HAProxy ÷ metalgate) | bare relay req/s | bare relay ÷ HAProxy | bare relay CPU µs/req | io_uring relay CPU µs/req | io_uring relay CPU ÷ HAProxy's |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for c in "${cases[@]}"; do
    IFS='|' read -r name _ _ _ <<<"$c"
    [ -z "${results["$name|metalgate"]:-}" ] && continue  # left out by CASES
    m="${results["$name|metalgate"]}"; h="${results["$name|haproxy"]}"
    mr=$(median 1 <<<"$m"); hr=$(median 1 <<<"$h"); mp=$(median 2 <<<"$m"); hp=$(median 2 <<<"$h")
    mc=$(median 3 <<<"$m"); hc=$(median 3 <<<"$h")
    cr=$(median 1 <<<"${results["$name|relay"]:-}"); cc=$(median 3 <<<"${results["$name|relay"]:-}")
    uc=$(median 3 <<<"${results["$name|uring"]:-}")
    awk -v n="$name" -v mr="$mr" -v hr="$hr" -v mp="$mp" -v hp="$hp" -v mc="$mc" -v hc="$hc" -v cr="$cr" \
      -v cc="$cc" -v uc="$uc" \
      'BEGIN{printf "| %s | %.0f | %.0f | **%.2f×** | %.2f | %.2f | **%.2f×** | %.1f | %.1f | **%.2f×** | ", n, mr, hr, mr/hr, mp, hp, mp/hp, mc, hc, hc/mc
             if (cr != "") printf "%.0f | %.2f× | %.1f | %.1f | %.2f× |\n", cr, cr/hr, cc, uc, uc/hc; else print "– | – | – | – | – |"}'
  done
  [ "$IDLE" -gt 0 ] && awk -v m="$mg_idle" -v h="$hp_idle" -v n="$IDLE" \
    'BEGIN{printf "\n| memory per idle keep-alive connection (%d connections) | metalgate %d B | HAProxy %d B | **%.2f×** |\n|---|---|---|---|\n", n, m, h, m/h}'
  if [ -n "$floors" ]; then
    read -r at an cf <<<"$floors"
    awk -v m="$(median 3 <<<"${results["$handshakes|metalgate"]}")" \
      -v h="$(median 3 <<<"${results["$handshakes|haproxy"]}")" -v at="$at" -v an="$an" -v cf="$cf" 'BEGIN{
      print "\n| full TLS 1.3 handshake: CPU per new connection | µs | ÷ HAProxy |\n|---|---|---|"
      printf "| HAProxy, per request (handshake, request, server connection) | %.1f | 1.00× |\n", h
      printf "| metalgate, the same | %.1f | **%.2f×** |\n", m, m / h
      printf "| 0.6× HAProxy (issue 22 target) | %.1f | 0.60× |\n", 0.6 * h
      printf "| OpenSSL server handshake alone, in process, two session tickets | %.1f | %.2f× |\n", at, at / h
      printf "| the same without session tickets | %.1f | %.2f× |\n", an, an / h
      printf "| its cryptography (openssl speed: ECDSA P-256 sign, X25519 twice) | %.1f | %.2f× |\n", cf, cf / h}'
  fi
} > "$work/table.md"
cat "$work/table.md"
if [ -n "$report" ]; then
  {
    echo "<!-- generated by: tests/benchmarks/proxy/proxy_vs_haproxy.sh $1 --report $report (ROUNDS=$ROUNDS DURATION=$DURATION CONNS=$CONNS IDLE=$IDLE) on $(date -u +%F) -->"
    cat "$work/table.md"
  } > "$report.table"
fi
