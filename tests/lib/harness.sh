# Shared by the live tests and the benchmarks (source it): a private work directory and the processes started
# into `pids`, both cleaned up on exit whatever happens, free loopback ports, and missing Debian packages.
#   harness_start NAME     -> $work, pids=(), an EXIT trap
#   harness_free_port [udp]
#   harness_need_packages PKG...

harness_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}

harness_start() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$work"  # daemons that drop privileges (nginx workers) read from it
  pids=()
  trap harness_cleanup EXIT
}

harness_free_port() {
  /usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "${1:-tcp}"
}

harness_need_packages() {
  local need=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p"); done
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}
