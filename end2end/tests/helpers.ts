import { expect, Page, TestInfo } from '@playwright/test';

export const PASSWORD = 'correct horse battery';

/** A unique email per test run, so tests never collide in a shared database. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@e2e.test`;
}

/** Waits until the WebAssembly has hydrated the page (the app sets data-hydrated on <body>). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  // Full-page captures of a scrolled page misplace the sticky sidebar: capture from the top.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
}

export async function signUp(page: Page, company: string, email: string): Promise<void> {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Company name').fill(company);
  await page.getByLabel('Work email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/$/);
}
