#!/usr/bin/env bash
# The seed's TCP and UDP services live: `metalgate serve --no-speaker` on loopback in front of a real Redis, a
# throwaway PostgreSQL cluster and two dnsmasq servers the test starts, used with redis-cli, psql and dig.
# Needs the Debian packages redis-server, redis-tools, postgresql, dnsmasq-base and bind9-dnsutils (exit 77 to
# skip without them). PostgreSQL refuses to run as root, so as root its cluster runs as `nobody`.
set -euo pipefail
metalgate=$1
for tool in redis-server redis-cli psql dnsmasq dig; do
  command -v "$tool" >/dev/null || { echo "skip: $tool missing"; exit 77; }
done
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
source "$(dirname "$0")/../../lib/harness.sh"
harness_start metalgate-live-l4
fail() { echo "FAIL: $*" >&2; echo "--- metalgate log" >&2; cat "$work/metalgate.log" >&2 || true; exit 1; }
free_port() { harness_free_port "$@"; }
redis_port=$(free_port); pg_port=$(free_port); dns_port=$(free_port both)  # dnsmasq binds TCP and UDP
tcp_redis=$(free_port); tcp_pg=$(free_port); udp_dns=$(free_port udp)

redis-server --port "$redis_port" --bind 127.0.0.21 --save '' --appendonly no --daemonize no \
  > "$work/redis.log" 2>&1 & pids+=($!)

run_pg=()
if [ "$(id -u)" = 0 ]; then run_pg=(runuser -u nobody --); fi
install -d -m 700 "$work/pg" && [ "$(id -u)" = 0 ] && chown nobody "$work/pg"
"${run_pg[@]}" "$pgbin/initdb" -D "$work/pg" -A trust -U postgres > "$work/initdb.log" 2>&1 || { cat "$work/initdb.log"; fail initdb; }
"${run_pg[@]}" "$pgbin/postgres" -D "$work/pg" -k "$work/pg" -h 127.0.0.22 -p "$pg_port" > "$work/pg.log" 2>&1 & pids+=($!)

for i in 1 2; do
  dnsmasq --no-daemon --conf-file=/dev/null --user="$(id -un)" --port="$dns_port" --listen-address="127.0.0.3$i" \
    --bind-interfaces --no-resolv --no-hosts --address="/svc.test/10.9.9.$i" --log-facility=- \
    > "$work/dnsmasq$i.log" 2>&1 & pids+=($!)
done

cat > "$work/manifests.yaml" <<YAML
controller:
  service:
    tcpPorts: [{name: redis, port: $tcp_redis, targetPort: $tcp_redis}, {name: postgresql, port: $tcp_pg, targetPort: $tcp_pg}]
    udpPorts: [{name: dns, port: $udp_dns, targetPort: $udp_dns}]
  tcpServices: {configMapName: haproxy-ingress-tcp}
  udpServices: {configMapName: haproxy-ingress-udp}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: haproxy-ingress-tcp, namespace: haproxy-ingress}
data:
  "$tcp_redis": "default/redis:6379"
  "$tcp_pg": "default/postgresql:5432"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: haproxy-ingress-udp, namespace: haproxy-ingress}
data:
  "$udp_dns": "default/coredns-custom:53"
---
apiVersion: v1
kind: Service
metadata: {name: redis, namespace: default}
spec: {ports: [{port: 6379, targetPort: $redis_port}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: redis, namespace: default}
subsets: [{addresses: [{ip: 127.0.0.21, targetRef: {kind: Pod, name: redis-0}}], ports: [{port: $redis_port}]}]
---
apiVersion: v1
kind: Service
metadata: {name: postgresql, namespace: default}
spec: {ports: [{port: 5432, targetPort: $pg_port}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: postgresql, namespace: default}
subsets: [{addresses: [{ip: 127.0.0.22, targetRef: {kind: Pod, name: postgresql-0}}], ports: [{port: $pg_port}]}]
---
apiVersion: v1
kind: Service
metadata:
  name: coredns-custom
  namespace: default
  annotations: {haproxy.org/udp-check: "dns svc.test", haproxy.org/check-interval: 1s}
spec: {ports: [{port: 53, targetPort: $dns_port, protocol: UDP}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: coredns-custom, namespace: default}
subsets:
- addresses: [{ip: 127.0.0.31, targetRef: {kind: Pod, name: coredns-1}}, {ip: 127.0.0.32, targetRef: {kind: Pod, name: coredns-2}}]
  ports: [{port: $dns_port, protocol: UDP}]
YAML

"$metalgate" serve --no-speaker --manifests "$work/manifests.yaml" --listen 127.0.0.1 --http-port "$(free_port)" \
  --stats-port "$(free_port)" --metrics-port "$(free_port)" \
  > "$work/metalgate.log" 2>&1 & pids+=($!)

# Wait for everything to answer.
for _ in $(seq 100); do
  redis-cli -h 127.0.0.1 -p "$tcp_redis" PING 2>/dev/null | grep -q PONG && break
  sleep 0.1
done
for _ in $(seq 100); do
  "$pgbin/pg_isready" -h 127.0.0.22 -p "$pg_port" -q && break
  sleep 0.1
done

# Redis through the proxy.
[ "$(redis-cli -h 127.0.0.1 -p "$tcp_redis" SET greeting hello)" = OK ] || fail "redis SET"
[ "$(redis-cli -h 127.0.0.1 -p "$tcp_redis" GET greeting)" = hello ] || fail "redis GET"

# PostgreSQL through the proxy.
answer=$(psql -h 127.0.0.1 -p "$tcp_pg" -U postgres -d postgres -tAc 'select 6 * 7') || fail "psql"
[ "$answer" = 42 ] || fail "psql answered '$answer'"

# DNS through the proxy: the answer comes back from the address asked, a client port sticks to one server,
# and different client ports are spread over both. A dig that gets no answer prints nothing (and the check
# below says so) rather than ending the script silently.
dig_from() { dig @127.0.0.1 -p "$udp_dns" -b "127.0.0.1#$1" svc.test +short +time=2 +tries=1 || true; }
for _ in $(seq 50); do  # dnsmasq and the UDP service up (the first health checks run after start)
  [[ $(dig @127.0.0.1 -p "$udp_dns" svc.test +short +time=1 +tries=1 2>/dev/null || true) == 10.9.9.* ]] && break
  sleep 0.1
done
first=$(dig_from 45001)
[[ $first == 10.9.9.[12] ]] || fail "dig answered '$first'"
for _ in 1 2 3; do [ "$(dig_from 45001)" = "$first" ] || fail "flow affinity: one client port, one server"; done
seen=""
for p in $(seq 45002 45011); do seen+=$(dig_from "$p")" "; done
[[ $seen == *10.9.9.1* && $seen == *10.9.9.2* ]] || fail "both DNS servers serve: $seen"

grep -Eq 'tcp-[0-9]+ default_postgresql_5432/postgresql-0 [0-9-]+/[0-9-]+/[0-9]+ [0-9]+ -- ' "$work/metalgate.log" \
  || { cat "$work/metalgate.log" >&2; fail "TCP log line"; }
echo "live L4: redis-cli, psql and dig through metalgate all passed"
