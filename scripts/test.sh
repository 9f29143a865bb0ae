#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/setup-tools.sh),
# starts a throw-away PostgreSQL server for the shared-store tests (stopped
# by its PID on exit), then runs every test of the workspace with the real
# tools required, and builds the examples and benchmarks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup-tools.sh
pg_dir="/tmp/bench-pg-$$"
trap 'scripts/postgres.sh stop "$pg_dir"' EXIT
BENCH_POSTGRES_URL=$(scripts/postgres.sh start "$pg_dir")
export BENCH_POSTGRES_URL BENCH_REQUIRE_TOOLS=1
cargo test --workspace
cargo build --workspace --benches --examples
