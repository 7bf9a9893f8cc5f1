"""metalgate.run(): a scenario in the simulator (in this process) or live (metalgate netns), and its Result:
result.json as objects and pandas DataFrames."""

import glob
import html
import json
import os
import shutil
import subprocess
import tempfile

from . import _metalgate
from .errors import ScenarioError, raise_if_failed
from .scenario import Scenario


class Result:
    """One run. `document` is result.json as a dict (`to_json()` gives the file's text); `passed`; and as
    DataFrames: `requests` (every request a client made), `per_second`, `owner_timeline`, `several_owners`,
    `failovers`, `faults`, `expectations`. In Jupyter it shows as the run's report."""

    def __init__(self, document, requests=None):
        self.document = document
        self._requests = requests

    passed = property(lambda self: bool(self.document["passed"]))
    world = property(lambda self: self.document.get("world"))
    seed = property(lambda self: self.document.get("seed"))

    def to_json(self):
        """result.json's text, as the CLI writes it."""
        return json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"

    def write(self, out_dir):
        """result.json, junit.xml and report.html into `out_dir`, as `metalgate sim --out` writes them."""
        _metalgate.write_outputs(os.fspath(out_dir), json.dumps(self.document))

    def report_html(self):
        return _metalgate.report_html(json.dumps(self.document))

    def junit_xml(self):
        return _metalgate.junit_xml(json.dumps(self.document))

    def _repr_html_(self):
        # The report is a whole page with its own styles: framed, so it neither takes nor gives CSS.
        return ('<iframe srcdoc="%s" style="width:100%%;height:720px;border:1px solid #ddd"></iframe>'
                % html.escape(self.report_html(), quote=True))

    # --- DataFrames ---------------------------------------------------------------------------------------
    @property
    def requests(self):
        """Every request: client, start_ms, end_ms, latency_ms, status (0: no response), served_by,
        vip_node, host, path, error, reused, target."""
        import pandas as pd
        frame = pd.DataFrame(self._requests or {k: [] for k in _REQUEST_COLUMNS}, columns=_REQUEST_COLUMNS)
        frame.insert(3, "latency_ms", frame["end_ms"] - frame["start_ms"])
        return frame

    @property
    def per_second(self):
        import pandas as pd
        return pd.DataFrame(self.document.get("per_second", []))

    @property
    def owner_timeline(self):
        """Who owned each VIP from when: vip, at_ms, owner ("" none, "a+b" several)."""
        import pandas as pd
        owners = self.document.get("owners") or [
            {"vip": self.document.get("vip"), "timeline": self.document.get("owner_timeline", [])}]
        rows = [{"vip": o["vip"], **t} for o in owners for t in o["timeline"]]
        return pd.DataFrame(rows, columns=["vip", "at_ms", "owner"])

    @property
    def several_owners(self):
        """Each interval in which several nodes on one side of the LAN claimed a VIP: vip, from_ms, to_ms,
        nodes."""
        import pandas as pd
        return pd.DataFrame(self.document.get("several_owners", []), columns=["vip", "from_ms", "to_ms", "nodes"])

    @property
    def node_counters(self):
        """Each node's stats counters at the end of the run (nodes running then), one row per node indexed by
        name, nested keys joined by dots: "speaker.membership.bytes_sent", "frontends.<name>.requests".
        result.json leaves zero counters out of its rows; a counter another node has is 0 here, gauges
        (status, active_servers, response_time_ms) stay empty where a node has no such row."""
        import pandas as pd
        nodes = self.document.get("nodes", {})
        frame = pd.json_normalize([nodes[n] for n in sorted(nodes)], sep=".")
        frame.index = sorted(nodes)
        frame.index.name = "node"
        counters = [c for c in frame.columns if c.split(".")[-1] not in _GAUGES]
        frame[counters] = frame[counters].fillna(0)
        return frame

    @property
    def failovers(self):
        import pandas as pd
        return pd.DataFrame(self.document.get("failovers", []))

    @property
    def faults(self):
        import pandas as pd
        return pd.DataFrame(self.document.get("faults", []))

    @property
    def expectations(self):
        """One row per expectation: name, passed, measured, bound."""
        import pandas as pd
        return pd.DataFrame(self.document.get("expectations", []))

    def __repr__(self):
        r = self.document.get("requests", {})
        return "Result(%s, %s, seed %s: %s/%s requests ok, %d failovers)" % (
            self.document.get("scenario"), self.world, self.seed, r.get("ok"), r.get("total"),
            len(self.document.get("failovers", [])))


_GAUGES = {"status", "active_servers", "response_time_ms"}

_REQUEST_COLUMNS = ["client", "start_ms", "end_ms", "status", "served_by", "vip_node", "host", "path",
                    "error", "reused", "target"]


def _progress_callback(progress, total_seconds):
    """`progress`: None, True (a tqdm bar) or a callable(simulated_seconds, total_seconds)."""
    if progress is None or progress is False:
        return None, None
    if progress is True:
        from tqdm.auto import tqdm
        bar = tqdm(total=total_seconds, unit="s", desc="simulated")

        def update(seconds):
            bar.update(max(0.0, min(seconds, total_seconds) - bar.n))
        return update, bar
    return (lambda seconds: progress(seconds, total_seconds)), None


def _total_seconds(scenario):
    outcome = _metalgate.check_scenario(scenario.to_yaml(), scenario.path)
    raise_if_failed(outcome, ScenarioError)
    return outcome["duration_ms"] / 1000.0


def run(scenario, world="sim", seed=None, progress=None):
    """Runs a scenario (a Scenario or a path) and returns its Result.

    world="sim": in the simulator, in this process, with the GIL released (other Python threads run on; one
    simulation at a time per process). world="live": `metalgate netns` on network namespaces (root only).
    `seed` overrides the scenario's. `progress`: True for a tqdm bar, or a callable(done_s, total_s).
    Raises ScenarioError with the loader's diagnostics when the scenario does not load or cannot run."""
    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(scenario)
    if world in ("sim", "simulated"):
        return _run_sim(scenario, seed, progress)
    if world == "live":
        return _run_live(scenario, seed)
    raise ValueError("world must be 'sim' or 'live', not %r" % (world,))


def _run_sim(scenario, seed, progress):
    callback, bar = _progress_callback(progress, _total_seconds(scenario) if progress else None)
    try:
        outcome = _metalgate.run_sim(scenario.to_yaml(), scenario.path, seed, callback)
    finally:
        if bar is not None:
            bar.close()
    raise_if_failed(outcome, ScenarioError)
    return Result(json.loads(outcome["result_json"]), outcome["requests"])


def _metalgate_binary():
    try:
        from ._build_paths import BIN_DIR
        candidate = os.path.join(BIN_DIR, "metalgate")
        if os.access(candidate, os.X_OK):
            return candidate
    except ImportError:
        pass
    found = shutil.which("metalgate")
    if not found:
        raise ScenarioError([], "world='live' needs the metalgate executable (the metalgate and metalgate-twin "
                                "packages, or a build tree)")
    return found


def _run_live(scenario, seed):
    if os.geteuid() != 0:
        raise ScenarioError([], "world='live' builds network namespaces and needs root; "
                                "world='sim' runs the same scenario without")
    with tempfile.TemporaryDirectory(prefix="metalgate-live-") as tmp:
        path = os.path.join(tmp, os.path.basename(scenario.path))
        scenario.standalone().save(path)
        command = [_metalgate_binary(), "netns", path, "--out", os.path.join(tmp, "out"), "--quiet"]
        if seed is not None:
            command += ["--seed", str(seed)]
        done = subprocess.run(command, capture_output=True, text=True)
        result_file = os.path.join(tmp, "out", "result.json")
        if not os.path.exists(result_file):
            raise ScenarioError([], "metalgate netns exited %d without a result:\n%s" % (done.returncode,
                                                                                        done.stderr))
        with open(result_file, encoding="utf-8") as f:
            document = json.load(f)
        return Result(document, _live_requests(os.path.join(tmp, "out", "run")))


def _live_requests(run_dir):
    """The live clients' records (one JSON object a line, the fields of the simulator's) as columns."""
    columns = {k: [] for k in _REQUEST_COLUMNS}
    for name in sorted(glob.glob(os.path.join(run_dir, "*.records"))):
        with open(name, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                r["start_ms"], r["end_ms"] = r.pop("start_us") / 1000.0, r.pop("end_us") / 1000.0
                for k in _REQUEST_COLUMNS:
                    columns[k].append(r.get(k, ""))
    return columns
