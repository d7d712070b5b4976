// Compare and reproduce: tick two backtests in /jobs, compare them side by side (two columns,
// two curves on one chart), then run one again from its page and land on the new job.
import { test, expect, Page } from "@playwright/test";
import { watchConsole } from "./console";

/** The built-in synthetic sample (server/src/datasets.rs, SAMPLE_DATASET_ID). */
const SAMPLE = "5a3b1e00-0000-4000-8000-000000000001";

async function submitBacktest(page: Page, cash: number): Promise<string> {
  const request = {
    kind: "backtest",
    dataset_id: SAMPLE,
    strategy: "sma_cross",
    params: { n1: 10, n2: 30 },
    cash,
  };
  const res = await page.request.post("/api/submit_job", { data: { request } });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).id;
}

async function waitSucceeded(page: Page, id: string) {
  await expect
    .poll(
      async () => (await (await page.request.post("/api/job_status", { data: { id } })).json()).state,
      { timeout: 30_000 },
    )
    .toBe("SUCCEEDED");
}

test("two ticked backtests compare side by side, and Run again queues a new job", async ({ page }) => {
  const problems = watchConsole(page);
  const a = await submitBacktest(page, 10_000);
  const b = await submitBacktest(page, 25_000);
  await waitSucceeded(page, a);
  await waitSucceeded(page, b);

  await page.goto("/jobs");
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  const rowA = page.locator(`tr[data-id="${a}"]`);
  const rowB = page.locator(`tr[data-id="${b}"]`);
  // Research context in the row: strategy, dataset, parameters, headline figures.
  await expect(rowA.getByTestId("job-research")).toContainText("SMA crossover");
  await expect(rowA.getByTestId("job-research")).toContainText("Sample");
  await expect(rowA.getByTestId("job-research")).toContainText("n1 = 10, n2 = 30");
  await expect(rowA.getByTestId("job-figures")).toContainText("Sharpe");
  await expect(rowA.getByTestId("job-figures")).toContainText("Return");

  await rowA.getByTestId("compare-pick").check();
  await rowB.getByTestId("compare-pick").check();
  await expect(page.getByTestId("compare-count")).toHaveText("2 ticked");
  await page.getByTestId("compare-selected").click();
  await expect(page).toHaveURL(new RegExp(`/compare\\?ids=${a},${b}$`));
  await expect(page.getByTestId("compare-column")).toHaveCount(2);
  await expect(page.getByTestId("compare-column").first()).toContainText(a.slice(0, 8));
  await expect(page.getByTestId("compare-table")).toContainText("Sharpe ratio");
  await expect(page.getByTestId("overlay-chart").locator("path[data-series]")).toHaveCount(2);

  // Run again from the job page: a new job with the same request.
  await page.goto(`/jobs/${a}`);
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  await expect(page.getByTestId("program-version")).toHaveText(/^\d+\.\d+\.\d+( \([0-9a-f]{12}\))?$/);
  await expect(page.getByTestId("dataset-hash")).toHaveText(/^[0-9a-f]{12}$/);
  await expect(page.getByTestId("export-csv")).toHaveAttribute("href", `/api/jobs/${a}/result.csv`);
  await page.getByTestId("run-again").click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page).not.toHaveURL(new RegExp(a));
  const copy = page.url().split("/").pop()!;
  await expect(page.getByTestId("job-panel").getByTestId("job-id")).toHaveText(copy);
  const repro = await (await page.request.post("/api/job_repro", { data: { id: copy } })).json();
  const original = await (await page.request.post("/api/job_repro", { data: { id: a } })).json();
  expect(repro.request).toEqual(original.request);

  expect(problems).toEqual([]);
});

test.describe("without the WASM", () => {
  test.use({ javaScriptEnabled: false });

  test("the compare form still works, and a bad list gets a clear message", async ({ page }) => {
    const a = await submitBacktest(page, 10_000);
    const b = await submitBacktest(page, 10_000);
    await waitSucceeded(page, a);
    await waitSucceeded(page, b);
    await page.goto("/jobs");
    await page.locator(`tr[data-id="${a}"]`).getByTestId("compare-pick").check();
    await page.locator(`tr[data-id="${b}"]`).getByTestId("compare-pick").check();
    await page.getByTestId("compare-selected").click();
    await expect(page).toHaveURL(/\/compare\?ids=.*&ids=/);
    await expect(page.getByTestId("compare-column")).toHaveCount(2);

    const bad = await page.goto(`/compare?ids=${a}`);
    expect(bad?.status()).toBe(400);
    await expect(page.getByTestId("compare-error")).toContainText("pick at least 2 jobs");
  });
});
