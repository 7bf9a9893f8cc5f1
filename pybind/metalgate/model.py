"""metalgate.validate(): the manifests resolved by the engine's own loader, as objects and DataFrames."""

import json
import os

from . import _metalgate
from .errors import ConfigError, Diagnostic, raise_if_failed


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Record:
    """A JSON object with attribute access: `service.addresses`, `pool.auto_assign` (or `pool.autoAssign`)."""

    __slots__ = ("_data",)

    def __init__(self, data):
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name):
        data = object.__getattribute__(self, "_data")
        for key in (name, _camel(name)):
            if key in data:
                return _wrap(data[key])
        raise AttributeError(name)

    def __getitem__(self, key):
        return _wrap(self._data[key])

    def __contains__(self, key):
        return key in self._data

    def keys(self):
        return self._data.keys()

    def to_dict(self):
        return self._data

    def __eq__(self, other):
        return isinstance(other, Record) and self._data == other._data

    def __repr__(self):
        return "Record(%s)" % json.dumps(self._data)


def _wrap(value):
    if isinstance(value, dict):
        return Record(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class Model:
    """What `metalgate validate --json` prints, as objects: `services` (each with its addresses, pool and
    announcements), `pools`, `routes` (down to endpoints), `tcp_services`, `udp_services`, `forwards`, `tls`,
    `default_backend`, `ingress_class`, and `diagnostics` (warnings and notes; errors raise). `*_frame()`
    give the same as pandas DataFrames."""

    def __init__(self, document, diagnostics):
        self.document = document
        self.valid = document["valid"]
        self.files = document["files"]
        self.ingress_class = document.get("ingressClass")
        self.default_backend = _wrap(document.get("defaultBackend"))
        for key, attr in (("pools", "pools"), ("services", "services"), ("routes", "routes"),
                          ("tcpServices", "tcp_services"), ("udpServices", "udp_services"),
                          ("forwards", "forwards"), ("tls", "tls")):
            setattr(self, attr, _wrap(document.get(key, [])))
        self.diagnostics = [Diagnostic(**d) for d in diagnostics]

    def services_frame(self):
        """One row per LoadBalancer Service: its addresses, pool, ports and the nodes that announce it."""
        import pandas as pd
        rows = []
        for s in self.document["services"]:
            nodes = sorted({n for a in s["announcements"] for n in a["nodes"]})
            rows.append({"service": s["service"], "addresses": s["addresses"], "pool": s["pool"],
                         "shared": s["shared"], "ingress_controller": s["ingressController"],
                         "ports": ["%d/%s" % (p["port"], p["protocol"]) for p in s["ports"]],
                         "announced_by": nodes, "external_traffic_policy": s["externalTrafficPolicy"],
                         "pending": s.get("pending", "")})
        return pd.DataFrame(rows, columns=["service", "addresses", "pool", "shared", "ingress_controller",
                                           "ports", "announced_by", "external_traffic_policy", "pending"])

    def pools_frame(self):
        import pandas as pd
        return pd.DataFrame(self.document["pools"], columns=["name", "addresses", "autoAssign", "avoidBuggyIPs"])

    def routes_frame(self, endpoints=False):
        """One row per HTTP route (host, path, pathType, Service, port, source Ingress, endpoints); with
        `endpoints=True`, one row per route and endpoint."""
        import pandas as pd
        rows = [{k: r[k] for k in ("host", "path", "pathType", "service", "port", "source")} |
                {"endpoints": r["endpoints"]} for r in self.document["routes"]]
        frame = pd.DataFrame(rows, columns=["host", "path", "pathType", "service", "port", "source", "endpoints"])
        if endpoints:
            frame = frame.explode("endpoints", ignore_index=True)
            detail = pd.json_normalize([e if isinstance(e, dict) else {} for e in frame["endpoints"]])
            frame = pd.concat([frame.drop(columns=["endpoints"]), detail.add_prefix("endpoint_")], axis=1)
        return frame

    def l4_frame(self):
        """The TCP and UDP service maps: one row per listening port."""
        import pandas as pd
        rows = [{"protocol": proto, "port": x["port"], "service": x["service"], "service_port": x["servicePort"],
                 "ssl": x["ssl"], "endpoints": x["endpoints"]}
                for proto, key in (("TCP", "tcpServices"), ("UDP", "udpServices")) for x in self.document[key]]
        return pd.DataFrame(rows, columns=["protocol", "port", "service", "service_port", "ssl", "endpoints"])

    def diagnostics_frame(self):
        import pandas as pd
        return pd.DataFrame([d.__dict__ for d in self.diagnostics],
                            columns=["severity", "file", "line", "column", "field", "message", "text"])

    def __repr__(self):
        return "Model(%d services, %d routes, %d TCP and %d UDP services, %d diagnostics)" % (
            len(self.services), len(self.routes), len(self.tcp_services), len(self.udp_services),
            len(self.diagnostics))


def validate(paths, state_file=None):
    """Loads manifest files and directories as `metalgate validate PATH...` does and returns the resolved
    Model. Raises ConfigError (every diagnostic, the CLI's text) when the set has errors."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    outcome = _metalgate.validate([os.fspath(p) for p in paths], os.fspath(state_file) if state_file else "")
    raise_if_failed(outcome, ConfigError)
    return Model(json.loads(outcome["model_json"]), outcome["diagnostics"])
