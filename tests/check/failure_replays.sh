#!/usr/bin/env bash
# A deliberately failing property: metalgate check finds the failure, shrinks it, writes the smallest case and
# prints how to replay it (exit 1); `metalgate sim` on that file fails the same expectation with the same
# measure; the same seed searches the same cases and writes the same file; an unknown property is bad input.
#   failure_replays.sh PATH/TO/metalgate SCENARIO.yaml
set -uo pipefail
metalgate=$1
scenario=$2
out=$(mktemp -d /tmp/metalgate-check-fail.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; cat "$out"/*.log 2>/dev/null; exit 1; }
for run in 1 2; do
  "$metalgate" check "$scenario" --property test_every_request_succeeds --cases 3 --seed 7 --shrink-runs 10 \
    --out "$out/run$run" > "$out/check$run.log" 2>&1
  code=$?
  [ "$code" -eq 1 ] || fail "check run $run exited $code, not 1"
done
file=$out/run1/test_every_request_succeeds.yaml
[ -f "$file" ] || fail "no smallest case written"
grep -q "replay it: metalgate sim $file" "$out/check1.log" || fail "check did not print the replay command"
cmp -s "$file" "$out/run2/test_every_request_succeeds.yaml" || fail "the same seed wrote another case"
measured=$(grep -o 'success_ratio: measured [0-9.e-]*' "$out/check1.log" | head -1)
[ -n "$measured" ] || fail "check printed no measure"
"$metalgate" sim "$file" --out "$out/replay" --quiet > "$out/sim.log" 2>&1
code=$?
[ "$code" -eq 1 ] || fail "metalgate sim on the smallest case exited $code, not 1"
grep -q "FAIL $measured," "$out/sim.log" || fail "the replay did not fail as the search did ($measured)"
"$metalgate" check "$scenario" --property no_such_property > "$out/bad.log" 2>&1
[ $? -eq 2 ] || fail "an unknown property is not exit 2"
grep -q "one of: vip_safety" "$out/bad.log" || fail "the unknown property's error lists no choices"
echo "PASS: $measured found, shrunk, written and replayed"
