#!/usr/bin/env bash
# The HTTPS frontend as a TLS scanner sees it: Debian's testssl.sh against `metalgate serve --no-speaker` on
# loopback with the seed's manifests (its ssl-options, HSTS settings and certificate). Fails on any offered
# protocol below TLS 1.2, any offered cipher outside the strong (AEAD) category, any vulnerability finding,
# and a missing or short HSTS header, checked on the backend's answer (503: the seed's pods are not running
# here, so the proxy answers itself) and on the proxy's own 404 for an unknown host.
# testssl.sh's exit code counts its own problems, not findings, so the verdict comes from its JSON.
set -euo pipefail
metalgate=$1
source_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../lib/harness.sh"
harness_start metalgate-testssl
harness_need_packages testssl.sh bsdextrautils procps bind9-dnsutils
http_port=$(harness_free_port)
https_port=$(harness_free_port)

# The seed, its TCP and UDP service maps moved to free ports: they name fixed ones (5432, 6379, 53) that the
# L4 tests and a developer's own servers may hold; nothing of TLS depends on them.
mkdir -p "$work/seed"
cp -r "$source_dir/scenarios/seed/." "$work/seed/"
for map in haproxy-tcp-configmap.yaml haproxy-udp-configmap.yaml; do
  for port in $(grep -oE '^  "[0-9]+":' "$work/seed/$map" | tr -dc '0-9\n'); do
    sed -i "s/^  \"$port\":/  \"$(harness_free_port both)\":/" "$work/seed/$map"
  done
done

"$metalgate" serve --no-speaker --manifests "$work/seed" --listen 127.0.0.1 --http-port "$http_port" \
  --https-port "$https_port" --stats-port "$(harness_free_port)" --metrics-port "$(harness_free_port)" \
  --access-log off > "$work/metalgate.log" 2>&1 & pids+=($!)
fail() { echo "FAIL: $*" >&2; echo "--- metalgate log" >&2; tail -n 30 "$work/metalgate.log" >&2 || true; exit 1; }
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$https_port") 2>/dev/null && break
  sleep 0.1
done
kill -0 "${pids[0]}" 2>/dev/null || fail "metalgate did not start"

scan() {  # name: JSON of one scan of https://app.example.com/ through 127.0.0.1
  rm -f "$work/$1.json"
  testssl --quiet --color 0 --warnings batch --nodns none --ip 127.0.0.1 --jsonfile "$work/$1.json" \
    "${@:2}" "https://app.example.com:$https_port/" > "$work/$1.txt" 2>&1 || true
  [ -s "$work/$1.json" ] || { cat "$work/$1.txt" >&2; fail "testssl wrote no findings"; }
}
scan full -p -s -U -h

# The verdict, each failure printed in testssl's words: the protocols, the cipher categories, every
# vulnerability check OK, HSTS long enough, and nothing else rated MEDIUM or worse.
/usr/bin/python3 - "$work/full.json" <<'PY' || fail "testssl found problems (above)"
import json, sys
findings = json.load(open(sys.argv[1]))
by_id = {f["id"]: f for f in findings}
problems = []
def need(id_, ok):
    f = by_id.get(id_)
    if f is None:
        problems.append(f"{id_}: not reported")
    elif not ok(f):
        problems.append(f"{id_}: {f['severity']} {f['finding']}")
for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    need(proto, lambda f: f["finding"].startswith("not offered"))
need("TLS1_2", lambda f: f["finding"].startswith("offered"))
for category in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"):
    need(f"cipherlist_{category}", lambda f: f["finding"].startswith("not offered"))
need("cipherlist_STRONG", lambda f: f["finding"].startswith("offered"))
need("HSTS_time", lambda f: f["severity"] == "OK")
vulnerabilities = ("heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego",
                   "CRIME_TLS", "BREACH", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN",
                   "LOGJAM", "BEAST", "LUCKY13", "RC4")
for v in vulnerabilities:
    need(v, lambda f: f["severity"] in ("OK", "INFO"))
for f in findings:  # anything else testssl rates MEDIUM or worse
    if f["severity"] in ("MEDIUM", "HIGH", "CRITICAL") and not any(p.startswith(f["id"] + ":") for p in problems):
        problems.append(f"{f['id']}: {f['severity']} {f['finding']}")
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
PY

# HSTS on answers the proxy makes itself: the 503 above came from it; so does a 404 for a host it has no
# route for, and both carry the seed's header.
for host in app.example.com unknown.example.com; do
  headers=$(curl -sk -D - -o /dev/null --resolve "$host:$https_port:127.0.0.1" "https://$host:$https_port/")
  status=$(printf '%s' "$headers" | head -n1 | tr -d '\r')
  printf '%s' "$headers" | grep -qi '^strict-transport-security: max-age=31536000; includeSubDomains' ||
    fail "no HSTS on $host's answer ($status)"
done
echo "testssl: no obsolete protocol or cipher, no vulnerability, HSTS on every answer"
