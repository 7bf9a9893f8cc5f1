#!/usr/bin/env bash
# `metalgate sim` beside its floor, in one invocation: the large-LAN scenario (large_lan.py: NODES speakers,
# VIPS LoadBalancer Services, the seed's pods and clients) simulated for SECONDS, then every frame that run
# sent replayed by bare_lan over the same switched LAN with no engine (pcap_to_replay.py, bare_lan.cc), and
# the wall time of each. The simulation runs twice from the same seed, once timed and once recording the
# pcap files the replay is made from (writing them costs time of its own).
#   tests/benchmarks/sim/floor_vs_sim.sh BUILD_DIR [NODES=64] [VIPS=1000] [SECONDS=60]
# BUILD_DIR: a build with METALGATE_BENCHMARKS (engine/metalgate, engine/metalgate-sim and
# tests/benchmarks/bare_lan). Prints one table row: nodes, both wall times, their ratio, the real-time
# factors, the frames carried; then the same for ns-3's run alone in each (the simulated time, without
# building the LAN, reading the replay, or the simulation's end-of-run stats, judging and report).
set -euo pipefail
build=$(realpath "$1")
nodes=${2:-64}
vips=${3:-1000}
seconds=${4:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "/tmp/metalgate-floor.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$here/large_lan.py" "$work" --nodes "$nodes" --vips "$vips" > /dev/null
sed -i "s/^duration: .*/duration: ${seconds}s/" "$work/large-lan.yaml"
wall() { /usr/bin/time -f "%e" -o "$work/time" "$@" > "$work/out.log" 2>&1 || true; cat "$work/time" | tail -n 1; }
sim=$(wall "$build/engine/metalgate" sim "$work/large-lan.yaml" --out "$work/timed")
grep -q "wrote" "$work/out.log" || { cat "$work/out.log"; echo "the simulation did not finish" >&2; exit 1; }
sim_running=$(grep -o '[0-9.]* s simulating' "$work/out.log" | cut -d' ' -f1)
sim_after=$(grep -o '[0-9.]* s collecting' "$work/out.log" | cut -d' ' -f1)
"$build/engine/metalgate" sim "$work/large-lan.yaml" --out "$work/recorded" --pcap > /dev/null 2>&1 || true
"$here/pcap_to_replay.py" "$work/recorded/pcap" > "$work/replay.txt"
rm -rf "$work/recorded/pcap"
[ -s "$work/replay.txt" ] || { echo "the recorded run left no frames to replay" >&2; exit 1; }
floor=$(wall "$build/tests/benchmarks/bare_lan" --replay "$work/replay.txt" --seconds "$seconds")
grep -q "^hosts" "$work/out.log" || { cat "$work/out.log"; echo "the replay did not finish" >&2; exit 1; }
frames=$(awk '{print $NF}' "$work/out.log")
floor_running=$(awk '{print $10}' "$work/out.log")
echo "| nodes | metalgate sim wall | bare ns-3 replay wall | ratio | real-time factor (sim) | real-time factor (replay) | frames |"
echo "|---|---|---|---|---|---|---|"
awk -v n="$nodes" -v s="$sim" -v f="$floor" -v t="$seconds" -v fr="$frames" \
  'BEGIN{printf "| %d | %.1f s | %.1f s | **%.1f×** | %.2f× | %.2f× | %d |\n", n, s, f, s / f, t / s, t / f, fr}'
echo
echo "| nodes | sim: ns-3 running | replay: ns-3 running | ratio | sim: collecting, judging, reporting |"
echo "|---|---|---|---|---|"
awk -v n="$nodes" -v s="$sim_running" -v f="$floor_running" -v a="$sim_after" \
  'BEGIN{printf "| %d | %.1f s | %.1f s | **%.2f×** | %.1f s |\n", n, s, f, s / f, a}'
