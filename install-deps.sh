#!/usr/bin/env bash
# Installs the Debian 12 packages metalgate builds, tests and runs with. Idempotent: it only calls apt-get when
# something is missing, so a second run costs a dpkg query and nothing else.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost-dev libssl-dev libcrypt-dev libsystemd-dev libnftables-dev libyaml-cpp-dev zlib1g-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  pybind11-dev python3-dev
  libns3-dev ns3 libgsl-dev libsqlite3-dev libxml2-dev
  libmimalloc-dev
  iproute2 iputils-ping openssl curl python3
  clang libclang-rt-14-dev
  redis-server redis-tools postgresql dnsmasq-base bind9-dnsutils
  haproxy testssl.sh bsdextrautils procps
  # The kernel paths service forwarding is measured against (network-namespaces/service_forwarding_bench.sh).
  ipvsadm nftables
  # The Debian packages: manual pages from --help (help2man), and lintian on the .debs (tests/packaging).
  lintian help2man
  # HTTP/2 (engine/http2): nghttp2's session API without its I/O; curl, nghttp and h2load as clients, and
  # grpcio for a gRPC round trip through the proxy; h2, wsproto and websockets for WebSockets over HTTP/2
  # (RFC 8441) on both sides of it.
  libnghttp2-dev nghttp2-client python3-grpcio python3-h2 python3-wsproto python3-websockets
  # tests/stats: a real Prometheus scrapes /metrics and evaluates the tutorial dashboard's queries; promtool
  # lints the exposition.
  prometheus
  # Headless, for tests/sim/report_in_chromium.sh: report.html rendered and screenshotted as a person sees it.
  chromium
  # The live twin's LAN (twin/lan): namespaces, veths, bridges and qdiscs through rtnetlink with libnl.
  libnl-3-dev libnl-route-3-dev
  # metalgate netns --pcap: a capture per host link.
  tcpdump
  # The Python module (pybind/): results as DataFrames, sweeps on Dask, plots, the notebook run headless in CI,
  # its tests under pytest, the YAML of a scenario changed in code, progress bars.
  python3-pandas python3-distributed python3-matplotlib python3-pytest python3-yaml python3-tqdm
  jupyter-nbconvert python3-nbconvert python3-ipykernel
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
