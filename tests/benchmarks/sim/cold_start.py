#!/usr/bin/python3
"""A cold start of a large LAN in the simulator, through the Python module: every node starts at once, no
fault; prints single_owner's verdict, the intervals in which a VIP had several owners, the simulator's speed
while the cluster forms and once it has formed, and what the membership sent per node.

    tests/benchmarks/sim/large_lan.py /tmp/ll250 --nodes 250 --vips 1000
    PYTHONPATH=build/main/pybind tests/benchmarks/sim/cold_start.py /tmp/ll250/large-lan.yaml [KEY=VALUE ...]

KEY=VALUE sets a scenario field by its dotted path (speaker.probe_interval=60ms); duration=24s runs longer
than the default 12 s.

Speed is CPU seconds of this process (user + system) per simulated second, read at each simulated second, so a
machine shared with other work changes the wall time but not these. "forming" is the first FORMING_S simulated
seconds (every node joins, pulls views, settles and claims); "formed" is the rest up to the last simulated
second, where only probes, gossip and the proxies' health checks run. The membership's per-node traffic at the end of the run covers both; running twice with different
durations separates them: per node, join = total(d1) - d1 * (total(d2) - total(d1)) / (d2 - d1)."""

import json
import resource
import sys
import time

import metalgate

FORMING_S = 4


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    s = metalgate.Scenario.load(sys.argv[1])
    s.doc["faults"] = []
    s.duration = "12s"
    s.doc["expect"] = [{"single_owner": {}}]
    for setting in sys.argv[2:]:
        key, value = setting.split("=", 1)
        s.set(key, value)
    ticks = []  # (simulated seconds, cpu seconds)
    started, cpu_started = time.time(), cpu_seconds()
    r = metalgate.run(s, progress=lambda done, total: ticks.append((done, cpu_seconds() - cpu_started)))
    wall, cpu = time.time() - started, cpu_seconds() - cpu_started
    simulated = r.document["duration_ms"] / 1000
    print("%d nodes, %g s simulated in %.1f s wall, %.1f s CPU (%.2fx); single_owner %s: %s" % (
        len(s.nodes), simulated, wall, cpu, simulated / cpu, "passed" if r.passed else "FAILED",
        r.expectations.iloc[0]["measured"]))
    print_speed(ticks, simulated, cpu)
    print_several(r.several_owners)
    print_membership(r.node_counters)


def print_speed(ticks, simulated, cpu):
    """The last tick comes before the judges and result.json, whose cost is printed apart."""
    forming = [(t, c) for t, c in ticks if t >= FORMING_S]
    if len(forming) < 2:
        return
    (t0, c0), (t1, c1) = forming[0], forming[-1]
    print("forming (0-%g s): %.1f s CPU, %.2f CPU s per simulated s; formed (%g-%g s): %.2f CPU s per simulated s"
          " (%.2fx real time); after the last simulated second (judges, result): %.1f s CPU"
          % (t0, c0, c0 / t0, t0, t1, (c1 - c0) / (t1 - t0), (t1 - t0) / (c1 - c0), cpu - c1))


def print_several(several):
    if not len(several):
        return
    length = several["to_ms"] - several["from_ms"]
    print("several owners: %d intervals over %d VIPs, from %d ms to %d ms, median %d ms, at most %d nodes at once" % (
        len(several), several["vip"].nunique(), several["from_ms"].min(), several["to_ms"].max(),
        length.median(), several["nodes"].map(len).max()))


def print_membership(counters):
    per_node = {}
    for key in ("datagrams_sent", "bytes_sent", "datagrams_received", "bytes_received", "views_sent",
                "views_received"):
        column = counters["speaker.membership." + key]
        per_node[key] = {"mean": float(column.mean()), "max": int(column.max())}
    print("membership per node: " + json.dumps(per_node))


if __name__ == "__main__":
    main()
