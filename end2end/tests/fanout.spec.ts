import { test, expect, APIRequestContext } from "@playwright/test";
import { ChildProcess } from "child_process";
import { Client } from "pg";
import { databaseUrl, sql } from "./db";
import { watchConsole } from "./console";
import { freePort, spawnServer, waitUp } from "./servers";

// One optimization over chunks (issue 10): a second server, on its own database in the e2e
// cluster, splits every optimization into chunks (RUNBOARD_FANOUT_WORK=1). The job page shows
// the chunks as a strip while they run and when they are done, and the results as usual.

const DB = "runboard_e2e_fanout";
const SAMPLE = "5a3b1e00-0000-4000-8000-000000000001";
let server: ChildProcess | undefined;
let base = "";

test.beforeAll(async () => {
  await sql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await sql(`CREATE DATABASE ${DB}`);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawnServer(port, {
    DATABASE_URL: databaseUrl().replace(/\/postgres$/, `/${DB}`),
    RUNBOARD_WORKERS: "2",
    RUNBOARD_FANOUT_WORK: "1",
    // The sample has 2,000 bars: 300 runs a chunk.
    RUNBOARD_CHUNK_WORK: "600000",
  });
  await waitUp(`${base}/jobs`, 60_000, 200);
});

test.afterAll(async () => {
  server?.kill("SIGTERM");
});

/** Submits an SMA-cross optimization of the sample over `n1` and `n2`; answers its id. */
async function submitSma(request: APIRequestContext, n1: object, n2: object): Promise<string> {
  const submitted = await request.post(`${base}/api/submit_job`, {
    data: { request: { kind: "optimize", dataset_id: SAMPLE, strategy: "sma_cross", grid: { n1, n2 } } },
  });
  expect(submitted.status(), await submitted.text()).toBe(200);
  return (await submitted.json()).id;
}

test("a fanned-out optimization shows its chunks on the job page and succeeds", async ({ page, request }) => {
  test.setTimeout(120_000);
  const problems = watchConsole(page);
  // n1 in 2..=60, n2 in 2..=120 by 2, n1 < n2: 2,640 runs, 9 chunks of up to 300.
  const id = await submitSma(request, { range: { start: 2, stop: 60, step: 1 } }, { range: { start: 2, stop: 120, step: 2 } });
  await page.goto(`${base}/jobs/${id}`);
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  await expect(page.getByTestId("job-panel").locator(".badge")).toHaveText("SUCCEEDED", { timeout: 90_000 });
  await expect(page.getByTestId("chunks-summary")).toHaveText(/^9 of 9 chunks done · /);
  await expect(page.getByTestId("job-chunks").locator(".chunk-strip__cell")).toHaveCount(9);
  await expect(page.getByTestId("heatmap")).toBeVisible();
  await expect(page.getByTestId("best-params").first()).toContainText("n1");
  await page.getByTestId("job-chunks").screenshot({ path: "test-results/screenshots/fanout-chunks.png" });
  const chunks = await (await request.post(`${base}/api/job_chunks`, { data: { id } })).json();
  expect(chunks.map((c: { state: string }) => c.state)).toEqual(Array(9).fill("SUCCEEDED"));
  expect(chunks[8].end).toBe(2640);
  // The parent's log says how it was split.
  await expect(page.getByTestId("log-tail")).toContainText("fanned out: 2640 runs in 9 chunks");
  expect(problems.filter((p) => !p.includes("Failed to load resource"))).toEqual([]);
});

test("while its chunks finish, a fanned-out optimization's page shows the heatmap and top runs so far", async ({ page, request }) => {
  test.setTimeout(120_000);
  const problems = watchConsole(page);
  // n1 in 2..=100, n2 in 2..=300, n1 < n2: 24,651 runs in 83 chunks of up to 300.
  const id = await submitSma(request, { range: { start: 2, stop: 100, step: 1 } }, { range: { start: 2, stop: 300, step: 1 } });
  // Once the job runs, hold its row (as a slow database would): its chunks go on finishing,
  // but it cannot complete until the row is let go, so the page sees it RUNNING.
  const status = async () => (await (await request.post(`${base}/api/job_status`, { data: { id } })).json()).state;
  await expect.poll(status, { intervals: [50], timeout: 60_000 }).toBe("RUNNING");
  // And a first chunk is done before the row is held: in one run none had finished when the
  // page loaded, and none was recorded in the 60 s the row was held (0 of 83 on the page).
  const done = async () =>
    (await (await request.post(`${base}/api/job_chunks`, { data: { id } })).json()).filter(
      (c: { state: string }) => c.state === "SUCCEEDED",
    ).length;
  await expect.poll(done, { intervals: [50], timeout: 60_000 }).toBeGreaterThan(0);
  const holder = new Client({ connectionString: databaseUrl().replace(/\/postgres$/, `/${DB}`) });
  await holder.connect();
  await holder.query("BEGIN");
  await holder.query("SELECT 1 FROM jobs WHERE id = $1 FOR NO KEY UPDATE", [id]);
  try {
    await page.goto(`${base}/jobs/${id}`);
    await expect(page.locator("body[data-hydrated]")).toBeAttached();
    const partial = page.getByTestId("job-partial");
    await expect(partial).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId("partial-summary")).toHaveText(/^From \d+ of 83 chunks \(\d+ of 24651 runs\)/);
    await expect(partial.getByTestId("heatmap")).toBeVisible();
    await expect(partial.getByTestId("top-runs").locator("tbody tr").first()).toBeVisible();
    await partial.screenshot({ path: "test-results/screenshots/fanout-partial.png" });
  } finally {
    await holder.query("COMMIT");
    await holder.end();
  }
  // Let go: the job ends, and the full results take the place of the partial ones.
  await expect(page.getByTestId("job-panel").locator(".badge")).toHaveText("SUCCEEDED", { timeout: 90_000 });
  await expect(page.getByTestId("job-partial")).toHaveCount(0);
  await expect(page.getByTestId("best-params").first()).toContainText("n1");
  expect(problems.filter((p) => !p.includes("Failed to load resource"))).toEqual([]);
});
