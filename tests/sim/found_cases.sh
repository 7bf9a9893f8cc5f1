#!/usr/bin/env bash
# Every failure `metalgate check` found and the engine has since fixed (reports/found/*/) replays to a pass
# in `metalgate sim`, so none comes back unseen. The Cluster controller's case must also show what was fixed:
# a node without the proxy owned the VIP, and its requests were answered through it.
set -euo pipefail
metalgate=$1
source=$2
out=$(mktemp -d /tmp/metalgate-found.XXXXXX)
trap 'rm -rf "$out"' EXIT
for scenario in "$source"/reports/found/*/*.yaml; do
  name=$(basename "$(dirname "$scenario")")
  (cd "$(dirname "$scenario")" && "$metalgate" sim "$(basename "$scenario")" --out "$out/$name" --quiet) ||
    { echo "FAIL: $scenario no longer passes" >&2; exit 1; }
done
case=cluster-controller-on-a-node-without-proxy
python3 - "$out/$case/result.json" "$source/reports/found/$case/vip_liveness.yaml" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
nodes = re.findall(r"\{name: (node-\d+), address: [\d.]+, roles: \[([^]]*)\]\}", open(sys.argv[2]).read())
without_proxy = {name for name, roles in nodes if "proxy" not in roles}
assert without_proxy, nodes
owners = {o["owner"] for o in r["owner_timeline"] if o["owner"]}
assert owners and owners <= without_proxy, "the case must have a node without the proxy own the VIP: %s" % owners
assert r["requests"]["ok"] >= 8 and r["passed"], r["requests"]
PY
