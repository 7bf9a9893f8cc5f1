#!/usr/bin/env bash
# Configuration reload live: `metalgate serve --no-speaker` on loopback, its manifests rewritten and SIGHUP sent.
# A good configuration takes over new connections (HTTP routes and a TCP service alike) while a connection
# opened before the reload is still answered; a configuration with an error is refused with the file, line and
# field, and the one serving goes on. A second argument runs that many event loops. Needs no privileges.
set -euo pipefail
metalgate=$1
threads=${2:-1}
source "$(dirname "$0")/live_common.sh"
live_common_start metalgate-live-reload
tcp_port=$(free_port)

manifests() {  # POD_IP POD_NAME [EXTRA_HOST]: Service web's one endpoint, its Ingress, a TCP service to it
  cat <<YAML
controller:
  service:
    tcpPorts: [{name: web-tcp, port: $tcp_port, targetPort: $tcp_port}]
  tcpServices: {configMapName: tcp}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tcp, namespace: haproxy-ingress}
data: {"$tcp_port": "default/web:80"}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ports: [{port: 80, targetPort: $backend_port}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets:
- addresses: [{ip: $1, targetRef: {kind: Pod, name: $2}}]
  ports: [{port: $backend_port}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default, annotations: {haproxy.org/check: "false"}}
spec:
  ingressClassName: haproxy
  rules:
  - host: app.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
YAML
  if [ -n "${3:-}" ]; then
    cat <<YAML
  - host: $3
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
YAML
  fi
}
manifests 127.0.0.11 web-1 > "$work/manifests.yaml"

"$metalgate" serve --no-speaker --manifests "$work/manifests.yaml" --listen 127.0.0.1 \
  --http-port "$http_port" --https-port "$(free_port)" --access-log off --threads "$threads" \
  > "$work/metalgate.log" 2>&1 & pids+=($!)
mg_pid=$!
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$http_port/" && break
  sleep 0.1
done

served_by() {  # HOST -> the backend's name, or the status code when it is not 200
  curl -sS --max-time 5 -H "Host: $1" -w ' %{http_code}' "http://127.0.0.1:$http_port/" | tr '\n' ' ' |
    awk '$NF == 200 {print $1; next} {print $NF}'
}
wait_log() {  # EVENT COUNT: the COUNT-th log line with EVENT
  for _ in $(seq 100); do
    [ "$(grep -c "$1" "$work/metalgate.log" || true)" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "no $1 (number $2) in the log"
}

got=$(served_by app.example.com); [ "$got" = web-1 ] || fail "before the reload: app.example.com served by $got"
[ "$(curl -sS --max-time 5 "http://127.0.0.1:$tcp_port/" | awk '{print $1}')" = web-1 ] ||
  fail "before the reload: the TCP service did not reach web-1"
[ "$(served_by new.example.com)" = 404 ] || fail "before the reload: new.example.com is not a 404"

# A client connection opened before the reload; it asks again after it.
/usr/bin/python3 - "$http_port" "$work/ask-again" > "$work/old-connection.txt" 2>&1 <<'PY' &
import os, socket, sys, time
port, flag = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
def ask():
    s.sendall(b"GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < int(
            data.split(b"Content-Length: ", 1)[1].split(b"\r\n", 1)[0]):
        chunk = s.recv(4096)
        if not chunk:
            return "closed"
        data += chunk
    return data.split(b"\r\n\r\n", 1)[1].split()[0].decode()
print("first", ask(), flush=True)
for _ in range(200):
    if os.path.exists(flag):
        break
    time.sleep(0.05)
print("second", ask(), flush=True)
PY
old_client=$!
for _ in $(seq 50); do grep -q first "$work/old-connection.txt" && break; sleep 0.1; done
grep -q "first web-1" "$work/old-connection.txt" || fail "the early connection: $(cat "$work/old-connection.txt")"

# A good configuration: web's endpoint moves to web-2 and a host is added.
manifests 127.0.0.12 web-2 new.example.com > "$work/manifests.yaml"
kill -HUP "$mg_pid"
wait_log '"reloaded"\|event=reloaded\|reloaded' 1
for _ in 1 2 3 4; do
  [ "$(served_by app.example.com)" = web-2 ] || fail "after the reload: app.example.com not served by web-2"
done
[ "$(served_by new.example.com)" = web-2 ] || fail "after the reload: new.example.com not served"
for _ in 1 2 3 4; do
  [ "$(curl -sS --max-time 5 "http://127.0.0.1:$tcp_port/" | awk '{print $1}')" = web-2 ] ||
    fail "after the reload: the TCP service did not move to web-2"
done
# The connection from before is still answered, by the configuration it came in under (the old proxy drains).
touch "$work/ask-again"
wait "$old_client" || true
grep -q "second web-1" "$work/old-connection.txt" ||
  fail "the connection opened before the reload was not answered: $(cat "$work/old-connection.txt")"

# Reloads under load: new connections, to the HTTP frontend and to the TCP service, keep coming while the
# configuration is reloaded five times, and not one of them fails (the new proxy takes the listening sockets
# over; nothing waiting in their queues is reset).
/usr/bin/python3 - "$http_port" "$tcp_port" "$work/load-done" > "$work/load.txt" 2>&1 <<'PY' &
import os, socket, sys, threading
ports, stop = [int(sys.argv[1]), int(sys.argv[2])], sys.argv[3]
counts = {"ok": 0, "failed": 0}
lock = threading.Lock()
def client(port):
    while not os.path.exists(stop):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            s.close()
            outcome = "ok" if data.startswith(b"HTTP/1.1 200") else "failed"
        except OSError:
            outcome = "failed"
        with lock:
            counts[outcome] += 1
threads = [threading.Thread(target=client, args=(ports[i % 2],)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counts["ok"], counts["failed"])
PY
load=$!
for _ in 1 2 3 4 5; do
  sleep 0.2
  kill -HUP "$mg_pid"
done
wait_log 'reloaded' 6
sleep 0.2
touch "$work/load-done"
wait "$load" || true
read -r load_ok load_failed < "$work/load.txt" || fail "the load client: $(cat "$work/load.txt")"
[ "$load_ok" -gt 20 ] && [ "$load_failed" -eq 0 ] ||
  fail "requests during five reloads: $load_ok answered, $load_failed failed"
echo "five reloads under load: $load_ok requests answered, none failed"

# A bad configuration: refused with where the error is, and the good one keeps serving.
manifests 127.0.0.11 web-1 > "$work/manifests.yaml"
sed -i 's/^spec:$/spec:\n  colour: blue/' "$work/manifests.yaml"
kill -HUP "$mg_pid"
wait_log 'reload-refused' 1
grep -q "manifests.yaml:[0-9]*:[0-9]*: error: .*unknown field 'colour'" "$work/metalgate.log" ||
  fail "the refused reload did not say where the error is"
[ "$(served_by app.example.com)" = web-2 ] || fail "after a refused reload: app.example.com changed"
[ "$(served_by new.example.com)" = web-2 ] || fail "after a refused reload: new.example.com lost"

kill -TERM "$mg_pid"
wait "$mg_pid" || fail "metalgate did not stop cleanly after the reloads"
echo "live reload ($threads event loop(s)): all checks passed"
