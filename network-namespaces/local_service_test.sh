#!/usr/bin/env bash
# externalTrafficPolicy: Local on a live LAN, in network namespaces this script creates and always removes: a
# bridge in its own namespace, two nodes running `metalgate serve` (node-1 with --no-proxy), one client. MetalLB's
# rule: a Local Service is announced only by a node holding a ready endpoint of it. Three database Services
# have their one endpoint on node-0, node-1 and node-0 (Endpoints nodeName); the ingress controller's Service
# has its endpoints where the proxy runs, so only on node-0. The client's ARP answers must come from exactly
# those nodes (a chance pass without the rule: 1 in 16).
# Usage: local_service_test.sh PATH/TO/metalgate   (root; exits 77 to skip otherwise)
set -u
bin=$(readlink -f "$1")
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: network namespaces need root"; exit 77; fi
for tool in ip ping; do command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }; done

id=$$                                   # unique per run: two runs cannot collide
br=mglbr-$id client=mglc-$id
nodes=(mgln0-$id mgln1-$id)
tmp=$(mktemp -d)
pids=()

fail() { echo "FAIL: $*"; for i in 0 1; do echo "--- node-$i log"; tail -n 20 "$tmp/node-$i.log"; done; exit 1; }

source "$(dirname "$(readlink -f "$0")")/lan.sh"
trap lan_cleanup EXIT
lan_bridge "$br"
for i in 0 1; do lan_attach "$br" "${nodes[$i]}" "mglp$i-$id" "10.99.0.1$i"; done
lan_attach "$br" "$client" "mglpc-$id" 10.99.0.100
mkdir "$tmp/manifests"

# local_service NAME VIP NODE: a LoadBalancer Service with externalTrafficPolicy Local, its endpoint on NODE.
local_service() {
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: default, annotations: {metallb.universe.tf/loadBalancerIPs: $2}}
spec: {type: LoadBalancer, externalTrafficPolicy: Local, ports: [{name: pg, port: 5432}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: $1, namespace: default}
subsets: [{addresses: [{ip: 10.99.1.5, nodeName: $3}], ports: [{name: pg, port: 5432}]}]
YAML
}
{
  lan_pool
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata:
  name: ingress
  namespace: haproxy-ingress
  annotations: {metallb.universe.tf/loadBalancerIPs: 10.99.0.240}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app.kubernetes.io/name: kubernetes-ingress}
  ports: [{name: http, port: 80}]
YAML
  local_service db0 10.99.0.241 node-0
  local_service db1 10.99.0.242 node-1
  local_service db2 10.99.0.243 node-0
} > "$tmp/manifests/lan.yaml"

for i in 0 1; do
  other=$((1 - i))
  role=(); [ "$i" -eq 1 ] && role=(--no-proxy)
  ip netns exec "${nodes[$i]}" "$bin" serve --manifests "$tmp/manifests" --node "node-$i" --interface eth0 \
    --bind "10.99.0.1$i:7946" --peer "10.99.0.1$other:7946" --seed "$((i + 1))" "${role[@]}" \
    >>"$tmp/node-$i.log" 2>&1 &
  pids[$i]=$!
done
mac() { ip -n "$1" -br link show eth0 | awk '{print $3}'; }
macs=("$(mac "${nodes[0]}")" "$(mac "${nodes[1]}")")

# owner VIP: the node whose MAC the client's ARP answer carries (lan.sh).
owner() {
  local i
  i=$(lan_arp_owner "$client" "$1" "${macs[@]}")
  if [ "$i" = none ]; then echo none; else echo "node-$i"; fi
}

sleep 1  # the join grace and the first announcements
for pair in 10.99.0.240:node-0 10.99.0.241:node-0 10.99.0.242:node-1 10.99.0.243:node-0; do
  vip=${pair%%:*} want=${pair##*:}
  got=$(owner "$vip")
  [ "$got" = "$want" ] || fail "$vip is announced by $got, not by $want (the node holding its endpoint)"
  echo "$vip answered by $want"
done
echo "PASS"
