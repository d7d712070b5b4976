#!/usr/bin/env bash
# Serves Runboard at http://127.0.0.1:3000, installing what is missing first.
# With DATABASE_URL unset the server starts its own private PostgreSQL in .runboard/.
# Pass --release for an optimized build. --split: each island is a lazily loaded .wasm chunk.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=setup.sh
source "$ROOT/scripts/setup.sh"
setup_rust
setup_postgres
setup_npm
cd "$ROOT"
exec cargo leptos serve --split "$@"
