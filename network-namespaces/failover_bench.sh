#!/usr/bin/env bash
# Failover benchmark (not a test): metalgate against keepalived VRRP (advert_int 1 and 0.1) in the same namespaces.
# For each system and fault (SIGKILL of the owner's daemon, the owner's link going down, SIGTERM), RUNS fresh runs:
# NODES nodes (3 unless set, at most 64) and a client on a bridge, all in namespaces this script creates and
# removes. The client asks for the VIP every 10 ms (ARP and ICMP echo through its own kernel); failover is the time
# from the fault to the first echo reply from another node's MAC. "dual" counts runs where, after failover, one
# ARP round was answered by two MACs (a stale owner still answering). Prints a Markdown table.
# Usage: [NODES=3] [SYSTEMS="metalgate keepalived-1 keepalived-0.1"] failover_bench.sh METALGATE VIP_PROBE [RUNS=20]
# (root)
set -u
metalgate=$(readlink -f "$1"); probe=$(readlink -f "$2"); runs=${3:-20}
count=${NODES:-3}
# Node i is 10.99.0.(10 + i): 64 nodes end at .73, below the client (.100) and the pool (.240-.250).
[ "$count" -ge 2 ] && [ "$count" -le 64 ] || { echo "NODES must be 2..64" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces" >&2; exit 2; }
command -v keepalived >/dev/null || { echo "keepalived is not installed (apt-get install keepalived)" >&2; exit 2; }

id=$$
br=mgbb-$id client=mgbc-$id
nodes=(); for ((i = 0; i < count; i++)); do nodes+=("mgb$i-$id"); done
vip=10.99.0.240
tmp=$(mktemp -d)
pids=()
teardown() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  local pidfile
  for pidfile in "$tmp"/*.pid; do [ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null; done
  wait 2>/dev/null
  pids=()
  rm -f "$tmp"/*.pid
  for ns in "${nodes[@]}" "$client" "$br"; do ip netns del "$ns" 2>/dev/null; done
}
trap 'teardown; rm -rf "$tmp"' EXIT

source "$(dirname "$(readlink -f "$0")")/lan.sh"
node_ip() { echo "10.99.0.$((10 + $1))"; }
setup_lan() {
  lan_bridge "$br"
  local i
  for ((i = 0; i < count; i++)); do lan_attach "$br" "${nodes[$i]}" "mgq$i-$id" "$(node_ip "$i")"; done
  lan_attach "$br" "$client" "mgqc-$id" 10.99.0.100
  # Beyond three nodes the nodes know each other's MACs from the start (lan.sh says why); the client still
  # resolves the VIP by ARP, which is what is measured.
  [ "$count" -gt 3 ] && lan_static_neighbours "${nodes[@]}"
  return 0
}
lan_manifests "$tmp/lan.yaml"

start_daemons() {  # system
  local i
  for ((i = 0; i < count; i++)); do
    if [ "$1" = metalgate ]; then
      local peers=() j
      for ((j = 0; j < count; j++)); do [ "$j" -ne "$i" ] && peers+=(--peer "$(node_ip "$j"):7946"); done
      ip netns exec "${nodes[$i]}" "$metalgate" serve --manifests "$tmp/lan.yaml" --node "node-$i" --interface eth0 \
        --bind "$(node_ip "$i"):7946" "${peers[@]}" --seed "$((RANDOM + 1))" >"$tmp/d$i.log" 2>&1 &
      pids[$i]=$!
    else
      local advert=${1#keepalived-} version=2
      [ "$advert" != 1 ] && version=3  # VRRPv2 counts advert_int in whole seconds; sub-second needs VRRPv3
      cat > "$tmp/ka$i.conf" <<CONF
global_defs { router_id node-$i
  vrrp_version $version }
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority $((100 + i))
  advert_int $advert
  virtual_ipaddress { $vip/32 dev eth0 }
}
CONF
      ip netns exec "${nodes[$i]}" keepalived -n -l -P -f "$tmp/ka$i.conf" -p "$tmp/ka$i.pid" -r "$tmp/ka$i.vrrp.pid" \
        >"$tmp/d$i.log" 2>&1 &
      pids[$i]=$!
    fi
  done
}

mac_of() { ip netns exec "${nodes[$1]}" cat /sys/class/net/eth0/address; }

# Waits until exactly one MAC answers ARP for the VIP and the client's echoes come back from that same MAC (its
# neighbour entry agrees with the owner); prints that MAC.
wait_single_owner() {
  local deadline=$(( $(date +%s) + 15 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    local out; out=$(ip netns exec "$client" "$probe" eth0 "$vip" 10 300)
    local macs; macs=$(echo "$out" | awk '$1 == "arp" || $1 == "icmp" {print $3}' | sort -u)
    if [ "$(echo "$macs" | grep -c .)" -eq 1 ] && echo "$out" | grep -q '^icmp' && echo "$out" | grep -q '^arp'; then
      echo "$macs"; return 0
    fi
  done
  return 1
}

fault() {  # system fault node
  local ns=${nodes[$3]}
  case "$2" in
    sigkill)  # keepalived's VRRP child first: killed after its parent it would shut down gracefully
      [ -f "$tmp/ka$3.vrrp.pid" ] && kill -9 "$(cat "$tmp/ka$3.vrrp.pid")" 2>/dev/null
      kill -9 "${pids[$3]}" 2>/dev/null ;;
    linkdown) ip -n "$ns" link set eth0 down ;;
    sigterm) kill -TERM "${pids[$3]}" ;;
  esac
}

# LOGS=DIR keeps the daemons' logs of every run that found no single owner or no failover.
keep_logs() {
  [ -n "${LOGS:-}" ] || return 0
  mkdir -p "$LOGS/$1" && cp "$tmp"/*.log "$tmp"/probe.out "$LOGS/$1/" 2>/dev/null
  return 0
}

declare -A results dual fails
read -ra systems <<<"${SYSTEMS:-metalgate keepalived-1 keepalived-0.1}"  # SYSTEMS=metalgate: only those
faults=(sigkill linkdown sigterm)
for system in "${systems[@]}"; do
  window=3000; [ "$system" = keepalived-1 ] && window=6000
  for f in "${faults[@]}"; do
    for ((r = 1; r <= runs; r++)); do
      setup_lan
      start_daemons "$system"
      if ! old=$(wait_single_owner); then
        fails[$system,$f]=$(( ${fails[$system,$f]:-0} + 1 ))
        keep_logs "$system-$f-$r-no-owner"; teardown; continue
      fi
      owner=""; for ((i = 0; i < count; i++)); do [ "$(mac_of "$i")" = "$old" ] && owner=$i; done
      ip netns exec "$client" "$probe" eth0 "$vip" 10 "$window" >"$tmp/probe.out" &
      probe_pid=$!
      sleep 0.3
      t0=$(date +%s%N)
      fault "$system" "$f" "$owner"
      wait "$probe_pid"
      ms=$(awk -v t0="$t0" -v old="$old" '$1 == "icmp" && $2 > t0 && $3 != old {printf "%.1f", ($2 - t0) / 1e6; exit}' "$tmp/probe.out")
      if [ -z "$ms" ]; then
        fails[$system,$f]=$(( ${fails[$system,$f]:-0} + 1 ))
        keep_logs "$system-$f-$r-no-failover"
      else
        results[$system,$f]="${results[$system,$f]:-} $ms"
        # After failover plus 500 ms: any ARP round answered by two different MACs?
        d=$(awk -v from="$(awk -v t0="$t0" -v ms="$ms" 'BEGIN {printf "%.0f", t0 + (ms + 500) * 1e6}')" \
          '$1 == "arp" && $2 > from {seen[$4 " " $3] = 1} END {for (k in seen) {split(k, a, " "); n[a[1]]++} for (r in n) if (n[r] > 1) {print 1; exit} print 0}' "$tmp/probe.out")
        dual[$system,$f]=$(( ${dual[$system,$f]:-0} + d ))
      fi
      teardown
      echo "$system $f run $r: ${ms:-none} ms" >&2
    done
  done
done

echo "| system | fault | runs | min ms | median ms | p99 ms | no failover | dual-owner runs |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for system in "${systems[@]}"; do
  for f in "${faults[@]}"; do
    stats=$(echo "${results[$system,$f]:-}" | tr ' ' '\n' | grep . | sort -n | awk '
      {v[NR] = $1} END {if (NR == 0) {print "- | - | -"; exit}
        p = int(0.99 * NR + 0.999); if (p < 1) p = 1; if (p > NR) p = NR
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f | %.1f | %.1f", v[1], m, v[p]}')
    echo "| $system | $f | $runs | $stats | ${fails[$system,$f]:-0} | ${dual[$system,$f]:-0} |"
  done
done
