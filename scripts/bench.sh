#!/usr/bin/env bash
# Benchmarks: scan+extract throughput on the Django sdist (downloaded into
# target/bench-data, never committed), peak RSS of a full extract, CPython's
# `ast` on the same files for comparison, and the runner's per-task cost.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo bench -p benches --bench scan_extract
cargo bench -p benches --bench orchestration
cargo bench -p benches --bench execution
cargo build -q --release -p bench-cli
tree=${BENCH_LARGE_TREE:-target/bench-data/django-5.1.4.tar.gz}
echo "== peak RSS of 'bench-cli extract' on $tree"
/usr/bin/time -v target/release/bench-cli extract "$tree" --json 2>&1 >/dev/null | grep -E "Maximum resident|Elapsed"
echo "== CPython ast.parse on the same Python files"
python3 - "$tree" <<'PY'
import ast, io, sys, tarfile, time
with tarfile.open(sys.argv[1]) as t:
    files = [(m.name, t.extractfile(m).read()) for m in t.getmembers() if m.isfile() and m.name.endswith(".py")]
start = time.perf_counter()
ok = 0
for name, data in files:
    try:
        ast.parse(data, name)
        ok += 1
    except (SyntaxError, ValueError):
        pass
dt = time.perf_counter() - start
print(f"{len(files)} files ({ok} parsed) in {dt:.2f} s: {len(files)/dt:.0f} files/s (parse only, one core)")
PY
