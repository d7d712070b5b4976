// Direct access to the e2e server's embedded PostgreSQL, for tests that set up or change rows.
import { Client } from "pg";
import { randomUUID } from "crypto";
import { DATABASE_URL } from "../playwright.config";

export async function sql<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: DATABASE_URL });
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
