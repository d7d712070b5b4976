#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, the Rust tests against a private PostgreSQL,
# and the Playwright tests in Debian's Chromium against the real server. Installs what is
# missing first. Exits non-zero on the first failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=setup.sh
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
start=$(date +%s)
# CI builds from scratch once: incremental compilation data would only cost time.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi
step() { printf '\n\033[1m==> %s\033[0m (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "installing what is missing"
setup_rust
setup_postgres
setup_chromium
setup_npm

step "cargo fmt --check"
cargo fmt --all --check

# The work is ordered so the slow, mostly idle browser tests overlap the CPU-bound Rust work:
#  1. the browser bundle (its own target directory, target/front) builds in the background
#     while the server builds;
#  2. the site is written, and the Playwright tests start in the background at normal priority;
#  3. clippy and the Rust tests run meanwhile at `nice 10`, on the CPU the browser tests leave
#     (their server, PostgreSQL and Chromium keep about 0.6 of the 2 cores busy).
# A background step's log is printed when it ends; an early exit stops its process group.
step "building the browser bundle in the background"
mkdir -p target
# setsid: its own process group, so an early exit stops cargo and rustc under it too.
setsid cargo leptos build --split --frontend-only > target/front-build.log 2>&1 &
front_pid=$!
e2e_pid=""
cleanup() {
  kill -- "-$front_pid" 2>/dev/null || true
  if [ -n "$e2e_pid" ]; then kill -INT -- "-$e2e_pid" 2>/dev/null || true; fi
  if declare -F pg >/dev/null; then pg stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

step "building the server (also provides the private PostgreSQL helper)"
cargo build -p server --bin server

step "building the site (server + wasm) for the browser tests"
if ! wait "$front_pid"; then
  cat target/front-build.log
  echo "the browser bundle did not build (log above)" >&2
  exit 1
fi
# --split: each island is a lazily loaded .wasm chunk of its own (#[island(lazy)]). The
# bundle is built already, and the server is the one built above: this only writes the site.
cargo leptos build --split
# The browser tests' server: a copy, so nothing the Rust tests build can touch it mid-run.
rm -rf "$ROOT/target/e2e" "$ROOT/target/e2e-bin"
mkdir -p "$ROOT/target/e2e-bin"
cp target/debug/server target/debug/hash.txt "$ROOT/target/e2e-bin/"

step "Playwright end-to-end tests in the background (Chromium, real server, embedded PostgreSQL)"
# The e2e server starts its own embedded cluster from a fresh directory (the default path).
E2E_SERVER_BIN="$ROOT/target/e2e-bin/server" setsid bash -c 'cd end2end && exec npx playwright test' \
  > target/e2e.log 2>&1 &
e2e_pid=$!

# A private cluster for the Rust tests: each #[sqlx::test] gets a fresh database in it.
export RUNBOARD_TEST_PG_DIR="$ROOT/target/test-pg"
export RUNBOARD_TEST_PG_PORT="${RUNBOARD_TEST_PG_PORT:-55433}"
pg() { RUNBOARD_DATA_DIR="$RUNBOARD_TEST_PG_DIR" RUNBOARD_PG_PORT="$RUNBOARD_TEST_PG_PORT" \
       target/debug/server pg "$1"; }
step "starting the private PostgreSQL for tests"
export DATABASE_URL="$(pg start)"
echo "DATABASE_URL=${DATABASE_URL%%:*}://…@${DATABASE_URL##*@}"   # the password stays out of logs

# One clippy run covers the browser-only code too: across the workspace, app is checked with
# both its ssr and hydrate features (the frontend crate pulls in hydrate).
step "cargo clippy --workspace --all-targets -D warnings"
nice -n 10 cargo clippy --workspace --all-targets -- -D warnings

# app and server only: the same feature set as the server build above, so its compiled
# dependencies are reused (with the frontend in, leptos would be rebuilt with hydrate too).
step "cargo test (app, server)"
nice -n 10 cargo test -p app -p server -p runboard-cli

step "waiting for the Playwright tests"
if ! wait "$e2e_pid"; then
  e2e_pid=""
  cat target/e2e.log
  echo "the Playwright tests failed (log above)" >&2
  exit 1
fi
e2e_pid=""
grep -vE '^\[WebServer\]|^$' target/e2e.log || true

step "all tests passed"
