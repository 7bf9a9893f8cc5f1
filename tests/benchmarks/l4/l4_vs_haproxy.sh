#!/usr/bin/env bash
# metalgate's TCP and UDP services side by side with Debian's HAProxy 2.6 in `mode tcp` (with splice, its
# fastest), in one invocation: bulk throughput of a 1 GiB download, new connections per second, and UDP (DNS)
# queries per second through metalgate against the same queries sent straight to the server.
# Proxies single-threaded on CPU 1; curl, wrk, dnsperf, nginx and dnsmasq on CPU 0. Median of ROUNDS rounds.
# New connections also run through bare_relay (../bare_relay.cc), the least work any TCP proxy must do, and
# through the same relay on io_uring (../bare_relay_uring.cc), what an io_uring proxy could save below it.
#   tests/benchmarks/l4/l4_vs_haproxy.sh build/release/engine/metalgate [--report reports/l4-bench.md]
set -euo pipefail
metalgate=$(realpath "$1")
report=""
[ "${2:-}" = "--report" ] && report=$3
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}

source "$(dirname "$0")/../../lib/harness.sh"
harness_need_packages haproxy wrk nginx-light dnsperf dnsmasq-base curl liburing-dev
harness_start metalgate-l4-bench
free_port() { harness_free_port "$@"; }
# dnsmasq binds its port for TCP and UDP both.
origin=$(free_port); dns=$(free_port both); mg_tcp=$(free_port); mg_udp=$(free_port udp); hp_tcp=$(free_port)
relay_tcp=$(free_port); uring_tcp=$(free_port)
c++ -O2 -Wall -Wextra -Werror -o "$work/bare_relay" "$(dirname "$0")/../bare_relay.cc"
c++ -O2 -Wall -Wextra -Werror -o "$work/bare_relay_uring" "$(dirname "$0")/../bare_relay_uring.cc" -luring

mkdir -p "$work/www"
truncate -s 1G "$work/www/1g"
head -c 100 /dev/zero | tr '\0' a > "$work/www/100b"
harness_start_nginx "$origin"
taskset -c 0 dnsmasq --no-daemon --conf-file=/dev/null --user="$(id -un)" --port="$dns" --listen-address=127.0.0.1 \
  --bind-interfaces --no-resolv --no-hosts --address=/bench.test/10.9.9.9 --cache-size=1000 --log-facility=/dev/null & pids+=($!)
dns_pid=$!

cat > "$work/manifests.yaml" <<YAML
controller:
  service:
    tcpPorts: [{name: web, port: $mg_tcp, targetPort: $mg_tcp}]
    udpPorts: [{name: dns, port: $mg_udp, targetPort: $mg_udp}]
  tcpServices: {configMapName: tcp}
  udpServices: {configMapName: udp}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tcp, namespace: haproxy-ingress}
data: {"$mg_tcp": "default/web:80"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: udp, namespace: haproxy-ingress}
data: {"$mg_udp": "default/dns:53"}
---
$(harness_origin_manifests "$origin" '{haproxy.org/check: "false"}')
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: default}
spec: {ports: [{port: 53, targetPort: $dns, protocol: UDP}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: dns, namespace: default}
subsets: [{addresses: [{ip: 127.0.0.1, targetRef: {kind: Pod, name: dnsmasq}}], ports: [{port: $dns, protocol: UDP}]}]
YAML
taskset -c 1 nice -n -20 "$metalgate" serve --no-speaker --manifests "$work/manifests.yaml" --listen 127.0.0.1 \
  --http-port "$(free_port)" --access-log off > "$work/metalgate.log" 2>&1 & pids+=($!)
mg_pid=$!
cat > "$work/haproxy.cfg" <<HAPROXY
global
  nbthread 1
  maxconn 5000
defaults
  mode tcp
  timeout connect 5s
  timeout client 50s
  timeout server 50s
  timeout tunnel 1h
  option splice-auto
frontend tcp
  bind 127.0.0.1:$hp_tcp
  default_backend web
backend web
  server origin 127.0.0.1:$origin
HAPROXY
taskset -c 1 nice -n -20 haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 & pids+=($!)
hp_pid=$!
taskset -c 1 nice -n -20 "$work/bare_relay" "$relay_tcp" "$origin" & pids+=($!)
relay_pid=$!
taskset -c 1 nice -n -20 "$work/bare_relay_uring" "$uring_tcp" "$origin" & pids+=($!)
uring_pid=$!
sleep 1
kill -0 "$hp_pid" 2>/dev/null || { cat "$work/haproxy.log"; exit 1; }
kill -0 "$dns_pid" 2>/dev/null || { echo "dnsmasq did not start on port $dns"; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
bulk() {  # pid port -> "Gbit/s cpu_s_per_GiB"
  local before after speed
  before=$(cpu_ticks "$1")
  speed=$(taskset -c 0 curl -s -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$2/1g")
  after=$(cpu_ticks "$1")
  awk -v s="$speed" -v t=$((after - before)) -v hz="$hz" 'BEGIN{printf "%.2f %.2f", s*8/1e9, t/hz}'
}
conns() {  # pid port -> "conn/s cpu_us_per_conn"
  local before after out
  before=$(cpu_ticks "$1")
  out=$(taskset -c 0 wrk -t1 -c50 -d"${DURATION}s" -H 'Connection: close' "http://127.0.0.1:$2/100b")
  after=$(cpu_ticks "$1")
  awk -v t=$((after - before)) -v hz="$hz" '/Requests\/sec/{r=$2} /requests in/{n=$1} END{printf "%.0f %.1f", r, t*1e6/hz/n}' <<<"$out"
}
for i in $(seq 1000); do echo "bench.test A"; done > "$work/queries"
qps() {  # port -> queries/s
  taskset -c 0 dnsperf -s 127.0.0.1 -p "$1" -d "$work/queries" -c 20 -l "$DURATION" -q 200 2>/dev/null \
    | awk '/Queries per second/{printf "%.0f", $4}'
}

# Warm-up: the first read of the 1 GiB file is slow (page cache, sendfile); it must not land on whichever proxy
# runs first.
curl -s -o /dev/null "http://127.0.0.1:$origin/1g"
declare -A r
for round in $(seq "$ROUNDS"); do
  r[bulk_mg]+="$(bulk "$mg_pid" "$mg_tcp");"; r[bulk_hp]+="$(bulk "$hp_pid" "$hp_tcp");"
  # Each round starts the new-connection runs with the next proxy, so that none always goes first.
  order=("mg $mg_pid $mg_tcp" "hp $hp_pid $hp_tcp" "relay $relay_pid $relay_tcp" "uring $uring_pid $uring_tcp")
  for i in 0 1 2 3; do
    read -r who pid port <<<"${order[$(((round + i) % 4))]}"
    r[conn_$who]+="$(conns "$pid" "$port");"
  done
  r[udp_mg]+="$(qps "$mg_udp");"; r[udp_direct]+="$(qps "$dns");"
  last() { tr ";" "\n" <<<"$1" | sed "/^$/d" | tail -1; }
  echo "round $round: bulk $(last "${r[bulk_mg]}") / $(last "${r[bulk_hp]}"); conns metalgate $(last "${r[conn_mg]}"), haproxy $(last "${r[conn_hp]}"), bare relay $(last "${r[conn_relay]}"), io_uring relay $(last "${r[conn_uring]}")" >&2
done
median() { tr ';' '\n' | sed '/^$/d' | awk -v f="$1" '{print $f}' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
bm=$(median 1 <<<"${r[bulk_mg]}"); bh=$(median 1 <<<"${r[bulk_hp]}")
bmc=$(median 2 <<<"${r[bulk_mg]}"); bhc=$(median 2 <<<"${r[bulk_hp]}")
cm=$(median 1 <<<"${r[conn_mg]}"); ch=$(median 1 <<<"${r[conn_hp]}")
cmc=$(median 2 <<<"${r[conn_mg]}"); chc=$(median 2 <<<"${r[conn_hp]}")
cc=$(median 1 <<<"${r[conn_relay]}"); ccc=$(median 2 <<<"${r[conn_relay]}")
cu=$(median 1 <<<"${r[conn_uring]}"); cuc=$(median 2 <<<"${r[conn_uring]}")
um=$(median 1 <<<"${r[udp_mg]}"); ud=$(median 1 <<<"${r[udp_direct]}")
{
  echo "| case | metalgate | HAProxy (mode tcp, splice) / direct | ratio | CPU ÷ HAProxy's |"
  echo "|---|---|---|---|---|"
  awk -v a="$bm" -v b="$bh" -v ac="$bmc" -v bc="$bhc" 'BEGIN{printf "| TCP bulk, 1 GiB download | %.2f Gbit/s (%.2f CPU-s) | %.2f Gbit/s (%.2f CPU-s) | **%.2f×** | %.2f× |\n", a, ac, b, bc, a/b, ac/bc}'
  awk -v a="$cm" -v b="$ch" -v ac="$cmc" -v bc="$chc" 'BEGIN{printf "| TCP new connections | %.0f /s (%.1f µs CPU each) | %.0f /s (%.1f µs CPU each) | **%.2f×** | **%.2f×** |\n", a, ac, b, bc, a/b, ac/bc}'
  awk -v a="$cc" -v b="$ch" -v ac="$ccc" -v bc="$chc" 'BEGIN{printf "| TCP new connections, bare relay (no proxy does less) | %.0f /s (%.1f µs CPU each) | %.0f /s | %.2f× | %.2f× |\n", a, ac, b, a/b, ac/bc}'
  awk -v a="$cu" -v b="$ch" -v ac="$cuc" -v bc="$chc" 'BEGIN{printf "| TCP new connections, bare relay on io_uring | %.0f /s (%.1f µs CPU each) | %.0f /s | %.2f× | %.2f× |\n", a, ac, b, a/b, ac/bc}'
  awk -v a="$um" -v b="$ud" 'BEGIN{printf "| UDP DNS queries (dnsperf, 20 clients) | %.0f /s | %.0f /s direct to dnsmasq | **%.2f×** of direct | |\n", a, b, a/b}'
} > "$work/table.md"
cat "$work/table.md"
[ -n "$report" ] && cp "$work/table.md" "$report.table"  # the text around the table is written by hand
exit 0
