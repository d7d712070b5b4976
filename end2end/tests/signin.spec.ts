import { test, expect } from "@playwright/test";
import { ChildProcess } from "child_process";
import { databaseUrl } from "./db";
import { watchConsole } from "./console";
import { freePort, spawnServer, waitUp } from "./servers";

// A second server with RUNBOARD_TOKEN set, on a free port, sharing the e2e database: the
// browser signs in once and then the page hydrates, polls and submits with its session cookie.

const TOKEN = "e2e-token-0123456789abcdef";
let server: ChildProcess | undefined;
let base = "";

test.beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawnServer(port, {
    DATABASE_URL: databaseUrl(),
    RUNBOARD_TOKEN: TOKEN,
    RUNBOARD_MODE: "web", // the main e2e server's workers run the jobs
  });
  await waitUp(`${base}/signin`, 30_000);
});

test.afterAll(async () => {
  server?.kill("SIGTERM");
});

test("with a token, the browser signs in once and the page then works with its cookie", async ({ page, request }) => {
  const problems = watchConsole(page);
  // The API refuses without the token, and takes it as a bearer.
  const anonymous = await request.post(`${base}/api/list_jobs`, { data: {} });
  expect(anonymous.status()).toBe(401);
  expect((await anonymous.json()).kind).toBe("unauthorized");
  const bearer = await request.post(`${base}/api/submit_job`, {
    data: { request: { kind: "demo", steps: 20, step_ms: 150 } },
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(bearer.status(), await bearer.text()).toBe(200);
  const id = (await bearer.json()).id;

  // A page without a session goes to the sign-in page and comes back after it.
  await page.goto(`${base}/jobs/${id}`);
  await expect(page).toHaveURL(new RegExp(`/signin\\?next=/jobs/${id}$`));
  await page.locator("#token").fill("wrong-token-0123456789");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("That token is not valid.");
  await page.locator("#token").fill(TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${base}/jobs/${id}`);

  const cookie = (await page.context().cookies(base)).find((c) => c.name === "runboard_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Strict");

  // The page hydrates and its polls (server functions) carry the cookie to the end.
  const panel = page.getByTestId("job-panel");
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  await expect(panel.locator(".badge")).toHaveText("SUCCEEDED", { timeout: 30_000 });
  await expect(panel.getByTestId("progress-message")).toHaveText("Step 20/20");
  // A job started from the form is accepted too (same-origin, with the cookie).
  await page.goto(`${base}/`);
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  await page.getByTestId("dataset").selectOption("5a3b1e00-0000-4000-8000-000000000001");
  await page.getByTestId("job-type").selectOption("backtest");
  await page.getByTestId("start").click();
  await expect(page).toHaveURL(/\?job=[0-9a-f-]{36}$/);
  await expect(page.getByTestId("job-panel").locator(".badge")).toHaveText("SUCCEEDED", { timeout: 30_000 });
  // The one expected complaint: the browser logs the 401 answer to the wrong token.
  const unexpected = problems.filter((p) => !p.includes("status of 401 (Unauthorized)"));
  expect(unexpected).toEqual([]);
  expect(problems.length).toBe(1);
});
