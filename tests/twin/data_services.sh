#!/usr/bin/env bash
# The seed's data services as real Debian servers, live (scenarios/data-services.yaml), reached by real clients
# through the VIP from a client host's namespace of the run: redis-cli SET/GET, psql (the answering server's
# address is the PostgreSQL pod's), dig (dnsmasq's record of the CoreDNS pod); once before the VIP owner's
# crash at 15 s and once after it, through the next owner. The run itself must pass its expectations.
#   data_services.sh PATH/TO/metalgate SCENARIO.yaml
set -uo pipefail
if [ "$(id -u)" -ne 0 ]; then echo "needs root (a LAN of network namespaces)"; exit 77; fi
for tool in redis-cli psql dig; do command -v $tool >/dev/null || { echo "SKIP: no $tool"; exit 77; }; done
metalgate=$(readlink -f "$1")
scenario=$(readlink -f "$2")
out=$(mktemp -d /tmp/metalgate-data.XXXXXX)
runner=
trap '[ -n "$runner" ] && kill "$runner" 2>/dev/null; rm -rf "$out"' EXIT
fail=0
vip=192.168.1.240
"$metalgate" netns "$scenario" --out "$out" --quiet > "$out/run.log" 2>&1 &
runner=$!
ns=
for _ in $(seq 100); do
  ns=$(ls /run/netns 2>/dev/null | grep "^mgt-$runner-.*-operator$" | head -1)
  [ -n "$ns" ] && [ -e "$out/run/start" ] && break
  sleep 0.1
done
[ -n "$ns" ] || { echo "FAIL: the run made no namespace for its operator host"; cat "$out/run.log"; exit 1; }

use_the_services() {  # when
  local got
  got=$(ip netns exec "$ns" timeout 5 redis-cli -h $vip -p 6379 SET metalgate "$1" 2>&1)
  [ "$got" = OK ] || { echo "FAIL ($1): redis-cli SET: $got"; fail=1; }
  got=$(ip netns exec "$ns" timeout 5 redis-cli -h $vip -p 6379 GET metalgate 2>&1)
  [ "$got" = "$1" ] && echo "ok ($1): redis-cli through $vip" || { echo "FAIL ($1): redis-cli GET: $got"; fail=1; }
  got=$(ip netns exec "$ns" timeout 10 psql -h $vip -p 5432 -U postgres -Atc 'select inet_server_addr()' 2>&1)
  [ "$got" = 192.168.1.41 ] && echo "ok ($1): psql answered by the PostgreSQL pod" ||
    { echo "FAIL ($1): psql: $got"; fail=1; }
  got=$(ip netns exec "$ns" timeout 5 dig +short +tries=2 @$vip -p 53 coredns-custom-0.metalgate.test 2>&1)
  [ "$got" = 192.168.1.43 ] && echo "ok ($1): dig answered by dnsmasq" || { echo "FAIL ($1): dig: $got"; fail=1; }
}

sleep 4  # past the first second and the pods' first health checks
use_the_services before-the-crash
sleep 14  # the owner crashes at 15 s
use_the_services after-the-crash
wait "$runner"
code=$?
runner=
[ "$code" -eq 0 ] || { echo "FAIL: metalgate netns exited $code"; grep -E 'FAIL|error' "$out/run.log"; fail=1; }
python3 - "$out/result.json" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
assert r["world"] == "live" and r["passed"], [e["name"] for e in r["expectations"] if not e["passed"]]
print("live: passed; failovers %s" % [(f["cause"], f["failover_ms"]) for f in r["failovers"]])
PY
exit $fail
