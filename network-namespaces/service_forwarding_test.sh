#!/usr/bin/env bash
# LoadBalancer Services' own ports forwarded by the node owning their address, on a live LAN in network
# namespaces this script creates and always removes: a bridge in its own namespace, two nodes running
# `metalgate serve` (speaker and proxy), one client, and one "pod" namespace running real servers: redis-server
# (default/redis, Endpoints), postgres (default/postgres, EndpointSlice; only when its binaries are installed)
# and a small HTTP server behind the ingress controller's route. The client must:
# - use redis and postgres through their service addresses, and see in CLIENT INFO / inet_client_addr() that the
#   connection came from a node (forwarded by metalgate, not straight to the pod);
# - be refused (kernel RST) on the controller's address at 6379 and, on the redis address at 80, be refused too
#   instead of getting the ingress routes: the HTTP frontends bind only the controller Service's addresses;
# - reach redis again through the other node within 10 s after the owner of the redis address is killed (SIGKILL).
# Usage: service_forwarding_test.sh PATH/TO/metalgate   (root; exits 77 to skip otherwise)
set -u
bin=$(readlink -f "$1")
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: network namespaces need root"; exit 77; fi
for tool in ip ping curl redis-server redis-cli python3 timeout; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
python=$(python3 -c 'import sys; print(sys.executable)')  # the interpreter itself, not a version manager's shim
# postgres is optional: it needs its server binaries, psql and the postgres user (initdb refuses to run as root).
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
with_pg=0
[ -n "$pg_bin" ] && [ -x "$pg_bin/postgres" ] && command -v psql >/dev/null && command -v setpriv >/dev/null &&
  id postgres >/dev/null 2>&1 && with_pg=1

id=$$                                   # unique per run: two runs cannot collide
br=mgsbr-$id client=mgsc-$id pod=mgsd-$id
nodes=("mgsn0-$id" "mgsn1-$id")
node_ips=(10.99.0.10 10.99.0.11)
pod_ip=10.99.0.50
ingress_vip=10.99.0.240 redis_vip=10.99.0.241 pg_vip=10.99.0.242
tmp=$(mktemp -d)
pids=() node_pids=()
pg_pid=

fail() {
  echo "FAIL: $*"
  for i in 0 1; do echo "--- node-$i log"; tail -n 25 "$tmp/node-$i.log"; done
  echo "--- redis log"; tail -n 5 "$tmp/redis.log"
  exit 1
}
now_ms() { date +%s%3N; }

source "$(dirname "$(readlink -f "$0")")/lan.sh"
cleanup() {
  # postgres first, by its own immediate shutdown, so that its backends go with it; then the rest (lan.sh).
  if [ -n "$pg_pid" ] && kill -QUIT "$pg_pid" 2>/dev/null; then
    for _ in $(seq 30); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  lan_cleanup
}
trap cleanup EXIT
lan_bridge "$br"
for i in 0 1; do lan_attach "$br" "${nodes[$i]}" "mgsp$i-$id" "${node_ips[$i]}"; done
lan_attach "$br" "$client" "mgspc-$id" 10.99.0.100
lan_attach "$br" "$pod" "mgspd-$id" "$pod_ip"
mkdir "$tmp/manifests" "$tmp/www"
echo "routed by the ingress" > "$tmp/www/index.html"

# The pod's servers.
ip netns exec "$pod" redis-server --bind "$pod_ip" --port 6379 --save '' --appendonly no --protected-mode no \
  >"$tmp/redis.log" 2>&1 &
pids+=($!)
ip netns exec "$pod" "$python" -m http.server 8080 --bind "$pod_ip" --directory "$tmp/www" >"$tmp/web.log" 2>&1 &
pids+=($!)
if [ "$with_pg" -eq 1 ]; then
  chmod o+x "$tmp"                      # postgres must reach its own directory inside
  mkdir "$tmp/pg" && chown postgres "$tmp/pg"
  as_pg() { setpriv --reuid=postgres --regid="$(id -g postgres)" --init-groups -- "$@"; }
  as_pg "$pg_bin/initdb" -D "$tmp/pg/data" -U postgres --auth=trust --no-sync -E UTF8 >"$tmp/initdb.log" 2>&1 ||
    { cat "$tmp/initdb.log"; fail "initdb failed"; }
  echo "host all all 10.99.0.0/24 trust" >> "$tmp/pg/data/pg_hba.conf"
  ip netns exec "$pod" setpriv --reuid=postgres --regid="$(id -g postgres)" --init-groups -- \
    "$pg_bin/postgres" -D "$tmp/pg/data" -k "$tmp/pg" -p 5432 -c listen_addresses="$pod_ip" -c fsync=off \
    >"$tmp/postgres.log" 2>&1 &
  pg_pid=$!
  pids+=("$pg_pid")
fi

{
  lan_pool
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata:
  name: ingress
  namespace: haproxy-ingress
  annotations: {metallb.universe.tf/loadBalancerIPs: $ingress_vip}
spec:
  type: LoadBalancer
  selector: {app.kubernetes.io/name: kubernetes-ingress}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default}
spec:
  ingressClassName: haproxy
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {selector: {app: web}, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets: [{addresses: [{ip: $pod_ip}], ports: [{port: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: redis, namespace: default, annotations: {metallb.universe.tf/loadBalancerIPs: $redis_vip}}
spec: {type: LoadBalancer, selector: {app: redis}, ports: [{name: redis, port: 6379}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: redis, namespace: default}
subsets: [{addresses: [{ip: $pod_ip}], ports: [{name: redis, port: 6379}]}]
---
apiVersion: v1
kind: Service
metadata: {name: postgres, namespace: default, annotations: {metallb.universe.tf/loadBalancerIPs: $pg_vip}}
spec: {type: LoadBalancer, selector: {app: postgres}, ports: [{name: pg, port: 5432}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: postgres-x7k2p, namespace: default, labels: {kubernetes.io/service-name: postgres}}
addressType: IPv4
ports: [{name: pg, port: 5432, protocol: TCP}]
endpoints: [{addresses: [$pod_ip], conditions: {ready: true}}]
YAML
} > "$tmp/manifests/lan.yaml"

# validate shows the forwarding, and the controller's address only in the HTTP frontends' Service.
"$bin" validate "$tmp/manifests" >"$tmp/validate.txt" 2>&1 || { cat "$tmp/validate.txt"; fail "validate refused the manifests"; }
sed -n '/^Service forwarding/,/^$/p' "$tmp/validate.txt" > "$tmp/forwarding.txt"
grep -q "^Service forwarding" "$tmp/forwarding.txt" || { cat "$tmp/validate.txt"; fail "validate prints no Service forwarding section"; }
grep -q "default/redis  $redis_vip:6379/TCP -> 1 endpoint \[$pod_ip:6379\]" "$tmp/forwarding.txt" ||
  { cat "$tmp/forwarding.txt"; fail "validate does not forward $redis_vip:6379/TCP to $pod_ip:6379"; }
grep -q "default/postgres  $pg_vip:5432/TCP -> 1 endpoint \[$pod_ip:5432\] from EndpointSlice" "$tmp/forwarding.txt" ||
  { cat "$tmp/forwarding.txt"; fail "validate does not forward $pg_vip:5432/TCP to $pod_ip:5432"; }
grep -q "haproxy-ingress/ingress" "$tmp/forwarding.txt" && fail "validate forwards the ingress controller's own Service"
echo "validate: $(grep -c . "$tmp/forwarding.txt" | awk '{print $1 - 1}') forwarding lines, default/redis $redis_vip:6379/TCP -> $pod_ip:6379"

for i in 0 1; do
  other=$((1 - i))
  ip netns exec "${nodes[$i]}" "$bin" serve --manifests "$tmp/manifests" --node "node-$i" --interface eth0 \
    --bind "${node_ips[$i]}:7946" --peer "${node_ips[$other]}:7946" --seed "$((i + 1))" --access-log off \
    >>"$tmp/node-$i.log" 2>&1 &
  node_pids[$i]=$!
  pids+=($!)
done
mac() { ip netns exec "${nodes[$1]}" cat /sys/class/net/eth0/address; }
macs=("$(mac 0)" "$(mac 1)")

# owner VIP: the node whose MAC the client's ARP answer carries (lan.sh).
owner() { lan_arp_owner "$client" "$1" "${macs[@]}"; }
in_client() { ip netns exec "$client" "$@"; }
rcli() { in_client timeout 3 redis-cli -h "$redis_vip" -p 6379 "$@" 2>&1; }
# The node a connection through the redis address came from: redis sees the forwarding node's address.
redis_peer() { rcli CLIENT INFO | tr ' ' '\n' | sed -n 's/^addr=\([0-9.]*\):.*/\1/p'; }
node_of_ip() { for i in 0 1; do [ "$1" = "${node_ips[$i]}" ] && echo "$i"; done; }
# refused ADDR PORT: a connection attempt fails at once with "Connection refused" (the kernel's RST).
refused() {
  local start out; start=$(now_ms)
  out=$(in_client timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>&1) && return 1
  echo "$out" | grep -q "Connection refused" || { echo "$out"; return 1; }
  [ $(( $(now_ms) - start )) -lt 1500 ]
}
ready() {  # the pod's servers answer on the LAN
  in_client timeout 1 redis-cli -h "$pod_ip" PING 2>/dev/null | grep -qx PONG || return 1
  in_client timeout 1 curl -s -o /dev/null "http://$pod_ip:8080/" || return 1
  [ "$with_pg" -eq 0 ] || in_client timeout 1 "$pg_bin/pg_isready" -q -h "$pod_ip" -p 5432 || return 1
}
for _ in $(seq 100); do ready && break; sleep 0.1; done
ready || { tail -n 5 "$tmp"/*.log; fail "the pod's servers did not start"; }

# 1. redis through its service address, from a node.
start=$(now_ms)
until [ "$(rcli SET k v)" = OK ]; do
  [ $(( $(now_ms) - start )) -lt 10000 ] || fail "SET through $redis_vip:6379 never succeeded: $(rcli SET k v)"
  sleep 0.1
done
got=$(rcli GET k); [ "$got" = v ] || fail "GET k through $redis_vip:6379 returned '$got', expected v"
redis_owner=$(owner "$redis_vip") ingress_owner=$(owner "$ingress_vip")
[ "$redis_owner" != none ] || fail "no node answers ARP for $redis_vip"
[ "$ingress_owner" != none ] || fail "no node answers ARP for $ingress_vip"
peer=$(redis_peer)
[ "$(node_of_ip "$peer")" = "$redis_owner" ] ||
  fail "redis saw the connection through $redis_vip come from '$peer', not from its owner node-$redis_owner"
echo "redis through $redis_vip:6379 (owner node-$redis_owner): SET k v, GET k = v; redis sees $peer"

if [ "$with_pg" -eq 1 ]; then
  pg_owner=$(owner "$pg_vip")
  q="create table t (v text); insert into t values ('through metalgate'); select v || ' from ' || host(inet_client_addr()) from t"
  got=$(in_client env PGCONNECT_TIMEOUT=3 psql -X -At -h "$pg_vip" -p 5432 -U postgres -c "$q" 2>&1 | tail -n 1)
  [ "$got" = "through metalgate from ${node_ips[$pg_owner]}" ] ||
    fail "psql through $pg_vip:5432 (owner node-$pg_owner) returned '$got'"
  echo "postgres through $pg_vip:5432 (owner node-$pg_owner): $got"
else
  echo "postgres: skipped (no server binaries, psql or postgres user)"
fi

# 2. refusals, each from the node owning the address (the client's ARP entry is fresh from owner()).
body=$(in_client curl -sS --max-time 3 "http://$ingress_vip/" 2>&1)
[ "$body" = "routed by the ingress" ] || fail "http://$ingress_vip/ (owner node-$ingress_owner) returned '$body'"
refused "$ingress_vip" 6379 || fail "$ingress_vip:6379 (owner node-$ingress_owner) is not refused at once"
[ "$(owner "$redis_vip")" = "$redis_owner" ] || fail "$redis_vip changed owner"
# curl exits 7 when it cannot connect (newer versions say "Couldn't connect to server", not why): it must, at once.
start=$(now_ms)
out=$(in_client curl -sS --max-time 3 "http://$redis_vip/" 2>&1); code=$?
[ "$code" -eq 7 ] && [ $(( $(now_ms) - start )) -lt 1500 ] ||
  fail "http://$redis_vip/ (owner node-$redis_owner) was not refused (curl exit $code): $out"
refused "$redis_vip" 80 || fail "$redis_vip:80 is not refused at once"
refused "$redis_vip" 6380 || fail "$redis_vip:6380, a port no Service has, is not refused at once"
echo "refused: $ingress_vip:6379 (node-$ingress_owner), $redis_vip:80 and :6380 (node-$redis_owner); $ingress_vip:80 routes"

# 3. failover: SIGKILL of the redis address's owner; the other node serves redis within 10 s.
survivor=$((1 - redis_owner))
kill -9 "${node_pids[$redis_owner]}"; wait "${node_pids[$redis_owner]}" 2>/dev/null  # reaped here, silently
start=$(now_ms)
while :; do
  got=$(rcli GET k)
  [ "$got" = v ] && [ "$(node_of_ip "$(redis_peer)")" = "$survivor" ] && break
  [ $(( $(now_ms) - start )) -lt 10000 ] || fail "after SIGKILL of node-$redis_owner, GET k through $redis_vip: '$got'"
  sleep 0.05
done
t=$(( $(now_ms) - start ))
[ "$(owner "$redis_vip")" = "$survivor" ] || fail "$redis_vip is not announced by node-$survivor"
echo "after SIGKILL of node-$redis_owner: GET k = v through node-$survivor after ${t} ms"
# The survivor now holds every address: the same answers from it.
[ "$(owner "$ingress_vip")" = "$survivor" ] || fail "$ingress_vip is not announced by node-$survivor"
body=$(in_client curl -sS --max-time 3 "http://$ingress_vip/" 2>&1)
[ "$body" = "routed by the ingress" ] || fail "http://$ingress_vip/ (node-$survivor) returned '$body'"
refused "$redis_vip" 80 || fail "$redis_vip:80 is not refused by node-$survivor"
refused "$ingress_vip" 6379 || fail "$ingress_vip:6379 is not refused by node-$survivor"
if [ "$with_pg" -eq 1 ]; then
  got=$(in_client env PGCONNECT_TIMEOUT=3 psql -X -At -h "$pg_vip" -p 5432 -U postgres -c "select count(*) from t" 2>&1)
  [ "$got" = 1 ] || fail "psql through $pg_vip:5432 (node-$survivor) returned '$got'"
fi
what="redis"; [ "$with_pg" -eq 1 ] && what="redis and postgres"
echo "PASS: $what through their service addresses, unrelated ports refused, failover to node-$survivor in ${t} ms"
