import { test, expect, APIRequestContext } from "@playwright/test";
import { randomUUID } from "crypto";
import { sql } from "./db";
import { watchConsole } from "./console";

// Absurd data must be refused at the door or contained: a job page over extreme timestamps
// renders at once (it once made the server allocate gigabytes in the time-axis tick loop).

const DAY = 86_400;
const YEAR_1900 = -2_208_988_800; // 1900-01-01T00:00:00Z
const LATE_2199 = 7_258_118_399; // 2199-12-31T23:59:59Z

function price(i: number): number {
  return 100 + 10 * Math.sin(i / 3) + i * 0.05;
}

/** 80 bars: the first in 1900, the last at the end of 2199, daily in 2000 between. */
function extremeCsv(): string {
  const rows = ["time,open,high,low,close,volume"];
  for (let i = 0; i < 80; i++) {
    const t = i === 0 ? YEAR_1900 : i === 79 ? LATE_2199 : 946_684_800 + i * DAY;
    const c = price(i);
    rows.push(`${t},${c},${c + 1},${c - 1},${c},1000`);
  }
  return rows.join("\n");
}

async function waitTerminal(request: APIRequestContext, id: string): Promise<any> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await (await request.post("/api/job_status", { data: { id } })).json();
    if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(status.state)) return status;
    expect(Date.now(), `job ${id} still ${status.state}`).toBeLessThan(deadline);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function backtest(request: APIRequestContext, datasetId: string): Promise<string> {
  const res = await request.post("/api/submit_job", {
    data: {
      request: {
        kind: "backtest",
        dataset_id: datasetId,
        strategy: "sma_cross",
        params: { n1: 2, n2: 5 },
      },
    },
  });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).id;
}

test("a timestamp beyond year 2200 is refused at import, naming line and column", async ({ request }) => {
  const csv = "time,open,high,low,close,volume\n0,1,1,1,1,1\n9223372036854775807,1,1,1,1,1\n";
  const res = await request.post("/api/import_dataset", { data: { name: `absurd-${randomUUID()}`, csv } });
  expect(res.status()).toBe(400);
  const body = await res.json();
  expect(body.kind).toBe("invalid_csv");
  expect(body.errors[0]).toMatchObject({ line: 3, column: "time" });
  expect(JSON.stringify(body)).toContain("2200");
});

test("the job page of a backtest spanning 1900 to 2199 renders its charts at once", async ({ page, request }) => {
  const problems = watchConsole(page);
  const imported = await request.post("/api/import_dataset", {
    data: { name: `three-centuries-${randomUUID()}`, csv: extremeCsv() },
  });
  expect(imported.status(), await imported.text()).toBe(200);
  const id = await backtest(request, (await imported.json()).id);
  expect((await waitTerminal(request, id)).state).toBe("SUCCEEDED");

  const started = Date.now();
  const response = await page.goto(`/jobs/${id}`);
  expect(response?.status()).toBe(200);
  await expect(page.getByTestId("equity-chart")).toBeVisible();
  expect(Date.now() - started).toBeLessThan(10_000);
  const html = await page.content();
  expect(html.length).toBeLessThan(2_000_000);
  expect(problems).toEqual([]);
});

test("a dataset stored with absurd timestamps (bypassing import) cannot take the page down", async ({ page, request }) => {
  const problems = watchConsole(page);
  // As an older server could have stored it: unix times 0..78, then i64::MAX.
  const n = 80;
  const ts = Array.from({ length: n }, (_, i) => (i === n - 1 ? "9223372036854775807" : String(i)));
  const close = Array.from({ length: n }, (_, i) => price(i));
  const datasetId = randomUUID();
  await sql(
    `INSERT INTO datasets (id, name, bars, start_ts, end_ts, packed)
     VALUES ($1, $2, $3, 0, 9223372036854775807,
             runboard_pack_bars($4::bigint[], $5::float8[], $6::float8[], $7::float8[], $5::float8[], $8::float8[]))`,
    [
      datasetId,
      `absurd-${datasetId}`,
      n,
      ts,
      close,
      close.map((c) => c + 1),
      close.map((c) => c - 1),
      close.map(() => 1000),
    ],
  );
  const id = await backtest(request, datasetId);
  const status = await waitTerminal(request, id);
  // Either outcome is contained: a clear failure, or a result whose page renders.
  const response = await page.goto(`/jobs/${id}`);
  expect(response?.status()).toBe(200);
  await expect(page.getByTestId("job-panel").locator(".badge")).toHaveText(status.state);
  if (status.state === "FAILED") {
    expect(status.error).toMatch(/time|timestamp/i);
  } else {
    await expect(page.getByTestId("results")).toBeVisible();
  }
  // The server is still alive and answering.
  const list = await request.post("/api/list_jobs", { data: {} });
  expect(list.status()).toBe(200);
  expect(problems).toEqual([]);
});
