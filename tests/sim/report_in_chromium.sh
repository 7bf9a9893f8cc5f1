#!/usr/bin/env bash
# report.html as a person sees it: run a short scenario (tests/sim/data/report_scenario.yaml: a rate-limited
# client, close faults), render its report.html in headless Chromium, and check what a reader would: the page
# loads, the screenshot is a picture (not blank), the rendered text has every expectation's table, the
# "expected denials" apart from failures, and no raw JSON in any table cell. The screenshot (and the page) are
# kept as CI artifacts in ${METALGATE_ARTIFACTS:-<build dir>/artifacts}.
#   report_in_chromium.sh METALGATE_BINARY SOURCE_DIR
# Exit 0: the report reads well; 1: it does not; 77: Chromium is missing (install-deps.sh installs it, so in
# CI that is a failure too: the test is not registered with a skip code).
set -euo pipefail
metalgate=$1
source_dir=$2
scenario="$source_dir/tests/sim/data/report_scenario.yaml"

chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$chromium" ]; then
  echo "report_in_chromium: chromium is missing; install it with install-deps.sh (Debian package chromium)" >&2
  exit 77
fi

work=$(mktemp -d /tmp/metalgate-report-chromium.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The build directory: the nearest parent of the binary with a CMakeCache.txt.
build_dir=$(cd "$(dirname "$metalgate")" && pwd)
while [ "$build_dir" != / ] && [ ! -f "$build_dir/CMakeCache.txt" ]; do build_dir=$(dirname "$build_dir"); done
[ -f "$build_dir/CMakeCache.txt" ] || build_dir=$(cd "$(dirname "$metalgate")" && pwd)
artifacts=${METALGATE_ARTIFACTS:-$build_dir/artifacts}

# The scenario's own pass or fail is sim's business (seed_twice.sh and sim_test judge runs); here a failed
# run still has to draw a readable report, so only a missing report fails.
start=$(date +%s)
"$metalgate" sim "$scenario" --out "$work/run" --quiet > "$work/sim.log" 2>&1 || true
echo "report_in_chromium: sim took $(( $(date +%s) - start )) s"
if [ ! -s "$work/run/report.html" ] || [ ! -s "$work/run/result.json" ]; then
  echo "report_in_chromium: sim wrote no report.html/result.json:" >&2
  cat "$work/sim.log" >&2
  exit 1
fi

# Headless Chromium as root in CI: no sandbox; a profile of its own so that parallel runs do not collide.
render() {
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile" --window-size=1400,2400 "$@" "file://$work/run/report.html" \
    2>> "$work/chromium.log"
}
if ! render --screenshot="$work/report.png" > /dev/null || ! render --dump-dom > "$work/dom.html"; then
  echo "report_in_chromium: chromium failed:" >&2
  cat "$work/chromium.log" >&2
  exit 1
fi

mkdir -p "$artifacts"
cp "$work/report.png" "$artifacts/report.png"
cp "$work/run/report.html" "$artifacts/report.html"
echo "report_in_chromium: screenshot at $artifacts/report.png"

python3 - "$work/report.png" "$work/dom.html" "$work/run/result.json" <<'EOF'
import json, struct, sys, zlib
from html.parser import HTMLParser

png_path, dom_path, result_path = sys.argv[1:4]
problems = []

# The screenshot: a 1400x2400 PNG with a picture in it: many colours, and ink on a good part of it.
def decode_png(path):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    at, idat, header = 8, b'', None
    while at < len(data):
        length, kind = struct.unpack('>I4s', data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        at += 12 + length
    width, height, depth, colour = header[:4]
    if depth != 8 or colour not in (2, 6):
        raise ValueError('unexpected PNG format: depth %d colour type %d' % (depth, colour))
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 2:  # Up, most of Chromium's rows: no dependency along the row
            line = bytearray((x + b) & 255 for x, b in zip(line, prev))
        elif kind in (1, 3, 4):
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                if kind == 1: line[i] = (line[i] + a) & 255
                elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows

try:
    width, height, bpp, rows = decode_png(png_path)
    if (width, height) != (1400, 2400):
        problems.append('screenshot is %dx%d, not 1400x2400' % (width, height))
    colours, inked, sampled = set(), 0, 0
    for y in range(0, height, 4):
        row = rows[y]
        for x in range(0, width, 4):
            pixel = row[x * bpp:x * bpp + 3]
            colours.add(pixel)
            sampled += 1
            inked += pixel != b'\xff\xff\xff'
    print('screenshot: %dx%d, %d colours, %.1f%% not white' % (width, height, len(colours), 100.0 * inked / sampled))
    if len(colours) < 20:
        problems.append('screenshot has %d colours: blank or broken page' % len(colours))
    if inked < sampled * 0.03:
        problems.append('screenshot is %.1f%% ink: blank page' % (100.0 * inked / sampled))
except Exception as e:  # a broken PNG is a finding, not a crash
    problems.append('screenshot unreadable: %s' % e)

# The rendered DOM: every table cell's text, the captions, the whole text.
class Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.captions, self.text, self.stack, self.tags = [], [], [], [], {}
    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag in ('td', 'th', 'caption'):
            self.stack.append([tag, ''])
    def handle_endtag(self, tag):
        if self.stack and self.stack[-1][0] == tag:
            kind, text = self.stack.pop()
            (self.captions if kind == 'caption' else self.cells).append(text.strip())
    def handle_data(self, data):
        self.text.append(data)
        for open_cell in self.stack:
            open_cell[1] += data

dom = open(dom_path, encoding='utf-8').read()
result = json.load(open(result_path))
page = Cells()
page.feed(dom)
text = ' '.join(page.text)
if page.tags.get('svg', 0) < 1:
    problems.append('no SVG timeline in the page')
if page.tags.get('script', 0) or page.tags.get('pre', 0):
    problems.append('the page has a <script> or <pre> (a JSON dump)')
expectations = result.get('expectations', [])
exp_captions = [c for c in page.captions if c.startswith(('✔ pass', '✘ FAIL'))]
if len(exp_captions) != len(expectations):
    problems.append('%d expectation tables for %d expectations' % (len(exp_captions), len(expectations)))
for e in expectations:
    if not any(e['name'] in c for c in exp_captions):
        problems.append('no table for expectation %s' % e['name'])
if 'expected denials' not in text:
    problems.append('"expected denials" is not on the page')
for cell in page.cells:
    if '{' in cell or '}' in cell or '":' in cell:
        problems.append('raw JSON in a table cell: %r' % cell[:80])
        break
for needed in ('requests per second', 'VIP owner', result.get('scenario', '?')):
    if needed not in text:
        problems.append('%r is not on the page' % needed)
print('page: %d tables, %d cells, %d expectation tables' % (page.tags.get('table', 0), len(page.cells), len(exp_captions)))
if problems:
    print('report_in_chromium: the report does not read well:\n  ' + '\n  '.join(problems), file=sys.stderr)
    sys.exit(1)
EOF
echo "report_in_chromium: report.html reads well"
