# Shared by the harness scripts (sourced): a switched LAN built from namespaces, and the manifests its nodes serve.
# The caller creates unique names; `trap lan_cleanup EXIT` removes every namespace made here, ends the processes
# the caller put in `pids` (only those) and removes $tmp.

lan_namespaces=()
lan_cleanup() {
  local p ns
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  for ns in "${lan_namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$tmp"
}

# lan_bridge NS: a namespace holding the bridge br0 (the switch lives in its own namespace).
lan_bridge() {
  lan_namespaces+=("$1")
  ip netns add "$1"
  ip -n "$1" link add br0 type bridge
  ip -n "$1" link set br0 up
}

# lan_attach BRIDGE_NS NS PORT ADDR: a namespace whose eth0 is a veth into br0, with ADDR/24.
lan_attach() {
  lan_namespaces+=("$2")
  ip netns add "$2"
  ip -n "$1" link add "$3" type veth peer name eth0 netns "$2"
  ip -n "$1" link set "$3" master br0 up
  ip -n "$2" link set lo up
  ip -n "$2" addr add "$4/24" dev eth0
  ip -n "$2" link set eth0 up
}

# lan_static_neighbours NS...: every namespace gets a permanent neighbour entry for every other's eth0. Linux
# keeps one ARP table for all namespaces, and past net.ipv4.neigh.default.gc_thresh3 (1,024) dynamic entries it
# refuses new ones and drops what waits on them ("neighbor table overflow"): 64 nodes that all talk to each
# other need 4,032. Permanent entries are exempt from that limit, and the host's sysctls stay as they are.
lan_static_neighbours() {
  local ns other batch
  declare -A macs ips
  for ns in "$@"; do
    macs[$ns]=$(ip netns exec "$ns" cat /sys/class/net/eth0/address)
    ips[$ns]=$(ip -n "$ns" -4 -o addr show dev eth0 | awk '{split($4, a, "/"); print a[1]}')
  done
  for ns in "$@"; do
    batch=""
    for other in "$@"; do
      [ "$other" = "$ns" ] || batch+="neigh replace ${ips[$other]} lladdr ${macs[$other]} dev eth0 nud permanent"$'\n'
    done
    printf '%s' "$batch" | ip -n "$ns" -batch -
  done
}

# lan_pool: prints an address pool 10.99.0.240-250 and its L2Advertisement.
lan_pool() {
  cat <<YAML
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lan, namespace: metallb-system}
spec: {addresses: [10.99.0.240-10.99.0.250]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lan, namespace: metallb-system}
spec: {ipAddressPools: [lan]}
YAML
}

# lan_manifests FILE: the pool, its L2Advertisement, and one LoadBalancer Service.
lan_manifests() {
  {
    lan_pool
    cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
YAML
  } > "$1"
}

# lan_arp_owner CLIENT_NS VIP MAC...: the index among the MACs of the one the client's ARP answer for VIP carries
# (after a ping that makes the client ask), or "none" when no answer names one within 10 s.
lan_arp_owner() {
  local client=$1 vip=$2 end=$((SECONDS + 10)) lladdr i
  shift 2
  local macs=("$@")
  while [ "$SECONDS" -lt "$end" ]; do
    if ip netns exec "$client" ping -c 1 -W 0.3 "$vip" >/dev/null 2>&1; then
      lladdr=$(ip -n "$client" neigh show "$vip" | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}')
      for i in "${!macs[@]}"; do [ "$lladdr" = "${macs[$i]}" ] && { echo "$i"; return; }; done
    fi
    sleep 0.1
  done
  echo none
}
