#!/usr/bin/env bash
# `metalgate sim scenarios/seed.yaml` as a user runs it: it must pass its expectations, a second run must write a
# byte-identical result.json, and that must be the committed golden one (tests/sim/golden/seed.result.json): the
# same seed gives the same run on any machine. It runs from the directory above the scenario's (the repository
# root), as a user does, so the file names in its warnings do not depend on where the checkout is. When a change
# is meant to alter the run, regenerate the golden file from the repository root:
#   metalgate sim scenarios/seed.yaml --out /tmp/seed && cp /tmp/seed/result.json tests/sim/golden/seed.result.json
set -euo pipefail
metalgate=$(readlink -f "$1")
scenario=$(readlink -f "$2")
cd "$(dirname "$(dirname "$scenario")")"
scenario=$(basename "$(dirname "$scenario")")/$(basename "$scenario")
out=$(mktemp -d /tmp/metalgate-sim-seed.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$metalgate" sim "$scenario" --out "$out/first" --quiet
"$metalgate" sim "$scenario" --out "$out/second" --quiet > /dev/null
cmp "$out/first/result.json" "$out/second/result.json"
golden=$(dirname "$(readlink -f "$0")")/golden/seed.result.json
if ! cmp -s "$out/first/result.json" "$golden"; then
  echo "result.json differs from the golden $golden:"
  diff <(tr ',' '\n' < "$golden") <(tr ',' '\n' < "$out/first/result.json") | head -40
  echo "If the change is meant to alter the run, regenerate it (see the head of $0)."
  exit 1
fi
grep -q '<testsuite name="seed" tests="10" failures="0">' "$out/first/junit.xml"
grep -q '<svg' "$out/first/report.html"
echo "seed scenario: passed twice with a result.json identical to the golden one"
