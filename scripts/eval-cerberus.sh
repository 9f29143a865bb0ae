#!/usr/bin/env bash
# The main job on the embedded defaults: the pinned Cerberus 1.3.4 sdist, a
# local llama.cpp server with two real models (Gemma 3 270M and SmolLM2 135M
# Instruct; started here, stopped at the end), a 60-task evaluation of both,
# one after the other under identical settings and each with its own VRAM plan,
# into out/results.sqlite with Markdown, HTML and JSON reports in out/ (with
# their paired comparison), ground truth settled by Cerberus's own test suite in
# the sandboxed test environment (.tools/testenv). Rerunning it resumes. Extra
# arguments go to `bench-cli eval`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup-tools.sh
port=${BENCH_LLAMA_PORT:-8089}
trap 'scripts/llama-server.sh stop "$port"' EXIT
scripts/llama-server.sh start "$port"
source .tools/env.sh
cargo build -q --release -p bench-cli
target/release/bench-cli eval "$BENCH_CERBERUS_SDIST" \
  --backend openai --endpoint "http://127.0.0.1:$port" \
  --model gemma3 --gguf "gemma3=$BENCH_GGUF" --model smollm2 --gguf "smollm2=$BENCH_GGUF_SMOLLM2" \
  --python "$BENCH_TEST_PYTHON" \
  --db out/results.sqlite --out-dir out --count 60 --num-predict 256 --vram 8GiB "$@"
