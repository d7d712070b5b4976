// The New run form, as a user fills it.
import { Page } from "@playwright/test";

/** Types parameter `name`'s grid range (start, stop, step) into the optimization form. */
export async function fillRange(
  page: Page,
  name: string,
  [start, stop, step]: [string, string, string],
): Promise<void> {
  await page.getByTestId(`param-${name}-start`).fill(start);
  await page.getByTestId(`param-${name}-stop`).fill(stop);
  await page.getByTestId(`param-${name}-step`).fill(step);
}
