#!/usr/bin/env bash
# Builds one libFuzzer target (clang, +ASan/UBSan) from exactly the sources it needs and runs it for a bounded
# time from a copy of its seed corpus in tests/fuzz/corpus/TARGET (the repo is never written to).
#   run_fuzz.sh SOURCE_DIR TARGET SECONDS [extra libFuzzer args...]
# TARGET: http_parser | http2 | frame | manifest | scenario (tests/fuzz/TARGET_fuzz.cc). SECONDS=0 runs without a time
# limit (give -runs=N then). Exit 0: no crash, leak or sanitizer report; 77: clang++ is missing.
# Environment: FUZZ_LOG=file keeps libFuzzer's whole output (the console shows its tail);
# FUZZ_ARTIFACTS=dir keeps crashing inputs (otherwise they are printed in base64 and removed with the temp dir).
set -euo pipefail
src=$(cd "$1" && pwd)
target=$2
seconds=${3:-60}
shift 3 || shift $#
if ! command -v clang++ >/dev/null; then echo "clang++ missing (install-deps.sh installs it)"; exit 77; fi

e=$src/engine
# The manifest loader and the model (the scenario loader resolves `target: namespace/name` through them).
model_sources=("$e/config/manifest_loader.cc" "$e/config/yaml_reader.cc" "$e/config/diagnostics.cc"
               "$e/config/duration.cc" "$e/config/annotations.cc" "$e/config/k8s_names.cc"
               "$e/config/label_selector.cc" "$e/net/ip_address.cc" "$e/net/mac_address.cc"
               "$e/routing/route_table.cc" "$e/routing/endpoints.cc" "$e/model/resolve.cc" "$e/ipam/allocator.cc")
case $target in
  http_parser) sources=("$e/http/parser.cc" "$e/http/message.cc" "$e/http/chunked.cc"); libs=(); max_len=4096 ;;
  http2)
    sources=("$e/http2/server_session.cc" "$e/http2/session_memory.cc" "$e/http2/outgoing_body.cc"
             "$e/http2/h1_bridge.cc" "$e/http/parser.cc" "$e/http/message.cc"
             "$e/http/chunked.cc" "$e/http/websocket.cc")
    libs=(-lnghttp2 -lcrypto); max_len=8192 ;;
  frame)
    sources=("$e/speaker/arp.cc" "$e/speaker/ndp.cc" "$e/speaker/speaker.cc" "$e/net/ip_address.cc"
             "$e/net/mac_address.cc")
    libs=(); max_len=512 ;;
  manifest)
    sources=("${model_sources[@]}" "$e/proxy/proxy_config.cc" "$e/proxy/basic_auth.cc" "$e/proxy/path_rewrite.cc"
             "$e/proxy/cors.cc"
             "$e/http/message.cc" "$e/tls/tls_stream.cc" "$e/runtime/log.cc")
    libs=(-lyaml-cpp -lssl -lcrypto -lz -lcrypt); max_len=8192 ;;
  scenario)
    sc=$src/scenario
    sources=("$sc/schema/loader.cc" "$sc/schema/fields.cc" "$sc/kinds/fault_kinds.cc" "$sc/kinds/expectation_kinds.cc"
             "$sc/judge/requests.cc" "$sc/judge/ownership.cc" "$sc/judge/traffic.cc" "$sc/judge/counters.cc" "$sc/judge/recovery.cc"
             "$sc/judge/reloads.cc" "$e/stats/json.cc"
             "$sc/observe/observations.cc"
             "${model_sources[@]}" "$e/membership/membership.cc" "$e/runtime/seeded_random.cc"
             "$e/runtime/log.cc")
    libs=(-lyaml-cpp); max_len=8192 ;;
  *) echo "unknown fuzz target '$target' (http_parser, http2, frame, manifest, scenario)"; exit 2 ;;
esac
corpus_src=$src/tests/fuzz/corpus/$target

work=$(mktemp -d "/tmp/metalgate-fuzz-$target.XXXXXX")
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2054  # the commas belong to -fsanitize
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fno-omit-frame-pointer -I"$src")
start=$(date +%s)
# Each translation unit on its own, as many at once as there are cores; a compile error fails the run.
mkdir -p "$work/obj" "$work/corpus" "$work/artifacts"
objects=()
pids=()
for f in "$src/tests/fuzz/${target}_fuzz.cc" "${sources[@]}"; do
  o=$work/obj/$(printf '%s' "${f#"$src"/}" | tr / _).o
  objects+=("$o")
  clang++ "${flags[@]}" -c "$f" -o "$o" &
  pids+=($!)
  while (($(jobs -rp | wc -l) >= $(nproc))); do sleep 0.2; done
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
if ((failed)); then echo "compiling the fuzz target '$target' failed"; exit 1; fi
clang++ "${flags[@]}" "${objects[@]}" "${libs[@]}" -o "$work/fuzz"
echo "built fuzz target '$target' in $(($(date +%s) - start)) s"

cp "$corpus_src"/* "$work/corpus/"
echo "seed corpus: $(find "$work/corpus" -type f | wc -l) files, $(cat "$work/corpus"/* | wc -c) bytes"
log=${FUZZ_LOG:-$work/fuzz.log}
status=0
(cd "$work" && TMPDIR="$work" "$work/fuzz" -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1 \
   -artifact_prefix="$work/artifacts/" "$@" "$work/corpus") >"$log" 2>&1 || status=$?
tail -n 25 "$log"
if ((status != 0)) || [[ -n $(ls "$work/artifacts") ]]; then
  for a in "$work/artifacts"/*; do
    [[ -e $a ]] || continue
    echo "artifact $(basename "$a") (base64):"; base64 -w 100 "$a"
  done
  if [[ -n ${FUZZ_ARTIFACTS:-} ]]; then mkdir -p "$FUZZ_ARTIFACTS"; cp "$work/artifacts"/* "$FUZZ_ARTIFACTS"/ 2>/dev/null || true; fi
  echo "fuzz target '$target' FAILED (exit $status)"
  exit 1
fi
