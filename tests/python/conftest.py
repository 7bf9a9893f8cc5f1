"""Shared fixtures of the Python module's tests: the source tree and a short variant of the seed scenario."""

import os

import pytest

import metalgate

SOURCE = os.environ.get("METALGATE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture
def source():
    return SOURCE


@pytest.fixture
def seed_path():
    return os.path.join(SOURCE, "scenarios", "seed.yaml")


def short_seed(seconds=24):
    """The seed scenario cut to its first `seconds`: the faults before then (the owner's crash at 20 s) and the
    expectations that still apply."""
    s = metalgate.Scenario.load(os.path.join(SOURCE, "scenarios", "seed.yaml"))
    s.duration = "%ds" % seconds
    s.doc["faults"] = [f for f in s.faults if int(str(f["at"]).rstrip("s")) < seconds]
    return s


@pytest.fixture
def short():
    return short_seed()
