import { expect, Page } from '@playwright/test';
import { activate, hydrated, screenshot, signUp, test, uniqueEmail, waitForRunsSettled } from './helpers';

const REALM = '9341453050298464';

async function openLogs(page: Page): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: 'Logs' }).click();
  await expect(page).toHaveURL(/\/logs/);
  await expect(page.getByRole('heading', { name: 'Logs', level: 1 })).toBeVisible();
  await hydrated(page);
}

test('before the first sync: the summary card, the empty log, and every filter control', async ({ page }, testInfo) => {
  await signUp(page, 'Logs Co', uniqueEmail('logs'));
  await openLogs(page);

  // The home summary card: nothing has run, the integration is off, an empty 24-hour chart.
  const summary = page.getByRole('region', { name: 'Sync summary' });
  await expect(summary.locator('[data-fact="last-run"]')).toContainText('Not yet');
  await expect(summary.locator('[data-fact="next-run"]')).toContainText('Paused');
  await expect(summary.locator('[data-fact="next-run"]').getByRole('link', { name: 'Activate it' })).toHaveAttribute(
    'href',
    '/quickbooks',
  );
  await expect(summary.locator('[data-fact="last-24h"]')).toContainText('0 synced · 0 failed');
  const chart = summary.getByRole('img', { name: /Records per hour over the last 24 hours/ });
  await expect(chart).toBeVisible();
  await expect(chart.locator('.chart-hour')).toHaveCount(24);
  await expect(summary.getByText('No records synced in the last 24 hours.')).toBeVisible();

  // The empty log explains when entries appear.
  await expect(page.getByRole('heading', { name: 'No Accounts ↔ Customers entries yet' })).toBeVisible();
  await expect(page.getByText('Logs appear after the first sync')).toBeVisible();
  await screenshot(page, testInfo, '30-logs-empty');

  // The module selector defaults to Accounts and applies at once.
  const module = page.getByLabel('Module');
  await expect(module).toHaveValue('accounts_customers');
  await module.selectOption('products_items');
  await expect(page).toHaveURL(/pair=products_items/);
  await expect(page.getByRole('heading', { name: 'No Products ↔ Items entries yet' })).toBeVisible();

  // The status filter too; with a filter set, the empty state says nothing matches.
  const status = page.getByLabel('Status');
  await expect(status).toHaveValue('');
  await status.selectOption({ label: 'Not Valid' });
  await expect(page).toHaveURL(/status=not_valid/);
  await expect(page).toHaveURL(/pair=products_items/);
  await expect(page.getByRole('heading', { name: 'No entries match' })).toBeVisible();

  // Search by id or text: Enter submits; the box keeps the text.
  const search = page.getByRole('searchbox', { name: 'Search' });
  await search.fill('4150868 widget');
  await search.press('Enter');
  await expect(page).toHaveURL(/q=4150868(\+|%20)widget/);
  await expect(search).toHaveValue('4150868 widget');
  await expect(module).toHaveValue('products_items');
  await expect(status).toHaveValue('not_valid');
  await screenshot(page, testInfo, '31-logs-filtered-empty');

  // Export CSV follows the current filter and downloads a CSV with the header row only.
  const exportLink = page.getByRole('link', { name: 'Export CSV' });
  await expect(exportLink).toHaveAttribute(
    'href',
    '/logs/export.csv?pair=products_items&status=not_valid&q=4150868%20widget',
  );
  const csv = await page.request.get((await exportLink.getAttribute('href')) ?? '');
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-disposition']).toMatch(/^attachment; filename="zqsync-logs-products_items-/);
  expect((await csv.text()).replace(/^\uFEFF/, '')).toBe(
    'Module,Direction,Module Key,QuickBooks Id,Record,Status,Error Message,Last Sync Date (UTC),Zoho CRM Link\r\n',
  );

  // "Clear the filters" keeps the module.
  await page.getByRole('link', { name: 'Clear the filters' }).click();
  await expect(page).toHaveURL(/\/logs\?pair=products_items$/);
  await expect(page.getByRole('heading', { name: 'No Products ↔ Items entries yet' })).toBeVisible();
  await expect(search).toHaveValue('');
});

test('without scripts the page is whole and the filters are a plain GET form', async ({ page, browser }, testInfo) => {
  await signUp(page, 'No Script Co', uniqueEmail('logs-nojs'));
  const noScript = await browser.newContext({ javaScriptEnabled: false, baseURL: testInfo.project.use.baseURL });
  await noScript.addCookies(await page.context().cookies());
  const plain = await noScript.newPage();
  await plain.goto('/logs?pair=vendors_vendors&status=error&q=acme');
  await expect(plain.getByLabel('Module')).toHaveValue('vendors_vendors');
  await expect(plain.getByLabel('Status')).toHaveValue('error');
  await expect(plain.getByRole('searchbox', { name: 'Search' })).toHaveValue('acme');
  await expect(plain.getByRole('heading', { name: 'No entries match' })).toBeVisible();
  // The Search button submits the form as a plain GET.
  await plain.getByLabel('Module').selectOption('invoices_invoices');
  await plain.getByRole('button', { name: 'Search' }).click();
  await expect(plain).toHaveURL(/\/logs\?pair=invoices_invoices&status=error&q=acme$/);
  await expect(plain.getByLabel('Module')).toHaveValue('invoices_invoices');
  await screenshot(plain, testInfo, '32-logs-without-javascript');
  await noScript.close();
});

/** Connects both systems through their consent pages and switches the integration on. */
async function connectAndActivate(page: Page): Promise<string> {
  await page.goto('/quickbooks');
  await page.getByRole('link', { name: 'Connect to QuickBooks' }).click();
  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page).toHaveURL(/\/quickbooks\?connected=/);
  await page.goto('/settings');
  await page.locator('.connection-card[data-provider="zoho"]').getByRole('link', { name: 'Connect Zoho CRM' }).click();
  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page).toHaveURL(/\/settings\?connected=/);
  const apiDomain = (await page.locator('.connection-card[data-provider="zoho"] dd').nth(1).innerText()).trim();
  await activate(page, 1);
  return apiDomain;
}

/**
 * Settings → Schedule → Sync now, then waits until that run (and the activation's, if it was
 * still going: Sync now then queues one more) has finished.
 */
async function syncNowAndWait(page: Page): Promise<void> {
  await page.goto('/settings?tab=schedule');
  await hydrated(page);
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.locator('#sync-now-answer')).toBeVisible();
  await waitForRunsSettled(page);
}

test('a sync fills the log: Zoho record links, local times, the Details panel, the chart', async ({ page, context }, testInfo) => {
  // Waits for real sync runs of the in-process worker.
  test.setTimeout(120_000);
  await signUp(page, 'Synced Co', uniqueEmail('logs-sync'));
  const apiDomain = await connectAndActivate(page);
  await syncNowAndWait(page);
  await hydrated(page);
  await expect(page.locator('tr[data-status="synced"]').first()).toBeVisible();

  // Module Key opens the record in Zoho CRM on the tenant's data centre, in a new tab.
  const row = page.locator('tr[data-status="synced"]').first();
  const key = row.locator('a.module-key');
  await expect(key).toHaveAttribute('href', new RegExp(`^${apiDomain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/crm/tab/Accounts/\\d+$`));
  await expect(key).toHaveAttribute('target', '_blank');
  await expect(key).toHaveAttribute('rel', 'noopener');
  // In sandbox mode it opens the simulated Zoho CRM's page of that record.
  const zohoId = (await key.innerText()).trim();
  const stored = await page.request.get(`${apiDomain}/_sandbox/zoho/Accounts/${zohoId}`);
  expect(stored.ok()).toBeTruthy();
  const name: string = (await stored.json()).Account_Name;
  await expect(row.locator('.log-record')).toContainText(name);
  const [record] = await Promise.all([context.waitForEvent('page'), key.click()]);
  await record.waitForLoadState();
  expect(record.url()).toBe(`${apiDomain}/crm/tab/Accounts/${zohoId}`);
  await expect(record).toHaveTitle(`Accounts: ${name} · Zoho CRM (sandbox)`);
  await expect(record.getByRole('heading', { level: 1 })).toHaveText(name);
  await expect(record.locator('#sandbox-marker')).toHaveText('Simulated Zoho CRM (sandbox)');
  await expect(record.locator('[data-field="Account_Name"] dt')).toHaveText('Account Name');
  await expect(record.locator('[data-field="Account_Name"] dd')).toHaveText(name);
  await expect(record.locator('[data-field="id"] dd')).toHaveText(zohoId);
  await expect(record.locator('[data-field="Created_Time"] dd')).toHaveText(/^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{2}:\d{2} [AP]M$/);
  await screenshot(record, testInfo, 'logs-module-key-zoho-record');
  await record.close();
  await expect(row.locator('[data-status="synced"]')).toHaveText('Synced');
  // After hydration the time is local (no "UTC" suffix).
  await expect(row.locator('time')).not.toContainText('UTC');

  // Details: a modal with the fields read and written and the QBO id; Escape closes it and
  // focus returns to the row's Details button.
  const zohoToQbo = (await row.innerText()).includes('Zoho → QuickBooks');
  const details = row.getByRole('link', { name: 'Details' });
  await details.click();
  const dialog = page.getByRole('dialog', { name: 'Log entry details' });
  await expect(dialog).toBeVisible();
  // The newest row is of either flow (the run copies both ways; which commits last is timing).
  await expect(dialog.getByRole('region', { name: zohoToQbo ? 'Read from Zoho CRM' : 'Read from QuickBooks Online' }))
    .toContainText(zohoToQbo ? 'Account_Name' : 'DisplayName');
  await expect(dialog.getByRole('region', { name: zohoToQbo ? 'Written to QuickBooks Online' : 'Written to Zoho CRM' }))
    .toContainText(zohoToQbo ? 'DisplayName' : 'Account_Name');
  await expect(dialog.locator('[data-field="qbo-id"]')).toHaveText(/^\d+$/);
  await screenshot(page, testInfo, '33-logs-details');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page).not.toHaveURL(/details=/);
  await expect(details).toBeFocused();

  // The summary counts what the run synced.
  const summary = page.getByRole('region', { name: 'Sync summary' });
  await expect(summary.locator('[data-fact="last-run"]')).toContainText('Completed');
  await expect(summary.locator('.chart-hour').last()).not.toHaveAttribute('data-synced', '0');
  await screenshot(page, testInfo, '34-logs-after-sync');
});

test('a deleted QuickBooks customer: the row offers Re-create, which brings it back', async ({ page }, testInfo) => {
  // Waits for real sync runs of the in-process worker.
  test.setTimeout(120_000);
  await signUp(page, 'Deleted Co', uniqueEmail('logs-recreate'));
  // Switching the integration on starts the first sync; wait until it has finished.
  const apiDomain = await connectAndActivate(page);
  await waitForRunsSettled(page);
  await expect(page.locator('[data-fact="last-run"]')).toContainText('Completed');
  const row = page.locator('tr[data-status="synced"]').first();
  const zohoId = (await row.locator('.module-key').innerText()).trim();
  await row.getByRole('link', { name: 'Details' }).click();
  const qboId = (await page.locator('[data-field="qbo-id"]').innerText()).trim();
  await page.keyboard.press('Escape');

  // Delete the customer in QuickBooks, change the account in Zoho, sync again.
  expect((await page.request.delete(`${apiDomain}/_sandbox/qbo/${REALM}/Customer/${qboId}`)).ok()).toBeTruthy();
  // A user edit in Zoho (a changed phone) that the next run must write to the deleted customer.
  expect((await page.request.post(`${apiDomain}/_sandbox/zoho/Accounts/${zohoId}/touch`, { data: { Phone: '+1-555-777-0000' } })).ok()).toBeTruthy();
  await syncNowAndWait(page);
  await page.goto(`/logs?status=error&q=${zohoId}`);
  const failed = page.locator('tr[data-status="error"]').first();
  await expect(failed.locator('.log-message')).toContainText('deleted');
  await screenshot(page, testInfo, '35-logs-deleted-counterpart');
  await hydrated(page);
  await failed.getByRole('button', { name: 'Re-create' }).click();
  await expect(page.locator('.logs-card .banner-ok')).toContainText('created again');
  await expect(failed).toContainText('Queued for the next sync');

  // The next run re-creates the customer: the newest row of the record is Synced again.
  await waitForRunsSettled(page);
  await page.goto(`/logs?q=${zohoId}`);
  await expect(page.locator('tbody tr').first()).toHaveAttribute('data-status', 'synced');
  await screenshot(page, testInfo, '36-logs-recreated');
});

test('Retry re-runs a failed row once the cause is fixed', async ({ page }, testInfo) => {
  // Waits for real sync runs of the in-process worker.
  test.setTimeout(120_000);
  await signUp(page, 'Retry Co', uniqueEmail('logs-retry'));
  // The first sync fails every new product: Inventory Settings are not chosen yet.
  await connectAndActivate(page);
  await waitForRunsSettled(page);
  await page.goto('/logs?pair=products_items&status=error');
  const failed = page.locator('tr[data-status="error"]').first();
  await expect(failed.locator('.log-message')).toContainText('Inventory Settings');
  const zohoId = (await failed.locator('.module-key').innerText()).trim();
  await screenshot(page, testInfo, '37-logs-inventory-error');

  // Fix the cause: choose the three accounts.
  await page.goto('/settings?tab=inventory');
  await hydrated(page);
  await page.getByRole('combobox', { name: /Income account/ }).selectOption({ label: 'Sales of Product Income' });
  await page.getByRole('combobox', { name: /Expense account/ }).selectOption({ label: 'Cost of Goods Sold' });
  await page.getByRole('combobox', { name: /Inventory asset account/ }).selectOption({ label: 'Inventory Asset' });
  await page.getByRole('button', { name: 'Save inventory settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Inventory settings saved.' })).toBeVisible();

  // Retry the row: the next run creates the item and the record's newest row is Synced.
  await page.goto(`/logs?pair=products_items&q=${zohoId}`);
  await hydrated(page);
  await page.locator('tr[data-status="error"]').first().getByRole('button', { name: 'Retry' }).click();
  await expect(page.locator('tr[data-status="error"]').first()).toContainText('Queued for the next sync');
  // (The first sync also linked the product the other way, QuickBooks → Zoho, by its SKU; the
  // retried row is the Zoho → QuickBooks one.)
  await waitForRunsSettled(page);
  await page.goto(`/logs?pair=products_items&q=${zohoId}`);
  const newest = page.locator('tbody tr').first();
  await expect(newest).toHaveAttribute('data-status', 'synced');
  await expect(newest).toContainText('Zoho → QuickBooks');
  await expect(page.locator('tr[data-status="error"]').first().getByRole('button', { name: 'Retry' })).toHaveCount(0);
  await expect(page.locator('tr[data-status="error"]').first()).not.toContainText('Queued for the next sync');
  await screenshot(page, testInfo, '38-logs-retried');
});
