#!/usr/bin/env bash
# Service forwarding benchmark (not a test): a LoadBalancer Service's own port forwarded by metalgate in user space,
# side by side in one run with the kernel path a bare-metal cluster would otherwise use — IPVS in NAT mode when the
# kernel has it (kube-proxy's ipvs mode), nftables DNAT + masquerade always (kube-proxy's nftables/iptables modes) —
# and HAProxy 2.6 in `mode tcp` (splice-auto) as a second user-space reference.
#
# Topology, all in namespaces this script creates and always removes (names carry $$): a bridge in its own
# namespace; a client (10.99.0.100), a forwarder (10.99.0.10, node-0) and a server (10.99.0.50). The forwarder holds
# the VIP 10.99.0.240: `metalgate serve` runs there with its speaker, alone, so it owns the VIP and adds it to its
# lo as in production (the other paths use the same VIP on the same node: HAProxy binds it, nftables/IPVS NAT it).
# Each path has its own port on the VIP, all towards the same server process at 10.99.0.50:8000:
#   direct      client -> 10.99.0.50:8000 (no forwarder: the baseline the forwarding cost is taken from)
#   metalgate   VIP:5001, Service default/bench (port 5001 -> Endpoints 10.99.0.50:8000)
#   haproxy     VIP:5002, haproxy -db, nbthread 1, mode tcp, option splice-auto
#   ipvs        VIP:5003, ipvsadm -m (NAT) + masquerade, when `ipvsadm -A` works in the namespace
#   nft         VIP:5004, nftables DNAT in prerouting + masquerade of DNATed flows in postrouting
# The NAT rules exist only while their path is measured, so conntrack runs only then.
#
# Load (svcload, C, built here with cc): "conn" keeps CONCURRENCY connections in flight for CONN_SECONDS: connect,
# a 64-byte request, a 100-byte answer, the server closes first (as HTTP/1.0 does), the client closes; "bulk":
# STREAMS downloads of BULK_BYTES each. One epoll loop per process.
#
# CPU: the kernel path has no process, and on veth a packet is processed in the context of whoever sent it
# (client, server, forwarder) or in ksoftirqd. So each measurement takes the CPU time (utime+stime from /proc,
# which includes softirq work done in a process's context; this kernel has no IRQ time accounting) of every process
# involved: client + server + forwarder process (if any) + ksoftirqd/N. The forwarding cost of a path is that total
# per connection (or per GB) minus the same total of the direct path in the same round. Everything runs at nice -20,
# unpinned (PIN=1: client and server on CPU 0, forwarder process on CPU 1). The rest of the machine's busy time
# (/proc/stat) during the measurements is printed as background load.
#
# Usage: service_forwarding_bench.sh PATH/TO/metalgate [ROUNDS=7]     (root; prints Markdown on stdout)
# Env: CONN_SECONDS=3 CONCURRENCY=32 BULK_BYTES=1073741824 STREAMS=1 SYSTEMS="direct metalgate haproxy ipvs nft"
#      KEEP=1 (keep the work directory: logs, raw results, strace and perf data)
#      PROFILE=1 (after the rounds, where the CPU goes: strace -c and perf of metalgate and HAProxy during a short
#      connection run and a download, and perf of the kernel path's netfilter work; PROFILE=0 skips it)
set -u
metalgate=$(readlink -f "$1"); rounds=${2:-7}
CONN_SECONDS=${CONN_SECONDS:-3} CONCURRENCY=${CONCURRENCY:-32} BULK_BYTES=${BULK_BYTES:-1073741824} STREAMS=${STREAMS:-1}
PROFILE=${PROFILE:-1} PIN=${PIN:-0}
read -ra systems <<<"${SYSTEMS:-direct metalgate haproxy ipvs nft}"
[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces" >&2; exit 2; }
for tool in ip nft cc python3; do command -v $tool >/dev/null || { echo "$tool is not installed" >&2; exit 2; }; done
has() { local s; for s in "${systems[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
has haproxy && ! command -v haproxy >/dev/null && { echo "haproxy is not installed (apt-get install haproxy)" >&2; exit 2; }
python=$(command -v python3)

id=$$
br=mgfb-$id client=mgfc-$id fwd=mgff-$id server=mgfs-$id
client_ip=10.99.0.100 fwd_ip=10.99.0.10 server_ip=10.99.0.50 vip=10.99.0.240 sport=8000
declare -A port=([direct]=$sport [metalgate]=5001 [haproxy]=5002 [ipvs]=5003 [nft]=5004)
tmp=$(mktemp -d)
pids=()
mg_pid="" hp_pid="" server_pid=""

cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 20); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  for ns in "$client" "$fwd" "$server" "$br"; do ip netns del "$ns" 2>/dev/null; done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the load tool
cat > "$tmp/svcload.c" <<'C'
// svcload: the load for service_forwarding_bench.sh, one epoll loop per process.
//   svcload serve ADDR PORT RESP_BYTES      answers each request line with RESP_BYTES and closes first (FIN);
//                                           "BULK N\n" gets N bytes instead
//   svcload conn ADDR PORT SECONDS CONC REQ_BYTES   keeps CONC connections in flight: connect, a request of
//                                           REQ_BYTES (ending in \n), read the answer to its end, close
//   svcload bulk ADDR PORT BYTES STREAMS    STREAMS downloads of BYTES each, read and dropped
// conn and bulk print one line: "done N errors E seconds S bytes B cpu_us C" (C: this process's user+system).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
static long cpu_us(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000000L + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}
static struct sockaddr_in addr_of(const char* ip, const char* port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(port))};
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", ip); exit(2); }
  return a;
}
static char data[1 << 20];

enum { kMaxFd = 1 << 16 };
static long bulk_left[kMaxFd];

static void serve(const char* ip, const char* port, long resp) {
  struct sockaddr_in a = addr_of(ip, port);
  int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (bind(l, (struct sockaddr*)&a, sizeof a) || listen(l, 4096)) { perror("bind/listen"); exit(1); }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = l}, evs[256];
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  char buf[4096];
  if (resp > (long)sizeof data) resp = sizeof data;
  memset(data, 'a', sizeof data);
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == l) {
        int c;
        while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (c >= kMaxFd) { close(c); continue; }
          bulk_left[c] = 0;
          struct epoll_event e = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
        }
        continue;
      }
      if (bulk_left[fd] > 0) {  // writable again
        while (bulk_left[fd] > 0) {
          long chunk = bulk_left[fd] < (long)sizeof data ? bulk_left[fd] : (long)sizeof data;
          ssize_t w = send(fd, data, chunk, MSG_NOSIGNAL);
          if (w < 0) {
            if (errno != EAGAIN) bulk_left[fd] = -1;
            break;
          }
          bulk_left[fd] -= w;
        }
        if (bulk_left[fd] <= 0) { bulk_left[fd] = 0; close(fd); }
        continue;
      }
      ssize_t r = read(fd, buf, sizeof buf - 1);
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0) { close(fd); continue; }
      buf[r] = 0;
      if (!memchr(buf, '\n', r)) continue;  // the rest of the request line still to come
      if (strncmp(buf, "BULK ", 5) == 0) {
        bulk_left[fd] = atol(buf + 5);
        struct epoll_event e = {.events = EPOLLOUT, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
        continue;
      }
      if (send(fd, data, resp, MSG_NOSIGNAL) < 0) {}
      close(fd);  // the server closes first
    }
  }
}

struct cstate { int fd, phase; long got; };

static void conn_load(const char* ip, const char* port, double seconds, int conc, int req_bytes) {
  struct sockaddr_in a = addr_of(ip, port);
  char req[4096];
  if (req_bytes < 1) req_bytes = 1;
  if (req_bytes > (int)sizeof req) req_bytes = sizeof req;
  memset(req, 'q', req_bytes);
  req[req_bytes - 1] = '\n';
  int ep = epoll_create1(0);
  struct cstate* st = calloc(conc, sizeof *st);
  long done = 0, errors = 0, bytes = 0;
  double t0 = now(), end = t0 + seconds;
  long c0 = cpu_us();
  int active = 0;
  for (int i = 0; i < conc; i++) st[i].fd = -1;
  for (int i = 0;;) {
    // (re)start connection i
    st[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    st[i].phase = 0; st[i].got = 0;
    if (connect(st[i].fd, (struct sockaddr*)&a, sizeof a) < 0 && errno != EINPROGRESS) {
      errors++; close(st[i].fd); st[i].fd = -1;
    } else {
      struct epoll_event e = {.events = EPOLLOUT, .data.u32 = i};
      epoll_ctl(ep, EPOLL_CTL_ADD, st[i].fd, &e);
      active++;
    }
    if (++i == conc) break;
  }
  struct epoll_event evs[256];
  char buf[65536];
  double stop_at = end + 2;  // connections in flight at the end get 2 s more
  while (active > 0 && now() < stop_at) {
    int n = epoll_wait(ep, evs, 256, 100);
    for (int k = 0; k < n; k++) {
      int i = evs[k].data.u32;
      struct cstate* s = &st[i];
      int finished = 0, failed = 0;
      if (s->phase == 0) {
        if (evs[k].events & (EPOLLERR | EPOLLHUP)) failed = 1;
        else if (write(s->fd, req, req_bytes) != req_bytes) failed = 1;
        else {
          s->phase = 1;
          struct epoll_event e = {.events = EPOLLIN, .data.u32 = i};
          epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &e);
        }
      } else {
        for (;;) {
          ssize_t r = read(s->fd, buf, sizeof buf);
          if (r > 0) { s->got += r; continue; }
          if (r == 0) finished = 1;
          else if (errno != EAGAIN) failed = 1;
          break;
        }
      }
      if (!finished && !failed) continue;
      close(s->fd); s->fd = -1; active--;
      if (finished && s->got > 0) { done++; bytes += s->got; } else errors++;
      if (now() >= end) continue;
      s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      s->phase = 0; s->got = 0;
      if (connect(s->fd, (struct sockaddr*)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        errors++; close(s->fd); s->fd = -1; continue;
      }
      struct epoll_event e = {.events = EPOLLOUT, .data.u32 = i};
      epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e);
      active++;
    }
  }
  errors += active;  // never finished
  printf("done %ld errors %ld seconds %.3f bytes %ld cpu_us %ld\n", done, errors, now() - t0, bytes, cpu_us() - c0);
}

static void bulk_load(const char* ip, const char* port, long bytes, int streams) {
  struct sockaddr_in a = addr_of(ip, port);
  int ep = epoll_create1(0);
  long got = 0, done = 0, errors = 0;
  double t0 = now();
  long c0 = cpu_us();
  for (int i = 0; i < streams; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr*)&a, sizeof a) < 0) { perror("connect"); exit(1); }
    char req[64];
    int len = snprintf(req, sizeof req, "BULK %ld\n", bytes);
    if (write(fd, req, len) != len) { perror("write"); exit(1); }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
  }
  static char buf[1 << 18];
  int open = streams;
  while (open > 0) {
    struct epoll_event evs[64];
    int n = epoll_wait(ep, evs, 64, 10000);
    if (n == 0) { fprintf(stderr, "bulk: 10 s without data\n"); errors += open; break; }
    for (int k = 0; k < n; k++) {
      int fd = evs[k].data.fd;
      for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) { got += r; continue; }
        if (r == 0 || errno != EAGAIN) { close(fd); open--; if (r == 0) done++; else errors++; }
        break;
      }
    }
  }
  if (got != bytes * streams) errors++;
  printf("done %ld errors %ld seconds %.3f bytes %ld cpu_us %ld\n", done, errors, now() - t0, got, cpu_us() - c0);
}

int main(int argc, char** argv) {
  if (argc >= 5 && !strcmp(argv[1], "serve")) serve(argv[2], argv[3], atol(argv[4]));
  else if (argc >= 7 && !strcmp(argv[1], "conn")) conn_load(argv[2], argv[3], atof(argv[4]), atoi(argv[5]), atoi(argv[6]));
  else if (argc >= 6 && !strcmp(argv[1], "bulk")) bulk_load(argv[2], argv[3], atol(argv[4]), atoi(argv[5]));
  else { fprintf(stderr, "usage: svcload serve|conn|bulk ...\n"); return 2; }
  return 0;
}
C
cc -O2 -Wall -Wextra -o "$tmp/svcload" "$tmp/svcload.c" || { echo "could not build svcload" >&2; exit 2; }
load=$tmp/svcload

# ---- the LAN: bridge, client, forwarder, server
ip netns add "$br"
ip -n "$br" link add br0 type bridge
ip -n "$br" link set br0 up
attach() {  # NS PORT ADDR
  ip netns add "$1"
  ip -n "$br" link add "$2" type veth peer name eth0 netns "$1"
  ip -n "$br" link set "$2" master br0 up
  ip -n "$1" link set lo up
  ip -n "$1" addr add "$3/24" dev eth0
  ip -n "$1" link set eth0 up
  ip netns exec "$1" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
}
attach "$client" "mgfpc-$id" "$client_ip"
attach "$fwd" "mgfpf-$id" "$fwd_ip"
attach "$server" "mgfps-$id" "$server_ip"
ip netns exec "$fwd" sysctl -qw net.ipv4.ip_forward=1
# conntrack (nft and ipvs paths only) keeps each closed connection 120 s by default; at these rates that would fill
# the table over a run, so closed entries go after 10 s in the forwarder's namespace (per-connection work unchanged).
ip netns exec "$fwd" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=10 2>/dev/null

cpu_client=() cpu_fwd=()
if [ "$PIN" = 1 ]; then cpu_client=(taskset -c 0) cpu_fwd=(taskset -c 1); fi
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }  # not for background processes: $! would be a subshell

ip netns exec "$server" "${cpu_client[@]}" nice -n -20 "$load" serve "$server_ip" "$sport" 100 >"$tmp/server.log" 2>&1 &
server_pid=$!; pids+=("$server_pid")

# ---- metalgate: the Service, its Endpoints and the pool the speaker announces the VIP from
mkdir "$tmp/manifests"
cat > "$tmp/manifests/bench.yaml" <<YAML
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lan, namespace: metallb-system}
spec: {addresses: [$vip/32]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lan, namespace: metallb-system}
spec: {ipAddressPools: [lan]}
---
apiVersion: v1
kind: Service
metadata: {name: bench, namespace: default, annotations: {metallb.universe.tf/loadBalancerIPs: $vip}}
spec: {type: LoadBalancer, selector: {app: bench}, ports: [{name: t, port: ${port[metalgate]}, targetPort: $sport}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: bench, namespace: default}
subsets: [{addresses: [{ip: $server_ip}], ports: [{name: t, port: $sport}]}]
YAML
if has metalgate; then
  ip netns exec "$fwd" "${cpu_fwd[@]}" nice -n -20 "$metalgate" serve --manifests "$tmp/manifests" --node node-0 \
    --interface eth0 --bind "$fwd_ip:7946" --access-log off >"$tmp/metalgate.log" 2>&1 &
  mg_pid=$!; pids+=("$mg_pid")
  for _ in $(seq 100); do ip -n "$fwd" -br addr show dev lo | grep -q "$vip" && break; sleep 0.1; done
  ip -n "$fwd" -br addr show dev lo | grep -q "$vip" ||
    { echo "metalgate never added $vip:"; tail -n 20 "$tmp/metalgate.log"; exit 1; } >&2
else
  ip -n "$fwd" addr add "$vip/32" dev lo  # where the speaker would put it
fi

if has haproxy; then
  cat > "$tmp/haproxy.cfg" <<CFG
global
  nbthread 1
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 50s
  timeout server 50s
  option splice-auto
frontend svc
  bind $vip:${port[haproxy]}
  default_backend pods
backend pods
  server s1 $server_ip:$sport
CFG
  ip netns exec "$fwd" "${cpu_fwd[@]}" nice -n -20 haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
  hp_pid=$!; pids+=("$hp_pid")
  sleep 0.5
  kill -0 "$hp_pid" 2>/dev/null || { echo "haproxy did not start:"; tail -n 5 "$tmp/haproxy.log"; exit 1; } >&2
fi

# ---- the kernel paths: rules exist only while measured
ipvs_error=""
if has ipvs; then
  if ! ipvs_error=$(in_ns "$fwd" ipvsadm -A -t "$vip:${port[ipvs]}" -s rr 2>&1); then
    echo "IPVS is not available here, its path is not measured:" >&2
    echo "\$ ip netns exec $fwd ipvsadm -A -t $vip:${port[ipvs]} -s rr" >&2
    echo "$ipvs_error" | sed 's/^/  /' >&2
    [ -n "$ipvs_error" ] || ipvs_error="(ipvsadm failed without output)"
    read -ra systems <<<"$(printf '%s ' "${systems[@]}" | sed 's/\bipvs\b//')"
  else
    in_ns "$fwd" ipvsadm -D -t "$vip:${port[ipvs]}"
    ipvs_error=""
  fi
fi
kernel_rules() {  # on|off SYSTEM
  case "$2" in
    nft)
      if [ "$1" = on ]; then
        in_ns "$fwd" nft -f - <<NFT
table ip mgbench {
  chain pre { type nat hook prerouting priority dstnat; ip daddr $vip tcp dport ${port[nft]} dnat to $server_ip:$sport; }
  chain post { type nat hook postrouting priority srcnat; ct status dnat ip daddr $server_ip masquerade; }
}
NFT
      else in_ns "$fwd" nft delete table ip mgbench; fi ;;
    ipvs)  # kube-proxy's ipvs mode: the virtual server in NAT mode, conntrack on, masquerade of marked packets
      if [ "$1" = on ]; then
        in_ns "$fwd" sysctl -qw net.ipv4.vs.conntrack=1
        in_ns "$fwd" ipvsadm -A -t "$vip:${port[ipvs]}" -s rr
        in_ns "$fwd" ipvsadm -a -t "$vip:${port[ipvs]}" -r "$server_ip:$sport" -m
        in_ns "$fwd" nft -f - <<NFT
table ip mgbench {
  chain pre { type filter hook prerouting priority mangle; ip daddr $vip tcp dport ${port[ipvs]} meta mark set 0x4000; }
  chain post { type nat hook postrouting priority srcnat; meta mark 0x4000 masquerade; }
}
NFT
      else
        in_ns "$fwd" ipvsadm -D -t "$vip:${port[ipvs]}"
        in_ns "$fwd" nft delete table ip mgbench
      fi ;;
  esac
}

# ---- CPU time of the processes involved
ksoftirqd=()
for d in /proc/[0-9]*; do case "$(cat "$d/comm" 2>/dev/null)" in ksoftirqd/*) ksoftirqd+=("${d#/proc/}") ;; esac; done
ticks() {  # utime+stime (clock ticks) summed over the PIDs given
  local t=0 p
  for p in "$@"; do
    [ -n "$p" ] && [ -r "/proc/$p/stat" ] || continue
    t=$((t + $(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$p/stat")))
  done
  echo "$t"
}
busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }  # user nice system irq softirq
hz=$(getconf CLK_TCK)
fwd_pid_of() { case "$1" in metalgate) echo "$mg_pid" ;; haproxy) echo "$hp_pid" ;; *) echo "" ;; esac; }
target_of() { if [ "$1" = direct ]; then echo "$server_ip $sport"; else echo "$vip ${port[$1]}"; fi; }

ready() {  # SYSTEM: one connection through it succeeds
  local t; t=$(target_of "$1")
  for _ in $(seq 50); do
    in_ns "$client" "$load" conn $t 0.05 1 64 2>/dev/null | grep -q "^done [1-9]" && return 0
    sleep 0.1
  done
  return 1
}

# measure ROUND SYSTEM KIND: one run, one line into $tmp/results
measure() {
  local sys=$2 kind=$3 fpid; fpid=$(fwd_pid_of "$sys")
  local t; t=$(target_of "$sys")
  [ "$sys" = nft ] || [ "$sys" = ipvs ] && kernel_rules on "$sys"
  if ! ready "$sys"; then
    echo "$sys: no connection gets through" >&2
    [ -f "$tmp/$sys.log" ] && tail -n 5 "$tmp/$sys.log" >&2
    [ "$sys" = nft ] || [ "$sys" = ipvs ] && kernel_rules off "$sys"
    return 1
  fi
  local s0 f0 k0 b0 out
  s0=$(ticks "$server_pid"); f0=$(ticks "$fpid"); k0=$(ticks "${ksoftirqd[@]}"); b0=$(busy)
  if [ "$kind" = conn ]; then
    out=$(in_ns "$client" "${cpu_client[@]}" nice -n -20 "$load" conn $t "$CONN_SECONDS" "$CONCURRENCY" 64)
  else
    out=$(in_ns "$client" "${cpu_client[@]}" nice -n -20 "$load" bulk $t "$BULK_BYTES" "$STREAMS")
  fi
  local s1 f1 k1 b1
  s1=$(ticks "$server_pid"); f1=$(ticks "$fpid"); k1=$(ticks "${ksoftirqd[@]}"); b1=$(busy)
  [ "$sys" = nft ] || [ "$sys" = ipvs ] && kernel_rules off "$sys"
  # round system kind done errors seconds bytes client_us server_us fwd_us ksoftirqd_us machine_busy_us
  echo "$1 $sys $kind $(echo "$out" | awk '{print $2, $4, $6, $8, $10}') $(( (s1 - s0) * 1000000 / hz )) \
$(( (f1 - f0) * 1000000 / hz )) $(( (k1 - k0) * 1000000 / hz )) $(( (b1 - b0) * 1000000 / hz ))" >> "$tmp/results"
  echo "round $1 $sys $kind: $out" >&2
}

start=$SECONDS
for ((r = 1; r <= rounds; r++)); do
  # the order rotates from round to round
  n=${#systems[@]} order=()
  for ((i = 0; i < n; i++)); do order+=("${systems[$(((i + r - 1) % n))]}"); done
  for kind in conn bulk; do
    for sys in "${order[@]}"; do measure "$r" "$sys" "$kind"; done
  done
done
elapsed=$((SECONDS - start))

# ---- the table
echo "Service forwarding: $rounds rounds in ${elapsed} s; connections: $CONCURRENCY in flight for $CONN_SECONDS s," \
  "64 B request, 100 B answer, server closes first; bulk: $STREAMS download(s) of $BULK_BYTES B."
echo "Kernel $(uname -r), $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo));" \
  "$(haproxy -v 2>/dev/null | head -n 1 | awk '{print "HAProxy", $3}'); metalgate $metalgate"
[ -n "$ipvs_error" ] && echo "IPVS not measured: \`ipvsadm -A\` in the forwarder's namespace said: $(echo "$ipvs_error" | paste -sd ' ')"
echo
"$python" - "$tmp/results" <<'PY'
import collections, statistics, sys

rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
R = collections.defaultdict(dict)  # (system, kind) -> round -> record
for r in rows:
    rnd, sys_, kind = r[0], r[1], r[2]
    done, errors, secs, nbytes, c_us, s_us, f_us, k_us, m_us = map(float, r[3:])
    R[(sys_, kind)][rnd] = dict(done=done, errors=errors, secs=secs, bytes=nbytes, client=c_us, server=s_us,
                                fwd=f_us, ksoft=k_us, machine=m_us, all=c_us + s_us + f_us + k_us)
systems = []
for r in rows:
    if r[1] not in systems:
        systems.append(r[1])
med = lambda xs: statistics.median(xs) if xs else float("nan")

def per_unit(sys_, kind, rnd, field="all"):
    rec = R[(sys_, kind)].get(rnd)
    if not rec or rec["done"] == 0:
        return None
    unit = rec["done"] if kind == "conn" else rec["bytes"] / 1e9
    return rec[field] / unit  # µs per connection, or µs per GB

def forwarding(sys_, kind):
    """Median over rounds of (all CPU per unit through SYS) - (all CPU per unit direct) in the same round."""
    out = []
    for rnd in R[(sys_, kind)]:
        a, d = per_unit(sys_, kind, rnd), per_unit("direct", kind, rnd)
        if a is not None and d is not None:
            out.append(a - d)
    return med(out)

name = {"direct": "direct (no forwarder)", "metalgate": "**metalgate**", "haproxy": "HAProxy 2.6 mode tcp",
        "ipvs": "IPVS NAT", "nft": "nftables DNAT"}
print("| path | new conn/s | CPU µs per conn, all processes | forwarding µs per conn | new conn per forwarding CPU-s "
      "| forwarder process µs per conn | bulk Gbit/s | CPU-s per GB, all | forwarding CPU-s per GB | errors |")
print("|---|---|---|---|---|---|---|---|---|---|")
summary = {}
for s in systems:
    c, b = R[(s, "conn")], R[(s, "bulk")]
    rate = med([x["done"] / x["secs"] for x in c.values()])
    allc = med([per_unit(s, "conn", k) for k in c if per_unit(s, "conn", k) is not None])
    fc = forwarding(s, "conn") if s != "direct" else 0.0
    own = med([x["fwd"] / x["done"] for x in c.values() if x["done"]]) if s in ("metalgate", "haproxy") else None
    gbps = med([x["bytes"] * 8 / x["secs"] / 1e9 for x in b.values()])
    allb = med([per_unit(s, "bulk", k) for k in b if per_unit(s, "bulk", k) is not None]) / 1e6
    fb = forwarding(s, "bulk") / 1e6 if s != "direct" else 0.0
    errors = int(sum(x["errors"] for x in c.values()) + sum(x["errors"] for x in b.values()))
    summary[s] = dict(rate=rate, fc=fc, gbps=gbps, fb=fb)
    per_cpu = f"{1e6 / fc:,.0f}" if s != "direct" and fc > 0 else "–"
    print(f"| {name.get(s, s)} | {rate:,.0f} | {allc:.1f} | {fc:.1f} | {per_cpu} | "
          f"{'–' if own is None else f'{own:.1f}'} | {gbps:.2f} | {allb:.3f} | {fb:.3f} | {errors} |")

kernel = next((k for k in ("ipvs", "nft") if k in summary), None)

def per_round(sys_, kind):
    out = {}
    for rnd in R[(sys_, kind)]:
        a, d = per_unit(sys_, kind, rnd), per_unit("direct", kind, rnd)
        if a is not None and d is not None:
            out[rnd] = a - d
    return out

def spread(xs):
    return f"{min(xs):.2f}–{max(xs):.2f}" if xs else "–"

if kernel and "metalgate" in summary:
    m, k = summary["metalgate"], summary[kernel]
    kn = name[kernel]
    print()
    print(f"| metalgate / {kn} | ratio (median) | per round | target |")
    print("|---|---|---|---|")
    fm, fk = per_round("metalgate", "conn"), per_round(kernel, "conn")
    rounds_c = [fk[r] / fm[r] for r in fm if r in fk and fm[r] > 0]
    rc = k["fc"] / m["fc"] if m["fc"] > 0 else float("nan")
    print(f"| new connections per forwarding CPU-second | **{rc:.2f}×** | {spread(rounds_c)} | ≥ 0.5×: "
          f"{'met' if rc >= 0.5 else '**not met**'} |")
    rates = {s_: {r: x["done"] / x["secs"] for r, x in R[(s_, "conn")].items()} for s_ in ("metalgate", kernel)}
    print(f"| new connections per second (rate) | {m['rate'] / k['rate']:.2f}× | "
          f"{spread([rates['metalgate'][r] / rates[kernel][r] for r in rates['metalgate'] if r in rates[kernel]])} | – |")
    g = {s_: {r: x["bytes"] * 8 / x["secs"] / 1e9 for r, x in R[(s_, "bulk")].items()} for s_ in ("metalgate", kernel)}
    rb = m["gbps"] / k["gbps"]
    print(f"| bulk throughput | **{rb:.2f}×** | {spread([g['metalgate'][r] / g[kernel][r] for r in g['metalgate'] if r in g[kernel]])} "
          f"| ≥ 0.8×: {'met' if rb >= 0.8 else '**not met**'} |")
    if k["fb"] > 0.02 and m["fb"] > 0:
        print(f"| bulk: forwarding CPU per GB, {kn}'s / metalgate's | {k['fb'] / m['fb']:.2f}× | | – |")
    else:
        print(f"| bulk: forwarding CPU per GB | metalgate {m['fb']:.3f} CPU-s/GB, {kn} {k['fb']:.3f} "
              f"(within the noise of zero) | | – |")
    if "haproxy" in summary and summary["haproxy"]["fc"] > 0:
        h = summary["haproxy"]
        print(f"| HAProxy / {kn} (reference) | per forwarding CPU-s {k['fc'] / h['fc']:.2f}×, "
              f"bulk {h['gbps'] / k['gbps']:.2f}× | | |")

# Background: the machine's busy time outside the processes measured, over all measurements.
bg = [x["machine"] - x["all"] for v in R.values() for x in v.values()]
secs = sum(x["secs"] for v in R.values() for x in v.values())
print()
print(f"Background load outside the measured processes during the measurements: {sum(bg) / secs / 1e6:.2f} CPU "
      f"(whole-machine busy time from /proc/stat minus the processes counted).")
print()
print("Per round (path kind: done, seconds, CPU µs client/server/forwarder/ksoftirqd):")
print()
print("```")
for (s, kind), v in R.items():
    for rnd, x in sorted(v.items()):
        print(f"{rnd} {s:9} {kind}: {x['done']:.0f} in {x['secs']:.2f} s, "
              f"{x['client']:.0f}/{x['server']:.0f}/{x['fwd']:.0f}/{x['ksoft']:.0f}, errors {x['errors']:.0f}")
print("```")
PY

# ---- where the user-space paths' CPU goes: syscalls per connection (strace -c), and a perf profile
if [ "$PROFILE" = 1 ]; then
  for sys in metalgate haproxy; do
    has "$sys" || continue
    fpid=$(fwd_pid_of "$sys"); t=$(target_of "$sys")
    if command -v strace >/dev/null; then
      strace -c -f -p "$fpid" -o "$tmp/strace.$sys" & st=$!
      sleep 0.5
      out=$(in_ns "$client" "$load" conn $t 3 "$CONCURRENCY" 64)
      kill -INT "$st"; wait "$st" 2>/dev/null
      done_n=$(echo "$out" | awk '{print $2}')
      echo
      echo "$sys under strace -c -f (3 s, $done_n connections; the tracer slows it, the counts per connection hold):"
      echo
      echo '```'
      echo "syscall               calls per connection"
      awk -v n="$done_n" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {name = $NF; calls = $4;
          printf "%-20s %8.2f\n", name, calls / n; total += calls}
        END {printf "%-20s %8.2f\n", "total", total / n}' "$tmp/strace.$sys" | sort -k2 -nr | head -n 16
      echo '```'
      strace -c -f -p "$fpid" -o "$tmp/strace-bulk.$sys" & st=$!
      sleep 0.5
      out=$(in_ns "$client" "$load" bulk $t 1073741824 1)
      kill -INT "$st"; wait "$st" 2>/dev/null
      echo
      echo "$sys under strace -c -f during a 1 GiB download ($(echo "$out" | awk '{printf "%.1f s", $6}') under the tracer):"
      echo
      echo '```'
      echo "syscall               calls per MiB"
      awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {printf "%-20s %8.2f\n", $NF, $4 / 1024; total += $4}
        END {printf "%-20s %8.2f\n", "total", total / 1024}' "$tmp/strace-bulk.$sys" | sort -k2 -nr | head -n 10
      echo '```'
    fi
    if command -v perf >/dev/null; then
      ip netns exec "$client" "$load" conn $t 4 "$CONCURRENCY" 64 >"$tmp/perf.load" &
      lp=$!
      sleep 0.5
      perf record -q -F 1999 -g -p "$fpid" -o "$tmp/perf.$sys" -- sleep 3 >/dev/null 2>&1
      wait "$lp"
      echo
      echo "$sys's own CPU under the connection load (perf record -g -p, 3 s): where it runs, and the share inside"
      echo "each syscall (inclusive; on veth a send also runs the receiving side's softirq work in the sender's context):"
      echo
      echo '```'
      perf report -i "$tmp/perf.$sys" --no-children --sort dso --stdio -g none 2>/dev/null |
        awk '/%/ && !/^#/ && $1 + 0 >= 0.5 {printf "%-28s %s\n", $2, $1}'
      echo "--- by syscall, inclusive"
      perf report -i "$tmp/perf.$sys" --children --sort sym --stdio -g none 2>/dev/null |
        awk '/\[k\] __x64_sys_/ && $1 + 0 >= 0.5 {sub(/__x64_sys_/, "", $4); printf "%-28s %s\n", $4, $1}' | head -n 14
      echo '```'
      ip netns exec "$client" "$load" bulk $t 4294967296 1 >"$tmp/perf.load" &
      lp=$!
      sleep 0.3
      perf record -q -F 1999 -g -p "$fpid" -o "$tmp/perf-bulk.$sys" -- sleep 2 >/dev/null 2>&1
      wait "$lp"
      echo
      echo "$sys's own CPU during a download (perf record -g -p, 2 s):"
      echo
      echo '```'
      perf report -i "$tmp/perf-bulk.$sys" --no-children --sort dso --stdio -g none 2>/dev/null |
        awk '/%/ && !/^#/ && $1 + 0 >= 0.5 {printf "%-28s %s\n", $2, $1}'
      echo "--- by syscall, inclusive"
      perf report -i "$tmp/perf-bulk.$sys" --children --sort sym --stdio -g none 2>/dev/null |
        awk '/\[k\] __x64_sys_/ && $1 + 0 >= 0.5 {sub(/__x64_sys_/, "", $4); printf "%-28s %s\n", $4, $1}' | head -n 8
      echo "--- kernel functions, self"
      perf report -i "$tmp/perf-bulk.$sys" --no-children --sort sym --stdio -g none 2>/dev/null |
        awk '/\[k\] / && $1 + 0 >= 2 {printf "%-28s %s\n", $3, $1}' | head -n 10
      echo '```'
    fi
  done
  kernel=""; for k in ipvs nft; do has "$k" && { kernel=$k; break; }; done
  if [ -n "$kernel" ] && command -v perf >/dev/null; then
    t=$(target_of "$kernel")
    kernel_rules on "$kernel"
    ip netns exec "$client" "$load" conn $t 4 "$CONCURRENCY" 64 >"$tmp/perf.load" &
    lp=$!
    sleep 0.5
    perf record -q -F 1999 -g -a -o "$tmp/perf.$kernel" -- sleep 3 >/dev/null 2>&1
    wait "$lp"
    kernel_rules off "$kernel"
    echo
    echo "The $kernel path under the connection load (perf record -g -a, 3 s, samples of the client, the server and"
    echo "ksoftirqd only): the share of their CPU inside netfilter hooks (conntrack, NAT), forwarding and the bridge"
    echo "(inclusive: br_handle_frame holds what the receiving namespace does with a frame; on veth the forwarder's"
    echo "packets are processed in the sender's context):"
    echo
    echo '```'
    perf report -i "$tmp/perf.$kernel" --children --sort sym --stdio -g none --comms svcload,ksoftirqd/0,ksoftirqd/1 \
      2>/dev/null | awk '/\[k\] / && $1 + 0 >= 0.3 {print $4, $1}' |
      grep -E '^(nf_hook_slow|nf_conntrack_in|nf_nat_inet_fn|nft_do_chain|ip_vs_in_hook|ip_vs_out_hook|ip_forward|br_handle_frame) ' |
      awk '{printf "%-28s %s\n", $1, $2}' | head -n 24
    echo '```'
  fi
fi
