#!/usr/bin/env bash
# Executes a notebook headless as Jupyter does (nbconvert with the python3 kernel) from the source tree, into a
# scratch copy; any cell's error fails it. Prints how long it took (the notebook must stay under 2 minutes).
#   run_notebook.sh NOTEBOOK.ipynb
set -euo pipefail
notebook=$(readlink -f "$1")
out=$(mktemp -d /tmp/metalgate-notebook.XXXXXX)
trap 'rm -rf "$out"' EXIT
cd "$(dirname "$notebook")/../.."
start=$(date +%s)
jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
  --output-dir "$out" --output executed "$notebook"
took=$(( $(date +%s) - start ))
echo "executed $(basename "$notebook") in ${took} s"
/usr/bin/python3 - "$out/executed.ipynb" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
code = [c for c in nb["cells"] if c["cell_type"] == "code"]
errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
assert not errors, errors
assert all(c.get("execution_count") for c in code), "a code cell did not run"
images = sum(1 for c in code for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
assert images >= 2, "the notebook's plots are missing (%d images)" % images
print("%d code cells ran, %d plots" % (len(code), images))
PY
[ "$took" -le 120 ] || { echo "FAIL: the notebook took ${took} s (limit 120 s)"; exit 1; }
