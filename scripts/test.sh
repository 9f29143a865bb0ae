#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/setup-tools.sh),
# starts a throw-away PostgreSQL server and a single-node Slurm for the
# shared-store and matrix tests (each stopped by its PIDs on exit), then runs
# every test of the workspace with the real tools required, and builds the
# examples and benchmarks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup-tools.sh
pg_dir="/tmp/bench-pg-$$" slurm_dir="/tmp/bench-slurm-$$"
trap 'scripts/slurm.sh stop "$slurm_dir"; scripts/postgres.sh stop "$pg_dir"' EXIT
BENCH_POSTGRES_URL=$(scripts/postgres.sh start "$pg_dir")
SLURM_CONF=$(scripts/slurm.sh start "$slurm_dir")
export BENCH_POSTGRES_URL SLURM_CONF BENCH_REQUIRE_TOOLS=1
cargo test --workspace --no-fail-fast
cargo build --workspace --benches --examples
