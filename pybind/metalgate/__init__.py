"""metalgate from Python: validate manifests, load and change scenarios, run them in the simulator (or live),
and read their results as pandas DataFrames; sweep parameters over seeds on Dask. docs/python.md.

    import metalgate
    model = metalgate.validate(["scenarios/seed"])
    s = metalgate.Scenario.load("scenarios/seed.yaml")
    r = metalgate.run(s, seed=2)
    r.failovers, r.requests.groupby("served_by").size()
"""

from .errors import ConfigError, Diagnostic, Error, ScenarioError
from .model import Model, Record, validate
from .result import Result, run
from .scenario import Scenario
from .sweeps import sweep

__all__ = ["ConfigError", "Diagnostic", "Error", "Model", "Record", "Result", "Scenario", "ScenarioError",
           "run", "sweep", "validate"]
