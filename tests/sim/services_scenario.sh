#!/usr/bin/env bash
# `metalgate sim scenarios/services.yaml` as a user runs it: several LoadBalancer Services, each targeted by
# name and each VIP's owner crashing in turn, must pass every expectation, and a second run must write a
# byte-identical result.json.
set -euo pipefail
metalgate=$1
scenario=$2
out=$(mktemp -d /tmp/metalgate-sim-services.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$metalgate" sim "$scenario" --out "$out/first" --quiet
"$metalgate" sim "$scenario" --out "$out/second" --quiet > /dev/null
cmp "$out/first/result.json" "$out/second/result.json"
grep -q '<testsuite name="services" tests="9" failures="0">' "$out/first/junit.xml"
# Each crash named the owner of a VIP a client targets, someone owned it then, and the clients of the VIPs that
# moved recovered (failover_ms is -1 when they never did).
python3 - "$out/first/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
crashes = [f for f in r["faults"] if f["action"] == "crash"]
crashed_vips = {f["owner_of"]["vip"] for f in crashes if f.get("node")}
expected = {"192.168.1.240", "192.168.1.241", "192.168.1.242", "192.168.1.243"}
assert crashed_vips == expected, "crashes without an owner to crash: %s" % sorted(expected - crashed_vips)
for f in crashes:
    moved = [m for m in r["failovers"] if m["fault_at_ms"] == f["at_ms"]]
    assert moved and all(m["failover_ms"] >= 0 for m in moved), (f, moved)
# externalTrafficPolicy: Local: the API's owner forwards only to its own pod, so the answers split as the VIP's
# ownership did (mostly one node's), where Cluster would balance them across both pods.
api = [r["requests"]["by_backend"].get(pod, 0) for pod in ("api-0", "api-1")]
assert min(api) > 0 and abs(api[0] - api[1]) > sum(api) / 2, api
PY
echo "services scenario: passed twice with identical result.json, every VIP failed over"
