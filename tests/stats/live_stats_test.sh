#!/usr/bin/env bash
# The stats and metrics live, read by the real tools operators point at them:
# - `metalgate serve --no-speaker` on loopback with the tutorial's monitoring values (stats with auth, metrics)
#   in front of two identity backends, under traffic: 200s after 50 ms, some 503s, one idle kept-alive client;
# - the CSV (`/;csv`) parsed by Python's csv module, its header equal to a running HAProxy 2.6's;
# - /metrics accepted by `promtool check metrics`; every haproxy_* family also in HAProxy's own exporter output
#   for an equivalent configuration, with the same type and at least HAProxy's labels;
# - Debian's Prometheus scraping it every second, evaluating every expression of the tutorial's Grafana
#   dashboard (scenarios/seed/haproxy-dashboard-configmap.yaml) through its HTTP API: each returns series with
#   the dashboard's legend label and the values the traffic implies;
# - the HTML page rendered by headless Chromium (its DOM has every table; a screenshot is kept).
set -euo pipefail
metalgate=$1
src=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/harness.sh"
harness_start metalgate-live-stats
free_port() { harness_free_port "$@"; }
fail() { echo "FAIL: $*" >&2; echo "--- metalgate log" >&2; cat "$work/metalgate.log" >&2 || true; exit 1; }
backend_port=$(free_port) http_port=$(free_port)
for i in 1 2; do /usr/bin/python3 "$here/../proxy/live/identity_server.py" "web-$i" "127.0.0.1$i" "$backend_port" & pids+=($!); done
harness_need_packages prometheus haproxy chromium
stats_port=$(free_port) metrics_port=$(free_port) prom_port=$(free_port) hx_port=$(free_port) hx_prom=$(free_port)
cat >"$work/values.yaml" <<YAML
controller:
  stats: {enabled: true, port: 1024, auth: {username: admin, password: admin123}}
  metrics: {enabled: true, service: {enabled: true, port: 9101}}
YAML
cat >"$work/manifests.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {ports: [{port: 80, targetPort: $backend_port}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets: [{addresses: [{ip: 127.0.0.11, targetRef: {kind: Pod, name: web-1}}, {ip: 127.0.0.12, targetRef: {kind: Pod, name: web-2}}], ports: [{port: $backend_port}]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default}
spec:
  ingressClassName: haproxy
  rules: [{host: app.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
YAML
"$metalgate" serve --no-speaker --manifests "$work" --listen 127.0.0.1 --http-port "$http_port" \
  --https-port "$(free_port)" --stats-port "$stats_port" --metrics-port "$metrics_port" --access-log off \
  >"$work/metalgate.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: app.example.com' "http://127.0.0.1:$http_port/")" = 200 ] && break
  sleep 0.1
done

# Prometheus scrapes from now on, every second.
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: metalgate
    static_configs: [{targets: ["127.0.0.1:$metrics_port"]}]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 & pids+=($!)

# One idle kept-alive client for the whole run: haproxy_frontend_current_sessions must see it.
/usr/bin/python3 - "$http_port" <<'PY' & pids+=($!)
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /idle HTTP/1.1\r\nHost: app.example.com\r\n\r\n")
s.recv(4096)
time.sleep(600)
PY
# Traffic for 8 s: 200s that take 50 ms at the backend, and a 503 every tenth request.
end=$((SECONDS + 8)) n=0
while [ $SECONDS -lt $end ]; do
  n=$((n + 1))
  path=/sleep/0.05; [ $((n % 10)) = 0 ] && path=/status/503
  curl -s -o /dev/null -H 'Host: app.example.com' "http://127.0.0.1:$http_port$path" || fail "request $n failed"
done
sleep 2  # two more scrapes after the last request

# The CSV: auth required, then parsed; its counts are the traffic's.
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$stats_port/;csv")" = 401 ] || fail "the stats page answered without credentials"
curl -sf -u admin:admin123 "http://127.0.0.1:$stats_port/;csv" >"$work/stats.csv" || fail "no CSV with credentials"
/usr/bin/python3 - "$work/stats.csv" "$n" <<'PY' || fail "the CSV does not hold the traffic"
import csv, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines[0].startswith("# pxname,svname,"), lines[0]
rows = list(csv.DictReader([lines[0][2:]] + lines[1:]))
fe = next(r for r in rows if r["pxname"] == "http" and r["svname"] == "FRONTEND")
be = next(r for r in rows if r["svname"] == "BACKEND" and r["mode"] == "http")
servers = [r for r in rows if r["pxname"] == be["pxname"] and r["svname"] not in ("BACKEND",)]
sent = int(sys.argv[2])
errors = sent // 10
assert int(fe["req_tot"]) >= sent + 1, (fe["req_tot"], sent)
assert int(be["hrsp_5xx"]) == errors, (be["hrsp_5xx"], errors)
assert int(be["hrsp_2xx"]) >= sent - errors, (be["hrsp_2xx"], sent)
assert 35 <= int(be["rtime"]) <= 200, be["rtime"]  # 9 in 10 take 50 ms, the 503s none
assert be["status"] == "UP" and be["act"] == "2", (be["status"], be["act"])
assert sorted(s["svname"] for s in servers) == ["web-1", "web-2"], servers
assert all(s["status"] == "UP" and s["check_status"] == "L4OK" for s in servers), servers
assert int(fe["scur"]) >= 1, fe["scur"]
assert int(fe["rate_max"]) >= 1 and int(fe["req_rate_max"]) >= 1, (fe["rate_max"], fe["req_rate_max"])
print(f"csv: {fe['req_tot']} requests, backend 5xx {be['hrsp_5xx']}, rtime {be['rtime']} ms, scur {fe['scur']}")
PY

# /metrics: promtool's lint, then HAProxy's own exporter as the reference for names, types and labels.
curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$work/metrics.txt" || fail "no /metrics"
promtool check metrics <"$work/metrics.txt" || fail "promtool rejects /metrics"
curl -sf -u admin:admin123 -o "$work/stats-metrics.txt" "http://127.0.0.1:$stats_port/metrics" || fail "no /metrics on the stats port"
grep -q '^haproxy_frontend_http_requests_total' "$work/stats-metrics.txt" || fail "the stats port does not serve /metrics"
cat >"$work/haproxy.cfg" <<CFG
global
  log stdout format raw local0 emerg
defaults
  mode http
  timeout client 5s
  timeout server 5s
  timeout connect 1s
frontend http
  bind 127.0.0.1:$hx_port
  default_backend default_web_80
frontend prometheus
  bind 127.0.0.1:$hx_prom
  http-request use-service prometheus-exporter if { path /metrics }
  stats enable
  stats uri /stats
backend default_web_80
  server web-1 127.0.0.11:$backend_port check
CFG
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do curl -sf -o "$work/haproxy-metrics.txt" "http://127.0.0.1:$hx_prom/metrics" && break; sleep 0.1; done
curl -sf -o "$work/haproxy.csv" "http://127.0.0.1:$hx_prom/stats;csv" || fail "no CSV from HAProxy"
head -1 "$work/haproxy.csv" >"$work/haproxy-csv-header.txt"
[ "$(head -1 "$work/stats.csv")" = "$(cat "$work/haproxy-csv-header.txt")" ] || fail "the CSV header differs from HAProxy's"
/usr/bin/python3 - "$work/metrics.txt" "$work/haproxy-metrics.txt" <<'PY' || fail "/metrics differs from HAProxy's exporter"
import re, sys
def families(path):
    types, labels = {}, {}
    for line in open(path):
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
        elif line.strip() and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            labels.setdefault(name, set()).update(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', line.split(" ")[0] if "{" not in line else line[:line.rindex("}")]))
    return types, labels
ours, our_labels = families(sys.argv[1])
theirs, their_labels = families(sys.argv[2])
extra = {"haproxy_backend_http_response_time_average_seconds"}  # the dashboard's name (docs/operations.md)
checked = 0
for name, kind in ours.items():
    if not name.startswith("haproxy_") or name in extra:
        continue
    assert name in theirs, f"{name} is not an HAProxy exporter metric"
    assert theirs[name] == kind, f"{name}: {kind}, HAProxy says {theirs[name]}"
    missing = their_labels.get(name, set()) - our_labels.get(name, set())
    assert not missing, f"{name} lacks HAProxy's labels {missing}"
    checked += 1
assert checked > 50, checked
print(f"metrics: {checked} haproxy_* families match HAProxy 2.6's exporter in name, type and labels")
PY

# Prometheus evaluates the dashboard's own expressions.
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null && break; sleep 0.2; done
/usr/bin/python3 - "$src/scenarios/seed/haproxy-dashboard-configmap.yaml" "$prom_port" <<'PY' || { cat "$work/prometheus.log" | tail -20; fail "Prometheus does not get the dashboard's data"; }
import json, re, sys, urllib.parse, urllib.request
text = open(sys.argv[1]).read()
dashboard = json.loads(text[text.index("{"):text.rindex("}") + 1])
def query(expr):
    url = f"http://127.0.0.1:{sys.argv[2]}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    answer = json.load(urllib.request.urlopen(url))
    assert answer["status"] == "success", answer
    return answer["data"]["result"]
expected = {  # the dashboard's expression -> the series' label it names and what its value must be
    "rate(haproxy_frontend_http_requests_total[5m])": ("frontend", "http", lambda v: v > 0),
    "haproxy_frontend_current_sessions": ("frontend", "http", lambda v: v >= 1),
    "haproxy_backend_http_response_time_average_seconds": ("backend", "default_web_80", lambda v: 0.035 <= v <= 0.2),
    'rate(haproxy_backend_http_responses_total{code=~"5.."}[5m])': ("backend", "default_web_80", lambda v: v > 0),
}
seen = 0
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        expr, legend = target["expr"], target["legendFormat"]
        label, who, ok = expected[expr]
        assert "{{" + label + "}}" in legend, (expr, legend)
        result = query(expr)
        mine = [r for r in result if r["metric"].get(label) == who]
        assert mine, f"{panel['title']}: {expr} returned no series with {label}={who}: {result}"
        value = float(mine[0]["value"][1])
        assert ok(value), f"{panel['title']}: {expr} = {value}"
        print(f"dashboard: {panel['title']}: {expr} -> {label}={who} {value:.4f}")
        seen += 1
assert seen == 4, seen
PY

# The page as a browser shows it.
curl -sf -u admin:admin123 "http://127.0.0.1:$stats_port/" >"$work/stats.html" || fail "no stats page"
grep -q '<meta http-equiv="refresh"' "$work/stats.html" || fail "the stats page does not refresh itself"
timeout 60 chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$work/stats.html" >"$work/dom.html" 2>/dev/null \
  || fail "chromium could not render the stats page"
for id in http-fe default_web_80-be; do grep -q "id=\"$id\"" "$work/dom.html" || fail "the rendered page has no table $id"; done
grep -q '<td class="name">web-1</td>' "$work/dom.html" || fail "the rendered page has no row for web-1"
mkdir -p "${METALGATE_ARTIFACTS:-$work}"
timeout 60 chromium --headless --no-sandbox --disable-gpu --window-size=1600,900 \
  --screenshot="${METALGATE_ARTIFACTS:-$work}/stats-page.png" "file://$work/stats.html" >/dev/null 2>&1 || true
shot="${METALGATE_ARTIFACTS:-$work}/stats-page.png"
[ -s "$shot" ] || fail "no screenshot of the stats page"
# A picture, not a blank page: the tables' colours and text make it far larger than an empty 1600x900 PNG.
[ "$(stat -c %s "$shot")" -gt 20000 ] || fail "the screenshot of the stats page is blank ($(stat -c %s "$shot") bytes)"
echo "stats: CSV, /metrics, Prometheus and the page all show the traffic"
