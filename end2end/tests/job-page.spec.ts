import { test, expect } from "@playwright/test";
import { randomUUID } from "crypto";
import { sql, insertRunningJob } from "./db";
import { watchConsole } from "./console";

test("the job page updates by itself while the job runs and stops polling when it ends", async ({ page }) => {
  const problems = watchConsole(page);
  const id = await insertRunningJob(0.2, "Run 20/100");
  let statusRequests = 0;
  page.on("request", (req) => {
    if (req.url().endsWith("/api/job_status")) statusRequests++;
  });

  await page.goto(`/jobs/${id}`);
  const panel = page.getByTestId("job-panel");
  await expect(panel.getByTestId("job-id")).toHaveText(id);
  await expect(panel.getByTestId("log-path")).toHaveText(`runs/${id}/artifacts/run.log`);
  await expect(panel.locator(".badge")).toHaveText("RUNNING");
  await expect(panel.getByTestId("progress-message")).toHaveText("Run 20/100");
  await expect(panel.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "20");

  // Change the row behind the page's back: the poll picks it up without a reload.
  await sql(`UPDATE jobs SET progress = 0.45, progress_message = 'Run 45/100' WHERE id = $1`, [id]);
  await expect(panel.getByTestId("progress-message")).toHaveText("Run 45/100", { timeout: 8_000 });
  await expect(panel.getByTestId("progress-percent")).toHaveText("45%");
  await expect(panel.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "45");
  expect(statusRequests).toBeGreaterThan(0);

  await sql(
    `UPDATE jobs SET state = 'SUCCEEDED', progress = 1.0, progress_message = 'Run 100/100',
        result = '{}'::jsonb, lease = NULL, finished_at = now() WHERE id = $1`,
    [id],
  );
  await expect(panel.locator(".badge")).toHaveText("SUCCEEDED", { timeout: 8_000 });
  await expect(panel.getByTestId("progress-percent")).toHaveText("100%");

  // Terminal: no further status requests.
  const seen = statusRequests;
  await page.waitForTimeout(5_000);
  expect(statusRequests).toBe(seen);
  expect(problems).toEqual([]);
});

test("a malformed or unknown job id gets a clear error page and API answer", async ({ page, request }) => {
  const problems = watchConsole(page);
  const bad = await page.goto("/jobs/not-a-uuid");
  expect(bad?.status()).toBe(400);
  await expect(page.getByTestId("job-error-page")).toContainText("not a valid job id");

  const unknown = randomUUID();
  const missing = await page.goto(`/jobs/${unknown}`);
  expect(missing?.status()).toBe(404);
  await expect(page.getByTestId("job-error-page")).toContainText(`no such job: ${unknown}`);

  const api = await request.post("/api/job_status", { data: { id: "nope" } });
  expect(api.status()).toBe(400);
  expect(await api.json()).toEqual({ kind: "invalid_job_id", input: "nope" });
  const api404 = await request.post("/api/job_status", { data: { id: unknown } });
  expect(api404.status()).toBe(404);
  expect(await api404.json()).toEqual({ kind: "no_such_job", id: unknown });
  const garbage = await request.post("/api/job_status", {
    headers: { "content-type": "application/json" },
    data: "{not json",
  });
  expect(garbage.status()).toBe(400);
  expect((await garbage.json()).kind).toBe("invalid_request");
  // The 4xx answers are expected; only unexpected console errors count.
  expect(problems.filter((p) => !p.includes("Failed to load resource"))).toEqual([]);
});
