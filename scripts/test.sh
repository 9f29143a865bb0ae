#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/setup-tools.sh),
# then runs every test of the workspace with the real tools required, and
# builds the examples and benchmarks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup-tools.sh
export BENCH_REQUIRE_TOOLS=1
cargo test --workspace
cargo build --workspace --benches --examples
