#!/usr/bin/env bash
# `metalgate check` on the seed scenario with CI's budget, as a user runs it: every property holds on cases
# generated around the tutorial's manifests (their pods and clients; generated nodes, mixes and fault
# histories), two jobs on the two cores. A failure prints its smallest case, kept for reading.
#   check_seed.sh PATH/TO/metalgate SCENARIO.yaml
set -uo pipefail
metalgate=$1
scenario=$2
out=$(mktemp -d /tmp/metalgate-check-seed.XXXXXX)
trap 'rm -rf "$out"' EXIT
# Every property at the default budget (20 cases), but reload at 6: each of its cases rebuilds every node's
# proxy at least twice, about 35 s a case in the sanitizer build beside CI's other tests (reports/checking.md).
cheap=(--property vip_safety --property vip_liveness --property routing --property allocation --property balancing
       --property health --property rate_limit)
{
  "$metalgate" check "$scenario" "${cheap[@]}" --cases 20 --seed 20261202 --jobs 2 --out "$out" &&
    "$metalgate" check "$scenario" --property reload --cases 6 --seed 20261202 --jobs 2 --out "$out/reload"
} > "$out/log" 2>&1
code=$?
cat "$out/log"
if [ "$code" -ne 0 ]; then
  echo "FAIL: metalgate check exited $code (0: every property held)"
  for f in "$out"/job-*/*.yaml "$out"/reload/job-*/*.yaml; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
  exit 1
fi
for property in vip_safety vip_liveness routing allocation balancing health rate_limit reload; do
  grep -q "$property: held in" "$out/log" || { echo "FAIL: $property is missing from the report"; exit 1; }
done
echo "PASS: every property held on the seed's generated cases"
# The tutorial's manifests alone (no scenario file): a base built for them, written beside the cases.
"$metalgate" check --manifests "$(dirname "$scenario")/seed" "${cheap[@]}" --cases 6 --seed 20261202 --jobs 2 --out "$out/m" \
  > "$out/mlog" 2>&1
code=$?
cat "$out/mlog"
[ "$code" -eq 0 ] || { echo "FAIL: metalgate check --manifests exited $code"; cat "$out/m/base.yaml"; exit 1; }
grep -q "^  - name: tcp-5432" "$out/m/base.yaml" || { echo "FAIL: no TCP client in the built base"; exit 1; }
echo "PASS: every property held on cases around the tutorial's manifests alone"
