//! Runboard's integration tests, as one test binary (`cargo test -p server --test it`): one
//! link of the server instead of one per file. Each module is what used to be a file of its
//! own under `server/tests/`; `helpers` holds what they share, `TestApp` among it (the real
//! router served on a real TCP port). Database tests get a fresh database each from
//! `#[sqlx::test]`, so they run in parallel. Filter by module: `cargo test -p server --test it
//! store::` runs the store's tests only.

mod helpers;

mod api;
mod datasets;
mod fanout;
mod golden;
mod grid;
mod hostile;
mod import;
mod process;
mod repro;
mod research;
mod results;
mod security;
mod store;
mod strategies;
mod worker;
