"""metalgate.sweep(): one simulated run per grid point and seed, on Dask, as one DataFrame."""

import itertools
import statistics

from .result import run
from .scenario import Scenario


def run_case(doc, path, params, seed):
    """One case, in a worker process: the scenario with `params` set, run with `seed`, as one row. A case that
    fails (a value the loader refuses, a run that cannot start) is a row with its error, not an exception."""
    row = dict(params)
    row["seed"] = seed
    try:
        scenario = Scenario(doc, path).copy()
        for key, value in params.items():
            scenario.set(key, value)
        result = run(scenario, seed=seed)
    except Exception as e:  # noqa: BLE001 -- every failure becomes the row's error
        row["error"] = "%s: %s" % (type(e).__name__, e)
        return row
    d = result.document
    failovers = [f["failover_ms"] for f in d.get("failovers", [])]
    measured = [f for f in failovers if f is not None and f >= 0]
    requests = d.get("requests", {})
    row.update({
        "error": None,
        "passed": result.passed,
        "failover_ms": failovers,
        "failover_max_ms": max(measured) if measured else None,
        "failover_median_ms": statistics.median(measured) if measured else None,
        "success_ratio": _success_ratio(requests),
        "p50_ms": requests.get("p50_ms"),
        "p99_ms": requests.get("p99_ms"),
    })
    for e in d.get("expectations", []):
        row["expect." + e["name"]] = e["passed"]
    return row


def _success_ratio(requests):
    """Answered among the requests that were not denied on purpose (a rate limit's 403/429 to the clients a
    rate_limit expectation is about): what failures cost, apart from the policy's refusals."""
    asked = requests.get("total", 0) - requests.get("denied", 0)
    return requests.get("ok", 0) / asked if asked > 0 else None


def grid_points(grid):
    """Every combination of the grid's values, as dicts of dotted path -> value."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def sweep(scenario, grid, seeds=(1,), client=None, progress=False):
    """Runs `scenario` once per grid point x seed and returns one DataFrame: the grid's keys, seed, error
    (None when the case ran), passed, failover_ms (each failover), failover_max_ms, failover_median_ms,
    success_ratio, p50_ms, p99_ms and one `expect.<name>` column per expectation.

    `grid` maps dotted paths of the scenario ("speaker.probe_interval") to lists of values. Cases run on
    `client` (any dask.distributed.Client, so on a team's cluster), else on a LocalCluster of worker
    processes, one per CPU, made and closed here. Workers import this same module."""
    import pandas as pd
    from dask.distributed import Client, LocalCluster, as_completed

    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(scenario)
    cases = [(params, seed) for params in grid_points(grid) for seed in seeds]
    own = None
    if client is None:
        own = LocalCluster(processes=True, threads_per_worker=1, dashboard_address=None)
        client = Client(own)
    try:
        futures = [client.submit(run_case, scenario.doc, scenario.path, params, seed, pure=False)
                   for params, seed in cases]
        index = {f.key: i for i, f in enumerate(futures)}
        rows = [None] * len(futures)
        bar = _bar(progress, len(futures))
        for future in as_completed(futures):
            i = index[future.key]
            try:
                rows[i] = future.result()
            except Exception as e:  # noqa: BLE001 -- a worker that died: the case's row says so
                params, seed = cases[i]
                rows[i] = {**params, "seed": seed, "error": "%s: %s" % (type(e).__name__, e)}
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
    finally:
        if own is not None:
            client.close()
            own.close()
    return pd.DataFrame(rows)


def _bar(progress, total):
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, unit="case", desc="sweep")
