"""metalgate.sweep(): cases on Dask (a LocalCluster, or the caller's client), one DataFrame, failed cases as
rows."""

import pytest

import metalgate

from conftest import short_seed


def test_a_longer_probe_interval_detects_the_crash_later():
    frame = metalgate.sweep(short_seed(), {"speaker.probe_interval": ["30ms", "120ms"]}, seeds=[1, 2])
    assert len(frame) == 4 and frame["error"].isna().all(), frame.get("error")
    assert set(frame["seed"]) == {1, 2}
    means = frame.groupby("speaker.probe_interval")["failover_max_ms"].mean()
    assert means["120ms"] > means["30ms"] + 100, means
    assert (frame["success_ratio"] > 0.97).all(), frame["success_ratio"]
    assert "expect.failover" in frame.columns


def test_a_case_the_loader_refuses_is_a_row_with_its_error_on_the_callers_cluster():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        frame = metalgate.sweep(short_seed(), {"speaker.probe_interval": ["5ms", "30ms"]}, seeds=[1],
                                client=client)
        assert client.status == "running"  # the caller's client is theirs to close
    bad = frame[frame["speaker.probe_interval"] == "5ms"].iloc[0]
    good = frame[frame["speaker.probe_interval"] == "30ms"].iloc[0]
    assert bad["error"].startswith("ScenarioError") and "probe" in bad["error"]
    assert good["error"] is None and good["passed"]


def test_grid_points_cover_every_combination():
    from metalgate.sweeps import grid_points

    points = grid_points({"a": [1, 2], "b": ["x", "y", "z"]})
    assert len(points) == 6 and {"a": 2, "b": "z"} in points
