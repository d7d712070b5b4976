#!/usr/bin/env bash
# Prints Runboard's benchmark figures: the engine sweep (backtests/s, peak memory, the robustness
# step's cost), the job system (jobs/s, progress-tracking overhead), a million-bar import next to
# PostgreSQL's COPY plus a million-bar sweep, and the rule language next to the built-in
# strategy, the status poll path next to pgbench's select-only rate, and one optimization fanned
# out over 1, 2 and 4 worker processes, against a private PostgreSQL. Release builds. `bash scripts/bench.sh million` runs
# one bench only.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build -p server --bin server
pg() { RUNBOARD_DATA_DIR="$ROOT/target/bench-pg" RUNBOARD_PG_PORT="${BENCH_PG_PORT:-55435}" \
       target/debug/server pg "$1"; }
trap 'pg stop >/dev/null 2>&1 || true' EXIT
DATABASE_URL="$(pg start)"
export DATABASE_URL
benches=("$@")
[ $# -gt 0 ] || benches=(sweep queue million rules poll fanout)
for b in "${benches[@]}"; do
  if [ "$b" = fanout ]; then
    # The fan-out bench starts release server processes as its workers.
    cargo build --release -p server --bin server
    export RUNBOARD_SERVER_BIN="$ROOT/target/release/server"
  fi
  cargo bench -p runboard-bench --bench "$b"
done
