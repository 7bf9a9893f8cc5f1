#!/usr/bin/env bash
# TLS beyond the proxy's own frontend, live on loopback: a pod that speaks only TLS (`openssl s_server -www`)
# reached two ways, and curl as the client.
#   ssl-passthrough: curl verifies the pod's own certificate through the HTTPS frontend and gets s_server's page;
#   server-ssl + server-ca: plain HTTP to the proxy, which encrypts to the pod and verifies it against the CA;
#   a host of spec.tls on the same frontend is still terminated by metalgate;
#   and each of them behind a PROXY protocol header (curl --haproxy-protocol), which comes before the hello.
# Needs no privileges; cleans up after itself.
set -euo pipefail
metalgate=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../lib/harness.sh"
harness_start metalgate-live-tls-backends
http_port=$(harness_free_port)
https_port=$(harness_free_port)
pod_port=$(harness_free_port)
web_port=$(harness_free_port)
fail() { echo "FAIL: $*" >&2; echo "--- metalgate log" >&2; cat "$work/metalgate.log" >&2 || true; exit 1; }

cert() {  # name cn
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$2" \
    -addext "subjectAltName=DNS:$2" -keyout "$work/$1.key" -out "$work/$1.crt" 2>/dev/null
}
cert pod pass.example.com
cert app app.example.com
openssl s_server -quiet -www -accept "127.0.0.21:$pod_port" -cert "$work/pod.crt" -key "$work/pod.key" \
  > "$work/s_server.log" 2>&1 & pids+=($!)
/usr/bin/python3 "$here/../../proxy/live/identity_server.py" web-1 127.0.0.11 "$web_port" & pids+=($!)

service() {  # name port ip target-port
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: default}
spec:
  ports: [{port: $2, targetPort: $4}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: $1, namespace: default}
subsets:
- addresses: [{ip: $3, targetRef: {kind: Pod, name: $1-0}}]
  ports: [{port: $4}]
YAML
}
ingress() {  # name host service port annotations
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: %s\n  namespace: default\n  annotations: {%s}\nspec:\n  ingressClassName: haproxy\n' "$1" "$5"
  [ "$1" = app ] && printf '  tls: [{hosts: [app.example.com], secretName: app-tls}]\n'
  printf '  rules:\n  - host: %s\n    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: %s, port: {number: %s}}}}]}\n' "$2" "$3" "$4"
}
secret() {  # name crt key
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: default}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: %s\n  tls.key: %s\n' \
    "$1" "$(base64 -w0 < "$2")" "$(base64 -w0 < "$3")"
}
{
  # Connections from 127.0.0.2 come through a load balancer that sends a PROXY protocol header first.
  printf 'controller:\n  config: {proxy-protocol: "127.0.0.2/32"}\n'
  # One Service per way in: the annotations configure a Service port's backend, which the Ingresses would share.
  service pod 443 127.0.0.21 "$pod_port"
  service pod-reenc 443 127.0.0.21 "$pod_port"
  service web 80 127.0.0.11 "$web_port"
  ingress pass pass.example.com pod 443 'haproxy.org/ssl-passthrough: "true"'
  ingress reenc reenc.example.com pod-reenc 443 'haproxy.org/server-ca: pod-ca, haproxy.org/check: "false"'
  ingress app app.example.com web 80 ''
  secret app-tls "$work/app.crt" "$work/app.key"
  secret pod-ca "$work/pod.crt" "$work/pod.key"
} > "$work/manifests.yaml"

"$metalgate" validate "$work/manifests.yaml" > "$work/validate.log" 2>&1 || { cat "$work/validate.log" >&2; fail "validate"; }
"$metalgate" serve --no-speaker --manifests "$work/manifests.yaml" --listen 127.0.0.1 \
  --http-port "$http_port" --https-port "$https_port" > "$work/metalgate.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$http_port/" && break
  sleep 0.1
done

c() { curl -sS --max-time 5 "$@"; }
https() { c --cacert "$work/$1.crt" --resolve "$2:$https_port:127.0.0.1" "https://$2:$https_port/" "${@:3}"; }

# Passthrough: the certificate curl verifies is the pod's, and the page is s_server's own.
page=$(https pod pass.example.com) || fail "passthrough: curl could not verify the pod's certificate"
[[ $page == *"s_server -quiet -www"* ]] || fail "passthrough: not s_server's page: ${page:0:200}"

# Re-encryption: plain HTTP in, TLS to the pod, verified against the CA in Secret pod-ca.
page=$(c -H 'Host: reenc.example.com' "http://127.0.0.1:$http_port/") || fail "server-ca: no answer"
[[ $page == *"s_server -quiet -www"* ]] || fail "server-ca: not s_server's page: ${page:0:200}"

# The same frontend still terminates TLS for its own hosts.
body=$(https app app.example.com) || fail "app.example.com: curl could not verify metalgate's certificate"
[[ $body == "web-1 GET /" ]] || fail "app.example.com body '$body'"
# PROXY protocol before TLS: the header is read and taken off before the ClientHello, for a terminated host
# and for a passed-through one (the pod gets the hello, not the header); without a header such a source is
# refused.
proxied() { https "$@" --interface 127.0.0.2 --haproxy-protocol; }
body=$(proxied app app.example.com) || fail "PROXY header then TLS to a terminated host"
[[ $body == "web-1 GET /" ]] || fail "PROXY header then TLS: body '$body'"
page=$(proxied pod pass.example.com) || fail "PROXY header then a passed-through ClientHello"
[[ $page == *"s_server -quiet -www"* ]] || fail "PROXY header then passthrough: ${page:0:200}"
if https app app.example.com --interface 127.0.0.2 >/dev/null 2>&1; then
  fail "a proxy-protocol source without a header was served"
fi
echo "live TLS backends: passthrough, server-ca re-encryption, termination and PROXY headers before TLS: all checks passed"
