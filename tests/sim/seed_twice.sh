#!/usr/bin/env bash
# `metalgate sim scenarios/seed.yaml` as a user runs it: it must pass its expectations, and a second run must
# write a byte-identical result.json.
set -euo pipefail
metalgate=$1
scenario=$2
out=$(mktemp -d /tmp/metalgate-sim-seed.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$metalgate" sim "$scenario" --out "$out/first" --quiet
"$metalgate" sim "$scenario" --out "$out/second" --quiet > /dev/null
cmp "$out/first/result.json" "$out/second/result.json"
grep -q '<testsuite name="seed" tests="8" failures="0">' "$out/first/junit.xml"
grep -q '<svg' "$out/first/report.html"
echo "seed scenario: passed twice with identical result.json"
