import { defineConfig } from "@playwright/test";
import * as path from "path";

// The browser tests run the real server binary (built by `cargo leptos build`) against its
// embedded PostgreSQL, started fresh in target/e2e, and drive Debian's Chromium.
const root = path.resolve(__dirname, "..");
export const PORT = Number(process.env.E2E_PORT ?? 3000);
export const PG_PORT = Number(process.env.E2E_PG_PORT ?? 55434);
/** Where the e2e server keeps its embedded cluster (and the cluster's password file). */
export const PG_DATA_DIR = path.join(root, "target/e2e/pg");

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results/artifacts",
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
    trace: "retain-on-failure",
  },
  projects: [{ name: "chromium" }],
  webServer: {
    // E2E_SERVER_BIN: another server binary to test; by default the one `cargo leptos build`
    // wrote (a plain `cargo build` writes the same one: .cargo/config.toml).
    command: process.env.E2E_SERVER_BIN ?? path.join(root, "target/debug/server"),
    cwd: root,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: 120_000,
    gracefulShutdown: { signal: "SIGINT", timeout: 20_000 },
    stdout: "pipe",
    stderr: "pipe",
    env: {
      LEPTOS_OUTPUT_NAME: "runboard",
      LEPTOS_SITE_ROOT: path.join(root, "target/site"),
      LEPTOS_SITE_PKG_DIR: "pkg",
      LEPTOS_HASH_FILES: "true",
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
      LEPTOS_RELOAD_PORT: "3001",
      RUNBOARD_DATA_DIR: PG_DATA_DIR,
      RUNBOARD_RUNS_DIR: path.join(root, "target/e2e/runs"),
      RUNBOARD_PG_PORT: String(PG_PORT),
      RUNBOARD_NODE_ID: "e2e",
      RUST_LOG: "info,sqlx=warn,tower_http=warn",
      DATABASE_URL: "",
    },
  },
});
