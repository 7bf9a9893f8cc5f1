"""metalgate.run(): the simulator in this process (GIL released), the same result.json as the CLI, results as
DataFrames; live on network namespaces when root."""

import json
import os
import threading
import time

import pytest

import metalgate

from conftest import short_seed


def test_the_seed_run_is_the_clis_result_json(source, tmp_path, monkeypatch):
    # The golden file is `metalgate sim scenarios/seed.yaml` run from the source tree.
    monkeypatch.chdir(source)
    r = metalgate.run("scenarios/seed.yaml")
    with open(os.path.join(source, "tests", "sim", "golden", "seed.result.json")) as f:
        golden_text = f.read()
    assert json.loads(golden_text) == r.document
    assert r.to_json() == golden_text
    assert r.passed and r.world == "simulated" and r.seed == 1
    r.write(tmp_path)
    assert json.loads((tmp_path / "result.json").read_text()) == r.document
    assert "<testsuite" in (tmp_path / "junit.xml").read_text()
    assert "<svg" in (tmp_path / "report.html").read_text()


def test_requests_frame_holds_every_request_the_judges_counted(short):
    r = metalgate.run(short)
    frame = r.requests
    counted = frame[(frame["start_ms"] >= 1000) & (frame["error"] != "still running at the end")]
    assert len(counted) == r.document["requests"]["total"]
    answered = counted[counted["status"] == 200]
    by_pod = answered.groupby("served_by").size().to_dict()
    assert set(by_pod) >= {"web-app-0", "web-app-1", "web-app-2", "redis-0", "postgresql-0"}
    assert (frame["latency_ms"] >= 0).all()
    assert set(frame["client"]) == {c["name"] for c in short.clients}


def test_series_frames(short):
    r = metalgate.run(short, seed=3)
    assert r.seed == 3
    assert list(r.per_second["second"]) == list(range(1, 25))
    timeline = r.owner_timeline
    assert timeline.iloc[0]["at_ms"] == 0
    assert timeline.loc[timeline["owner"] != "", "at_ms"].iloc[0] < 1000  # claimed within the first second
    assert len(r.failovers) == 1 and r.failovers.iloc[0]["cause"] == "crash"
    assert r.failovers.iloc[0]["failover_ms"] < 2000
    assert set(r.expectations.columns) >= {"name", "passed", "measured", "bound"}
    assert r.expectations["passed"].all() == r.passed
    assert list(r.faults["action"]) == ["crash"]
    assert list(r.several_owners.columns) == ["vip", "from_ms", "to_ms", "nodes"] and r.several_owners.empty
    counters = r.node_counters
    assert set(counters.index) == set(r.document["nodes"])
    sent = counters["speaker.membership.bytes_sent"]
    assert (sent > 0).all() and (counters["speaker.membership.datagrams_received"] > 0).all()
    # Every datagram carries at least its header (magic, kind, sequence, sender).
    assert (sent >= 10 * counters["speaker.membership.datagrams_sent"]).all()


def test_progress_is_reported_in_simulated_seconds(short):
    seen = []
    metalgate.run(short, progress=lambda done, total: seen.append((done, total)))
    assert seen and all(total == 24.0 for _, total in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1][0] >= 23


def test_progress_true_draws_a_tqdm_bar(short, capsys):
    short.duration = "3s"
    short.doc["faults"] = []
    short.doc["expect"] = []
    metalgate.run(short, progress=True)
    err = capsys.readouterr().err
    assert "simulated" in err and "3.0/3" in err, err


def test_another_python_thread_runs_while_the_simulator_does(short):
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    t = threading.Thread(target=count)
    t.start()
    try:
        started = time.monotonic()
        metalgate.run(short)
        ended = time.monotonic()
    finally:
        stop.set()
        t.join()
    during = [x for x in ticks if started < x < ended]
    # Ticking every 10 ms: with the GIL held through the run there would be none at all.
    assert len(during) >= 0.5 * (ended - started) / 0.01 * 0.5, (len(during), ended - started)


def test_an_exception_in_progress_is_raised_after_the_run(short):
    def fail(done, total):
        raise KeyError("stop")

    with pytest.raises(KeyError):
        metalgate.run(short, progress=fail)


def test_a_scenario_that_does_not_load_raises_before_running(short):
    short.clients.append({"name": "stray", "address": "10.0.0.1", "http": {"host": "x", "path": "/"}})
    with pytest.raises(metalgate.ScenarioError) as raised:
        metalgate.run(short)
    assert any("10.0.0.1" in d.message for d in raised.value.errors), str(raised.value)


def test_html_repr_frames_the_report(short):
    html = metalgate.run(short)._repr_html_()
    assert html.startswith("<iframe srcdoc=") and "&lt;svg" in html


@pytest.mark.skipif(os.geteuid() != 0, reason="live runs build network namespaces: root only")
def test_live_runs_the_same_scenario_on_network_namespaces():
    s = short_seed(8)  # no fault yet: the `failover` expectation fails when none happens
    s.doc["expect"] = [e for e in s.expectations if "failover" not in e]
    r = metalgate.run(s, world="live")
    assert r.world == "live" and r.passed, r.expectations
    frame = r.requests
    assert len(frame) >= r.document["requests"]["total"] > 0
    assert set(frame.loc[frame["status"] == 200, "served_by"]) >= {"web-app-0", "redis-0"}


def test_an_unknown_world_is_refused(short):
    with pytest.raises(ValueError):
        metalgate.run(short, world="cloud")
