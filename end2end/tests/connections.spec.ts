import { expect } from '@playwright/test';
import { hydrated, screenshot, signUp, test, uniqueEmail, waitForRunsSettled } from './helpers';

test('connect QuickBooks and Zoho through their consent pages, verify, and activate', async ({ page }, testInfo) => {
  await signUp(page, 'Connected Co', uniqueEmail('connect'));

  // User menu → QuickBooks Online: the three steps.
  await page.locator('.user-menu-button').click();
  await page.getByRole('menu').getByRole('link', { name: 'QuickBooks Online' }).click();
  await expect(page.getByRole('heading', { name: 'Authenticate' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Verify' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Activate' })).toBeVisible();
  await screenshot(page, testInfo, '10-quickbooks-not-connected');

  // Step 1: Intuit's (simulated) consent page, then back to our page.
  await page.getByRole('link', { name: 'Connect to QuickBooks' }).click();
  await expect(page.getByRole('button', { name: 'Accept' })).toBeVisible();
  await screenshot(page, testInfo, '11-intuit-consent');
  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page).toHaveURL(/\/quickbooks\?connected=/);
  await expect(page.getByText('QuickBooks Online is connected.')).toBeVisible();
  await hydrated(page);

  // Step 2: Verify reads the company and shows the checklist.
  await page.getByRole('button', { name: 'Verify' }).click();
  const checklist = page.locator('.checklist');
  await expect(checklist).toContainText('Sandbox Company');
  await expect(page.locator('.badge-ok').filter({ hasText: /^Verified / }).locator('time')).toBeVisible();

  // Step 3: activation waits for Zoho: its pre-flight says so and cannot be confirmed.
  const toggle = page.getByRole('switch', { name: 'Integration active' });
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await toggle.click();
  const preflight = page.getByRole('dialog', { name: 'Before the first sync' });
  await expect(preflight.getByRole('alert')).toContainText('Connect Zoho CRM');
  await expect(preflight.getByRole('button', { name: /^Activate/ })).toBeDisabled();
  await screenshot(page, testInfo, '12-quickbooks-verified');
  await preflight.getByRole('button', { name: 'Cancel' }).click();
  await expect(preflight).toBeHidden();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');

  // Settings → Connections: connect Zoho CRM the same way.
  await page.getByRole('navigation').getByRole('link', { name: 'Settings' }).click();
  const zoho = page.locator('.connection-card[data-provider="zoho"]');
  await expect(zoho.getByText('Not connected')).toBeVisible();
  await zoho.getByRole('link', { name: 'Connect Zoho CRM' }).click();
  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page).toHaveURL(/\/settings\?connected=/);
  await expect(page.getByText('Zoho CRM is connected.')).toBeVisible();
  await hydrated(page);
  await expect(zoho.getByText('Connected', { exact: true })).toBeVisible();
  await zoho.getByRole('button', { name: 'Run connection check' }).click();
  await expect(zoho.locator('.checklist')).toBeVisible();
  await screenshot(page, testInfo, '13-settings-connections');

  // Both connected: the pre-flight shows what the first sync would copy, and a check that
  // would fail (Inventory Settings) with its fix. "Also the last day" counts the demo data;
  // "from now on" (the default) copies nothing already there.
  await page.locator('.user-menu-button').click();
  await page.getByRole('menu').getByRole('link', { name: 'QuickBooks Online' }).click();
  await hydrated(page);
  await page.getByRole('switch', { name: 'Integration active' }).click();
  const table = preflight.getByRole('table', { name: 'What the first sync copies' });
  await expect(table.locator('tbody tr')).toHaveCount(4);
  await expect(table.locator('tr[data-pair="Accounts ↔ Customers"] .preflight-count').first()).toHaveText('none yet');
  await expect(preflight.getByRole('region', { name: 'Checks that would fail' })).toContainText('Inventory Settings are not chosen');
  await expect(preflight.getByRole('link', { name: 'Choose Inventory Settings' })).toHaveAttribute('href', '/settings?tab=inventory');
  await preflight.getByRole('radio', { name: /Also records changed in the last/ }).check();
  await expect(table.locator('tr[data-pair="Accounts ↔ Customers"] .preflight-count').first()).toHaveText(/^[1-9]\d*$/);
  await screenshot(page, testInfo, '14-preflight-last-day');
  await preflight.getByRole('radio', { name: /Only records created or changed from now on/ }).check();
  await expect(table.locator('tr[data-pair="Accounts ↔ Customers"] .preflight-count').first()).toHaveText('none yet');
  await preflight.getByRole('button', { name: 'Activate anyway (1 problem)' }).click();
  await expect(page.getByRole('switch', { name: 'Integration active' })).toHaveAttribute('aria-checked', 'true');
  await expect(page.locator('.switch-form')).toContainText('Active');
  await screenshot(page, testInfo, '14-quickbooks-active');
  // From now on: the first run copies nothing that was already in either system.
  await waitForRunsSettled(page);
  await expect(page.locator('[data-fact="last-run"]')).toContainText('Completed');
  await expect(page.locator('[data-fact="last-24h"]')).toContainText('0 synced');
  await page.goto('/quickbooks');

  // Intuit forgets the grant (the simulators' control API answers on each of their ports; the
  // Zoho card shows one of them).
  await page.getByRole('navigation').getByRole('link', { name: 'Settings' }).click();
  const apiDomain = (await page.locator('.connection-card[data-provider="zoho"] dd').nth(1).innerText()).trim();
  for (const action of ['revoke', 'expire']) {
    const answer = await page.request.post(`${apiDomain}/_sandbox/tokens/${action}?service=intuit_oauth`);
    expect(answer.ok()).toBeTruthy();
  }
  const qboCard = page.locator('.connection-card[data-provider="qbo"]');
  await qboCard.getByRole('button', { name: 'Run connection check' }).click();
  // The check finds the dead grant, unless the sync the activation started found it first (the
  // connection is then already marked); either way the card says to reconnect.
  await expect(qboCard.getByRole('alert')).toContainText(/Reconnect QuickBooks Online|needs to be reconnected/);

  // Every page now carries the red banner, with a Reconnect link that works.
  await page.getByRole('navigation').getByRole('link', { name: 'Logs' }).click();
  const banner = page.locator('.banner-danger');
  await expect(banner).toContainText('QuickBooks Online is disconnected');
  await screenshot(page, testInfo, '16-reconnect-banner');
  await banner.getByRole('link', { name: 'Reconnect QuickBooks Online' }).click();
  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page).toHaveURL(/\/quickbooks\?connected=/);
  await expect(page.locator('.banner-danger')).toHaveCount(0);
});

test('declining consent says so and connects nothing', async ({ page }, testInfo) => {
  await signUp(page, 'Careful Co', uniqueEmail('decline'));
  await page.goto('/settings');
  await page.locator('.connection-card[data-provider="qbo"]').getByRole('link', { name: 'Connect QuickBooks Online' }).click();
  await page.getByRole('button', { name: 'Deny' }).click();
  await expect(page).toHaveURL(/\/quickbooks\?error=/);
  await expect(page.getByRole('alert').first()).toContainText('declined');
  await screenshot(page, testInfo, '15-consent-declined');
});
