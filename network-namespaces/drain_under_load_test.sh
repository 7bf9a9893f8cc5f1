#!/usr/bin/env bash
# Stopping a node under continuous load, live, in network namespaces this script creates and always removes: a
# bridge in its own namespace, two nodes running `metalgate serve` (speaker and proxy), one pod namespace with
# an identity backend, one client. The client runs 8 workers for 6 s, each opening a new connection per
# request, and 2 workers on kept-alive connections (retrying once when a connection they reuse was closed
# before any byte of the answer, as browsers and HTTP client libraries do for idempotent requests). Requests
# alternate between one that takes 20 ms at the backend and a 1 MiB download (64 ms) (whose client ACKs keep flowing
# to the address), so requests are always in flight in both directions. At 2 s the node that owns the address
# gets SIGTERM. Zero requests may fail:
# - the leaving node's speaker says goodbye, the other node takes the address and, before it announces, sends
#   the segments of connections it does not know on to the leaving node (Runtime::hand_over, nftables);
# - the leaving node finishes its requests, answering with Connection: close, and takes new connections for
#   a moment from clients the announcement has not reached yet; then it exits 0, drained.
# A second run with the handover off (serve --handover 0) shows what it is for: there, connections in flight
# when the address moves are reset by the new owner. Usage: drain_under_load_test.sh PATH/TO/metalgate (root; 77 to skip)
set -u
bin=$(readlink -f "$1")
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: network namespaces need root"; exit 77; fi
for tool in ip nft python3; do command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }; done
here=$(dirname "$(readlink -f "$0")")

id=$$
br=mgbr-$id client=mgc-$id pod=mgpod-$id
nodes=(mgn0-$id mgn1-$id)
node_ips=(10.99.0.10 10.99.0.11)
vip=10.99.0.240 pod_ip=10.99.0.31
tmp=$(mktemp -d)
pids=()
fail() { echo "FAIL: $*"; for i in 0 1; do echo "--- node-$i log"; tail -n 25 "$tmp/node-$i.log"; done; exit 1; }

source "$here/lan.sh"
trap lan_cleanup EXIT
lan_bridge "$br"
for i in 0 1; do lan_attach "$br" "${nodes[$i]}" "mgp$i-$id" "${node_ips[$i]}"; done
lan_attach "$br" "$pod" "mgpp-$id" "$pod_ip"
lan_attach "$br" "$client" "mgpc-$id" 10.99.0.100
ip netns exec "$pod" python3 "$here/../tests/proxy/live/identity_server.py" web-1 "$pod_ip" 8080 & pids+=($!)
mkdir "$tmp/manifests"
{
  lan_pool
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: ingress, namespace: haproxy-ingress, annotations: {metallb.universe.tf/loadBalancerIPs: $vip}}
spec: {type: LoadBalancer, selector: {app.kubernetes.io/name: kubernetes-ingress}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default, annotations: {haproxy.org/check: "false"}}
spec:
  ingressClassName: haproxy
  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}]}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {selector: {app: web}, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets: [{addresses: [{ip: $pod_ip}], ports: [{port: 8080}]}]
YAML
} >"$tmp/manifests/lan.yaml"

run() {  # RUN_NAME HANDOVER: both nodes, the load, SIGTERM to the owner at 2 s; sets failed, total, owner
  local name=$1 handover=$2 i
  for i in 0 1; do
    : >"$tmp/node-$i.log"
    ip netns exec "${nodes[$i]}" "$bin" serve --manifests "$tmp/manifests" --node "node-$i" --interface eth0 \
      --handover "$handover" --grace 5s \
      --bind "${node_ips[$i]}:7946" --peer "${node_ips[$((1 - i))]}:7946" --seed "$((i + 1))" --access-log off \
      >>"$tmp/node-$i.log" 2>&1 &
    node_pids[$i]=$!
    pids+=($!)
  done
  for _ in $(seq 100); do
    [ "$(ip netns exec "$client" curl -s -m 1 -o /dev/null -w '%{http_code}' "http://$vip/")" = 200 ] && break
    sleep 0.1
  done
  local mac0 mac1 lladdr
  mac0=$(ip netns exec "${nodes[0]}" cat /sys/class/net/eth0/address)
  mac1=$(ip netns exec "${nodes[1]}" cat /sys/class/net/eth0/address)
  owner=$(lan_arp_owner "$client" "$vip" "$mac0" "$mac1")
  [ "$owner" != none ] || fail "$name: no node answers for $vip"
  ip netns exec "$client" python3 - "$vip" >"$tmp/load-$name.txt" 2>&1 <<'PY' &
import http.client, sys, threading, time
vip, results, lock = sys.argv[1], {"ok": 0, "failed": 0, "retried": 0, "errors": {}}, threading.Lock()
end = time.time() + 6
def count(key, error=None):
    with lock:
        results[key] += 1
        if error: results["errors"][error] = results["errors"].get(error, 0) + 1
paths = ["/sleep/0.02", "/bytes/1048576"]
def ask(c, n=[0]):
    n[0] += 1
    c.request("GET", paths[n[0] % 2], headers={"Host": "app.example.com"})
    r = c.getresponse(); body = r.read()
    if r.status != 200 or not body.startswith(b"web-1"): raise RuntimeError(f"status {r.status}")
    return r.getheader("Connection", "") == "close"
def fresh():
    while time.time() < end:
        c = http.client.HTTPConnection(vip, 80, timeout=5)
        try: ask(c); count("ok")
        except Exception as e: count("failed", type(e).__name__ + " " + str(e))
        finally: c.close()
def kept():
    c, used = None, False
    while time.time() < end:
        if c is None: c, used = http.client.HTTPConnection(vip, 80, timeout=5), False
        try:
            close = ask(c); count("ok"); used = True
            if close: c.close(); c = None
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as e:
            c.close(); c = None
            if not used: count("failed", type(e).__name__); continue
            count("retried")  # a reused connection closed before the answer: once more on a new one
            c = http.client.HTTPConnection(vip, 80, timeout=5)
            try: ask(c); count("ok")
            except Exception as e2: count("failed", "after retry: " + type(e2).__name__ + " " + str(e2))
            c.close(); c = None
        except Exception as e:
            count("failed", type(e).__name__ + " " + str(e)); c.close(); c = None
workers = [threading.Thread(target=fresh) for _ in range(8)] + [threading.Thread(target=kept) for _ in range(2)]
for w in workers: w.start()
for w in workers: w.join()
print(results["ok"], results["failed"], results["retried"], results["errors"])
PY
  local load=$!
  sleep 2
  kill -TERM "${node_pids[$owner]}"
  local exit_code=0
  wait "${node_pids[$owner]}" || exit_code=$?
  wait "$load"
  read -r ok failed retried errors <"$tmp/load-$name.txt" || true
  total=$((ok + failed))
  echo "$name: owner node-$owner exited $exit_code; $ok answered, $failed failed, $retried retried on a new connection $errors"
  [ "$exit_code" = 0 ] || fail "$name: the leaving node exited $exit_code"
  # Without the handover the leaving node cannot drain: its clients' segments (their resets too) go elsewhere.
  [ "$handover" = 0 ] || grep -q 'stopping.*drained=yes' "$tmp/node-$owner.log" || fail "$name: the leaving node did not drain"
  kill -TERM "${node_pids[$((1 - owner))]}"; wait "${node_pids[$((1 - owner))]}" 2>/dev/null
  ip netns exec "${nodes[$((1 - owner))]}" nft list tables | grep -q metalgate_handover &&
    fail "$name: the handover table outlived the node"
}

run handover 35s
[ "$total" -gt 300 ] || fail "only $total requests in 6 s: the load did not run"
[ "$failed" = 0 ] || fail "$failed of $total requests failed while node-$owner stopped"
handover_total=$total
grep -q "speaker handover .*from=node-$owner" "$tmp/node-$((1 - owner)).log" || fail "the taking node logged no handover"
run without 0
# Not asserted: about four downloads are in flight at the moment the address moves, and each is reset without
# the handover (4 of ~620 requests in each run measured here), but zero in flight is possible.
[ "$failed" -gt 0 ] || echo "note: no request failed even without the handover this time"
echo "drain under load: zero failed requests of $handover_total while the owner stopped, with the handover"
