#!/usr/bin/env bash
# Prints Runboard's benchmark figures: the engine sweep (backtests/s, peak memory) and the job
# system (jobs/s, progress-tracking overhead) against a private PostgreSQL. Release builds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build -p server --bin server
pg() { RUNBOARD_DATA_DIR="$ROOT/target/bench-pg" RUNBOARD_PG_PORT="${BENCH_PG_PORT:-55435}" \
       target/debug/server pg "$1"; }
trap 'pg stop >/dev/null 2>&1 || true' EXIT
DATABASE_URL="$(pg start)"
export DATABASE_URL
cargo bench -p server --bench sweep
cargo bench -p server --bench queue
