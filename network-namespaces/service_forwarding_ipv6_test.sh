#!/usr/bin/env bash
# LoadBalancer Services with IPv6 addresses, announced by NDP and forwarded by the node owning them, on a live LAN
# in network namespaces this script creates and always removes: a bridge in its own namespace, two nodes running
# `metalgate serve` (speaker and proxy; membership over their IPv4 addresses), one client, and one "pod" namespace
# running real servers on its IPv6 address: redis-server (default/redis6, Endpoints, SingleStack IPv6) and a UDP
# echo server (default/echo6, EndpointSlice addressType IPv6), plus a RequireDualStack Service (default/redis-ds)
# whose two addresses both reach redis. The client must:
# - use redis through its IPv6 service address and see in CLIENT INFO that the connection came from the IPv6
#   address of the node whose MAC its neighbour entry for the address carries (NDP answered by that node's
#   speaker, connection forwarded by metalgate, not straight to the pod);
# - get its UDP datagram to [address]:9000 echoed, the echo server having seen it come from that node;
# - reach redis through both addresses of the dual-stack Service;
# - be refused (kernel RST) at once on a port no Service has on the IPv6 address;
# - reach redis over IPv6 again through the other node within 10 s after the owner is killed (SIGKILL), and
#   UDP too.
# The nodes' eth0 filter multicast as real NICs do (see lan_attach_nic): the speaker must receive the
# solicitations sent to the service addresses' solicited-node groups anyway. As kube-proxy, the dual-stack
# Service keeps the families apart: its IPv4 address reaches only the IPv4 endpoint, its IPv6 address the IPv6 one.
# Usage: service_forwarding_ipv6_test.sh PATH/TO/metalgate   (root; exits 77 to skip otherwise)
set -u
bin=$(readlink -f "$1")
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: network namespaces need root"; exit 77; fi
for tool in ip ping redis-server redis-cli python3 timeout sysctl; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -e /proc/sys/net/ipv6 ] || { echo "SKIP: the kernel has no IPv6"; exit 77; }
python=$(python3 -c 'import sys; print(sys.executable)')  # the interpreter itself, not a version manager's shim

id=$$                                   # unique per run: two runs cannot collide
br=mg6br-$id client=mg6c-$id pod=mg6d-$id
nodes=("mg6n0-$id" "mg6n1-$id")
node_ips=(10.99.0.10 10.99.0.11)
node_ip6s=(fd99::10 fd99::11)
client_ip6=fd99::100
pod_ip=10.99.0.50 pod_ip6=fd99::50
ingress_vip=10.99.0.240
redis_vip=fd99::241 echo_vip=fd99::242 ds_vip4=10.99.0.252 ds_vip6=fd99::252
tmp=$(mktemp -d)
pids=() node_pids=()

fail() {
  echo "FAIL: $*"
  for i in 0 1; do echo "--- node-$i log"; tail -n 25 "$tmp/node-$i.log"; done
  echo "--- redis log"; tail -n 5 "$tmp/redis.log"
  echo "--- echo log"; tail -n 5 "$tmp/echo.log"
  exit 1
}
now_ms() { date +%s%3N; }

source "$(dirname "$(readlink -f "$0")")/lan.sh"
trap lan_cleanup EXIT
lan_bridge "$br"
# v6 ADDR: the namespace's eth0 gets ADDR/64 too, usable at once (no duplicate address detection, here or for
# the link-local address).
v6() {
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.eth0.accept_dad=0
  ip -n "$1" -6 addr add "$2/64" dev eth0 nodad
}
# lan_attach_nic BRIDGE_NS NS PORT ADDR: as lan_attach, but eth0 filters multicast like a physical NIC or
# virtio-net: a macvlan on a veth into br0 takes only the multicast groups joined on it (a veth takes all). The
# solicitations for a service address go to its solicited-node group, which nobody joins on eth0 (the address is
# on lo): the nodes' speakers must hear them all the same.
lan_attach_nic() {
  lan_namespaces+=("$2")
  ip netns add "$2"
  ip -n "$1" link add "$3" type veth peer name "$3u"
  ip -n "$1" link set "$3" master br0 up
  ip -n "$1" link set "$3u" up
  ip -n "$1" link add "$3m" link "$3u" type macvlan mode bridge
  ip -n "$1" link set "$3m" netns "$2"
  ip -n "$2" link set "$3m" name eth0
  ip -n "$2" link set lo up
  ip -n "$2" addr add "$4/24" dev eth0
  ip -n "$2" link set eth0 up
}
for i in 0 1; do
  lan_attach_nic "$br" "${nodes[$i]}" "mg6p$i-$id" "${node_ips[$i]}"
  v6 "${nodes[$i]}" "${node_ip6s[$i]}"
done
lan_attach "$br" "$client" "mg6pc-$id" 10.99.0.100
v6 "$client" "$client_ip6"
lan_attach "$br" "$pod" "mg6pd-$id" "$pod_ip"
v6 "$pod" "$pod_ip6"
mkdir "$tmp/manifests"

# The pod's servers: redis on both of its addresses, a UDP echo that names the sender it saw.
ip netns exec "$pod" redis-server --bind "$pod_ip6" "$pod_ip" --port 6379 --save '' --appendonly no \
  --protected-mode no >"$tmp/redis.log" 2>&1 &
pids+=($!)
ip netns exec "$pod" "$python" -u -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9000))
print("listening", flush=True)
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data + b" from " + peer[0].encode(), peer)
' "$pod_ip6" >"$tmp/echo.log" 2>&1 &
pids+=($!)

{
  lan_pool   # 10.99.0.240-250, for the ingress controller's Service
  # An IPv6 pool, and a dual-stack one (MetalLB takes both addresses of a dual-stack Service from one pool).
  cat <<YAML
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lan6, namespace: metallb-system}
spec: {addresses: [fd99::240/124]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: dual, namespace: metallb-system}
spec: {addresses: [$ds_vip4/32, $ds_vip6/128]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lan6, namespace: metallb-system}
spec: {ipAddressPools: [lan6, dual]}
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
apiVersion: v1
kind: Service
metadata: {name: redis6, namespace: default, annotations: {metallb.universe.tf/loadBalancerIPs: "$redis_vip"}}
spec:
  type: LoadBalancer
  ipFamilies: [IPv6]
  ipFamilyPolicy: SingleStack
  selector: {app: redis}
  ports: [{name: redis, port: 6379}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: redis6, namespace: default}
subsets: [{addresses: [{ip: "$pod_ip6"}], ports: [{name: redis, port: 6379}]}]
---
apiVersion: v1
kind: Service
metadata: {name: echo6, namespace: default, annotations: {metallb.universe.tf/loadBalancerIPs: "$echo_vip"}}
spec:
  type: LoadBalancer
  ipFamilies: [IPv6]
  ipFamilyPolicy: SingleStack
  selector: {app: echo}
  ports: [{name: echo, port: 9000, protocol: UDP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: echo6-q8r4w, namespace: default, labels: {kubernetes.io/service-name: echo6}}
addressType: IPv6
ports: [{name: echo, port: 9000, protocol: UDP}]
endpoints: [{addresses: ["$pod_ip6"], conditions: {ready: true}}]
---
apiVersion: v1
kind: Service
metadata:
  name: redis-ds
  namespace: default
  annotations: {metallb.universe.tf/loadBalancerIPs: "$ds_vip4,$ds_vip6"}
spec:
  type: LoadBalancer
  ipFamilies: [IPv4, IPv6]
  ipFamilyPolicy: RequireDualStack
  selector: {app: redis}
  ports: [{name: redis, port: 6379}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: redis-ds-v4, namespace: default, labels: {kubernetes.io/service-name: redis-ds}}
addressType: IPv4
ports: [{name: redis, port: 6379, protocol: TCP}]
endpoints: [{addresses: ["$pod_ip"], conditions: {ready: true}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: redis-ds-v6, namespace: default, labels: {kubernetes.io/service-name: redis-ds}}
addressType: IPv6
ports: [{name: redis, port: 6379, protocol: TCP}]
endpoints: [{addresses: ["$pod_ip6"], conditions: {ready: true}}]
YAML
} > "$tmp/manifests/lan.yaml"

# validate shows the forwarding of the IPv6 addresses to the pod's IPv6 address.
"$bin" validate "$tmp/manifests" >"$tmp/validate.txt" 2>&1 || { cat "$tmp/validate.txt"; fail "validate refused the manifests"; }
sed -n '/^Service forwarding/,/^$/p' "$tmp/validate.txt" > "$tmp/forwarding.txt"
grep -q "^Service forwarding" "$tmp/forwarding.txt" || { cat "$tmp/validate.txt"; fail "validate prints no Service forwarding section"; }
expect_forward() {
  grep -qF "$1" "$tmp/forwarding.txt" || { cat "$tmp/validate.txt"; fail "validate does not show: $1"; }
}
expect_forward "default/redis6  [$redis_vip]:6379/TCP -> 1 endpoint [[$pod_ip6]:6379] from Endpoints default/redis6"
expect_forward "default/echo6  [$echo_vip]:9000/UDP -> 1 endpoint [[$pod_ip6]:9000] from EndpointSlice"
echo "validate: $(grep -c . "$tmp/forwarding.txt" | awk '{print $1 - 1}') forwarding lines:"
sed -n '2,$p' "$tmp/forwarding.txt" | sed '/^$/d; s/^/  /'

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

in_client() { ip netns exec "$client" "$@"; }
# ndp_owner VIP: the index of the node whose MAC the client's neighbour entry for VIP carries after a ping that
# makes the client solicit it (NDP's lan_arp_owner), or "none" when no answer names one within 10 s.
ndp_owner() {
  local end=$((SECONDS + 10)) lladdr i
  while [ "$SECONDS" -lt "$end" ]; do
    if in_client ping -6 -c 1 -W 0.3 "$1" >/dev/null 2>&1; then
      lladdr=$(ip -n "$client" -6 neigh show "$1" | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}')
      for i in 0 1; do [ "$lladdr" = "${macs[$i]}" ] && { echo "$i"; return; }; done
    fi
    sleep 0.1
  done
  echo none
}
# ndp_answers VIP: the MACs of every solicited Neighbor Advertisement answering one Neighbor Solicitation for
# VIP that the client sends to its solicited-node group (the way the kernel asks), collected for 0.5 s.
ndp_answers() {
  in_client "$python" -c '
import select, socket, struct, sys, time
vip, src, mac = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3].replace(":", ""))
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)  # the kernel sums ICMPv6 itself
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)          # NDP must come from the link
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
s.bind((src, 0))
target = socket.inet_pton(socket.AF_INET6, vip)
group = socket.inet_ntop(socket.AF_INET6, bytes.fromhex("ff0200000000000000000001ff") + target[13:])
s.sendto(struct.pack("!BBHI", 135, 0, 0, 0) + target + bytes([1, 1]) + mac,
         (group, 0, 0, socket.if_nametoindex("eth0")))
end, seen = time.time() + 0.5, []
while (left := end - time.time()) > 0 and select.select([s], [], [], left)[0]:
    m = s.recv(2048)
    if len(m) >= 32 and m[0] == 136 and m[4] & 0x40 and m[8:24] == target and m[24:26] == bytes([2, 1]):
        seen.append(":".join("%02x" % b for b in m[26:32]))
print(" ".join(sorted(seen)))
' "$1" "$client_ip6" "$(in_client cat /sys/class/net/eth0/address)" 2>&1
}
rcli() { in_client timeout 3 redis-cli -h "$1" -p 6379 "${@:2}" 2>&1; }
# The address a connection through ADDR came from, as redis saw it (addr=[fd99::10]:41234 or 10.99.0.10:41234).
redis_peer() { rcli "$1" CLIENT INFO | tr ' ' '\n' | sed -n 's/^addr=\[\{0,1\}\([^]]*\)\]\{0,1\}:[0-9]*$/\1/p'; }
node_of_ip() { for i in 0 1; do [ "$1" = "${node_ip6s[$i]}" ] || [ "$1" = "${node_ips[$i]}" ] && echo "$i"; done; }
# udp_echo ADDR PORT TEXT: the answer to one datagram, or nothing within 1 s.
udp_echo() {
  in_client "$python" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recvfrom(2048)[0].decode())
except socket.timeout:
    pass
' "$@" 2>&1
}
# refused ADDR PORT: a connection attempt fails at once with "Connection refused" (the kernel's RST).
refused() {
  local start out; start=$(now_ms)
  out=$(in_client timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>&1) && return 1
  echo "$out" | grep -q "Connection refused" || { echo "$out"; return 1; }
  [ $(( $(now_ms) - start )) -lt 1500 ]
}
ready() {  # the pod's servers answer on the LAN
  in_client timeout 1 redis-cli -h "$pod_ip6" PING 2>/dev/null | grep -qx PONG || return 1
  in_client timeout 1 redis-cli -h "$pod_ip" PING 2>/dev/null | grep -qx PONG || return 1
  [ "$(udp_echo "$pod_ip6" 9000 ping)" = "ping from $client_ip6" ] || return 1
}
for _ in $(seq 100); do ready && break; sleep 0.1; done
ready || { tail -n 5 "$tmp"/*.log; fail "the pod's servers did not start"; }

# 1. redis through its IPv6 service address, from the node that answers NDP for it.
start=$(now_ms)
until [ "$(rcli "$redis_vip" SET k v)" = OK ]; do
  [ $(( $(now_ms) - start )) -lt 10000 ] || fail "SET through [$redis_vip]:6379 never succeeded: $(rcli "$redis_vip" SET k v)"
  sleep 0.1
done
got=$(rcli "$redis_vip" GET k); [ "$got" = v ] || fail "GET k through [$redis_vip]:6379 returned '$got', expected v"
redis_owner=$(ndp_owner "$redis_vip")
[ "$redis_owner" != none ] || fail "no node answers NDP for $redis_vip"
answers=$(ndp_answers "$redis_vip")
[ "$answers" = "${macs[$redis_owner]}" ] ||
  fail "a solicitation for $redis_vip got answers from [$answers], expected only node-$redis_owner's ${macs[$redis_owner]}"
peer=$(redis_peer "$redis_vip")
[ "$peer" = "${node_ip6s[$redis_owner]}" ] ||
  fail "redis saw the connection through $redis_vip come from '$peer', not from its owner node-$redis_owner (${node_ip6s[$redis_owner]})"
echo "NDP: one solicitation for $redis_vip, one answer: node-$redis_owner's ${macs[$redis_owner]}"
echo "redis through [$redis_vip]:6379 (NDP owner node-$redis_owner): SET k v, GET k = v; redis sees $peer"

# 2. UDP through the other IPv6 address: echoed, and the echo server saw the owning node.
echo_owner=$(ndp_owner "$echo_vip")
[ "$echo_owner" != none ] || fail "no node answers NDP for $echo_vip"
got=$(udp_echo "$echo_vip" 9000 hello)
[ "$got" = "hello from ${node_ip6s[$echo_owner]}" ] ||
  fail "UDP to [$echo_vip]:9000 (NDP owner node-$echo_owner) answered '$got', expected 'hello from ${node_ip6s[$echo_owner]}'"
echo "udp through [$echo_vip]:9000 (NDP owner node-$echo_owner): echo '$got'"

# 3. The dual-stack Service: both of its addresses reach redis, through the same node (the first address decides),
# each within its own address family.
ds_owner=$(ndp_owner "$ds_vip6")
[ "$ds_owner" != none ] || fail "no node answers NDP for $ds_vip6"
ds_owner4=$(lan_arp_owner "$client" "$ds_vip4" "${macs[@]}")
[ "$ds_owner4" = "$ds_owner" ] || fail "$ds_vip4 is announced by node-$ds_owner4, $ds_vip6 by node-$ds_owner"
ds_seen=()
for a in "$ds_vip4" "$ds_vip6"; do
  got=$(rcli "$a" GET k); [ "$got" = v ] || fail "GET k through $a:6379 (dual stack) returned '$got'"
  seen=()
  for _ in 1 2 3 4; do  # round robin over the Service's endpoints: each connection's source as redis saw it
    p=$(redis_peer "$a")
    [ "$(node_of_ip "$p")" = "$ds_owner" ] || fail "redis saw the connection through $a come from '$p', not node-$ds_owner"
    [[ ($a == *:* && $p == *:*) || ($a != *:* && $p != *:*) ]] ||
      fail "the connection through $a reached redis over the other address family (from $p)"
    seen+=("$p")
  done
  ds_seen+=("$a: redis sees $(printf '%s\n' "${seen[@]}" | sort -u | paste -sd, -)")
done
echo "dual stack default/redis-ds (node-$ds_owner): GET k = v through both; $(printf '%s; ' "${ds_seen[@]}")"

# 4. A port no Service has on the IPv6 address is refused at once, by its owner.
[ "$(ndp_owner "$redis_vip")" = "$redis_owner" ] || fail "$redis_vip changed owner"
refused "$redis_vip" 6380 || fail "[$redis_vip]:6380, a port no Service has, is not refused at once"
refused "$redis_vip" 80 || fail "[$redis_vip]:80 (the ingress controller's port) is not refused at once"
echo "refused: [$redis_vip]:6380 and :80 (node-$redis_owner)"

# 5. failover: SIGKILL of the redis address's owner; the other node serves redis over IPv6 within 10 s.
survivor=$((1 - redis_owner))
kill -9 "${node_pids[$redis_owner]}"; wait "${node_pids[$redis_owner]}" 2>/dev/null  # reaped here, silently
start=$(now_ms)
while :; do
  got=$(rcli "$redis_vip" GET k)
  [ "$got" = v ] && [ "$(redis_peer "$redis_vip")" = "${node_ip6s[$survivor]}" ] && break
  [ $(( $(now_ms) - start )) -lt 10000 ] || fail "after SIGKILL of node-$redis_owner, GET k through [$redis_vip]: '$got'"
  sleep 0.05
done
t=$(( $(now_ms) - start ))
[ "$(ndp_owner "$redis_vip")" = "$survivor" ] || fail "$redis_vip is not announced by node-$survivor"
echo "after SIGKILL of node-$redis_owner: GET k = v through [$redis_vip] via node-$survivor after ${t} ms"
# The dead node's kernel still has the address on lo, but answers no solicitation for it: only the survivor does.
answers=$(ndp_answers "$redis_vip")
[ "$answers" = "${macs[$survivor]}" ] ||
  fail "after the failover a solicitation for $redis_vip got answers from [$answers], expected only ${macs[$survivor]}"
# The survivor holds every address now: UDP and the dual-stack Service through it.
[ "$(ndp_owner "$echo_vip")" = "$survivor" ] || fail "$echo_vip is not announced by node-$survivor"
start=$(now_ms)
until got_udp=$(udp_echo "$echo_vip" 9000 again); [ "$got_udp" = "again from ${node_ip6s[$survivor]}" ]; do
  [ $(( $(now_ms) - start )) -lt 5000 ] || fail "UDP to [$echo_vip]:9000 (node-$survivor) answered '$got_udp'"
done
got=$(rcli "$ds_vip6" GET k); [ "$got" = v ] || fail "GET k through [$ds_vip6] (node-$survivor) returned '$got'"
refused "$redis_vip" 6380 || fail "[$redis_vip]:6380 is not refused by node-$survivor"
echo "node-$survivor: udp echo '$got_udp' and dual-stack redis through it"
echo "PASS: IPv6 Services announced by NDP and forwarded (redis TCP, UDP echo, dual stack), unrelated ports refused, failover to node-$survivor in ${t} ms"
