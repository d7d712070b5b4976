// Helpers for tests that start a second server: a free port, and waiting until it answers.
import { spawn, ChildProcess } from "child_process";
import * as net from "net";
import * as path from "path";

const root = path.resolve(__dirname, "../..");

/** The server binary the e2e run uses, on 127.0.0.1:`port`, with the built site and `env`. */
export function spawnServer(port: number, env: Record<string, string>): ChildProcess {
  return spawn(process.env.E2E_SERVER_BIN ?? path.join(root, "target/debug/server"), [], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      LEPTOS_OUTPUT_NAME: "runboard",
      LEPTOS_SITE_ROOT: path.join(root, "target/site"),
      LEPTOS_SITE_PKG_DIR: "pkg",
      LEPTOS_HASH_FILES: "true",
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      RUST_LOG: "warn",
      ...env,
    },
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** Polls `url` until it answers (any status, or exactly `status` when given). */
export async function waitUp(url: string, deadlineMs: number, status?: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      const res = await fetch(url, { redirect: "manual" });
      if (status === undefined ? res.status > 0 : res.status === status) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
