#!/usr/bin/env bash
# The daemon a node runs links no network simulator and no twin: `ldd metalgate` lists no ns-3, GSL, SQLite or
# libnl-route library.
# `metalgate sim` still works by exec'ing metalgate-sim (next to metalgate, else on PATH), and says so plainly
# when the simulator is not installed.
#   daemon_links_no_simulator.sh PATH/TO/metalgate
set -u
bin=$1
sim="$(dirname "$bin")/metalgate-sim"
simulator_libs='lib(ns3|gsl|sqlite3|nl-route)'
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

libs=$(ldd "$bin") || { echo "FAIL: ldd $bin failed"; exit 1; }
if grep -E "$simulator_libs" <<<"$libs"; then bad "metalgate links the simulator's libraries (above)"
else ok "ldd metalgate lists no libns3*, libgsl*, libsqlite3*, libnl-route*"; fi

help=$("$bin" --help 2>&1)
if grep -qE '^ +sim +Run a scenario' <<<"$help"; then ok "metalgate --help lists sim"
else bad "metalgate --help does not list the sim subcommand: $help"; fi

# Without metalgate-sim beside it or on PATH: exit 2 and a message that says what is missing.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$bin" "$tmp/metalgate"
out=$(env PATH= "$tmp/metalgate" sim scenario.yaml 2>&1)
code=$?
if [ "$code" -eq 2 ] && grep -qF "metalgate sim: not installed (metalgate-sim not found" <<<"$out"; then
  ok "without metalgate-sim: exit 2, '$out'"
else bad "without metalgate-sim: exit $code (want 2), output: $out"; fi

if [ ! -x "$sim" ]; then
  echo "metalgate-sim is not built (no ns-3 3.37): the dispatch to it is not checked"
  exit $fail
fi
# The pattern above finds the simulator's libraries where they are.
grep -qE "$simulator_libs" <<<"$(ldd "$sim")" && ok "ldd metalgate-sim lists ns-3" ||
  bad "ldd metalgate-sim lists no ns-3 library: the check above could not fail"
out=$("$bin" sim --help 2>&1)
code=$?
if [ "$code" -eq 0 ] && grep -q "Scenario YAML file" <<<"$out"; then ok "metalgate sim --help is the simulator's help"
else bad "metalgate sim --help: exit $code (want 0), output: $out"; fi
# Arguments reach metalgate-sim unchanged, options included.
out=$("$bin" sim --version 2>&1)
grep -q '^metalgate-sim [0-9]' <<<"$out" && ok "metalgate sim --version -> $out" || bad "metalgate sim --version: $out"
"$bin" sim --seed=notanumber scenario.yaml >/dev/null 2>&1
code=$?
[ "$code" -eq 2 ] && ok "metalgate sim with a bad option -> 2" || bad "metalgate sim with a bad option exited $code, want 2"
exit $fail
