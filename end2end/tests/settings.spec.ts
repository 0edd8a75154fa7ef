import { expect, Page } from '@playwright/test';
import { activate, choosePlan, holdZoho, hydrated, screenshot, signUp, test, uniqueEmail } from './helpers';

/** Opens a Settings tab by its `?tab=` key and waits until the page is interactive. */
async function openTab(page: Page, tab: string): Promise<void> {
  await page.goto(`/settings?tab=${tab}`);
  await hydrated(page);
}

async function connect(page: Page, start: string, link: string, back: RegExp): Promise<void> {
  await page.goto(start);
  await hydrated(page);
  await page.getByRole('link', { name: link }).first().click();
  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page).toHaveURL(back);
}

test('sync direction: keyboard tabs, a change persists across reload, the essentials warning, a locked pair', async ({ page }, testInfo) => {
  await signUp(page, 'Direction Co', uniqueEmail('direction'));
  await page.goto('/settings');
  await hydrated(page);

  // The tab strip is a keyboard tablist whose tab lives in the URL.
  const connectionsTab = page.getByRole('tab', { name: 'Connections' });
  await expect(connectionsTab).toHaveAttribute('aria-selected', 'true');
  await connectionsTab.focus();
  await page.keyboard.press('ArrowRight');
  await expect(page).toHaveURL(/\/settings\?tab=direction$/);
  const directionTab = page.getByRole('tab', { name: 'Sync Direction' });
  await expect(directionTab).toHaveAttribute('aria-selected', 'true');
  await expect(directionTab).toBeFocused();
  await page.keyboard.press('End');
  await expect(page).toHaveURL(/\?tab=schedule$/);
  await page.keyboard.press('ArrowRight');
  await expect(page).toHaveURL(/\?tab=connections$/);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Home');
  await expect(page).toHaveURL(/\?tab=connections$/);
  await directionTab.click();
  await expect(page).toHaveURL(/\?tab=direction$/);

  // Freemium: the transactional pairs are locked, each with an upgrade link.
  const quotes = page.locator('tr[data-pair="quotes_estimates"]');
  await expect(quotes.locator('.badge-lock')).toHaveText('Locked');
  await expect(quotes).toContainText('Not in your Freemium plan; included in Standard (monthly) and up.');
  await expect(quotes.getByRole('combobox')).toHaveCount(0);
  await expect(page.locator('.locked')).toHaveCount(6);

  const accounts = page.getByLabel('Direction for Accounts ↔ Customers');
  const products = page.getByLabel('Direction for Products ↔ Items');
  await expect(accounts).toHaveValue('bidirectional');
  await expect(page.locator('.warning-essential')).toHaveCount(0);
  await accounts.selectOption({ label: 'Zoho → QuickBooks' });
  await products.selectOption({ label: 'Disable' });
  // The warning appears as soon as an essential pair is switched off, before saving.
  await expect(page.locator('.warning-essential')).toContainText(
    'Products ↔ Items is disabled: quotes, sales orders, invoices and purchase orders that refer to records not yet synced will fail.',
  );
  await page.getByRole('button', { name: 'Save directions' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sync directions saved.' })).toBeVisible();
  await screenshot(page, testInfo, 'settings-01-direction-saved');

  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('tab', { name: 'Sync Direction' })).toHaveAttribute('aria-selected', 'true');
  await expect(accounts).toHaveValue('zoho_to_qbo');
  await expect(products).toHaveValue('disabled');
  await expect(page.locator('.warning-essential')).toContainText('Products ↔ Items is disabled');

  // Switching it back on clears the warning.
  await products.selectOption({ label: 'Bi-Directional' });
  await expect(page.locator('.warning-essential')).toHaveCount(0);

  await quotes.getByRole('link', { name: 'Upgrade to sync Quotes ↔ Estimates' }).click();
  await expect(page).toHaveURL(/\/plan$/);
  await expect(page.getByRole('heading', { name: 'Change Plan' })).toBeVisible();
});

test('historical data is locked on a monthly plan; on an annual plan a submit shows progress', async ({ page }, testInfo) => {
  await signUp(page, 'History Co', uniqueEmail('history'));

  await openTab(page, 'history');
  await expect(page.getByRole('heading', { name: 'Sync Historical Data is part of the annual plans' })).toBeVisible();

  // Standard monthly through the sandbox's Checkout stand-in.
  await page.goto('/plan');
  await hydrated(page);
  await (await choosePlan(page, 'standard_monthly', 'Upgrade')).getByRole('button', { name: 'Change to Standard (monthly)' }).click();
  await expect(page).toHaveURL(/\/checkout\/pay\/cs_/);
  await page.locator('#pay').click();
  await expect(page.locator('#current-plan')).toHaveText('Standard (monthly)');

  await openTab(page, 'history');
  const locked = page.locator('.locked-card');
  await expect(locked.getByRole('heading', { name: 'Sync Historical Data is part of the annual plans' })).toBeVisible();
  await expect(locked).toContainText('You are on Standard (monthly)');
  await expect(page.getByLabel(/Start date for/)).toHaveCount(0);
  await screenshot(page, testInfo, 'settings-02-history-locked-monthly');
  await locked.getByRole('link', { name: 'See annual plans' }).click();
  await expect(page).toHaveURL(/\/plan$/);

  // Paid → paid: annual, no card asked.
  await hydrated(page);
  await (await choosePlan(page, 'standard_annual', 'Upgrade')).getByRole('button', { name: 'Change to Standard (annual)' }).click();
  await expect(page.locator('#current-plan')).toHaveText('Standard (annual)');

  await openTab(page, 'history');
  await expect(page.locator('.locked-card')).toHaveCount(0);
  // Sales Orders are not in Standard: that line cannot be ticked.
  await expect(page.getByLabel('Include Sales Orders ↔ Invoices or Estimates')).toBeDisabled();
  await expect(page.locator('tr[data-pair="accounts_customers"]')).toContainText('Bi-Directional');
  await expect(page.getByText('No historical sync has been started yet.')).toBeVisible();

  // A ticked line without a date is refused with what to do.
  await page.getByLabel('Include Accounts ↔ Customers').check();
  await page.getByRole('button', { name: 'Start historical sync' }).click();
  await expect(page.getByRole('alert')).toContainText('Enter the start date for Accounts ↔ Customers as YYYY-MM-DD');

  await page.getByLabel('Start date for Accounts ↔ Customers').fill('2024-01-01');
  await page.getByRole('button', { name: 'Start historical sync' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Queued' })).toBeVisible();
  const bars = page.locator('.backfill');
  await expect(bars).toHaveCount(2);
  await expect(bars.nth(0)).toContainText('Accounts ↔ Customers · Zoho → QuickBooks');
  await expect(bars.nth(1)).toContainText('Accounts ↔ Customers · QuickBooks → Zoho');
  await expect(bars.nth(0)).toContainText('since 2024-01-01');
  await expect(bars.nth(0).locator('.badge')).toHaveText('Queued');
  await expect(bars.nth(0).getByRole('progressbar')).toBeVisible();
  await screenshot(page, testInfo, 'settings-03-history-queued');

  // The progress survives a reload (it is stored, not just shown).
  await page.reload();
  await hydrated(page);
  await expect(page.locator('.backfill')).toHaveCount(2);
});

test('inventory accounts come from the QuickBooks sandbox and persist', async ({ page }, testInfo) => {
  await signUp(page, 'Inventory Co', uniqueEmail('inventory'));
  await openTab(page, 'inventory');
  await expect(page.locator('#accounts-problem')).toContainText('QuickBooks Online is not connected');
  await expect(page.getByRole('combobox')).toHaveCount(0);
  await screenshot(page, testInfo, 'settings-04-inventory-not-connected');

  await connect(page, '/quickbooks', 'Connect to QuickBooks', /\/quickbooks\?connected=/);

  await openTab(page, 'inventory');
  await expect(page.locator('#accounts-problem')).toHaveCount(0);
  const income = page.getByRole('combobox', { name: /Income account/ });
  const expense = page.getByRole('combobox', { name: /Expense account/ });
  const asset = page.getByRole('combobox', { name: /Inventory asset account/ });
  // Each picker offers only the kinds QuickBooks accepts there.
  await expect(income.locator('option')).toHaveText(['Choose an account…', 'Sales of Product Income', 'Services']);
  await expect(expense.locator('option')).toHaveText(['Choose an account…', 'Cost of Goods Sold']);
  await expect(asset.locator('option')).toHaveText(['Choose an account…', 'Inventory Asset']);
  await expect(page.getByText('Still to choose:')).toBeVisible();

  await income.selectOption({ label: 'Sales of Product Income' });
  await expense.selectOption({ label: 'Cost of Goods Sold' });
  await asset.selectOption({ label: 'Inventory Asset' });
  await page.getByRole('checkbox', { name: /Service/ }).check();
  await page.getByRole('button', { name: 'Save inventory settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Inventory settings saved.' })).toBeVisible();
  await expect(page.getByText('Still to choose:')).toHaveCount(0);
  await screenshot(page, testInfo, 'settings-05-inventory-saved');

  await page.reload();
  await hydrated(page);
  await expect(income.locator('option:checked')).toHaveText('Sales of Product Income');
  await expect(expense.locator('option:checked')).toHaveText('Cost of Goods Sold');
  await expect(asset.locator('option:checked')).toHaveText('Inventory Asset');
  await expect(page.getByRole('checkbox', { name: /Service/ })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: /Non-inventory/ })).not.toBeChecked();
});

test('schedule: interval validation, conflict policy, Sync now', async ({ page }, testInfo) => {
  // Waits for real sync runs of the in-process worker.
  test.setTimeout(120_000);
  await signUp(page, 'Schedule Co', uniqueEmail('schedule'));
  await openTab(page, 'schedule');
  await expect(page.locator('#last-run')).toHaveText('Never');

  // Nothing can run before both systems are connected: the button says so.
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByRole('alert')).toContainText('Connect Zoho CRM and QuickBooks Online in Settings → Connections first');

  const interval = page.getByRole('spinbutton', { name: 'Sync every' });
  await expect(interval).toHaveValue('15');
  await interval.fill('0');
  await page.getByRole('button', { name: 'Save schedule' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'between 1 and 60 minutes' })).toContainText(
    'The sync interval must be between 1 and 60 minutes; 0 is not.',
  );
  await expect(interval).toHaveValue('0'); // the typed value stays for correcting
  await screenshot(page, testInfo, 'settings-06-interval-refused');

  await interval.fill('5');
  await page.getByRole('radio', { name: /Newest change wins/ }).check();
  await page.getByRole('button', { name: 'Save schedule' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Schedule saved.' })).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(interval).toHaveValue('5');
  await expect(page.getByRole('radio', { name: /Newest change wins/ })).toBeChecked();

  // Connect both systems and activate the integration. The activation's run is held on slow
  // answers of the simulated Zoho CRM, so it is still going when Sync now is pressed below.
  await connect(page, '/quickbooks', 'Connect to QuickBooks', /\/quickbooks\?connected=/);
  await connect(page, '/settings?tab=connections', 'Connect Zoho CRM', /\/settings\?connected=/);
  await holdZoho(page, 3, 2_500);
  await activate(page);

  await openTab(page, 'schedule');
  await expect(page.locator('#sync-blocked')).toHaveCount(0);
  // The status is live: the run the activation started shows without a reload.
  const status = page.locator('.status-list');
  await expect(page.locator('#running-now')).toHaveText('Running now', { timeout: 20_000 });
  await screenshot(page, testInfo, 'settings-07-running');

  // Sync now during a run queues exactly one more run and says so. (Should the held run have
  // ended just before the click, the answer says the run was requested instead; either way a
  // run starts after the click and finishes.)
  const pressedAt = Date.now();
  await page.getByRole('button', { name: 'Sync now' }).click();
  const answer = page.locator('#sync-now-answer');
  await expect(answer).toBeVisible();
  if ((await answer.getAttribute('data-after-current-run')) === 'true') {
    await expect(answer).toHaveText('A sync is running now; another will start as soon as it ends.');
  } else {
    await expect(answer).toHaveText('Sync requested: it starts as soon as a sync worker is free.');
  }
  await screenshot(page, testInfo, 'settings-08-sync-now-during-a-run');
  await expect(status).toHaveAttribute('data-busy', 'false', { timeout: 60_000 });
  await expect(page.locator('#last-run')).toContainText('Completed');
  expect(Number(await status.getAttribute('data-last-started-at'))).toBeGreaterThan(pressedAt);
  // The next run is shown in the browser's local time once the page is interactive.
  const next = page.locator('#next-run time');
  await expect(next).toHaveAttribute('datetime', /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}Z$/);
  await expect(next).not.toContainText('UTC');

  // Pressed with nothing running, the run is requested and starts when a worker is free.
  const idleAt = Date.now();
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(answer).toHaveText('Sync requested: it starts as soon as a sync worker is free.');
  await expect(answer).toHaveAttribute('data-after-current-run', 'false');
  await screenshot(page, testInfo, 'settings-09-sync-requested');
  await expect(status).toHaveAttribute('data-busy', 'false', { timeout: 60_000 });
  expect(Number(await status.getAttribute('data-last-started-at'))).toBeGreaterThan(idleAt);
  await expect(page.locator('#last-run')).toContainText('Completed');
});
