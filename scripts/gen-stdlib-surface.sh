#!/bin/sh
# Regenerates the standard-library API surface the grader ships for when no
# interpreter is given (crates/task-synth/data/stdlib-surface-X.Y.json.gz),
# from a real interpreter, with the same script the sandbox runs.
#   scripts/gen-stdlib-surface.sh [PYTHON]
set -eu
py=${1:-python3}
root=$(cd "$(dirname "$0")/.." && pwd)
ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
out="$root/crates/task-synth/data/stdlib-surface-$ver.json.gz"
"$py" -I "$root/crates/py-testenv/src/surface.py" --stdlib | gzip -9n > "$out"
echo "$out"
