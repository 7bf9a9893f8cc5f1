#!/usr/bin/env bash
# `metalgate netns SCENARIO --pcap` as CI runs it (as root): the scenario passes live, every VIP named after
# it moved in a crash (for dual-stack: the IPv6 VIP by NDP, the IPv4 one by ARP), the clients' captures hold
# the new owner's unsolicited announcements of each (gratuitous ARP, or an NDP neighbour advertisement), and
# nothing of the run is left afterwards.
#   live_scenario.sh PATH/TO/metalgate SCENARIO.yaml [VIP...]
set -uo pipefail
if [ "$(id -u)" -ne 0 ]; then echo "needs root (a LAN of network namespaces)"; exit 77; fi
metalgate=$(readlink -f "$1")
scenario=$(readlink -f "$2")
shift 2
out=$(mktemp -d /tmp/metalgate-live.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail=0
"$metalgate" netns "$scenario" --out "$out" --quiet --pcap || { echo "FAIL: metalgate netns exited $?"; fail=1; }
python3 - "$out/result.json" "$@" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
assert r["world"] == "live" and r["passed"], [e["name"] for e in r["expectations"] if not e["passed"]]
moved = {f["vip"] for f in r["failovers"] if f["failover_ms"] >= 0 and f["cause"] == "crash"}
for vip in sys.argv[2:]:
    assert vip in moved, "%s never failed over: %s" % (vip, r["failovers"])
print("live: passed; crash failovers %s" % {f["vip"]: f["failover_ms"] for f in r["failovers"] if f["cause"] == "crash"})
PY
for vip in "$@"; do
  if [[ $vip == *:* ]]; then pattern="neighbor advertisement, tgt is $vip"; else pattern="ARP, Request who-has $vip tell $vip"; fi
  heard=$(for p in "$out"/pcap/*.pcap; do tcpdump -nr "$p" 2>/dev/null; done | grep -c "$pattern")
  [ "$heard" -gt 0 ] && echo "ok: the captures hold $heard announcements of $vip" ||
    { echo "FAIL: no '$pattern' in the captures"; fail=1; }
done
left=$(ps -eo pid=,args= | grep -F "$out/" | grep -v grep || true)
[ -z "$left" ] || { echo "FAIL: processes of the run are still there: $left"; fail=1; }
exit $fail
