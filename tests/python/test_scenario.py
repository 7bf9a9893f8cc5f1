"""metalgate.Scenario: load, change in code, to_yaml; every check is the engine's loader's."""

import os

import pytest
import yaml

import metalgate


def test_load_keeps_the_document_and_its_path(seed_path):
    s = metalgate.Scenario.load(seed_path)
    assert s.name == "seed" and s.seed == 1 and s.duration == "60s"
    assert [n["name"] for n in s.nodes] == ["node-1", "node-2", "node-3"]
    assert s.faults[0] == {"at": "20s", "crash": "owner"}
    assert s.path == seed_path


def test_to_yaml_round_trips_through_the_loader(seed_path):
    s = metalgate.Scenario.load(seed_path)
    again = metalgate.Scenario.from_dict(yaml.safe_load(s.to_yaml()), base_dir=os.path.dirname(seed_path))
    assert again.doc == s.doc


def test_changes_in_code_are_checked_by_the_loader(seed_path):
    s = metalgate.Scenario.load(seed_path)
    s.speaker["probe_interval"] = "60ms"
    s.faults.append({"at": "55s", "crash": "node-3"})
    s.expectations.append({"failover": {"max": "3s"}})
    s.nodes.append({"name": "node-4", "address": "192.168.1.14", "roles": ["speaker"]})
    s.check()
    s.set("speaker.probe_timeout", "70ms")  # longer than the probe interval: the engine refuses it
    with pytest.raises(metalgate.ScenarioError) as raised:
        s.check()
    (error,) = raised.value.errors
    assert error.file == seed_path and error.line > 0 and error.column > 0
    assert "probe_timeout" in error.field + error.message


def test_an_unknown_fault_kind_names_its_place_and_the_kinds(seed_path):
    s = metalgate.Scenario.load(seed_path)
    s.faults.append({"at": "30s", "crsh": "node-1"})
    with pytest.raises(metalgate.ScenarioError) as raised:
        s.check()
    text = str(raised.value)
    assert "crsh" in text and "crash" in text, text
    assert all(d.severity == "error" for d in raised.value.errors)


def test_a_bad_file_raises_with_its_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("name: bad\nduration: 10s\nlan: {subnet: 192.168.1.0/24}\nnodes:\n  - {name: n1, adress: 1}\n")
    with pytest.raises(metalgate.ScenarioError) as raised:
        metalgate.Scenario.load(f)
    assert any(d.line == 5 and d.file == str(f) for d in raised.value.errors), str(raised.value)


def test_set_and_get_by_dotted_path(seed_path):
    s = metalgate.Scenario.load(seed_path)
    s.set("nodes.2.roles", ["speaker", "proxy"]).set("speaker.join_grace", "100ms")
    assert s.get("nodes.2.roles") == ["speaker", "proxy"]
    assert s.get("speaker.join_grace") == "100ms"
    assert s.get("nodes.9.name", "none") == "none"
    s.check()


def test_standalone_copies_can_be_saved_anywhere(seed_path, tmp_path):
    s = metalgate.Scenario.load(seed_path).standalone()
    s.save(tmp_path / "seed.yaml")
    assert metalgate.Scenario.load(tmp_path / "seed.yaml").doc == s.doc
