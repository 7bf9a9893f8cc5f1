#!/usr/bin/env bash
# Without root, `metalgate netns` exits 2 and points to `metalgate sim`. A live run interrupted at a random
# moment leaves nothing behind: SIGINT (as ^C) or SIGTERM at a random
# instant of the seed scenario, then no namespace of that run under /run/netns, no veth of it in the root
# namespace, and no process started from its directory. Then the same with SIGKILL, which no program can
# handle: the run's processes die with it (PR_SET_PDEATHSIG), and `metalgate netns --cleanup` removes its
# namespaces, and only those.
#   interrupted_run.sh PATH/TO/metalgate SCENARIO.yaml
set -uo pipefail
if [ "$(id -u)" -ne 0 ]; then echo "needs root (a LAN of network namespaces)"; exit 77; fi
metalgate=$(readlink -f "$1")
scenario=$(readlink -f "$2")
out=$(mktemp -d /tmp/metalgate-interrupted.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
roots_veths_before=$(ip -o link show type veth | wc -l)

# Without the privileges: exit 2 and a pointer to the simulator, before anything is made.
said=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$metalgate" netns "$scenario" 2>&1)
code=$?
[ "$code" -eq 2 ] && grep -qF "metalgate sim" <<<"$said" && echo "ok: without root: exit 2, '$said'" ||
  bad "without root: exit $code, '$said'"

# Whatever run PID left: its namespaces and processes.
leftovers() {
  local pid=$1
  ls /run/netns 2>/dev/null | grep "^mgt-$pid-" || true
  ps -eo pid=,args= | grep -F "$out/" | grep -v grep || true
}

# Starts the seed live, sends `signal` after `after` seconds; sets runner (its PID) and code (its exit code).
run_and_stop() {
  local signal=$1 after=$2
  "$metalgate" netns "$scenario" --out "$out/$signal" --quiet > "$out/$signal.log" 2>&1 &
  runner=$!  # `metalgate netns` execs metalgate-netns: the PID is the runner's
  sleep "$after"
  [ -n "$(ls /run/netns 2>/dev/null | grep "^mgt-$runner-")" ] || bad "no namespace of run $runner after ${after}s"
  kill -s "$signal" "$runner"
  wait "$runner" 2>/dev/null
  code=$?
  sleep 0.5  # the kernel reaps a SIGKILLed run's children
}

random_moment() { awk -v r="$RANDOM" 'BEGIN { printf "%.1f", 1 + r % 80 / 10 }'; }

for signal in INT TERM; do
  after=$(random_moment)
  run_and_stop "$signal" "$after"
  want=$((128 + $(kill -l "$signal")))
  [ "$code" -eq "$want" ] || bad "SIG$signal: exit $code, want $want; $(tail -2 "$out/$signal.log")"
  left=$(leftovers "$runner")
  [ -z "$left" ] && echo "ok: SIG$signal after ${after}s: exit $code, nothing left" ||
    bad "SIG$signal after ${after}s left: $left"
done

after=$(random_moment)
run_and_stop KILL "$after"
processes=$(ps -eo pid=,args= | grep -F "$out/" | grep -v grep || true)
[ -z "$processes" ] && echo "ok: SIGKILL after ${after}s: no process of the run" || bad "processes left: $processes"
[ -n "$(ls /run/netns | grep "^mgt-$runner-")" ] || bad "SIGKILL left no namespace: --cleanup is not exercised"
"$metalgate" netns --cleanup | tail -1
left=$(leftovers "$runner")
[ -z "$left" ] && echo "ok: --cleanup removed the killed run's namespaces" || bad "--cleanup left: $left"

[ "$(ip -o link show type veth | wc -l)" -eq "$roots_veths_before" ] || bad "the root namespace's veths changed"
exit $fail
