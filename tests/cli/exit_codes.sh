#!/usr/bin/env bash
# The command line's exit codes as scripts see them: 0 valid, 1 invalid, 2 usage; --help and --version work.
set -u
bin=$1
src=$2
fail=0
expect() {
  local want=$1; shift
  "$@" >/dev/null 2>&1
  local got=$?
  if [ "$got" -ne "$want" ]; then echo "FAIL: '$*' exited $got, expected $want"; fail=1; else echo "ok: '$*' -> $got"; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 99999}]}\n' > "$tmp/bad.yaml"
expect 0 "$bin" validate "$src/scenarios/seed"
expect 0 "$bin" validate --json "$src/scenarios/seed"
expect 1 "$bin" validate "$tmp/bad.yaml"
expect 1 "$bin" validate "$tmp/missing.yaml"
expect 2 "$bin"
expect 2 "$bin" validate
expect 2 "$bin" frobnicate
# Bad speaker timing is refused, by name, before anything starts (no interface is touched). The interface
# named does not exist, so even without the check nothing could be announced.
refuses() {  # message args...
  local want=$1; shift
  local out
  out=$(timeout 5 "$@" 2>&1)
  if [ $? -eq 1 ] && grep -qF -- "$want" <<<"$out"; then echo "ok: refused with '$want'"
  else echo "FAIL: '$*' did not refuse with '$want': $out"; fail=1; fi
}
serve=("$bin" serve --manifests "$src/scenarios/seed" --node n --interface mg-none0 --bind 127.0.0.1:7946)
refuses "--probe-interval 'soon' is not a duration" "${serve[@]}" --probe-interval soon
refuses "--probe-timeout must be shorter than --probe-interval" "${serve[@]}" --probe-interval 10ms --probe-timeout 20ms
expect 0 "$bin" --help
expect 0 "$bin" --version
"$bin" --version | grep -q '^metalgate [0-9]' || { echo "FAIL: --version prints no version"; fail=1; }
exit $fail
