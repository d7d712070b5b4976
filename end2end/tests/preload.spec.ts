// Each lazy island's .wasm chunks are preloaded from the page's <head> (ready.rs, from the split
// manifest), so the browser fetches them alongside the main module instead of after it has
// started. Every chunk a page loads must have been preloaded, each must be fetched once (a
// preload the loader's fetch cannot use, e.g. for a credentials mismatch, means a second
// request), and Chromium must not warn about a preload left unused.
import { test, expect } from "@playwright/test";
import { watchConsole } from "./console";
import { insertRunningJob } from "./db";

// Each page by name, and how to reach it (a job page needs a job first).
const pages: [string, () => Promise<string>][] = [
  ...["/", "/jobs", "/datasets", "/strategies", "/strategies/new"].map(
    (path): [string, () => Promise<string>] => [path, async () => path],
  ),
  ["a running job's page", async () => `/jobs/${await insertRunningJob(0.2, "Run 20/100")}`],
];

// One test for all the pages: each stays open in its own tab, so a single wait at the end gives
// every tab the few seconds Chromium takes to warn about a preload nobody used.
test("every page's island chunks were preloaded from its head, and fetched once", async ({ context }) => {
  const watched: [string, string[]][] = [];
  for (const [name, reach] of pages) {
    await test.step(name, async () => {
      const page = await context.newPage();
      watched.push([name, watchConsole(page)]);
      const path = await reach();
      const requests = new Map<string, number>();
      page.on("request", (req) => {
        const { pathname } = new URL(req.url());
        if (/^\/pkg\/(chunk|split)_[^/]*\.wasm$/.test(pathname)) {
          requests.set(pathname, (requests.get(pathname) ?? 0) + 1);
        }
      });
      await page.goto(path);
      await expect(page.locator("body[data-hydrated]")).toBeAttached();
      const preloaded = await page
        .locator('head link[rel="preload"][as="fetch"][type="application/wasm"]')
        .evaluateAll((links) => links.map((l) => new URL((l as HTMLLinkElement).href).pathname));
      expect(preloaded.filter((p) => /\/(chunk|split)_/.test(p)).length, name).toBeGreaterThan(0);
      expect(requests.size, name).toBeGreaterThan(0);
      for (const [chunk, times] of requests) {
        expect(preloaded, `${name}: ${chunk} was loaded without a preload`).toContain(chunk);
        expect(times, `${name}: ${chunk} was requested ${times} times`).toBe(1);
      }
    });
  }
  // Chromium warns a few seconds after load about a preload nobody used; the last tab opened
  // is the youngest.
  await new Promise((resolve) => setTimeout(resolve, 3500));
  for (const [name, problems] of watched) expect(problems, name).toEqual([]);
});
