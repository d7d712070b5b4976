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

# The leptos tools install first. Installing them in the background beside the Rust build and
# tests was tried on a fresh CARGO_HOME (2026-12-07): 37.4 min in all, no faster than one after
# the other (both need the same two cores), and the integration tests ran 60 % slower.
step "installing what is missing"
setup_rust
setup_postgres
setup_chromium
setup_npm

step "cargo fmt --check"
cargo fmt --all --check

# The browser bundle has its own target directory (target/front), so it builds alongside the
# server, clippy and the Rust tests, using the core they leave idle (the tests alone keep
# about 0.7 of the two cores busy). Its log is printed only if it fails.
step "building the browser bundle in the background"
mkdir -p target
# setsid: its own process group, so an early exit stops cargo and rustc under it too.
setsid cargo leptos build --split --frontend-only > target/front-build.log 2>&1 &
front_pid=$!
trap 'kill -- "-$front_pid" 2>/dev/null || true' EXIT

step "building the server (also provides the private PostgreSQL helper)"
cargo build -p server --bin server

# A private cluster for the Rust tests: each #[sqlx::test] gets a fresh database in it.
export RUNBOARD_TEST_PG_DIR="$ROOT/target/test-pg"
export RUNBOARD_TEST_PG_PORT="${RUNBOARD_TEST_PG_PORT:-55433}"
pg() { RUNBOARD_DATA_DIR="$RUNBOARD_TEST_PG_DIR" RUNBOARD_PG_PORT="$RUNBOARD_TEST_PG_PORT" \
       target/debug/server pg "$1"; }
cleanup() {
  kill -- "-$front_pid" 2>/dev/null || true
  pg stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
step "starting the private PostgreSQL for tests"
export DATABASE_URL="$(pg start)"
echo "DATABASE_URL=${DATABASE_URL%%:*}://…@${DATABASE_URL##*@}"   # the password stays out of logs

# One clippy run covers the browser-only code too: across the workspace, app is checked with
# both its ssr and hydrate features (the frontend crate pulls in hydrate).
step "cargo clippy --workspace --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# app, server and the CLI (a dev-dependency of the server), not the frontend: the same feature
# set as the server build above, so its compiled dependencies are reused (with the frontend in,
# leptos would be rebuilt with hydrate too; the benchmarks are a package of their own for the
# same reason).
step "cargo test (app, server, runboard-cli)"
cargo test -p app -p server -p runboard-cli

step "building the site (server + wasm) for the browser tests"
if ! wait "$front_pid"; then
  cat target/front-build.log
  echo "the browser bundle did not build (log above)" >&2
  exit 1
fi
# --split: each island is a lazily loaded .wasm chunk of its own (#[island(lazy)]). The
# bundle is built already, and the server is the one built above: this only writes the site.
cargo leptos build --split

step "Playwright end-to-end tests (Chromium, real server, embedded PostgreSQL)"
# The e2e server starts its own embedded cluster from a fresh directory (the default path).
rm -rf "$ROOT/target/e2e"
(cd end2end && npx playwright test)

step "all tests passed"
