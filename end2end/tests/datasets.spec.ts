import { test, expect } from "@playwright/test";
import { watchConsole } from "./console";

// Big files stream in: the browser sends the file itself to POST /api/datasets (an import job
// on the server, parsed as it arrives), the progress bar follows the bytes, and the dataset is
// listed and charted, and the Delete button removes it.
let problems: string[] = [];
test.beforeEach(({ page }) => {
  problems = watchConsole(page);
});
test.afterEach(() => {
  expect(problems.filter((p) => !p.includes("Failed to load resource"))).toEqual([]);
});

/** `rows` one-minute bars as CSV (unix seconds), a random walk. */
function minuteCsv(rows: number): string {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines = ["timestamp,open,high,low,close,volume"];
  let price = 100;
  for (let i = 0; i < rows; i++) {
    const open = price;
    const close = Math.max(1, open * (1 + (rand() - 0.5) * 0.002));
    lines.push(
      `${1_700_000_000 + i * 60},${open.toFixed(4)},${(Math.max(open, close) * 1.0003).toFixed(4)},` +
        `${(Math.min(open, close) * 0.9997).toFixed(4)},${close.toFixed(4)},${100 + (i % 900)}`,
    );
    price = close;
  }
  return lines.join("\n") + "\n";
}

test("a 200,000-row CSV streams in through the browser as an import job and gets a dataset page", async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto("/");
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  const name = `minutes ${Date.now()}`;
  await page.getByTestId("dataset-name").fill(name);
  await page.getByTestId("csv-file").setInputFiles({
    name: "minutes.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(minuteCsv(200_000)),
  });
  await expect(page.getByTestId("upload-ok")).toContainText("200000 bars", { timeout: 60_000 });
  await expect(page.getByTestId("dataset").locator("option:checked")).toContainText(name);

  // The import ran as a job: listed among the imports, its last progress "Row 200,000 · … MB".
  await page.goto("/jobs?kind=import");
  await expect(page.locator("table")).toContainText("Import");
  const list = await (await page.request.post("/api/list_jobs", { data: { kind: "import" } })).json();
  expect(list.jobs[0].state).toBe("SUCCEEDED");
  expect(list.jobs[0].progress_message).toMatch(/^Row 200,000 · \d+\.\d MB read$/);

  // The datasets page lists it; its page charts the close (a few thousand points at most).
  await page.goto("/datasets");
  const row = page.getByTestId("dataset-row").filter({ hasText: name });
  await expect(row).toContainText("200,000");
  await row.getByRole("link").click();
  await expect(page.getByTestId("dataset-bars")).toHaveText("200,000");
  const chart = page.getByTestId("price-chart");
  await expect(chart).toBeVisible();
  expect((await page.content()).length).toBeLessThan(1_000_000);
});

test("the Delete button removes a dataset from the list (the 409 while a job uses one is in it/datasets.rs)", async ({ page }) => {
  const name = `unused ${Date.now()}`;
  const res = await page.request.post(`/api/datasets?name=${encodeURIComponent(name)}`, {
    headers: { "content-type": "text/csv" },
    data: minuteCsv(300),
  });
  expect(res.status(), await res.text()).toBe(200);
  const job = await res.json();
  const id = (await (await page.request.post("/api/job_result", { data: { id: job.id } })).json()).result.id;
  await page.goto("/datasets");
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  const row = page.getByTestId("dataset-row").filter({ hasText: name });
  const pager = page.locator(".pager .muted");
  const count = async () => Number((await pager.innerText()).match(/· ([\d,]+) datasets/)![1].replace(/,/g, ""));
  const before = await count();
  await row.getByTestId("delete-dataset").click();
  await expect(row).toBeHidden();
  // The pager's count follows without a reload.
  await expect.poll(count).toBe(before - 1);
  const after = await page.request.post("/api/dataset_chart", { data: { id } });
  expect(after.status()).toBe(400);
});
