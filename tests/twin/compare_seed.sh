#!/usr/bin/env bash
# `metalgate compare SCENARIO` as CI runs it (as root): the scenario runs in the simulator and then live on
# network namespaces with the real daemon; the live run must pass its expectations (result.json with
# "world": "live", junit.xml, report.html) and the two worlds must agree (compare.json). Afterwards nothing of
# the run is left: no namespace named after it, no process started from its directory. A failing run
# keeps its output directory for reading.
#   compare_seed.sh PATH/TO/metalgate SCENARIO.yaml [metalgate compare's options]
set -uo pipefail
if [ "$(id -u)" -ne 0 ]; then echo "needs root (a LAN of network namespaces)"; exit 77; fi
metalgate=$(readlink -f "$1")
scenario=$(readlink -f "$2")
cd "$(dirname "$(dirname "$scenario")")"
scenario=$(basename "$(dirname "$scenario")")/$(basename "$scenario")
out=$(mktemp -d /tmp/metalgate-compare.XXXXXX)
fail=0
# A failing run keeps its directory: the daemons' access logs are in $out/live*/run/node-*.log.
trap '[ "$fail" -eq 0 ] && rm -rf "$out" || echo "the run is kept in $out"' EXIT
# compare's whole output goes to a file and is printed last: CI logs keep a failing test's first lines, so
# the verdict (what differs, which expectation failed in which world) comes first.
"$metalgate" compare "$scenario" --out "$out" "${@:3}" > "$out/compare.log" 2>&1
code=$?
[ "$code" -eq 0 ] || { echo "FAIL: metalgate compare exited $code (0: the worlds agree)"; fail=1; }
grep -E '^(simulated|live( run [0-9]+)?):$|^  (FAIL|failover|differs|the worlds)|^metalgate compare' "$out/compare.log"
python3 - "$out" <<'PY' || fail=1
import json, sys
out = sys.argv[1]
live = json.load(open(out + "/live/result.json"))
sim = json.load(open(out + "/simulated/result.json"))
c = json.load(open(out + "/compare.json"))
assert live["world"] == "live" and sim["world"] == "simulated", (live["world"], sim["world"])
failed = [e["name"] for e in live["expectations"] if not e["passed"]]
assert live["passed"], "live expectations failed: %s" % failed
assert live["requests"]["total"] > 0, "the live run observed no request"
assert len(live["failovers"]) == len(sim["failovers"]), "failovers: %d live, %d simulated" % (len(live["failovers"]), len(sim["failovers"]))
assert c["agree"], [k for k in ("classes", "failovers", "expectations") for e in c[k] if not e["agree"]]
print("live: %d/%d requests answered; failovers %s ms live, %s ms simulated" % (
    live["requests"]["ok"], live["requests"]["total"],
    [f["failover_ms"] for f in live["failovers"]], [f["failover_ms"] for f in sim["failovers"]]))
PY
grep -q '<testsuite name=' "$out/live/junit.xml" || { echo "FAIL: no junit.xml"; fail=1; }
grep -q 'Simulated and live' "$out/compare.html" || { echo "FAIL: no compare.html"; fail=1; }
echo "--- metalgate compare's output, the manifests' warnings left out:"
grep -v ': warning: ' "$out/compare.log"
left=$(ps -eo pid=,args= | grep -F "$out/" | grep -v grep || true)
[ -z "$left" ] || { echo "FAIL: processes of the run are still there: $left"; fail=1; }
exit $fail
