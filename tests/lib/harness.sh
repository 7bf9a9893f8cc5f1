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

# A port free right now, for tcp, udp or both (daemons such as dnsmasq bind both), and never one this run has
# handed out already (the kernel may offer a just-released port again).
harness_free_port() {
  /usr/bin/python3 - "${1:-tcp}" "$work/.ports" <<'PY'
import socket, sys
kind, taken_file = sys.argv[1], sys.argv[2]
try:
    taken = set(open(taken_file).read().split())
except FileNotFoundError:
    taken = set()
for _ in range(100):
    first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    first.bind(("127.0.0.1", 0))
    port = first.getsockname()[1]
    if str(port) in taken:
        continue
    if kind == "both":
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            other.bind(("127.0.0.1", port))
        except OSError:
            continue
    open(taken_file, "a").write(f"{port}\n")
    print(port)
    break
else:
    sys.exit("no free port")
PY
}

harness_need_packages() {
  local need=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p"); done
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

# nginx serving $work/www on 127.0.0.1:PORT, pinned to CPU 0 (the benchmarks' origin).
harness_start_nginx() {
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<NGINX
daemon off; worker_processes 1; pid $work/nginx/pid; error_log $work/nginx/error.log;
events { worker_connections 40000; }
http { access_log off; sendfile on; keepalive_requests 1000000; keepalive_timeout 120s;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$1; root $work/www; } }
NGINX
  taskset -c 0 nice -n -20 nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" & pids+=($!)
}

# The manifests of a Service "default/web" (port 80) whose one endpoint is 127.0.0.1:PORT, the pod "origin";
# ANNOTATIONS (optional) is a YAML flow map for the Service.
harness_origin_manifests() {
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default, annotations: ${2:-{\}}}
spec: {ports: [{port: 80, targetPort: $1}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets: [{addresses: [{ip: 127.0.0.1, targetRef: {kind: Pod, name: origin}}], ports: [{port: $1}]}]
YAML
}
