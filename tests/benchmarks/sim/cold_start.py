#!/usr/bin/python3
"""A cold start of a large LAN in the simulator, through the Python module: every node starts at once, no
fault, 12 s; prints single_owner's verdict and the intervals in which a VIP had several owners.

    tests/benchmarks/sim/large_lan.py /tmp/ll250 --nodes 250 --vips 1000
    PYTHONPATH=build/main/pybind tests/benchmarks/sim/cold_start.py /tmp/ll250/large-lan.yaml [KEY=VALUE ...]

KEY=VALUE sets a scenario field by its dotted path (speaker.probe_interval=60ms)."""

import sys
import time

import metalgate

if len(sys.argv) < 2:
    sys.exit(__doc__)
s = metalgate.Scenario.load(sys.argv[1])
s.doc["faults"] = []
s.duration = "12s"
s.doc["expect"] = [{"single_owner": {}}]
for setting in sys.argv[2:]:
    key, value = setting.split("=", 1)
    s.set(key, value)
started = time.time()
r = metalgate.run(s)
wall = time.time() - started
print("%d nodes, 12 s simulated in %.1f s wall (%.2fx); single_owner %s: %s" % (
    len(s.nodes), wall, 12 / wall, "passed" if r.passed else "FAILED", r.expectations.iloc[0]["measured"]))
several = r.several_owners
if len(several):
    length = several["to_ms"] - several["from_ms"]
    print("several owners: %d intervals over %d VIPs, from %d ms to %d ms, median %d ms, at most %d nodes at once" % (
        len(several), several["vip"].nunique(), several["from_ms"].min(), several["to_ms"].max(),
        length.median(), several["nodes"].map(len).max()))
