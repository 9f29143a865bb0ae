#!/usr/bin/env bash
# Records real Gemma 3 270M answers on the fixture task set (our own code, so
# nothing of another project is committed) for the grader snapshot test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=8093
tmp=$(mktemp -d)
trap 'scripts/llama-server.sh stop $port; rm -rf "$tmp"' EXIT
scripts/llama-server.sh start $port
source .tools/env.sh
cargo run -q -p bench-cli -- eval tests/fixtures/tinyvalidator --backend openai \
  --endpoint "http://127.0.0.1:$port" --model gemma3 --gguf "$BENCH_GGUF" \
  --db "$tmp/r.sqlite" --out-dir "$tmp" --num-predict 256
python3 - "$tmp/r.sqlite" tests/fixtures/gemma3-tinyvalidator-completions.json <<'PY'
import json, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT x.task_id, x.text FROM results x JOIN runs r ON r.id = x.run_id "
    "JOIN tasks t ON t.task_set_id = r.task_set_id AND t.id = x.task_id "
    "WHERE x.warmup = 0 ORDER BY t.position").fetchall()
json.dump([[i, t] for i, t in rows], open(sys.argv[2], "w"), indent=1)
print(f"{len(rows)} completions -> {sys.argv[2]}")
PY
