import { test, expect } from "@playwright/test";
import { watchConsole } from "./console";
import { fillRange } from "./form";

// Your own strategies: write a program in the editor, see the checker's error at its line as
// you type, fix it, save it, and run an optimization of it from the New run form to SUCCEEDED.
let problems: string[] = [];
test.beforeEach(({ page }) => {
  problems = watchConsole(page);
});
test.afterEach(() => {
  expect(problems.filter((p) => !p.includes("Failed to load resource"))).toEqual([]);
});

const SAMPLE = "5a3b1e00-0000-4000-8000-000000000001";
const shots = "test-results/screenshots";

function program(name: string, entry: string): string {
  return [
    `strategy "${name}"`,
    "param n: int 2..100 = 14",
    "param lo: float 5..50 = 30",
    `long entry: ${entry}`,
    "long exit:  rsi(close, n) > 70",
    "",
  ].join("\n");
}

test("a strategy written in the editor is checked as you type, saved, and optimized to SUCCEEDED", async ({ page }) => {
  test.setTimeout(120_000);
  const name = `RSI dip ${Date.now()}`;
  await page.goto("/strategies");
  await page.getByTestId("new-strategy").click();
  await expect(page).toHaveURL(/\/strategies\/new$/);
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  // The starter program checks, and is highlighted.
  await expect(page.getByTestId("check-ok")).toBeVisible();
  await expect(page.getByTestId("editor-line-1").locator(".tok-kw")).toHaveText("strategy");

  // A misspelt function on line 4: the error is listed with its line and column, the line is
  // marked, and Save is off.
  const editor = page.getByTestId("strategy-source");
  await editor.fill(program(name, "rsii(close, n) < lo"));
  const errors = page.getByTestId("rule-errors");
  await expect(errors).toContainText("Line 4, column 13");
  await expect(errors).toContainText("rsii");
  await expect(page.getByTestId("editor-line-4")).toHaveClass(/rl-line--error/);
  await expect(page.getByTestId("editor-line-3")).not.toHaveClass(/rl-line--error/);
  await expect(page.getByTestId("save-strategy")).toBeDisabled();
  await page.screenshot({ path: `${shots}/strategy-error.png`, fullPage: true });

  // Fixed: it checks, the declared parameters are listed, and it saves as version 1.
  await editor.fill(program(name, "rsi(close, n) < lo"));
  await expect(page.getByTestId("check-ok")).toContainText(name);
  const declared = page.getByTestId("declared-params");
  await expect(declared).toContainText("lo");
  await expect(declared).toContainText("float");
  await expect(page.getByTestId("editor-line-4").locator(".tok-fn")).toHaveText("rsi");
  await page.getByTestId("save-strategy").click();
  await expect(page.getByTestId("save-result")).toContainText("as version 1");
  await expect(page).toHaveURL(/\/strategies\/[0-9a-f-]{36}$/);

  // The New run form offers it, with inputs built from its declared parameters.
  await page.getByTestId("run-strategy").click();
  await expect(page).toHaveURL(/\/\?strategy=[0-9a-f-]{36}$/);
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  await expect(page.getByTestId("strategy").locator("option:checked")).toContainText(name);
  await page.getByTestId("dataset").selectOption(SAMPLE);
  await page.getByTestId("job-type").selectOption("optimize");
  await expect(page.getByTestId("param-n1-start")).toHaveCount(0);
  await fillRange(page, "n", ["10", "20", "5"]);
  await fillRange(page, "lo", ["20", "40", "10"]);
  await expect(page.getByTestId("form-error")).toHaveCount(0);
  await page.screenshot({ path: `${shots}/strategy-run-form.png`, fullPage: true });
  await page.getByTestId("start").click();

  await expect(page).toHaveURL(/\?job=[0-9a-f-]{36}$/);
  const panel = page.getByTestId("job-panel");
  await expect(panel.locator(".badge")).toHaveText("SUCCEEDED", { timeout: 60_000 });
  await expect(page.getByTestId("results")).toBeVisible();
  await expect(page.getByTestId("best-params").first()).toContainText("lo");

  // The strategies page lists it at version 1.
  await page.goto("/strategies");
  await expect(page.getByTestId("strategy-row").filter({ hasText: name }).locator("td").nth(1)).toHaveText("1");
});

test("the rule-language reference renders its tables and examples", async ({ page }) => {
  await page.goto("/docs/rules");
  await expect(page.getByTestId("docs").locator("h1")).toHaveText("The rule language");
  await expect(page.getByTestId("docs").locator("table").first()).toContainText("long entry: condition");
  await expect(page.getByTestId("docs").locator("pre").first()).toContainText("crosses_above");
});
