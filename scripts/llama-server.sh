#!/usr/bin/env bash
# Starts or stops the llama.cpp server (llama-cpp-python) with the Gemma 3 270M
# model on loopback. Usage: scripts/llama-server.sh start|stop [PORT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
source "$root/.tools/env.sh"
port=${2:-8089}
pidfile="$root/.tools/llama-$port.pid"
case "${1:-}" in
  start)
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "llama-server: already running on 127.0.0.1:$port"; exit 0
    fi
    "$BENCH_PYTHON" -m llama_cpp.server --model "$BENCH_GGUF" --model_alias gemma3 \
      --chat_format gemma --n_ctx 4096 --host 127.0.0.1 --port "$port" \
      > "$root/.tools/llama-$port.log" 2>&1 &
    echo $! > "$pidfile"
    for _ in $(seq 1 120); do
      if curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1; then
        echo "llama-server: ready on http://127.0.0.1:$port"; exit 0
      fi
      kill -0 "$(cat "$pidfile")" 2>/dev/null || { cat "$root/.tools/llama-$port.log" >&2; exit 1; }
      sleep 1
    done
    echo "llama-server: not ready after 120 s" >&2; exit 1 ;;
  stop)
    if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; fi ;;
  *) echo "usage: $0 start|stop [PORT]" >&2; exit 2 ;;
esac
