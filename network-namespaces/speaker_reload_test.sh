#!/usr/bin/env bash
# Configuration reload on a live LAN, in network namespaces this script creates and always removes: a bridge in
# its own namespace, two nodes running `metalgate serve`, one client. A Service is added to the manifests and
# every node gets SIGHUP: the client must reach the new service address while the first one stays reachable,
# and each node's --state file holds both.
# Then a manifest with an error: every node refuses it, says where the error is, and both addresses stay.
# Usage: speaker_reload_test.sh PATH/TO/metalgate   (root; exits 77 to skip otherwise)
set -u
bin=$(readlink -f "$1")
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: network namespaces need root"; exit 77; fi
for tool in ip ping; do command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }; done

id=$$                                   # unique per run: two runs cannot collide
br=mgrbr-$id client=mgrc-$id
nodes=(mgrn0-$id mgrn1-$id)
first_vip=10.99.0.240 second_vip=10.99.0.241
tmp=$(mktemp -d)
pids=()

fail() { echo "FAIL: $*"; for i in 0 1; do echo "--- node-$i log"; tail -n 20 "$tmp/node-$i.log"; done; exit 1; }

source "$(dirname "$(readlink -f "$0")")/lan.sh"
trap lan_cleanup EXIT
lan_bridge "$br"
for i in 0 1; do lan_attach "$br" "${nodes[$i]}" "mgrp$i-$id" "10.99.0.1$i"; done
lan_attach "$br" "$client" "mgrpc-$id" 10.99.0.100
mkdir "$tmp/manifests"
lan_manifests "$tmp/manifests/lan.yaml"

for i in 0 1; do
  other=$((1 - i))
  ip netns exec "${nodes[$i]}" "$bin" serve --manifests "$tmp/manifests" --node "node-$i" --interface eth0 \
    --bind "10.99.0.1$i:7946" --peer "10.99.0.1$other:7946" --seed "$((i + 1))" --state "$tmp/state-$i" \
    >>"$tmp/node-$i.log" 2>&1 &
  pids[$i]=$!
done

reaches() {  # VIP LIMIT_S: the client gets an answer from VIP within LIMIT_S seconds
  local end=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$end" ]; do
    ip netns exec "$client" ping -c 1 -W 0.2 "$1" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}
logged() {  # EVENT: every node logged it
  for i in 0 1; do
    for _ in $(seq 50); do grep -q "$1" "$tmp/node-$i.log" && continue 2; sleep 0.1; done
    return 1
  done
}

reaches "$first_vip" 10 || fail "the client never reached $first_vip"
reaches "$second_vip" 1 && fail "$second_vip answers before any Service has it"
echo "client reaches $first_vip; $second_vip is free"
grep -qx "default/web $first_vip" "$tmp/state-0" || fail "the state file does not hold default/web $first_vip"

# A second LoadBalancer Service: the pool's next address.
cat >> "$tmp/manifests/lan.yaml" <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: default}
spec: {type: LoadBalancer, selector: {app: api}, ports: [{port: 8080}]}
YAML
for i in 0 1; do kill -HUP "${pids[$i]}"; done
logged "serve reloaded" || fail "a node did not log its reload"
reaches "$second_vip" 5 || fail "the client does not reach $second_vip after the reload"
reaches "$first_vip" 1 || fail "$first_vip was lost in the reload"
echo "after the reload: the client reaches $second_vip and still $first_vip"
grep -qx "default/api $second_vip" "$tmp/state-1" || fail "the state file was not written after the reload"

# A manifest with an error: refused, with its place, and nothing changes.
printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: bad, namespace: default}\nspec: {colour: blue}\n' \
  > "$tmp/manifests/zz-bad.yaml"
for i in 0 1; do kill -HUP "${pids[$i]}"; done
logged "reload-refused" || fail "a node did not refuse the bad configuration"
for i in 0 1; do
  grep -q "zz-bad.yaml:5:[0-9]*: error: .*unknown field 'colour'" "$tmp/node-$i.log" ||
    fail "node-$i did not say where the error is"
  kill -0 "${pids[$i]}" 2>/dev/null || fail "node-$i stopped on a bad configuration"
done
reaches "$first_vip" 2 || fail "$first_vip was lost after a refused reload"
reaches "$second_vip" 2 || fail "$second_vip was lost after a refused reload"
echo "a bad configuration was refused by both nodes; both addresses still answer"
echo "PASS"
