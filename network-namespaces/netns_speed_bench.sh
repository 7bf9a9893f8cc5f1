#!/usr/bin/env bash
# Building and tearing down a LAN of HOSTS hosts on one switch: metalgate's netns LAN (twin/lan, rtnetlink
# through libnl, netns_lan_bench) against Mininet 2.3 (Debian's `mininet`, its Linux-bridge switch, no
# controller), side by side in one run, the two alternating REPETITIONS times. For reports/netns-speed.md.
#
#   network-namespaces/netns_speed_bench.sh build/ci/twin/lan/netns_lan_bench [HOSTS] [REPETITIONS]
#
# Root only (exit 77 otherwise). Mininet puts its switch, a Linux bridge, and the switch's ends of the veths
# in the root namespace: that is its design. Here they carry names unique to this run ("mg<pid>",
# "mg<pid>-eth<n>"); the script checks that no such interface exists before, and that the root namespace has
# exactly the interfaces it had before once Mininet is stopped. Mininet also runs `ifconfig lo up` there (a
# no-op while lo is up, checked) and reads net.bridge.bridge-nf-call-*tables. It is stopped through its own
# Python API (net.stop()), never with `mn -c` (which kills processes by name). Mininet.init() is skipped
# (Mininet.inited = True): its fixLimits() would rewrite root-namespace sysctls (net.ipv4.tcp_rmem/wmem,
# neighbour table sizes, fs.file-max).
set -euo pipefail

bench=${1:?usage: netns_speed_bench.sh NETNS_LAN_BENCH [HOSTS] [REPETITIONS]}
hosts=${2:-64}
reps=${3:-5}
python=/usr/bin/python3  # Debian's, which has the mininet module

if [ "$(id -u)" -ne 0 ]; then echo "netns_speed_bench: needs root" >&2; exit 77; fi
# Mininet (with Open vSwitch, which it depends on) only for this comparison: not in install-deps.sh.
source "$(dirname "$0")/../tests/lib/harness.sh"
harness_need_packages mininet bridge-utils
for tool in mnexec brctl ifconfig; do
  command -v "$tool" >/dev/null || { echo "netns_speed_bench: $tool missing (harness_need_packages above)" >&2; exit 77; }
done
"$python" -c 'import mininet.net' || { echo "netns_speed_bench: no mininet module for $python" >&2; exit 77; }

# The one command Mininet runs on a root-namespace device it did not create: `ifconfig lo up` (its switch's
# control interface). It changes nothing while lo is up, so Mininet runs only when lo is up.
if ((($(cat /sys/class/net/lo/flags) & 1) == 0)); then
  echo "netns_speed_bench: the root namespace's lo is down; Mininet would bring it up: not running it" >&2
  exit 77
fi

switch="mg$$"
root_links() { ls /sys/class/net | sort; }
before=$(root_links)
if grep -q "^$switch" <<<"$before"; then echo "netns_speed_bench: $switch* exists already" >&2; exit 1; fi

mininet_once() {
  "$python" - "$hosts" "$switch" <<'PY'
import sys, time
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import Topo

class Star(Topo):
    "SingleSwitchTopo(n) with a switch name of this run's own."
    def build(self, n, switch):
        s = self.addSwitch(switch)
        for i in range(1, n + 1):
            self.addLink(self.addHost('h%d' % i), s)

n, switch = int(sys.argv[1]), sys.argv[2]
setLogLevel('error')  # not its warnings on bridge-nf-call-*tables, which it only reads
Mininet.inited = True  # no fixLimits(): it rewrites root-namespace sysctls
start = time.monotonic()
net = Mininet(topo=Star(n=n, switch=switch), switch=LinuxBridge, controller=None)
try:
    net.start()
    built = time.monotonic()
finally:
    stop = time.monotonic()
    net.stop()
    done = time.monotonic()
build_ms, teardown_ms = (built - start) * 1000, (done - stop) * 1000
print('mininet run: %d hosts, build %.1f ms, teardown %.1f ms, %.2f ms per host'
      % (n, build_ms, teardown_ms, (build_ms + teardown_ms) / n))
PY
}

echo "netns_speed_bench: $hosts hosts, $reps repetitions each, alternating; $(nproc) CPUs, kernel $(uname -r)"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((r = 1; r <= reps; r++)); do
  "$bench" "$hosts" 1 | grep 'run 1:' | sed "s/run 1:/run $r:/" | tee -a "$results"
  mininet_once | sed "s/run:/run $r:/" | tee -a "$results"
  after=$(root_links)
  if [ "$after" != "$before" ]; then
    echo "netns_speed_bench: the root namespace's interfaces changed:" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    exit 1
  fi
done

# Medians of the per-host figures and their ratio.
awk '
  /^netns_lan run/ { a[++na] = $(NF - 3) }
  /^mininet run/ { m[++nm] = $(NF - 3) }
  function median(v, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  END {
    ma = median(a, na); mm = median(m, nm)
    printf "median per host (build + teardown): netns_lan %.2f ms, mininet %.2f ms;", ma, mm
    printf " mininet / netns_lan = %.1f\n", mm / ma
  }' "$results"
