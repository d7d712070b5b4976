//! Runboard's benchmarks live in `benches/` (run them with `bash scripts/bench.sh`); this
//! library is empty: a package needs one target besides its benches.
