// Collects browser console errors and warnings (hydration problems show up there), and every
// 5xx answer the page receives (the browser's own "Failed to load resource" line for it is
// filtered by some tests, the answer itself never is).
import { Page } from "@playwright/test";

export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") {
      problems.push(`${msg.type()}: ${msg.text()}`);
    }
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  page.on("response", (res) => {
    if (res.status() >= 500) problems.push(`server error: ${res.status()} ${res.url()}`);
  });
  return problems;
}
