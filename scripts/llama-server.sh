#!/usr/bin/env bash
# Starts or stops the llama.cpp server (llama-cpp-python) on loopback with both
# real models behind one endpoint: Gemma 3 270M (`gemma3`, a base model) and
# SmolLM2 135M Instruct (`smollm2`, llama architecture, its GGUF's own chat
# template). The server holds the model a request names and unloads the other,
# so models run one at a time under the same build and settings.
# Usage: scripts/llama-server.sh start|stop [PORT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
source "$root/.tools/env.sh"
port=${2:-8089}
pidfile="$root/.tools/llama-$port.pid"
config="$root/.tools/llama-$port.json"
case "${1:-}" in
  start)
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "llama-server: already running on 127.0.0.1:$port"; exit 0
    fi
    cat > "$config" <<JSON
{"host": "127.0.0.1", "port": $port, "models": [
  {"model": "$BENCH_GGUF", "model_alias": "gemma3", "chat_format": "gemma", "n_ctx": 4096},
  {"model": "$BENCH_GGUF_SMOLLM2", "model_alias": "smollm2", "n_ctx": 4096}
]}
JSON
    "$BENCH_PYTHON" -m llama_cpp.server --config_file "$config" > "$root/.tools/llama-$port.log" 2>&1 &
    echo $! > "$pidfile"
    for _ in $(seq 1 120); do
      if curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1; then
        echo "llama-server: ready on http://127.0.0.1:$port (gemma3, smollm2)"; exit 0
      fi
      kill -0 "$(cat "$pidfile")" 2>/dev/null || { cat "$root/.tools/llama-$port.log" >&2; exit 1; }
      sleep 1
    done
    echo "llama-server: not ready after 120 s" >&2; exit 1 ;;
  stop)
    if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; fi ;;
  *) echo "usage: $0 start|stop [PORT]" >&2; exit 2 ;;
esac
