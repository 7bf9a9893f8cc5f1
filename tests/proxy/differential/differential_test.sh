#!/usr/bin/env bash
# The differential test: corpus.py's raw requests against metalgate and Debian's HAProxy 2.6 in one run,
# both in front of one recording server, on loopback; then corpus_h2.py's raw HTTP/2 frames over TLS (ALPN h2)
# against both HTTPS frontends. Fails on a verdict that differs without a documented
# reason, on a request that must reach no server and did through metalgate, and when docs/proxy.md's table
# is not this run's. `--markdown` prints the table instead of checking the docs.
#   tests/proxy/differential/differential_test.sh build/main/engine/metalgate [--markdown]
set -euo pipefail
metalgate=$1
mode=${2:---check}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../lib/harness.sh"
harness_start metalgate-differential
harness_need_packages haproxy
backend_port=$(harness_free_port)
hp_port=$(harness_free_port)
mg_port=$(harness_free_port)
hps_port=$(harness_free_port)
mgs_port=$(harness_free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=a.example \
  -addext subjectAltName=DNS:a.example -keyout "$work/a.key" -out "$work/a.crt" 2>/dev/null
cat "$work/a.crt" "$work/a.key" > "$work/a.pem"

# The same limits in both: a 16 KiB buffer, 101 headers, 1 s to send a head.
cat > "$work/haproxy.cfg" <<CFG
global
  tune.bufsize 16384
defaults
  mode http
  timeout connect 2s
  timeout client 2s
  timeout server 2s
  timeout http-request 1s
frontend fe
  bind 127.0.0.1:$hp_port
  default_backend be
frontend fe_tls
  bind 127.0.0.1:$hps_port ssl crt $work/a.pem alpn h2,http/1.1
  default_backend be
backend be
  server s1 127.0.0.1:$backend_port
CFG
cat > "$work/manifests.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: recorder, namespace: default}
spec: {ports: [{port: 80, targetPort: $backend_port}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: recorder, namespace: default}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{port: $backend_port}]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: all, namespace: default, annotations: {haproxy.org/check: "false", haproxy.org/ssl-redirect: "false"}}
spec:
  ingressClassName: haproxy
  tls: [{hosts: [a.example], secretName: a-tls}]
  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: recorder, port: {number: 80}}}}]}}]
---
apiVersion: v1
kind: Secret
metadata: {name: a-tls, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: $(base64 -w0 < "$work/a.crt")
  tls.key: $(base64 -w0 < "$work/a.key")
YAML
cat > "$work/values.yaml" <<YAML
controller:
  config:
    timeout-http-request: "1s"
    timeout-client: "2s"
    timeout-server: "2s"
YAML

haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 & pids+=($!)
"$metalgate" serve --no-speaker --manifests "$work/manifests.yaml" --manifests "$work/values.yaml" \
  --listen 127.0.0.1 --http-port "$mg_port" --https-port "$mgs_port" --access-log off \
  > "$work/metalgate.log" 2>&1 & pids+=($!)
for port in "$hp_port" "$mg_port" "$hps_port" "$mgs_port"; do
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done
for p in "${pids[@]}"; do
  kill -0 "$p" 2>/dev/null || { cat "$work/haproxy.log" "$work/metalgate.log" >&2; echo "FAIL: a proxy did not start" >&2; exit 1; }
done

cd "$here"
status=0
if [ "$mode" = --markdown ]; then
  /usr/bin/python3 differential.py "$backend_port" "$hp_port" "$mg_port" --markdown || status=1
  echo
  /usr/bin/python3 differential_h2.py "$backend_port" "$hps_port" "$mgs_port" --markdown || status=1
else
  docs="$here/../../../docs/proxy.md"
  /usr/bin/python3 differential.py "$backend_port" "$hp_port" "$mg_port" --check "$docs" || status=1
  /usr/bin/python3 differential_h2.py "$backend_port" "$hps_port" "$mgs_port" --check "$docs" || status=1
fi
exit $status
