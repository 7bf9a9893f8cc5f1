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
