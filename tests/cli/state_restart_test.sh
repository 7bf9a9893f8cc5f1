#!/usr/bin/env bash
# A node restarted with --state keeps every Service's address although other Services came and went while it
# was down. Without the file, allocation goes by namespace/name order: default/api takes the first address of
# the pool and default/web the second; with api deleted, a fresh start would give web the first. serve writes
# the file after its start (atomically: temporary file, fsync, rename) and the next start reads it. Needs no
# privileges (--no-speaker: allocation and the state file do not depend on the speaker).
set -euo pipefail
metalgate=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/harness.sh"
harness_start metalgate-state-restart
fail() { echo "FAIL: $*" >&2; cat "$work/serve.log" >&2 2>/dev/null || true; exit 1; }

services() {  # the Service names to write
  printf 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: pool, namespace: metallb-system}\nspec: {addresses: [192.0.2.240/30]}\n'
  for name in "$@"; do
    printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\nspec: {type: LoadBalancer, ports: [{port: 7000}]}\n' "$name"
  done
}
serve_once() {  # start serve with --state (it reads the file, then writes it after its start), stop it
  # Emptied here, not by the redirection below: that one happens in the forked child, which under load may
  # not have run yet when the loop reads the log, and the previous run's proxy-started line would let the
  # SIGTERM below reach a serve that has not installed its handler (it then dies with 143).
  : >"$work/serve.log"
  "$metalgate" serve --no-speaker --manifests "$work/manifests.yaml" --listen 127.0.0.1 \
    --http-port "$(harness_free_port)" --https-port "$(harness_free_port)" --state "$work/state.json" \
    >"$work/serve.log" 2>&1 &
  local mg=$!
  pids+=("$mg")
  for _ in $(seq 100); do grep -qs "proxy-started" "$work/serve.log" && break; sleep 0.05; done
  sleep 0.2
  kill -TERM "$mg"
  wait "$mg" || fail "serve exited $?"
}
address_of() { sed -n "s|^default/$1 ||p" "$work/state.json"; }

services api web >"$work/manifests.yaml"
serve_once
api=$(address_of api) web=$(address_of web)
[ "$api" = 192.0.2.240 ] && [ "$web" = 192.0.2.241 ] || { cat "$work/state.json"; fail "first start: api=$api web=$web"; }

# While the node is down, api goes and zzz comes: a fresh start would give web 192.0.2.240 now.
services web zzz >"$work/manifests.yaml"
"$metalgate" validate "$work/manifests.yaml" | grep -q "default/web.*192.0.2.240" ||
  fail "without the state file web would not move (the test would show nothing)"
serve_once
[ "$(address_of web)" = 192.0.2.241 ] || { cat "$work/state.json"; fail "after the restart web has $(address_of web), not 192.0.2.241"; }
zzz=$(address_of zzz)
[ -n "$zzz" ] && [ "$zzz" != 192.0.2.241 ] || { cat "$work/state.json"; fail "zzz got '$zzz'"; }
! ls "$work"/state.json.tmp.* >/dev/null 2>&1 || fail "a temporary state file was left behind"
echo "PASS: restarted with --state, default/web keeps 192.0.2.241 (a fresh start gives it 192.0.2.240); zzz got $zzz"
