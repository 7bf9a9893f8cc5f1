#!/usr/bin/env bash
# Live Layer-2 failover in network namespaces this script creates and always removes: a bridge in its own
# namespace, three nodes running `metalgate serve`, one client. The client pings the service address while the
# owner is killed (SIGKILL), then while the next owner stops gracefully (SIGTERM); it must keep reaching the address
# through another node. Usage: speaker_failover_test.sh PATH/TO/metalgate   (root; exits 77 to skip otherwise)
set -u
bin=$(readlink -f "$1")
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: network namespaces need root"; exit 77; fi
for tool in ip ping; do command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }; done

id=$$                                   # unique per run: two runs cannot collide
br=mgbr-$id client=mgc-$id
nodes=(mgn0-$id mgn1-$id mgn2-$id)
vip=10.99.0.240
tmp=$(mktemp -d)
pids=()

fail() { echo "FAIL: $*"; for i in 0 1 2; do echo "--- node-$i log"; tail -n 20 "$tmp/node-$i.log"; done; exit 1; }
now_ms() { date +%s%3N; }

source "$(dirname "$(readlink -f "$0")")/lan.sh"
trap lan_cleanup EXIT
lan_bridge "$br"
for i in 0 1 2; do lan_attach "$br" "${nodes[$i]}" "mgp$i-$id" "10.99.0.1$i"; done
lan_attach "$br" "$client" "mgpc-$id" 10.99.0.100
mkdir "$tmp/manifests"
lan_manifests "$tmp/manifests/lan.yaml"

start_node() {
  local i=$1 peers=()
  for j in 0 1 2; do [ "$j" -ne "$i" ] && peers+=(--peer "10.99.0.1$j:7946"); done
  ip netns exec "${nodes[$i]}" "$bin" serve --manifests "$tmp/manifests" --node "node-$i" --interface eth0 \
    --bind "10.99.0.1$i:7946" "${peers[@]}" --seed "$((i + 1))" --admin-socket "$tmp/admin-$i.sock" \
    >>"$tmp/node-$i.log" 2>&1 &
  pids[$i]=$!
}
for i in 0 1 2; do start_node "$i"; done

mac_of_node() { ip netns exec "${nodes[$1]}" cat /sys/class/net/eth0/address; }
client_mac() { ip -n "$client" neigh show "$vip" | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'; }
node_with_mac() { for i in 0 1 2; do [ "$(mac_of_node "$i")" = "$1" ] && echo "$i"; done; }

# Until the client reaches the address through a node other than `old_mac` (empty: any); prints milliseconds.
wait_reach() {
  local old_mac=$1 limit_ms=$2 start; start=$(now_ms)
  while [ $(( $(now_ms) - start )) -lt "$limit_ms" ]; do
    if ip netns exec "$client" ping -c 1 -W 0.2 "$vip" >/dev/null 2>&1; then
      local mac; mac=$(client_mac)
      if [ -n "$mac" ] && [ "$mac" != "$old_mac" ] && [ -n "$(node_with_mac "$mac")" ]; then echo $(( $(now_ms) - start )); return 0; fi
    fi
    sleep 0.02
  done
  return 1
}

t=$(wait_reach "" 10000) || fail "the client never reached $vip"
echo "client reaches $vip after ${t} ms"
sleep 1
owner_mac=$(client_mac); owner=$(node_with_mac "$owner_mac")
[ -n "$owner" ] || fail "the client's neighbour entry $owner_mac is no node's MAC"
owners=$(grep -l "ownership-gained" "$tmp"/node-*.log | wc -l)
echo "owner: node-$owner ($owner_mac); nodes that ever owned it: $owners"
# The admin socket agrees: every node names the owner, the owner says "here", all three members alive.
for i in 0 1 2; do
  vips=$("$bin" ctl --socket "$tmp/admin-$i.sock" show vips) || fail "ctl show vips on node-$i: $vips"
  here=no; [ "$i" = "$owner" ] && here=yes
  grep -qx "$vip node-$owner $here" <<<"$vips" || { echo "$vips"; fail "node-$i's show vips does not say node-$owner"; }
  members=$("$bin" ctl --socket "$tmp/admin-$i.sock" show members) || fail "ctl show members on node-$i"
  [ "$(grep -c ' alive [0-9]* yes$' <<<"$members")" = 3 ] || { echo "$members"; fail "node-$i does not see 3 ready members"; }
done
echo "admin socket: every node's show vips names node-$owner, show members lists 3 alive"

# Failover is bounded below one second, with room: reports/failover.md measures a p99 of at most 250 ms.
kill -9 "${pids[$owner]}"; unset "pids[$owner]"
t=$(wait_reach "$owner_mac" 1000) || fail "no other node took over within 1 s of SIGKILL of node-$owner"
new_mac=$(client_mac); new_owner=$(node_with_mac "$new_mac")
echo "after SIGKILL of node-$owner: reached through node-$new_owner after ${t} ms"

kill -TERM "${pids[$new_owner]}"
t=$(wait_reach "$new_mac" 1000) || fail "no node took over within 1 s of SIGTERM of node-$new_owner"
last=$(node_with_mac "$(client_mac)")
echo "after SIGTERM of node-$new_owner: reached through node-$last after ${t} ms"
[ "$last" != "$owner" ] || fail "the killed node-$owner answered again"
wait "${pids[$new_owner]}" 2>/dev/null; code=$?
[ "$code" -eq 0 ] || fail "node-$new_owner exited $code after SIGTERM, expected 0"
grep -q "draining signal=15" "$tmp/node-$new_owner.log" && grep -q "stopping drained=yes" "$tmp/node-$new_owner.log" ||
  fail "node-$new_owner did not log its graceful stop"
echo "PASS"
