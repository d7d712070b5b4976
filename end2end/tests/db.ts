// Direct access to the e2e server's embedded PostgreSQL, for tests that set up or change rows.
// The cluster is password-protected: the server writes the password next to it on first start,
// so it is read at call time.
import { Client } from "pg";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PG_DATA_DIR, PG_PORT } from "../playwright.config";

export function databaseUrl(): string {
  const password = fs.readFileSync(path.join(PG_DATA_DIR, "pg-password"), "utf8").trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${PG_PORT}/postgres`;
}

export async function sql<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    const res = await client.query(text, params);
    return res.rows as T[];
  } finally {
    await client.end();
  }
}

/** Inserts a RUNNING job directly (as a worker that claimed it would leave it). */
export async function insertRunningJob(progress: number, message: string): Promise<string> {
  const id = randomUUID();
  await sql(
    `INSERT INTO jobs (id, kind, state, progress, progress_message, lease, worker_id,
                       heartbeat_at, started_at, attempt, log_path)
     VALUES ($1, 'demo', 'RUNNING', $2, $3, gen_random_uuid(), 'e2e-test:0', now(), now(), 1, $4)`,
    [id, progress, message, `runs/${id}/artifacts/run.log`],
  );
  return id;
}
