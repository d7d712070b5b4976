import { test, expect, Page } from "@playwright/test";
import { watchConsole } from "./console";

const SAMPLE = "5a3b1e00-0000-4000-8000-000000000001";

/** A three-parameter RSI optimization (3 × 2 × 2 runs), run to SUCCEEDED; its id. */
async function optimized(page: Page): Promise<string> {
  const res = await page.request.post("/api/submit_job", {
    data: {
      request: {
        kind: "optimize",
        dataset_id: SAMPLE,
        strategy: "rsi_reversion",
        grid: { period: { list: [7, 14, 21] }, lower: { list: [25, 30] }, upper: { list: [70, 75] } },
        metric: "sharpe",
      },
    },
  });
  expect(res.status(), await res.text()).toBe(200);
  const id: string = (await res.json()).id;
  await expect
    .poll(
      async () => (await (await page.request.post("/api/job_status", { data: { id } })).json()).state,
      { timeout: 60_000 },
    )
    .toBe("SUCCEEDED");
  return id;
}

/** The heatmap's axis titles: y first, then x (their order in the SVG). */
function axisTitles(page: Page) {
  return page.getByTestId("grid-explorer").getByTestId("heatmap").locator(".chart__axis-title");
}

test("the grid explorer's axes and fold live in the URL and reopen the same view", async ({ page, browser }) => {
  const problems = watchConsole(page);
  const id = await optimized(page);

  await page.goto(`/jobs/${id}`);
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  const explorer = page.getByTestId("grid-explorer");
  // The default view: period × lower, best over upper.
  await expect(axisTitles(page)).toHaveText(["lower", "period"]);
  await expect(explorer.getByTestId("grid-x")).toHaveValue("period");
  await expect(explorer.getByTestId("grid-y")).toHaveValue("lower");
  await expect(explorer.getByTestId("grid-what")).toHaveText(/best Sharpe Ratio over upper/);

  // Another y axis: the URL and the chart follow at once.
  await explorer.getByTestId("grid-y").selectOption("upper");
  await expect(page).toHaveURL(new RegExp(`/jobs/${id}\\?x=period&y=upper&fold=max$`));
  await expect(axisTitles(page)).toHaveText(["upper", "period"]);
  await expect(explorer.getByTestId("grid-what")).toHaveText(/over lower\./);

  // Another fold.
  await explorer.getByTestId("grid-fold").selectOption("median");
  await expect(page).toHaveURL(/y=upper&fold=median$/);
  await expect(explorer.getByTestId("grid-what")).toHaveText(/the median Sharpe Ratio over lower/);

  // A slice at lower = 30.
  await explorer.getByTestId("grid-at-lower").selectOption("30");
  await expect(page).toHaveURL(/fold=slice&at_lower=30$/);
  await expect(explorer.getByTestId("grid-what")).toHaveText(/one run, at lower = 30\./);
  const sliced = page.url();

  // One parameter: a line.
  await explorer.getByTestId("grid-y").selectOption("none");
  await expect(page).toHaveURL(/y=none/);
  await expect(explorer.getByTestId("line-chart")).toBeVisible();
  await expect(explorer.getByTestId("line-chart").locator(".chart__axis-title")).toHaveText("period");
  // The page itself stayed: no reload of the job.
  await expect(page.getByTestId("job-panel")).toBeVisible();

  // The shared URL shows the same view in a fresh page, rendered on the server.
  const fresh = await browser.newPage();
  const freshProblems = watchConsole(fresh);
  const answer = await fresh.goto(sliced);
  expect(answer?.status()).toBe(200);
  await expect(fresh.locator("body[data-hydrated]")).toBeAttached();
  const again = fresh.getByTestId("grid-explorer");
  await expect(again.getByTestId("heatmap").locator(".chart__axis-title")).toHaveText(["upper", "period"]);
  await expect(again.getByTestId("grid-fold")).toHaveValue("slice");
  await expect(again.getByTestId("grid-at-lower")).toHaveValue("30");
  await expect(again.getByTestId("grid-what")).toHaveText(/one run, at lower = 30\./);
  await fresh.close();

  expect(problems).toEqual([]);
  expect(freshProblems).toEqual([]);
});

test("without the WASM the explorer is a plain GET form", async ({ browser, page }) => {
  const id = await optimized(page);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const plain = await context.newPage();
  await plain.goto(`/jobs/${id}`);
  const explorer = plain.getByTestId("grid-explorer");
  await expect(axisTitles(plain)).toHaveText(["lower", "period"]);
  await explorer.getByTestId("grid-x").selectOption("upper");
  await explorer.getByTestId("grid-fold").selectOption("mean");
  await explorer.getByTestId("grid-apply").click();
  await expect(plain).toHaveURL(/x=upper&y=lower&fold=mean/);
  await expect(axisTitles(plain)).toHaveText(["lower", "upper"]);
  await expect(explorer.getByTestId("grid-what")).toHaveText(/the mean Sharpe Ratio over period/);

  // A view that cannot be (x = y) says which field is wrong and keeps the controls.
  await plain.goto(`/jobs/${id}?x=lower&y=lower`);
  await expect(explorer.getByTestId("grid-error")).toContainText("y: must differ from x (lower)");
  await expect(explorer.getByTestId("grid-controls")).toBeVisible();
  await context.close();
});
