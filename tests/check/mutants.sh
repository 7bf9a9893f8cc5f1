#!/usr/bin/env bash
# Proof that the properties bite: every mutant of the engine (engine/mutants/mutants.cc, compiled into test
# builds and switched on by METALGATE_MUTANT) makes `metalgate check` fail, with the property named here, on
# the base named here, within the cases given (the default budget is 20). Shrinking is not what this proves,
# so it is off. A mutant in the engine's table but not in this one fails the test: each must be caught.
#   mutants.sh PATH/TO/metalgate SEED_SCENARIO.yaml MUTANTS.cc [--report FILE]
# With --report, writes the table of reports/mutants.md (mutant, property, cases needed, seconds).
set -uo pipefail
metalgate=$1
seed=$2
table=$3
report=${5:-}
out=$(mktemp -d /tmp/metalgate-mutants.XXXXXX)
trap 'rm -rf "$out"' EXIT

# mutant                         property     base       cases
rows=(
  "avoid_buggy_ips_ignored         allocation   seed       20"
  "sharing_ignores_port_clash      allocation   seed       20"
  "roundrobin_skips_server         balancing    seed       20"
  "leastconn_picks_busier          balancing    seed       20"
  "persistence_cookie_ignored      balancing    seed       20"
  "health_fall_off_by_one          health       seed       20"
  "health_rise_off_by_one          health       seed       20"
  "prefix_as_string_prefix         routing      generated  20"
  "exact_matches_as_prefix         routing      generated  20"
  "wildcard_matches_several_labels routing      generated  20"
  "election_prefers_self           vip_safety   seed       20"
  "old_owner_keeps_answering       vip_safety   seed       20"
  "no_gratuitous_arp_on_takeover   vip_liveness seed       20"
  "rate_limit_off_by_one           rate_limit   seed       20"
  "reload_applied_before_validation reload      seed       20"
  "node_selectors_ignored          vip_safety   generated  20"
)

failed=0
listed=" "
lines=()
for row in "${rows[@]}"; do
  read -r mutant property base cases <<< "$row"
  listed+="$mutant "
  where=("$seed")
  [ "$base" = generated ] && where=(--generate)
  start=$(date +%s.%N)
  METALGATE_MUTANT=$mutant "$metalgate" check "${where[@]}" --property "$property" --cases "$cases" --seed 1 \
    --shrink-runs 0 --out "$out/$mutant" > "$out/$mutant.log" 2>&1
  code=$?
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  held=$(grep -o "$property: FAILED after [0-9]* cases held" "$out/$mutant.log" | grep -o '[0-9]*')
  # A failure of the property itself, not a case that could not load or run.
  if [ "$code" -eq 1 ] && [ -n "$held" ] &&
    ! grep -q "case does not load\|case did not run\|RapidCheck gave up" "$out/$mutant.log"; then
    printf 'caught   %-32s by %-11s after %3d cases held (%.1f s)\n' "$mutant" "$property" "$held" "$seconds"
    lines+=("| \`$mutant\` | $property | $base | $((held + 1)) | $(printf '%.1f' "$seconds") |")
  else
    echo "MISSED   $mutant: metalgate check --property $property exited $code (1: a failure found)"
    sed 's/^/    /' "$out/$mutant.log"
    failed=1
  fi
done

# Every mutant the engine knows is in the table above.
for mutant in $(grep -o '^ *{Mutant::k[A-Za-z]*, "[a-z_]*"' "$table" | grep -o '"[a-z_]*"' | tr -d '"'); do
  case "$listed" in
    *" $mutant "*) ;;
    *) echo "UNLISTED $mutant: in $table but not checked here"; failed=1 ;;
  esac
done

if [ -n "$report" ]; then
  {
    echo "| mutant | caught by | base | cases needed | seconds |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${lines[@]}"
  } > "$report"
fi
[ "$failed" -eq 0 ] && echo "PASS: every mutant was caught" || { echo "FAIL: a mutant was not caught"; exit 1; }
