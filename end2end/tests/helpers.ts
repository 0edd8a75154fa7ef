import { test as base, expect, Page, TestInfo } from '@playwright/test';
import { MAIN_ZOHO_API_URL } from '../playwright.config';

/**
 * Every test of this suite: Playwright's own, with one addition. A sync run that a test
 * started (Activate, Sync now, Retry) must not outlive it: the next test would meet it in the
 * shared simulators, or see it on a summary card. So after each test, the tenant the page is
 * logged in as is left idle (no run going, asked for or due) and injected faults are cleared.
 */
export const test = base.extend<{ runsSettled: void }>({
  runsSettled: [
    async ({ page }, use) => {
      await use();
      await waitForRunsSettled(page);
      // Faults a test injected into the simulators and did not use up go with it.
      await page.request.delete(`${MAIN_ZOHO_API_URL}/_sandbox/faults`);
    },
    { auto: true, timeout: 120_000 },
  ],
});

/**
 * Waits until no sync run of the page's tenant is going, asked for or due. The summary card
 * polls the status, so this needs no reload. Without a session (logged out, another server)
 * there is nothing to wait for.
 */
export async function waitForRunsSettled(page: Page, timeout = 90_000): Promise<void> {
  if (page.isClosed()) return;
  await page.goto('/logs');
  if (new URL(page.url()).pathname !== '/logs') return;
  await expect(page.locator('.summary-facts')).toHaveAttribute('data-busy', 'false', { timeout });
}

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

/**
 * Makes the main server's simulated Zoho CRM answer its next `count` API requests after
 * `delayMs` each (the sandbox's "slow" fault), so that a sync run is still going when the test
 * acts. What the run does not use up is cleared after the test.
 */
export async function holdZoho(page: Page, count: number, delayMs: number): Promise<void> {
  const response = await page.request.post(`${MAIN_ZOHO_API_URL}/_sandbox/faults`, {
    data: { service: 'zoho_api', kind: 'slow', count, delay_ms: delayMs },
  });
  expect(response.ok()).toBeTruthy();
}

/**
 * Switches the integration on from the QuickBooks Online page, through Activate's pre-flight:
 * `days` = 0 copies only records created or changed from now on (the default); more also
 * copies those changed in the last `days` days (the demo data is minutes old).
 */
export async function activate(page: Page, days = 0): Promise<void> {
  await page.goto('/quickbooks');
  await hydrated(page);
  await page.getByRole('switch', { name: 'Integration active' }).click();
  const dialog = page.getByRole('dialog', { name: 'Before the first sync' });
  await expect(dialog).toBeVisible();
  if (days > 0) {
    await dialog.getByRole('radio', { name: /Also records changed in the last/ }).check();
    const input = dialog.getByLabel('Days to copy');
    await input.fill(String(days));
    await input.press('Enter');
    await expect(input).toHaveValue(String(days));
  }
  // The counts are in once the table shows.
  await expect(dialog.getByRole('table', { name: 'What the first sync copies' })).toBeVisible();
  await dialog.getByRole('button', { name: /^Activate/ }).click();
  await expect(page.getByRole('switch', { name: 'Integration active' })).toHaveAttribute('aria-checked', 'true');
}

/**
 * Change Plan: presses the plan's Upgrade or Downgrade button and confirms in the dialog that
 * names the new plan (returned, for tests that check what it says).
 */
export async function choosePlan(page: Page, planKey: string, button: 'Upgrade' | 'Downgrade') {
  await page.locator(`[data-plan="${planKey}"]`).getByRole('button', { name: button }).click();
  const dialog = page.getByRole('dialog', { name: /^Change to / });
  await expect(dialog).toBeVisible();
  return dialog;
}

/**
 * Connects both systems through their (simulated) consent pages, from Settings. `origin` picks
 * another server than the main one (the short-idle server of the session tests).
 */
export async function connectBoth(page: Page, origin = ''): Promise<void> {
  await page.goto(`${origin}/settings`);
  await hydrated(page);
  await page.locator('.connection-card[data-provider="zoho"]').getByRole('link', { name: 'Connect Zoho CRM' }).click();
  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page).toHaveURL(/\/settings\?connected=/);
  await page.locator('.connection-card[data-provider="qbo"]').getByRole('link', { name: 'Connect QuickBooks Online' }).click();
  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page).toHaveURL(/\/quickbooks\?connected=/);
}
