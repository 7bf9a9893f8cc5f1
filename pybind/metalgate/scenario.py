"""Scenario: a scenario document (docs/scenario.md) held as plain data, changed in code, checked by the
engine's own loader. Nothing here knows the schema: every check, default and error is the C++ loader's, the
one `metalgate sim` and `metalgate netns` use."""

import copy
import os

import yaml

from . import _metalgate
from .errors import ScenarioError, raise_if_failed


class Scenario:
    """A scenario as a dict (`doc`) plus the file it stands for (`path`): manifests and other relative paths
    are found from `path`'s directory, and diagnostics name `path`. The sections are the document's own
    lists and dicts, so changing them changes the scenario:

        s = Scenario.load("scenarios/seed.yaml")
        s.speaker["probe_interval"] = "60ms"
        s.faults.append({"at": "30s", "crash": "node-1"})
        s.check()            # the loader's verdict now, instead of at run time
    """

    def __init__(self, doc, path):
        self.doc = doc
        self.path = os.fspath(path)

    # --- loading and saving -------------------------------------------------------------------------
    @classmethod
    def load(cls, path):
        """Reads and checks a scenario file; raises ScenarioError with every diagnostic."""
        path = os.fspath(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        raise_if_failed(_metalgate.check_scenario(text, path), ScenarioError)
        return cls(yaml.safe_load(text), path)

    @classmethod
    def from_dict(cls, doc, base_dir=".", name="scenario.yaml"):
        """A scenario from a dict shaped like the YAML file; relative paths in it are read from `base_dir`.
        Checked at once (ScenarioError); diagnostics name `base_dir/name` and lines of `to_yaml()`'s text."""
        s = cls(copy.deepcopy(doc), os.path.join(os.fspath(base_dir), name))
        s.check()
        return s

    def to_yaml(self):
        return yaml.safe_dump(self.doc, sort_keys=False, default_flow_style=None, width=110)

    def save(self, path):
        """Writes the YAML; relative manifest paths then resolve from `path`'s directory."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_yaml())
        self.path = os.fspath(path)

    def check(self):
        """Raises ScenarioError when the engine's loader refuses the scenario as it stands."""
        raise_if_failed(_metalgate.check_scenario(self.to_yaml(), self.path), ScenarioError)
        return self

    def copy(self):
        return Scenario(copy.deepcopy(self.doc), self.path)

    # --- the document's sections ----------------------------------------------------------------------
    def _section(self, key, empty):
        if self.doc.get(key) is None:
            self.doc[key] = empty
        return self.doc[key]

    name = property(lambda self: self.doc.get("name"), lambda self, v: self.doc.__setitem__("name", v))
    seed = property(lambda self: self.doc.get("seed", 1), lambda self, v: self.doc.__setitem__("seed", v))
    duration = property(lambda self: self.doc.get("duration"),
                        lambda self, v: self.doc.__setitem__("duration", v))
    nodes = property(lambda self: self._section("nodes", []))
    backends = property(lambda self: self._section("backends", []))
    clients = property(lambda self: self._section("clients", []))
    faults = property(lambda self: self._section("faults", []))
    expectations = property(lambda self: self._section("expect", []))
    speaker = property(lambda self: self._section("speaker", {}))
    lan = property(lambda self: self._section("lan", {}))

    def set(self, dotted, value):
        """Sets a value by its path in the document: "speaker.probe_interval", "nodes.0.roles",
        "duration". What metalgate.sweep() uses for its grid's keys."""
        keys = dotted.split(".")
        node = self.doc
        for key in keys[:-1]:
            if isinstance(node, list):
                node = node[int(key)]
            else:
                node = node.setdefault(key, {})
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        return self

    def get(self, dotted, default=None):
        node = self.doc
        for key in dotted.split("."):
            try:
                node = node[int(key)] if isinstance(node, list) else node[key]
            except (KeyError, IndexError, ValueError):
                return default
        return node

    def standalone(self):
        """A copy whose manifest paths are absolute, so its YAML can be written anywhere."""
        s = self.copy()
        base = os.path.dirname(os.path.abspath(self.path))
        if s.doc.get("manifests"):
            s.doc["manifests"] = [m if os.path.isabs(m) else os.path.join(base, m) for m in s.doc["manifests"]]
        return s

    def __repr__(self):
        return "Scenario(%r: %d nodes, %d clients, %d faults, %d expectations; %s)" % (
            self.name, len(self.doc.get("nodes") or []), len(self.doc.get("clients") or []),
            len(self.doc.get("faults") or []), len(self.doc.get("expect") or []), self.path)
