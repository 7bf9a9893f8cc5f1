#!/usr/bin/env bash
# `metalgate check --generate` with CI's budget: every property holds on cases around manifests drawn from the
# seed (Ingresses with exact and wildcard hosts and every pathType, default backends, a tcp-services map) and
# clients that ask the requests telling a right router from a nearly right one; the same seed draws the same
# base; two jobs on the two cores.
#   check_generated.sh PATH/TO/metalgate
set -uo pipefail
metalgate=$1
out=$(mktemp -d /tmp/metalgate-check-generated.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
for seed in 20261203 7; do
  "$metalgate" check --generate --cases 10 --seed "$seed" --jobs 2 --out "$out/$seed" > "$out/$seed.log" 2>&1
  code=$?
  cat "$out/$seed.log"
  if [ "$code" -ne 0 ]; then
    for f in "$out/$seed"/job-*/*.yaml; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
    fail "metalgate check --generate --seed $seed exited $code (0: every property held)"
  fi
  for property in vip_safety vip_liveness routing allocation balancing health rate_limit; do
    grep -q "$property: held in" "$out/$seed.log" || fail "$property is missing from the report"
  done
  [ -f "$out/$seed/generated/base.yaml" ] || fail "no generated base written"
  grep -q "pathType: Exact\|pathType: Prefix" "$out/$seed/generated/manifests/"*.yaml || fail "no Ingress path"
done
# The same seed, the same base.
"$metalgate" check --generate --property health --cases 1 --seed 20261203 --out "$out/again" > /dev/null 2>&1 ||
  fail "a second run failed"
diff -r "$out/20261203/generated" "$out/again/generated" > /dev/null || fail "the same seed drew another base"
echo "PASS: every property held on generated manifests; the same seed draws the same base"
