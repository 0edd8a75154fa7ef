import { expect, Page } from '@playwright/test';
import {
  activate,
  choosePlan,
  connectBoth,
  hydrated,
  screenshot,
  signUp,
  test,
  uniqueEmail,
  waitForRunsSettled,
} from './helpers';
import { MAIN_ZOHO_API_URL } from '../playwright.config';

// The first day of a new customer (issue 14): a checklist that ticks itself off, nothing
// written that the user did not choose, and Submit answering where the user looks.

const REALM = '9341453050298464';

function step(page: Page, key: string) {
  return page.locator(`.get-started-step[data-step="${key}"]`);
}

test('a new tenant is guided by a Get started checklist that ticks itself off and goes away', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  await signUp(page, 'First Day Co', uniqueEmail('first-day'));
  await hydrated(page);
  const checklist = page.getByRole('region', { name: 'Get started' });
  await expect(checklist.locator('#get-started-progress')).toHaveText('0 of 6 done');
  // No mapping table before both systems are connected: it says why instead.
  await expect(page.locator('#connect-first')).toContainText('Connect both systems to map their fields');
  await expect(page.getByRole('table')).toHaveCount(0);
  await screenshot(page, testInfo, 'first-day-01-get-started');

  await connectBoth(page);
  await page.goto('/');
  await hydrated(page);
  await expect(checklist.locator('#get-started-progress')).toHaveText('2 of 6 done');
  await expect(step(page, 'connect_zoho')).toHaveAttribute('data-done', 'true');
  await expect(step(page, 'connect_qbo')).toHaveAttribute('data-done', 'true');
  await expect(page.getByRole('table')).toBeVisible();

  // The two judgement calls are the user's to confirm.
  await step(page, 'mapping_reviewed').getByRole('button', { name: 'The mapping looks right' }).click();
  await expect(step(page, 'mapping_reviewed')).toHaveAttribute('data-done', 'true');
  await step(page, 'directions_chosen').getByRole('button', { name: 'Keep these directions' }).click();
  await expect(checklist.locator('#get-started-progress')).toHaveText('4 of 6 done');
  await screenshot(page, testInfo, 'first-day-02-four-of-six');

  // Inventory Settings: the step links to the tab.
  await step(page, 'inventory').getByRole('link', { name: 'Choose accounts' }).click();
  await expect(page).toHaveURL(/\/settings\?tab=inventory/);
  await hydrated(page);
  await page.getByRole('combobox', { name: /Income account/ }).selectOption({ label: 'Sales of Product Income' });
  await page.getByRole('combobox', { name: /Expense account/ }).selectOption({ label: 'Cost of Goods Sold' });
  await page.getByRole('combobox', { name: /Inventory asset account/ }).selectOption({ label: 'Inventory Asset' });
  await page.getByRole('button', { name: 'Save inventory settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Inventory settings saved.' })).toBeVisible();

  await page.goto('/');
  await hydrated(page);
  await expect(checklist.locator('#get-started-progress')).toHaveText('5 of 6 done');
  await expect(step(page, 'activate')).toHaveClass(/step-current/);
  await activate(page);
  await page.goto('/');
  await hydrated(page);
  // Done: said once, then the list is gone for good.
  await expect(checklist.getByRole('status')).toContainText('All set');
  await screenshot(page, testInfo, 'first-day-03-done');
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'QuickBooks Mapping' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Get started' })).toHaveCount(0);
});

/** How many invoices the simulated QuickBooks company has. */
async function qboInvoices(page: Page): Promise<number> {
  const answer = await page.request.get(`${MAIN_ZOHO_API_URL}/_sandbox/qbo/${REALM}/Invoice`);
  expect(answer.ok()).toBeTruthy();
  return ((await answer.json()).rows as unknown[]).length;
}

test('an upgrade turns nothing on: new pairs stay off, and nothing reaches QuickBooks until turned on', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  await signUp(page, 'Upgrade Co', uniqueEmail('upgrade-off'));
  await connectBoth(page);
  await page.goto('/plan');
  await hydrated(page);
  await (await choosePlan(page, 'standard_monthly', 'Upgrade')).getByRole('button', { name: 'Change to Standard (monthly)' }).click();
  await expect(page).toHaveURL(/\/checkout\/pay\/cs_/);
  await page.locator('#pay').click();
  await expect(page.locator('#current-plan')).toHaveText('Standard (monthly)');

  // The plan's new pairs are there to review, and off.
  await page.goto('/settings?tab=direction');
  await hydrated(page);
  for (const pair of ['Quotes ↔ Estimates', 'Invoices ↔ Invoices']) {
    await expect(page.getByLabel(`Direction for ${pair}`)).toHaveValue('disabled');
  }
  await expect(page.locator('tr[data-pair="invoices_invoices"]').getByRole('link', { name: 'Review mapping and turn on' })).toBeVisible();
  await screenshot(page, testInfo, 'first-day-04-new-pairs-off');

  // A sync that copies the last day of the demo data writes no invoice: the pair is off.
  const before = await qboInvoices(page);
  await activate(page, 1);
  await waitForRunsSettled(page);
  expect(await qboInvoices(page)).toBe(before);

  // Reviewed and turned on from its mapping page, it runs from then on.
  await page.goto('/?pair=invoices_invoices');
  await hydrated(page);
  const off = page.getByRole('region', { name: 'This module is off' });
  await expect(off).toContainText('Invoices ↔ Invoices is off');
  await off.getByRole('button', { name: 'Review done: turn on' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Invoices ↔ Invoices is on (Zoho → QuickBooks)' })).toBeVisible();
  await page.goto('/settings?tab=direction');
  await hydrated(page);
  await expect(page.getByLabel('Direction for Invoices ↔ Invoices')).toHaveValue('zoho_to_qbo');
  expect(await qboInvoices(page), 'turned on from now on: the old invoices stay where they are').toBe(before);

  // An invoice made in Zoho CRM from now on is copied by the next sync.
  const zoho = MAIN_ZOHO_API_URL;
  const token = (await (await page.request.post(`${zoho}/_sandbox/tokens/zoho`)).json()).access_token;
  const accounts = (await (await page.request.get(`${zoho}/_sandbox/zoho/Accounts`)).json()).records;
  const products = (await (await page.request.get(`${zoho}/_sandbox/zoho/Products`)).json()).records;
  const product = products.find((p: { Product_Code?: string }) => p.Product_Code === 'SKU-00001');
  const made = await page.request.post(`${zoho}/crm/v8/Invoices`, {
    headers: { Authorization: `Zoho-oauthtoken ${token}` },
    data: {
      data: [
        {
          Subject: `Day one ${Date.now()}`,
          Account_Name: { id: accounts[0].id },
          Invoiced_Items: [{ Product_Name: { id: product.id }, Quantity: 2, List_Price: 10 }],
        },
      ],
    },
  });
  expect(made.ok()).toBeTruthy();
  await page.goto('/settings?tab=schedule');
  await hydrated(page);
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.locator('#sync-now-answer')).toBeVisible();
  await waitForRunsSettled(page);
  expect(await qboInvoices(page)).toBe(before + 1);
});

test('Submit from the sticky bar answers in the bar: the problems with a way to the first, or Saved', async ({ page }, testInfo) => {
  await signUp(page, 'Bar Co', uniqueEmail('sticky-bar'));
  await connectBoth(page);
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('button', { name: 'Clear Display name' }).click();
  const bar = page.locator('.action-bar');
  await bar.getByRole('button', { name: 'Submit' }).click();
  await expect(bar.locator('#bar-outcome')).toHaveText(/^Not saved: 1 problem to fix\. Show the first$/);
  // The page is scrolled away from the bad row; the bar's link brings it into view.
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await bar.getByRole('button', { name: 'Show the first' }).click();
  const invalid = page.locator('.mapping-table tr.row-invalid').first();
  await expect(invalid).toBeInViewport();
  await expect(invalid.locator('input').first()).toBeFocused();
  await page.screenshot({ path: testInfo.outputPath('first-day-05-bar-error.png') });

  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await page.getByRole('checkbox', { name: 'Static Field for Resale number' }).check();
  await page.getByRole('textbox', { name: 'Static value for Resale number' }).fill('BAR-1');
  await bar.getByRole('button', { name: 'Submit' }).click();
  await expect(bar.locator('#bar-outcome')).toHaveText('Saved');
});
