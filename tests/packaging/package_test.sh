#!/usr/bin/env bash
# The Debian packages and the systemd unit, as an operator gets them: CPack builds both packages from this build
# tree; the daemon's dependencies name no ns-3 library (the simulator's do); lintian has nothing to say about
# either; systemd-analyze verify accepts the unit; the daemon package installs into a throwaway root with
# `dpkg --root` (its /etc files registered as conffiles) and the installed binary runs; and that binary speaks
# systemd's readiness protocol: READY=1 only once its listener accepts, RELOADING=1 then READY=1 on SIGHUP
# (with the refusal in STATUS when the manifests have an error), STOPPING=1 on SIGTERM (a Unix datagram socket stands for systemd's NOTIFY_SOCKET).
# Usage: package_test.sh BUILD_DIR
set -euo pipefail
build=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/harness.sh"
harness_start metalgate-package
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in cpack dpkg dpkg-deb lintian systemd-analyze python3 curl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
version=$(sed -n 's/^CPACK_PACKAGE_VERSION "\(.*\)"$/\1/p;s/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' \
  "$build/CPackConfig.cmake" | head -n 1)
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake"

# 1. Both packages, and who depends on what.
(cd "$build" && cpack -G DEB -B "$work/pk" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack"; }
daemon="$work/pk/metalgate_${version}_amd64.deb" sim="$work/pk/metalgate-sim_${version}_amd64.deb"
[ -f "$daemon" ] || { ls "$work/pk"; fail "no daemon package $daemon"; }
depends=$(dpkg-deb -f "$daemon" Depends)
[[ $depends == *libssl3* && $depends != *ns3* ]] || fail "the daemon's Depends: $depends"
if [ -f "$sim" ]; then
  [[ $(dpkg-deb -f "$sim" Depends) == *libns3* ]] || fail "metalgate-sim does not depend on ns-3"
fi
twin="$work/pk/metalgate-twin_${version}_amd64.deb"
if [ -f "$twin" ]; then
  twin_depends=$(dpkg-deb -f "$twin" Depends)
  [[ $twin_depends == *libnl-route* && $twin_depends != *ns3* ]] || fail "metalgate-twin's Depends: $twin_depends"
  dpkg-deb -c "$twin" | grep '/usr/bin/metalgate-netns$' >/dev/null || fail "metalgate-twin has no metalgate-netns"
fi
echo "packages: $(cd "$work/pk" && ls ./*.deb | tr '\n' ' '); the daemon needs no ns-3"

# 2. lintian: not a word (it prints one line about running as root, which is no finding).
lintian --tag-display-limit 0 "$work"/pk/*.deb 2>&1 | grep -v 'running with root privileges' >"$work/lintian.txt" || true
[ ! -s "$work/lintian.txt" ] || { cat "$work/lintian.txt"; fail "lintian has findings"; }
echo "lintian: clean"

# 3. The unit, with ExecStart pointing at this tree's binary (verify checks that the command exists); any
# message (an unknown key is only a warning to systemd) fails.
mkdir "$work/unit"
sed "s|/usr/bin/metalgate|$build/engine/metalgate|" "$here/../../packaging/metalgate.service" \
  >"$work/unit/metalgate.service"
systemd-analyze verify "$work/unit/metalgate.service" >"$work/verify.txt" 2>&1 || { cat "$work/verify.txt"; fail "systemd-analyze verify"; }
[ ! -s "$work/verify.txt" ] || { cat "$work/verify.txt"; fail "systemd-analyze verify has findings"; }
echo "systemd-analyze verify: clean"

# 4. Installed into a throwaway root (dependencies are the host's: --force-depends), then run from there.
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends -i "$daemon" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg --root -i"; }
got=$("$root/usr/bin/metalgate" --version)
[ "$got" = "metalgate $version" ] || fail "installed metalgate --version: '$got'"
conffiles=$(dpkg --root="$root" -s metalgate | sed -n '/^Conffiles:/,/^[A-Z]/p')
[[ $conffiles == *" /etc/default/metalgate "* ]] || fail "/etc/default/metalgate is no conffile: $conffiles"
for f in lib/systemd/system/metalgate.service usr/share/man/man1/metalgate.1.gz etc/metalgate/manifests/README; do
  [ -e "$root/$f" ] || [ -e "$root/usr/$f" ] || fail "the package has no $f"
done
echo "installed into a throwaway root: $got, conffiles registered"

# 5. sd_notify, from the installed binary.
port=$(harness_free_port)
cat >"$work/manifests.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets: [{addresses: [{ip: 127.0.0.11}], ports: [{port: 9}]}]
YAML
/usr/bin/python3 - "$work/notify" "$work/notified" <<'PY' & pids+=($!)
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
PY
for _ in $(seq 50); do [ -S "$work/notify" ] && break; sleep 0.1; done
NOTIFY_SOCKET="$work/notify" "$root/usr/bin/metalgate" serve --no-speaker --manifests "$work/manifests.yaml" \
  --listen 127.0.0.1 --http-port "$port" --https-port "$(harness_free_port)" >"$work/serve.log" 2>&1 & pids+=($!)
mg=$!
await() {  # LINE_NUMBER PATTERN
  for _ in $(seq 100); do
    [ "$(sed -n "${1}p" "$work/notified" 2>/dev/null)" != "" ] && break
    sleep 0.05
  done
  [[ $(sed -n "${1}p" "$work/notified") == $2 ]] || { cat "$work/notified" "$work/serve.log"; fail "notification $1 is not '$2'"; }
}
await 1 "READY=1 STATUS=serving 0 LoadBalancer Services, 0 backends"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: x' "http://127.0.0.1:$port/") || true
[ "$code" = 404 ] || fail "after READY=1 the frontend answered '$code', not 404"
kill -HUP "$mg"
await 2 "RELOADING=1"
await 3 "READY=1 STATUS=serving 0 LoadBalancer Services, 0 backends (reloaded)"
echo "kind: Service
metadata: {name: broken" >>"$work/manifests.yaml"   # a reload with an error is refused; serving goes on
kill -HUP "$mg"
await 4 "RELOADING=1"
await 5 "READY=1 STATUS=reload refused: * serving the configuration loaded before"
kill -TERM "$mg"
await 6 "STOPPING=1"
wait "$mg" || fail "serve exited $? after SIGTERM"
echo "sd_notify: $(tr '\n' '|' <"$work/notified")"
echo "PASS: Debian packages, unit, throwaway-root install and readiness protocol"
