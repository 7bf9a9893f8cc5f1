#!/usr/bin/env bash
# metalgate's HTTP/2 frontend side by side with Debian's HAProxy 2.6 on this machine, in one invocation: h2load
# (10 connections x 100 concurrent streams, TLS, ALPN h2) against both proxies' HTTPS frontends, HTTP/1.1 to
# the nginx origin behind them. Both proxies single-threaded, pinned to CPU 1 at nice -20; h2load and the origin
# on CPU 0. Runs alternate between the two proxies; the median of ROUNDS rounds per case. Memory per idle h2
# connection is measured first, on fresh processes (as proxy_vs_haproxy.sh does).
#   tests/benchmarks/proxy/h2_vs_haproxy.sh build/release/engine/metalgate [--report reports/proxy-bench.md]
# ROUNDS (3), DURATION (5 s per run), CONNS (10), STREAMS (100), IDLE (2000 connections; 0 leaves the memory
# case out). --report FILE writes the "## HTTP/2 (h2load)" section of FILE: what lies between its
# <!-- h2load:begin --> and <!-- h2load:end --> markers is replaced, or the section is appended if FILE has
# none. KEEP_WORK=1 keeps the work directory (h2load.log: every run's output). Needs root only to raise the
# open-file limit.
set -euo pipefail
# With autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled), nice only ranks processes of one session
# against each other: against a build started from another session the pinned proxies would get half of CPU 1
# whatever their nice. So the benchmark runs in a session of its own whose autogroup is niced to -20 as well
# (AUTOGROUP=0: not). Only the processes this script starts are in it.
if [ "${AUTOGROUP:-1}" = 1 ] && [ -z "${H2_BENCH_SESSION:-}" ] && [ -e /proc/self/autogroup ]; then
  H2_BENCH_SESSION=1 setsid "$0" "$@" & child=$!
  trap 'kill "$child" 2>/dev/null || true' INT TERM
  wait "$child"
  exit
fi
[ -n "${H2_BENCH_SESSION:-}" ] && { echo -20 > /proc/self/autogroup || echo "(could not nice this session's autogroup)" >&2; }
metalgate=$(realpath "$1")
report=""
[ "${2:-}" = "--report" ] && report=$3
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-10}
STREAMS=${STREAMS:-100}
IDLE=${IDLE:-2000}  # 2 descriptors each in the proxy, one in the client; the open-file limit here is 20,000
here=$(cd "$(dirname "$0")" && pwd)
command_line="ROUNDS=$ROUNDS DURATION=$DURATION CONNS=$CONNS STREAMS=$STREAMS IDLE=$IDLE${REQUESTS:+ REQUESTS=$REQUESTS} $0 $*"
load_before=$(cat /proc/loadavg)
started_at=$(date -u '+%F %H:%M UTC')

source "$here/../../lib/harness.sh"
harness_need_packages haproxy nghttp2-client nginx-light linux-perf
harness_start metalgate-h2-bench
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
origin=$(harness_free_port); mg_http=$(harness_free_port); mg_https=$(harness_free_port)
hp_https=$(harness_free_port)

# The origin: nginx, keep-alive, 100 B and 16 KiB bodies.
mkdir -p "$work/www"
head -c 100 /dev/zero | tr '\0' a > "$work/www/100b"
head -c 16384 /dev/zero | tr '\0' b > "$work/www/16k"
harness_start_nginx "$origin"

# One certificate (ECDSA P-256) for both proxies.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.local \
  -addext subjectAltName=DNS:bench.local -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
cat "$work/tls.crt" "$work/tls.key" > "$work/tls.pem"

# metalgate from manifests (as proxy_vs_haproxy.sh): its TLS frontend offers h2 first by ALPN.
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

# HAProxy with the equivalent configuration, its TLS bind offering h2 first (HTTP/1.1 to the origin).
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
frontend https
  bind 127.0.0.1:$hp_https ssl crt $work/tls.pem alpn h2,http/1.1
  http-request set-header X-Forwarded-Proto https if { ssl_fc }
  use_backend default_web_80 if { req.hdr(host) -i bench.local }
backend default_web_80
  balance roundrobin
  server origin 127.0.0.1:$origin
HAPROXY
taskset -c 1 nice -n -20 haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 & pids+=($!)
hp_pid=$!
sleep 1
for port in "$mg_https" "$hp_https"; do
  out=$(curl -sk --http2 --connect-to "bench.local:443:127.0.0.1:$port" -o /dev/null \
    -w "%{http_code} %{http_version}" https://bench.local/100b || true)
  [ "$out" = "200 2" ] || { cat "$work"/*.log; echo "proxy on $port answered '$out' (want 200 over HTTP/2)"; exit 1; }
done

cpu_ticks() { awk '{print $14 + $15, $14}' "/proc/$1/stat"; }  # "total user" (clock ticks)
hz=$(getconf CLK_TCK)
alive() { kill -0 "$1" 2>/dev/null; }
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; printf "%.2f", v}' <<<"$1"; }

# run NAME PID PORT PATH LOAD... -> "req_per_s cpu_us_per_req mean_ms errors proxy_cpu_share user_us_per_req",
# where errors counts h2load's failed + errored + timeout requests and non-2xx answers. LOAD: "-n N" or "-D S".
# h2load's whole output goes to h2load.log. With COUNT_SYSCALLS=1 the proxy's system calls are counted over the
# run too (perf stat on its tracepoints), appended as "syscalls_per_req epoll_ctl_per_req".
run() {
  local name=$1 pid=$2 port=$3 path=$4 before after t0 t1 out rc=0 counter=""
  shift 4
  if [ "${COUNT_SYSCALLS:-0}" = 1 ]; then
    perf stat -x, -o "$work/syscalls.csv" -e raw_syscalls:sys_enter,syscalls:sys_enter_epoll_ctl -p "$pid" &
    counter=$!
    sleep 0.5
  fi
  before=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
  out=$(timeout $((DURATION * 20 + 60)) taskset -c 0 nice -n -20 h2load -c "$CONNS" -m "$STREAMS" "$@" \
    --connect-to="127.0.0.1:$port" "https://bench.local$path" 2>&1) || rc=$?
  t1=$(date +%s.%N)
  alive "$pid" && after=$(cpu_ticks "$pid") || after=$before
  if [ -n "$counter" ]; then kill -INT "$counter"; wait "$counter" || true; fi
  { echo "=== $name (h2load exit $rc)"; echo "$out"; } >> "$work/h2load.log"
  local rps done_ ok failed errored timeouts non2xx proto mean
  rps=$(awk '/^finished in/{gsub(",", "", $4); print $4}' <<<"$out")
  read -r done_ ok failed errored timeouts < <(awk '/^requests:/{print $6, $8, $10, $12, $14}' <<<"$out") || true
  non2xx=$(awk '/^status codes:/{print $5 + $7 + $9}' <<<"$out")
  proto=$(awk '/^Application protocol:/{print $3}' <<<"$out")
  mean=$(to_ms "$(awk '/^time for request:/{print $6}' <<<"$out")")
  done_=${done_:-0}; rps=${rps:-0}
  local errors=$(( ${failed:-0} + ${errored:-0} + ${timeouts:-0} + ${non2xx:-0} ))
  if [ "$rc" != 0 ] || [ "$proto" != h2 ] || [ "$errors" != 0 ] || [ "$done_" = 0 ]; then
    echo "  $name: h2load exit $rc, protocol '${proto:-?}', $done_ done, $ok succeeded, $failed failed, $errored errored, $timeouts timeout, $non2xx non-2xx" >&2
    errors=$((errors + (rc != 0) + (done_ == 0)))
  fi
  alive "$pid" || { echo "  $name: the proxy (pid $pid) has exited" >&2; errors=$((errors + 1)); }
  local syscalls=""
  [ -n "$counter" ] && syscalls=$(awk -F, -v n="$done_" '$3 == "raw_syscalls:sys_enter" {a = $1}
    $3 == "syscalls:sys_enter_epoll_ctl" {b = $1} END{if (n > 0) printf " %.2f %.2f", a / n, b / n}' "$work/syscalls.csv")
  awk -v t=$((${after% *} - ${before% *})) -v u=$((${after#* } - ${before#* })) -v hz="$hz" -v n="$done_" -v r="$rps" \
    -v m="$mean" -v e="$errors" -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')" -v sc="$syscalls" \
    'BEGIN{printf "%.0f %.1f %s %d %.0f %.1f%s\n", r, (n > 0 ? t * 1e6 / hz / n : 0), m, e, t * 100 / hz / w,
           (n > 0 ? u * 1e6 / hz / n : 0), sc}'
}

# Memory per idle h2 connection: IDLE TLS connections that agreed on h2, each after one request, held open.
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
idle_case() {  # pid port -> "bytes_per_connection ready alive"
  local pid=$1 port=$2 before after line check
  before=$(rss_kb "$pid")
  coproc IDLE_CLIENT { taskset -c 0 /usr/bin/python3 "$here/idle_h2_connections.py" 127.0.0.1 "$port" "$IDLE" bench.local 2>>"$work/idle.log"; }
  read -r line <&"${IDLE_CLIENT[0]}"
  sleep 1
  after=$(rss_kb "$pid")
  echo check >&"${IDLE_CLIENT[1]}"
  read -r check <&"${IDLE_CLIENT[0]}"
  exec {IDLE_CLIENT[1]}>&-
  wait "$IDLE_CLIENT_PID" 2>/dev/null || true
  local ready=${line#ready }
  [ "$ready" = "$IDLE" ] || echo "  (idle client on $port: $line; $(cat "$work/idle.log"))" >&2
  echo "  idle h2 on $port: RSS $before -> $after kB, $line, $check" >&2
  awk -v a="$after" -v b="$before" -v n="$ready" -v al="$(awk '{print $2}' <<<"$check")" \
    'BEGIN{printf "%.0f %d %d\n", (n > 0 ? (a - b) * 1024 / n : 0), n, al}'
}
mg_idle="0 0 0" hp_idle="0 0 0"
if [ "$IDLE" -gt 0 ]; then
  mg_idle=$(idle_case "$mg_pid" "$mg_https"); sleep 2
  hp_idle=$(idle_case "$hp_pid" "$hp_https"); sleep 2
fi

cases=("h2 100 B|/100b" "h2 16 KiB|/16k")
# Each run sends a fixed number of requests, the same for both proxies, so that every request counted is one
# the proxy finished (h2load -D stops with CONNS x STREAMS requests in flight, whose work would be counted
# without them). The number: DURATION x the geometric mean of both proxies' rates in a 1 s run per case
# (also their warm-up; not counted), unless REQUESTS is set.
declare -A requests
for c in "${cases[@]}"; do
  IFS='|' read -r name path <<<"$c"
  if [ -n "${REQUESTS:-}" ]; then requests[$name]=$REQUESTS; continue; fi
  m=$(run "warm-up, $name, metalgate" "$mg_pid" "$mg_https" "$path" -D 1)
  h=$(run "warm-up, $name, haproxy" "$hp_pid" "$hp_https" "$path" -D 1)
  echo "warm-up  $name: metalgate $m, haproxy $h" >&2
  requests[$name]=$(awk -v a="${m%% *}" -v b="${h%% *}" -v d="$DURATION" \
    'BEGIN{n = int(sqrt(a * b) * d / 1000 + 0.5) * 1000; print (n < 10000 ? 10000 : n)}')
done
declare -A results
for round in $(seq "$ROUNDS"); do
  for c in "${cases[@]}"; do
    IFS='|' read -r name path <<<"$c"
    proxies=(metalgate haproxy)
    [ $((round % 2)) = 0 ] && proxies=(haproxy metalgate)  # neither always goes first
    for proxy in "${proxies[@]}"; do
      case $proxy in
        metalgate) pid=$mg_pid; port=$mg_https ;;
        haproxy) pid=$hp_pid; port=$hp_https ;;
      esac
      r=$(run "round $round, $name, $proxy" "$pid" "$port" "$path" -n "${requests[$name]}")
      echo "round $round  $name  $proxy: $r  (req/s, CPU µs/req, mean ms, errors, proxy CPU %, user µs/req)" >&2
      echo "round $round | $name | $proxy | $r" >> "$work/runs.txt"
      results["$name|$proxy"]+="$r;"
    done
  done
done
# System calls per request: one more run per case and proxy with perf stat counting them on the proxy's
# tracepoints (not in the medians: the counting costs a little).
declare -A syscalls
for c in "${cases[@]}"; do
  IFS='|' read -r name path <<<"$c"
  for proxy in metalgate haproxy; do
    case $proxy in
      metalgate) pid=$mg_pid; port=$mg_https ;;
      haproxy) pid=$hp_pid; port=$hp_https ;;
    esac
    r=$(COUNT_SYSCALLS=1 run "system calls, $name, $proxy" "$pid" "$port" "$path" -n "${requests[$name]}")
    echo "system calls  $name  $proxy: $r" >&2
    syscalls["$name|$proxy"]=$(awk '{print $7, $8}' <<<"$r")
  done
done
load_after=$(cat /proc/loadavg)

median() { tr ';' '\n' | sed '/^$/d' | awk -v f="$1" '{print $f}' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
total() { tr ';' '\n' | sed '/^$/d' | awk -v f="$1" '{s += $f} END{print s + 0}'; }

{
  echo "| case | metalgate req/s | HAProxy req/s | req/s ratio | metalgate CPU µs/req | HAProxy CPU µs/req | CPU ratio (HAProxy ÷ metalgate) | metalgate mean ms | HAProxy mean ms | h2load errors (metalgate / HAProxy, all runs) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for c in "${cases[@]}"; do
    IFS='|' read -r name _ <<<"$c"
    m="${results["$name|metalgate"]:-}"; h="${results["$name|haproxy"]:-}"
    awk -v n="$name" -v mr="$(median 1 <<<"$m")" -v hr="$(median 1 <<<"$h")" -v mc="$(median 2 <<<"$m")" \
      -v hc="$(median 2 <<<"$h")" -v mm="$(median 3 <<<"$m")" -v hm="$(median 3 <<<"$h")" \
      -v me="$(total 4 <<<"$m")" -v he="$(total 4 <<<"$h")" \
      'BEGIN{printf "| %s | %.0f | %.0f | **%.2f×** | %.1f | %.1f | **%.2f×** | %.2f | %.2f | %s%d / %d%s |\n",
             n, mr, hr, (hr > 0 ? mr / hr : 0), mc, hc, (mc > 0 ? hc / mc : 0), mm, hm,
             (me + he > 0 ? "**" : ""), me, he, (me + he > 0 ? "**" : "")}'
  done
  echo
  echo "| where the CPU goes (medians, µs per request) | metalgate user | metalgate system | HAProxy user | HAProxy system | metalgate system calls per request (epoll_ctl) | HAProxy system calls per request (epoll_ctl) |"
  echo "|---|---|---|---|---|---|---|"
  for c in "${cases[@]}"; do
    IFS='|' read -r name _ <<<"$c"
    m="${results["$name|metalgate"]:-}"; h="${results["$name|haproxy"]:-}"
    read -r ms me_ <<<"${syscalls["$name|metalgate"]:-0 0}"; read -r hs he_ <<<"${syscalls["$name|haproxy"]:-0 0}"
    awk -v n="$name" -v mc="$(median 2 <<<"$m")" -v hc="$(median 2 <<<"$h")" -v mu="$(median 6 <<<"$m")" \
      -v hu="$(median 6 <<<"$h")" -v ms="$ms" -v me="$me_" -v hs="$hs" -v he="$he_" \
      'BEGIN{printf "| %s | %.1f | %.1f | %.1f | %.1f | %.2f (%.2f) | %.2f (%.2f) |\n", n, mu, mc - mu, hu, hc - hu, ms, me, hs, he}'
  done
  if [ "$IDLE" -gt 0 ]; then
    read -r mb mn ma <<<"$mg_idle"; read -r hb hn ha <<<"$hp_idle"
    echo
    echo "| memory per idle h2 connection ($IDLE TLS connections, one request each) | metalgate | HAProxy | ratio (metalgate ÷ HAProxy) |"
    echo "|---|---|---|---|"
    awk -v mb="$mb" -v hb="$hb" 'BEGIN{printf "| RSS growth ÷ connections | %d B | %d B | **%.2f×** |\n", mb, hb, (hb > 0 ? mb / hb : 0)}'
    echo "| connections that agreed on h2 and got a 200 / still open 1 s later | $mn / $ma | $hn / $ha | |"
  fi
} > "$work/table.md"
cat "$work/table.md"
echo "load average before: $load_before; after: $load_after" >&2
if [ -s "$work/metalgate.log" ]; then echo "metalgate's log:" >&2; tail -n 20 "$work/metalgate.log" >&2; fi

if [ -n "$report" ]; then
  machine="$(nproc) vCPU $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), Linux $(uname -r)"
  # (awk reads all of each version text: head would end the pipe early, and pipefail would end the script)
  machine+=", $(. /etc/os-release && echo "$PRETTY_NAME"); $(haproxy -v | awk 'NR == 1 {print "HAProxy", $3}')"
  machine+=", $(h2load --version | awk 'NR == 1'), nginx $(nginx -v 2>&1 | sed 's|.*/||') as the origin, $(openssl version | awk '{print $1, $2}')"
  {
    echo "<!-- h2load:begin (generated by tests/benchmarks/proxy/h2_vs_haproxy.sh; edit outside the markers) -->"
    echo "**Command** (one invocation; both proxies run at once, runs alternate between them), $started_at:"
    echo
    echo '```'
    echo "$command_line"
    echo '```'
    echo
    echo "**Machine:** $machine. metalgate: \`$1\`."
    echo "Load average (\`/proc/loadavg\`) before: \`$load_before\`; after: \`$load_after\`."
    echo
    echo "h2load \`-c $CONNS -m $STREAMS\` over TLS 1.3 (ECDSA P-256, ALPN h2) to each proxy's HTTPS frontend,"
    echo "HTTP/1.1 keep-alive from the proxy to the nginx origin; each run a fixed number of requests, the same for"
    echo "both proxies (\`-n\`: $(for c in "${cases[@]}"; do n=${c%%|*}; printf '%s %s; ' "$n" "${requests[$n]}"; done | sed 's/; $//'),"
    echo "about $DURATION s at the two proxies' mean rate), median of $ROUNDS rounds per case. CPU µs/req is the proxy's"
    echo "utime+stime over the run ÷ requests h2load completed (user: utime alone; system: the rest). System calls:"
    echo "one more run per case and proxy, \`perf stat\` counting the proxy's \`raw_syscalls:sys_enter\` and"
    echo "\`syscalls:sys_enter_epoll_ctl\` tracepoints, ÷ requests. Errors: h2load's failed + errored + timeout"
    echo "requests and non-2xx answers, summed over all runs (bold when not zero). Both proxies and h2load/nginx at"
    echo "nice -20 in a session of their own whose autogroup is niced to -20 too (without it, nice does not rank"
    echo "them against a build running from another session)."
    echo
    cat "$work/table.md"
    echo
    echo "<details><summary>Every run (req/s, CPU µs/req, mean ms, errors, proxy CPU %, user µs/req)</summary>"
    echo
    echo '```'
    cat "$work/runs.txt"
    echo '```'
    echo "</details>"
    echo
    if grep -qv 'proxy-started' "$work/metalgate.log"; then
      echo "metalgate's log (last lines):"
      echo
      echo '```'
      grep -v 'proxy-started' "$work/metalgate.log" | tail -n 20
      echo '```'
    else
      echo "metalgate's log (stderr): nothing after its start line."
    fi
    echo "<!-- h2load:end -->"
  } > "$work/section.md"
  if grep -q '^<!-- h2load:begin' "$report" 2>/dev/null; then
    awk -v f="$work/section.md" '/^<!-- h2load:begin/{while ((getline l < f) > 0) print l; skip = 1; next}
                                 /^<!-- h2load:end -->/{skip = 0; next} !skip' "$report" > "$work/report.new"
    cat "$work/report.new" > "$report"
  else
    { echo; echo "## HTTP/2 (h2load)"; echo; cat "$work/section.md"; } >> "$report"
  fi
  echo "wrote the HTTP/2 section of $report" >&2
fi
