"""metalgate.validate(): the model resolved by the engine's loader, as objects and DataFrames; errors as data."""

import os

import pytest

import metalgate


def test_the_seed_manifests_resolve_to_the_controller_vip_and_its_routes(source):
    m = metalgate.validate([os.path.join(source, "scenarios", "seed")])
    assert m.valid
    controller = [s for s in m.services if s.ingress_controller]
    assert len(controller) == 1
    assert controller[0].addresses == ["192.168.1.240"]
    assert controller[0].pool == "haproxy-pool"
    assert controller[0].announcements[0].l2_advertisement == "metallb-system/haproxy-l2-advertisement"
    hosts = {r.host for r in m.routes}
    assert {"app.example.com", "advanced.example.com"} <= hosts
    assert {t.port for t in m.tcp_services} == {5432, 6379}
    assert [u.port for u in m.udp_services] == [53]


def test_frames_hold_the_same_as_the_objects(source):
    m = metalgate.validate(os.path.join(source, "scenarios", "seed"))
    services = m.services_frame()
    assert list(services["service"]) == [s.service for s in m.services]
    assert services.loc[services["ingress_controller"], "addresses"].iloc[0] == ["192.168.1.240"]
    routes = m.routes_frame()
    assert len(routes) == len(m.routes)
    per_endpoint = m.routes_frame(endpoints=True)
    assert len(per_endpoint) == sum(max(1, len(r.endpoints)) for r in m.routes)
    assert set(per_endpoint.loc[per_endpoint["host"] == "app.example.com", "endpoint_name"]) == {
        "web-app-0", "web-app-1", "web-app-2"}
    l4 = m.l4_frame()
    assert sorted(zip(l4["protocol"], l4["port"])) == [("TCP", 5432), ("TCP", 6379), ("UDP", 53)]
    assert len(m.pools_frame()) == len(m.pools)


def test_warnings_are_kept_with_their_place(source):
    m = metalgate.validate(os.path.join(source, "scenarios", "seed"))
    warnings = [d for d in m.diagnostics if d.severity == "warning"]
    assert warnings, "the seed's manifests have warnings (conflicting Ingress settings)"
    assert all(d.line > 0 and d.file.endswith(".yaml") for d in warnings)
    assert (m.diagnostics_frame()["severity"] == "warning").sum() == len(warnings)


def test_an_invalid_pool_raises_with_file_line_column_and_field(tmp_path):
    bad = tmp_path / "pool.yaml"
    bad.write_text("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
                   "metadata: {name: bad, namespace: metallb-system}\n"
                   "spec:\n  addresses: [192.168.1.300-192.168.1.310]\n")
    with pytest.raises(metalgate.ConfigError) as raised:
        metalgate.validate([bad])
    (error,) = raised.value.errors
    assert (error.file, error.line, error.column) == (str(bad), 5, 15)
    assert error.field == "IPAddressPool metallb-system/bad: spec.addresses[0]"
    assert "range ends must be addresses" in error.message
    assert str(raised.value) == error.text == "%s:5:15: error: %s: %s" % (bad, error.field, error.message)


def test_a_missing_path_raises(tmp_path):
    with pytest.raises(metalgate.ConfigError) as raised:
        metalgate.validate([tmp_path / "absent"])
    assert raised.value.errors and "absent" in str(raised.value)
