import { test, expect, Page } from "@playwright/test";
import { sql, insertRunningJob } from "./db";
import { watchConsole } from "./console";
import { fillRange } from "./form";

const shots = "test-results/screenshots";

// No hydration warnings or errors in any test: every console error or warning fails it
// (a 4xx answer the test provokes on purpose logs "Failed to load resource", which is fine).
let problems: string[] = [];
test.beforeEach(({ page }) => {
  problems = watchConsole(page);
});
test.afterEach(() => {
  expect(problems.filter((p) => !p.includes("Failed to load resource"))).toEqual([]);
});

async function submit(page: Page, request: object): Promise<string> {
  const res = await page.request.post("/api/submit_job", { data: { request } });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).id;
}

/** Reads the panel's progress message every 250 ms until the job is terminal. */
async function watchMessages(page: Page, timeoutMs = 120_000): Promise<string[]> {
  const seen: string[] = [];
  const panel = page.getByTestId("job-panel");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const msg = (await panel.getByTestId("progress-message").textContent().catch(() => null)) ?? "";
    if (msg && seen[seen.length - 1] !== msg) seen.push(msg);
    const state = await panel.locator(".badge").textContent();
    if (state && ["SUCCEEDED", "FAILED", "CANCELLED"].includes(state.trim())) {
      const last = (await panel.getByTestId("progress-message").textContent().catch(() => null)) ?? "";
      if (last && seen[seen.length - 1] !== last) seen.push(last);
      return seen;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`job did not finish; saw ${seen.join(" | ")}`);
}

/** A deterministic daily random walk as OHLCV CSV (the bigger the series, the longer a sweep). */
function syntheticCsv(bars: number): string {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines = ["date,open,high,low,close,volume"];
  let price = 100;
  const start = Date.UTC(1990, 0, 1);
  for (let i = 0; i < bars; i++) {
    const open = price;
    const close = Math.max(1, open * (1 + (rand() - 0.5) * 0.04));
    const high = Math.max(open, close) * (1 + rand() * 0.01);
    const low = Math.min(open, close) * (1 - rand() * 0.01);
    const day = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
    lines.push(`${day},${open.toFixed(4)},${high.toFixed(4)},${low.toFixed(4)},${close.toFixed(4)},${Math.round(rand() * 1e6)}`);
    price = close;
  }
  return lines.join("\n") + "\n";
}

test("a long job's Step i/N, percentage and ETA advance across polls to 100 %", async ({ page }) => {
  // The test controls the length (40 steps × 250 ms = 10 s, five 2-second polls), not the
  // machine's speed.
  const id = await submit(page, { kind: "demo", steps: 40, step_ms: 250 });
  const response = await page.goto(`/?job=${id}`);
  // The page arrives compressed (and hydrates cleanly: the console check after each test).
  expect((await response!.allHeaders())["content-encoding"]).toMatch(/^(br|gzip)$/);
  const panel = page.getByTestId("job-panel");
  await expect(panel.getByTestId("log-path")).toHaveText(new RegExp(`(^|/)runs/${id}/artifacts/run\\.log$`));
  await expect(panel.getByTestId("progress-message")).toHaveText(/^Step \d+\/40$/, { timeout: 15_000 });
  // While it runs, the ETA and the rate are shown.
  await expect(panel.getByTestId("progress-eta")).toHaveText(/ETA \d/, { timeout: 10_000 });
  await expect(panel.getByTestId("progress-eta")).toContainText("/s");
  await page.screenshot({ path: `${shots}/demo-mid-run.png`, fullPage: true });

  const seen = await watchMessages(page, 60_000);
  const steps = seen.filter((m) => /^Step \d+\/40$/.test(m)).map((m) => Number(m.split(/[ /]/)[1]));
  expect(steps.length, seen.join(" | ")).toBeGreaterThanOrEqual(3);
  expect([...steps].sort((a, b) => a - b)).toEqual(steps); // never goes backwards
  expect(seen[seen.length - 1]).toBe("Step 40/40");
  await expect(panel.locator(".badge")).toHaveText("SUCCEEDED");
  await expect(panel.getByTestId("progress-percent")).toHaveText("100%");
  await expect(panel.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
  await expect(panel.getByTestId("progress-eta")).toHaveCount(0); // no ETA once it is done
});

test("an optimization started from the form ends at Run N/N with results and the heatmap", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  // An uploaded series, so the upload path is covered too.
  const name = `walk ${Date.now()}`;
  await page.getByTestId("dataset-name").fill(name);
  await page.getByTestId("csv-file").setInputFiles({
    name: "walk.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(syntheticCsv(3_000)),
  });
  await expect(page.getByTestId("upload-ok")).toContainText("3000 bars");
  await expect(page.getByTestId("dataset").locator("option:checked")).toContainText(name);
  // The SMA crossover over every n1 < n2 in 2..=100: 4,851 runs.
  await page.getByTestId("job-type").selectOption("optimize");
  await fillRange(page, "n1", ["2", "100", "1"]);
  await fillRange(page, "n2", ["2", "100", "1"]);
  await expect(page.getByTestId("form-error")).toHaveCount(0);
  await page.getByTestId("start").click();

  await expect(page).toHaveURL(/\?job=[0-9a-f-]{36}$/);
  const panel = page.getByTestId("job-panel");
  await expect(panel).toBeVisible();
  await expect(panel.getByTestId("log-path")).toHaveText(/(^|\/)runs\/[0-9a-f-]{36}\/artifacts\/run\.log$/);
  await expect(panel.locator(".badge")).toHaveText("SUCCEEDED", { timeout: 120_000 });
  // The last step is the robustness check: 400 of the 4,851 runs as trials, C(16, 8) = 12,870
  // CSCV splits and 1,000 bootstrap draws.
  await expect(panel.getByTestId("progress-message")).toHaveText("Robustness 14270/14270");
  await expect(panel.getByTestId("progress-percent")).toHaveText("100%");
  await expect(page.getByTestId("log-tail")).toContainText("Run ");

  // Results appear without a reload.
  await expect(page.getByTestId("results")).toBeVisible();
  await expect(page.getByTestId("heatmap")).toBeVisible();
  await expect(page.getByTestId("best-params").first()).toContainText("n1");
  await expect(page.getByTestId("top-runs")).toBeVisible();
  // Is the optimum real? Each figure with its reading, and the method one click away.
  const robustness = page.getByTestId("robustness");
  await expect(robustness.getByTestId("robustness-dsr")).toContainText(/Likely real|Inconclusive|Likely luck/);
  await expect(robustness.getByTestId("robustness-pbo")).toContainText(/splits the in-sample best ranked/);
  await expect(robustness.getByTestId("robustness-bootstrap")).toContainText("p = ");
  await expect(robustness.getByTestId("robustness-trials")).toContainText("400 of the 4,851 runs");
  await expect(page.getByTestId("robust-best")).toContainText("n1");
  await page.screenshot({ path: `${shots}/optimize-done.png`, fullPage: true });
  const href = await robustness.getByTestId("robustness-dsr").getByRole("link").getAttribute("href");
  expect(href).toBe("/docs/robustness#deflated-sharpe-ratio");
  await page.goto(href!);
  await expect(page.locator("#deflated-sharpe-ratio")).toHaveText("Deflated Sharpe Ratio");
});

test("a walk-forward job reports Param p/P, Fold f/F and shows its folds", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("body[data-hydrated]")).toBeAttached(); // the form reacts now
  await page.getByTestId("dataset").selectOption("5a3b1e00-0000-4000-8000-000000000001");
  await page.getByTestId("job-type").selectOption("walk_forward");
  await page.getByTestId("folds").fill("4");
  // A grid large enough that each fold's in-sample sweep outlasts the 250 ms between progress
  // writes (n1 in 2..=60, n2 in 2..=150, n1 < n2: 7,021 runs a fold), so its "Param" lines land.
  for (const [id, value] of [["n1-start", "2"], ["n1-stop", "60"], ["n1-step", "1"],
                             ["n2-start", "2"], ["n2-stop", "150"], ["n2-step", "1"]]) {
    await page.getByTestId(`param-${id}`).fill(value);
  }
  await page.getByTestId("start").click();
  const panel = page.getByTestId("job-panel");
  const seen = await watchMessages(page);
  // Each fold: its runs, then its robustness step; last, the out-of-sample bootstrap.
  expect(seen[seen.length - 1]).toBe("Robustness 1000/1000, out of sample");
  // Every written milestone is in the log, in the walk-forward format.
  const log = page.getByTestId("log-tail");
  // (Writes coalesce when the folds run fast; the last one, the out-of-sample test, always lands.)
  await expect(log).toContainText("out of sample");
  const lines = (await log.textContent())!.split("\n").filter((l) => l.includes(" progress "));
  expect(lines.length).toBeGreaterThan(0);
  for (const l of lines) {
    expect(l).toMatch(/progress \d+% (Param \d+\/\d+|Robustness \d+\/\d+), (Fold \d+\/\d+|out of sample)/);
  }
  expect(lines.some((l) => / Param \d+\/\d+, Fold \d+\/4/.test(l))).toBe(true);
  await expect(panel.locator(".badge")).toHaveText("SUCCEEDED");
  await expect(page.getByTestId("fold-table")).toBeVisible();
  await expect(page.getByTestId("fold-pbo")).toHaveCount(4);
  await expect(page.getByTestId("robustness-oos-bootstrap")).toContainText("p = ");
  await expect(page.getByTestId("wf-efficiency")).toBeVisible();
  await page.screenshot({ path: `${shots}/walk-forward-done.png`, fullPage: true });
});

test("cancel a running job: it ends CANCELLED with its partial progress", async ({ page }) => {
  const id = await submit(page, { kind: "demo", steps: 200, step_ms: 100 });
  await page.goto(`/jobs/${id}`);
  const panel = page.getByTestId("job-panel");
  await expect(panel.locator(".badge")).toHaveText("RUNNING", { timeout: 15_000 });
  await expect(panel.getByTestId("progress-message")).toHaveText(/^Step \d+\/200$/, { timeout: 15_000 });
  await page.getByTestId("cancel").click();
  await expect(panel.locator(".badge")).toHaveText("CANCELLED", { timeout: 15_000 });
  const pct = Number((await panel.getByTestId("progress-percent").textContent())!.replace("%", ""));
  expect(pct).toBeGreaterThan(0);
  expect(pct).toBeLessThan(100);
  await expect(page.getByTestId("cancel")).toHaveCount(0);
  await expect(page.getByTestId("log-tail")).toContainText("cancelled; partial progress kept");
  await page.screenshot({ path: `${shots}/cancelled.png`, fullPage: true });
});

test("reloading the page mid-job brings the Active Job panel back", async ({ page }) => {
  const id = await submit(page, { kind: "demo", steps: 60, step_ms: 100 });
  await page.goto(`/?job=${id}`);
  const panel = page.getByTestId("job-panel");
  await expect(panel.getByTestId("progress-message")).toHaveText(/^Step \d+\/60$/, { timeout: 15_000 });
  await page.reload();
  await expect(panel.getByTestId("job-id")).toHaveText(id);
  await expect(panel.locator(".badge")).toHaveText(/RUNNING|SUCCEEDED/);
  await expect(panel.locator(".badge")).toHaveText("SUCCEEDED", { timeout: 30_000 });
});

test("a broken CSV upload shows the server's line-level errors", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  await page.getByTestId("dataset-name").fill("broken upload");
  await page.getByTestId("csv-file").setInputFiles({
    name: "broken.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("date,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,1,0.5,2,1\n2024-01-03,x,2,1,1.5\n"),
  });
  const errors = page.getByTestId("upload-errors");
  await expect(errors).toContainText("line 3");
  await expect(errors).toContainText("line 4, column open");
  await page.screenshot({ path: `${shots}/csv-errors.png`, fullPage: true });
});

test("polling pauses while the page is hidden and resumes when shown", async ({ page }) => {
  const id = await submit(page, { kind: "demo", steps: 300, step_ms: 100 });
  let requests = 0;
  page.on("request", (r) => {
    if (r.url().endsWith("/api/job_status")) requests++;
  });
  await page.goto(`/jobs/${id}`);
  await expect.poll(() => requests, { timeout: 10_000 }).toBeGreaterThan(0);
  const setHidden = (hidden: boolean) =>
    page.evaluate((h) => {
      Object.defineProperty(document, "visibilityState", { value: h ? "hidden" : "visible", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    }, hidden);
  await setHidden(true);
  await page.waitForTimeout(2_500); // let an in-flight cycle finish
  const before = requests;
  await page.waitForTimeout(5_000);
  expect(requests).toBe(before);
  await setHidden(false);
  await expect.poll(() => requests, { timeout: 6_000 }).toBeGreaterThan(before);
  await page.request.post("/api/cancel_job", { data: { id } });
});

test("a failed poll shows a reconnecting notice and polling recovers", async ({ page }) => {
  const id = await submit(page, { kind: "demo", steps: 300, step_ms: 100 });
  await page.goto(`/jobs/${id}`);
  const panel = page.getByTestId("job-panel");
  await expect(panel.getByTestId("progress-message")).toHaveText(/^Step \d+\/300$/, { timeout: 15_000 });
  await page.route("**/api/job_status", (route) => route.abort());
  await expect(page.getByTestId("reconnecting")).toBeVisible({ timeout: 10_000 });
  const stuck = await panel.getByTestId("progress-message").textContent();
  await page.unroute("**/api/job_status");
  await expect(page.getByTestId("reconnecting")).toBeHidden({ timeout: 20_000 });
  await expect(panel.getByTestId("progress-message")).not.toHaveText(stuck!, { timeout: 10_000 });
  await page.request.post("/api/cancel_job", { data: { id } });
});

test("the jobs page filters by state", async ({ page }) => {
  const cancelled = await submit(page, { kind: "demo", steps: 5, step_ms: 500 });
  await page.request.post("/api/cancel_job", { data: { id: cancelled } });
  // A queued job ends at once; a running one at its next progress report.
  await expect
    .poll(async () => (await (await page.request.post("/api/job_status", { data: { id: cancelled } })).json()).state)
    .toBe("CANCELLED");
  await page.goto("/jobs");
  await expect(page.getByTestId("job-row").first()).toBeVisible();
  await page.getByTestId("filter-state").selectOption("CANCELLED");
  await page.getByTestId("apply-filter").click();
  await expect(page).toHaveURL(/state=CANCELLED/);
  const rows = page.getByTestId("job-row");
  await expect(rows.first()).toBeVisible();
  const states = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-state")));
  expect(states.length).toBeGreaterThan(0);
  expect(new Set(states)).toEqual(new Set(["CANCELLED"]));
  await expect(page.locator(`a[href="/jobs/${cancelled}"]`)).toBeVisible();
  const [{ n }] = await sql<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE state = 'CANCELLED'`);
  await expect(page.getByTestId("jobs-total")).toHaveText(`${n} job(s)`);
  await page.screenshot({ path: `${shots}/jobs-filtered.png`, fullPage: true });
});

test.describe("before or without the WASM", () => {
  test.use({ javaScriptEnabled: false });

  test("the server-rendered page shows the state and progress, and Refresh shows the news", async ({ page }) => {
    const id = await insertRunningJob(0.3, "Run 30/100");
    await page.goto(`/jobs/${id}`);
    const panel = page.getByTestId("job-panel");
    await expect(panel.locator(".badge")).toHaveText("RUNNING");
    await expect(panel.getByTestId("progress-message")).toHaveText("Run 30/100");
    await expect(panel.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "30");
    await sql(`UPDATE jobs SET progress = 0.6, progress_message = 'Run 60/100' WHERE id = $1`, [id]);
    await page.getByTestId("refresh").click();
    await expect(panel.getByTestId("progress-message")).toHaveText("Run 60/100");
    await expect(panel.getByTestId("progress-percent")).toHaveText("60%");
    await sql(
      `UPDATE jobs SET state = 'CANCELLED', lease = NULL, finished_at = now() WHERE id = $1`,
      [id],
    );
  });

  test("the jobs page filter works as a plain form", async ({ page }) => {
    // At least one SUCCEEDED job exists, so the filter has something to show.
    const id = await insertRunningJob(1.0, "Step 1/1");
    await sql(
      `UPDATE jobs SET state = 'SUCCEEDED', result = '{}'::jsonb, lease = NULL, finished_at = now()
       WHERE id = $1`,
      [id],
    );
    await page.goto("/jobs");
    await page.getByTestId("filter-state").selectOption("SUCCEEDED");
    await page.getByTestId("apply-filter").click();
    await expect(page).toHaveURL(/state=SUCCEEDED/);
    const states = await page.getByTestId("job-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-state")));
    expect(states.length).toBeGreaterThan(0);
    for (const s of states) expect(s).toBe("SUCCEEDED");
    await expect(page.locator(`a[href="/jobs/${id}"]`)).toBeVisible();
  });
});
