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
"$metalgate" check "$scenario" --cases 20 --seed 20261202 --jobs 2 --out "$out" > "$out/log" 2>&1
code=$?
cat "$out/log"
if [ "$code" -ne 0 ]; then
  echo "FAIL: metalgate check exited $code (0: every property held)"
  for f in "$out"/job-*/*.yaml; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
  exit 1
fi
grep -q "vip_safety: held in" "$out/log" && grep -q "vip_liveness: held in" "$out/log" &&
  grep -q "routing: held in" "$out/log" || { echo "FAIL: a property is missing from the report"; exit 1; }
echo "PASS: every property held on the seed's generated cases"
