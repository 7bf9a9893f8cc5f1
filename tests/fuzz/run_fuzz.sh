#!/usr/bin/env bash
# Builds the HTTP parser fuzz target with clang's libFuzzer (+ASan/UBSan) and runs it for a bounded time from a
# seed corpus of real requests and smuggling vectors. Exit 0: no crash found in the time given.
#   run_fuzz.sh SOURCE_DIR SECONDS
set -euo pipefail
src=$1
seconds=${2:-60}
if ! command -v clang++ >/dev/null; then echo "clang++ missing (install-deps.sh installs it)"; exit 77; fi
work=$(mktemp -d /tmp/metalgate-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$src" \
  "$src/tests/fuzz/http_parser_fuzz.cc" "$src/engine/http/parser.cc" "$src/engine/http/message.cc" \
  "$src/engine/http/chunked.cc" \
  -o "$work/fuzz"
mkdir -p "$work/corpus"
i=0
for r in 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' \
         'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' \
         'GET / HTTP/1.0\r\nX: a\r\n b\r\n\r\n' 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc' \
         '4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\nT: 1\r\n\r\n'; do
  printf "$r" > "$work/corpus/seed$i"; i=$((i + 1))
done
"$work/fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$work/corpus" 2>&1 | tail -15
