# Shared by the live proxy tests (source it after `set -euo pipefail`, with the test's NAME): the harness (a
# private work directory, processes cleaned up on exit), free loopback ports, `fail` printing metalgate's log,
# and two identity backends on 127.0.0.11 and 127.0.0.12 at $backend_port that answer with their names (web-2's
# PID in $web2_pid).
live_common_start() {
  here=$(cd "$(dirname "$0")" && pwd)
  source "$here/../../lib/harness.sh"
  harness_start "$1"
  backend_port=$(harness_free_port)
  http_port=$(harness_free_port)
  /usr/bin/python3 "$here/identity_server.py" web-1 127.0.0.11 "$backend_port" & pids+=($!)
  /usr/bin/python3 "$here/identity_server.py" web-2 127.0.0.12 "$backend_port" & pids+=($!)
  web2_pid=$!
}
free_port() { harness_free_port "$@"; }
fail() { echo "FAIL: $*" >&2; echo "--- metalgate log" >&2; cat "$work/metalgate.log" >&2 || true; exit 1; }
# A self-signed P-256 certificate for `name` and the other names (DNS:..., IP:...): $work/<file>.crt and .key.
live_certificate() {
  local file=$1 cn=$2 sans=$3
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$cn" \
    -addext "subjectAltName=$sans" -keyout "$work/$file.key" -out "$work/$file.crt" 2>/dev/null
}
# A kubernetes.io/tls Secret holding $work/<file>.crt and .key, as manifest YAML.
live_tls_secret() {
  local name=$1 file=$2
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: default}\ntype: kubernetes.io/tls\n' "$name"
  printf 'data:\n  tls.crt: %s\n  tls.key: %s\n' "$(base64 -w0 < "$work/$file.crt")" "$(base64 -w0 < "$work/$file.key")"
}
# Waits up to 10 s for the command to succeed; fails the test with `what` otherwise.
live_wait_for() {
  local what=$1; shift
  for _ in $(seq 100); do
    "$@" && return 0
    sleep 0.1
  done
  fail "not ready after 10 s: $what"
}
