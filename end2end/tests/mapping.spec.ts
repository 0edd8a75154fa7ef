import { expect, Page } from '@playwright/test';
import { activate, connectBoth, hydrated, screenshot, signUp, test, uniqueEmail } from './helpers';
import { MAIN_STRIPE_URL } from '../playwright.config';

// The simulators answer their control API (/_sandbox/...) on each of their ports.
const SANDBOX_CONTROL = MAIN_STRIPE_URL;

function picker(page: Page, qboLabel: string) {
  return page.getByRole('combobox', { name: `Zoho field for ${qboLabel}`, exact: true });
}

function row(page: Page, qboLabel: string) {
  return page.locator('tr', { has: page.getByRole('rowheader', { name: qboLabel }) });
}


test('the autocomplete narrows and is keyboard-navigable; X, Static, Reset, Submit and Reset Default Mapping', async ({ page }, testInfo) => {
  await signUp(page, 'Mapping Co', uniqueEmail('mapping'));
  await connectBoth(page);
  await page.goto('/');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'QuickBooks Mapping' })).toBeVisible();
  await expect(page.getByLabel('Module')).toHaveValue('accounts_customers');
  await expect(page.getByText('Default mapping', { exact: true })).toBeVisible();
  await expect(page.getByText('Click Sync Mappable Fields')).toBeVisible();
  // Standard fields carry the green marker.
  await expect(row(page, 'Display name').locator('.marker-standard')).toBeVisible();
  await expect(picker(page, 'Display name')).toHaveValue('Account Name');
  await screenshot(page, testInfo, '20-mapping-default');

  // The list narrows as you type, on name or label, whatever the case.
  const company = picker(page, 'Company name');
  await expect(company).toHaveValue('');
  await company.click();
  const list = page.getByRole('listbox', { name: 'Zoho fields for Company name' });
  await expect(list).toBeVisible();
  const everything = await list.getByRole('option').count();
  await company.pressSequentially('BILL');
  const narrowed = list.getByRole('option');
  await expect.poll(() => narrowed.count()).toBeLessThan(everything);
  for (const text of await narrowed.allInnerTexts()) {
    expect(text.toLowerCase()).toContain('bill');
  }
  await company.pressSequentially('ing st');
  await expect(narrowed).toHaveCount(2);
  await expect(narrowed.nth(0)).toContainText('Billing Street');
  await expect(narrowed.nth(1)).toContainText('Billing State');
  // Each option shows the field's type.
  await expect(narrowed.nth(0)).toContainText('Text');
  await screenshot(page, testInfo, '21-mapping-autocomplete');
  // ↓ moves to the second option, Enter picks it.
  await expect(narrowed.nth(0)).toHaveAttribute('aria-selected', 'true');
  await company.press('ArrowDown');
  await expect(narrowed.nth(1)).toHaveAttribute('aria-selected', 'true');
  await company.press('Enter');
  await expect(list).toBeHidden();
  await expect(company).toHaveValue('Billing State');
  await expect(row(page, 'Company name')).toContainText('Billing_State');
  await expect(page.getByText('Unsaved changes', { exact: true })).toBeVisible();

  // Escape closes the list and keeps what was there.
  const mobile = picker(page, 'Mobile');
  await mobile.click();
  await mobile.pressSequentially('pho');
  await expect(page.getByRole('listbox', { name: 'Zoho fields for Mobile' })).toBeVisible();
  await mobile.press('Escape');
  await expect(page.getByRole('listbox', { name: 'Zoho fields for Mobile' })).toBeHidden();
  await expect(mobile).toHaveValue('');

  // The X clears a mapping.
  await page.getByRole('button', { name: 'Clear Phone' }).click();
  await expect(picker(page, 'Phone')).toHaveValue('');

  // Static Field swaps the picker for a text box.
  await page.getByRole('checkbox', { name: 'Static Field for Resale number' }).check();
  await expect(picker(page, 'Resale number')).toHaveCount(0);
  await page.getByRole('textbox', { name: 'Static value for Resale number' }).fill('R-1001');
  await screenshot(page, testInfo, '22-mapping-edited');

  // Reset discards every unsaved edit.
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await expect(company).toHaveValue('');
  await expect(picker(page, 'Phone')).toHaveValue('Phone');
  await expect(picker(page, 'Resale number')).toHaveValue('');
  await expect(page.getByRole('checkbox', { name: 'Static Field for Resale number' })).not.toBeChecked();
  await expect(page.getByText('Unsaved changes', { exact: true })).toBeHidden();

  // Edit again and Submit: it persists across a reload.
  await company.click();
  await company.pressSequentially('billing state');
  await company.press('Enter');
  await page.getByRole('checkbox', { name: 'Static Field for Resale number' }).check();
  await page.getByRole('textbox', { name: 'Static value for Resale number' }).fill('R-1001');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByRole('alert')).toContainText('Mapping saved');
  await expect(page.getByText('Unsaved changes', { exact: true })).toBeHidden();
  await page.reload();
  await hydrated(page);
  await expect(picker(page, 'Company name')).toHaveValue('Billing State');
  await expect(page.getByRole('textbox', { name: 'Static value for Resale number' })).toHaveValue('R-1001');
  await expect(page.getByText('Default mapping', { exact: true })).toBeHidden();
  await screenshot(page, testInfo, '23-mapping-saved');

  // Reset Default Mapping asks, then restores the built-in defaults.
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Reset Default Mapping' }).click();
  await expect(page.getByText('The default mapping is restored.')).toBeVisible();
  await expect(picker(page, 'Company name')).toHaveValue('');
  await expect(picker(page, 'Resale number')).toHaveValue('');
  await expect(page.getByText('Default mapping', { exact: true })).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(picker(page, 'Company name')).toHaveValue('');
});

test('an invalid mapping shows the error next to the field and saves nothing; leaving with unsaved changes asks', async ({ page }, testInfo) => {
  await signUp(page, 'Careful Mapping Co', uniqueEmail('mapping-invalid'));
  await connectBoth(page);
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('button', { name: 'Clear Display name' }).click();
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByRole('alert')).toContainText('Not saved');
  const display = row(page, 'Display name');
  await expect(display.locator('.field-error')).toContainText('Display');
  await expect(display).toHaveClass(/row-invalid/);
  await screenshot(page, testInfo, '24-mapping-invalid');

  // Leaving through the navigation asks first; staying keeps the edit.
  page.once('dialog', (dialog) => {
    expect(dialog.type()).toBe('confirm');
    expect(dialog.message()).toContain('unsaved changes');
    return dialog.dismiss();
  });
  await page.getByRole('navigation').getByRole('link', { name: 'Filters' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(picker(page, 'Display name')).toHaveValue('');

  // Reloading asks too (the browser's own question).
  page.once('dialog', (dialog) => {
    expect(dialog.type()).toBe('beforeunload');
    return dialog.accept();
  });
  await page.reload();
  await hydrated(page);
  // Nothing was saved.
  await expect(picker(page, 'Display name')).toHaveValue('Account Name');
  await expect(page.getByText('Default mapping', { exact: true })).toBeVisible();

  // With no edits, navigation does not ask.
  await page.getByRole('navigation').getByRole('link', { name: 'Filters' }).click();
  await expect(page).toHaveURL(/\/filters$/);
});

test('Sync Mappable Fields shows a field added in Zoho CRM', async ({ page }, testInfo) => {
  await signUp(page, 'Fields Co', uniqueEmail('mapping-fields'));
  await connectBoth(page);
  const apiName = `Loyalty_Tier_${Date.now()}`;
  const added = await page.request.post(`${SANDBOX_CONTROL}/_sandbox/zoho-fields/Accounts`, {
    data: { api_name: apiName, label: 'Loyalty tier', data_type: 'text' },
  });
  expect(added.status()).toBe(201);

  await page.goto('/');
  await hydrated(page);
  const company = picker(page, 'Company name');
  await company.click();
  await company.pressSequentially(apiName);
  await expect(page.getByRole('listbox', { name: 'Zoho fields for Company name' })).toContainText('No Zoho field matches');
  await company.press('Escape');

  await page.getByRole('button', { name: 'Sync Mappable Fields' }).click();
  await expect(page.getByText(/Fields synced: \d+ from Zoho CRM/)).toBeVisible();
  await expect(page.getByText('Click Sync Mappable Fields')).toBeHidden();
  await company.click();
  await company.pressSequentially('loyalty');
  const option = page.getByRole('option', { name: new RegExp(apiName) });
  await expect(option).toBeVisible();
  await expect(option).toContainText('Loyalty tier');
  await expect(option).toContainText('Text');
  await screenshot(page, testInfo, '25-mapping-synced-fields');
  await company.press('Enter');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByRole('alert')).toContainText('Mapping saved');
  await page.reload();
  await hydrated(page);
  await expect(row(page, 'Company name')).toContainText(apiName);
});

test('a module the plan does not include has no mapping page', async ({ page }, testInfo) => {
  await signUp(page, 'Freemium Mapping Co', uniqueEmail('mapping-gated'));
  await page.goto('/?pair=invoices_invoices');
  await expect(page.getByRole('alert')).toContainText('Change Plan');
  await screenshot(page, testInfo, '26-mapping-gated');
  await hydrated(page);
  const options = await page.getByLabel('Module').locator('option').count().catch(() => 0);
  expect(options).toBe(0);
  await connectBoth(page);
  await page.goto('/');
  await hydrated(page);
  const modules = await page.getByLabel('Module').locator('option').allInnerTexts();
  expect(modules.map((m) => m.split(' (')[0])).toEqual(['Accounts ↔ Customers', 'Products ↔ Items']);
  // The selector switches modules in place.
  await page.getByLabel('Module').selectOption('products_items');
  await expect(page).toHaveURL(/\?pair=products_items/);
  await expect(picker(page, 'Name')).toHaveValue('Product Name');
});

test('a static value is saved and appears in the QuickBooks record after Sync now', async ({ page }) => {
  // Waits for real sync runs of the in-process worker.
  test.setTimeout(120_000);
  await signUp(page, 'Static Co', uniqueEmail('mapping-static'));
  await connectBoth(page);
  // The mapping first: it applies to the records a sync writes from then on.
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('checkbox', { name: 'Static Field for Resale number' }).check();
  await page.getByRole('textbox', { name: 'Static value for Resale number' }).fill('STATIC-42');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByRole('alert')).toContainText('Mapping saved');
  await activate(page, 1);
  await page.goto('/settings?tab=schedule');
  await hydrated(page);
  await page.getByRole('button', { name: 'Sync now' }).click();
  // The worker picks the run up within seconds and writes the Zoho accounts to QuickBooks
  // with the static value.
  const realm = '9341453050298464';
  await expect(async () => {
    const customers = await (await page.request.get(`${SANDBOX_CONTROL}/_sandbox/qbo/${realm}/Customer`)).json();
    expect(JSON.stringify(customers)).toContain('STATIC-42');
  }).toPass({ timeout: 60_000 });
});

test('a pair switched off keeps its mapping for review and is turned on from there', async ({ page }, testInfo) => {
  await signUp(page, 'Disable Co', uniqueEmail('mapping-disable'));
  await connectBoth(page);
  await page.goto('/');
  await hydrated(page);
  const before = await page.getByLabel('Module').locator('option').allInnerTexts();
  expect(before).toEqual(['Accounts ↔ Customers (Bi-Directional)', 'Products ↔ Items (Bi-Directional)']);

  await page.goto('/settings?tab=direction');
  await hydrated(page);
  await page.getByLabel('Direction for Products ↔ Items').selectOption({ label: 'Disable' });
  await page.getByRole('button', { name: 'Save directions' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sync directions saved.' })).toBeVisible();
  // The off pair offers its review from Sync Direction.
  await expect(page.locator('tr[data-pair="products_items"]').getByRole('link', { name: 'Review mapping and turn on' })).toHaveAttribute('href', '/?pair=products_items');

  await page.goto('/');
  await hydrated(page);
  const after = await page.getByLabel('Module').locator('option').allInnerTexts();
  expect(after).toEqual(['Accounts ↔ Customers (Bi-Directional)', 'Products ↔ Items (off: review and turn on)']);
  // Its page shows the mapping to review and says it is off.
  await page.goto('/?pair=products_items');
  await hydrated(page);
  const off = page.getByRole('region', { name: 'This module is off' });
  await expect(off).toContainText('Products ↔ Items is off');
  await expect(page.getByRole('table')).toBeVisible();
  await screenshot(page, testInfo, '39-mapping-pair-off-review');
  // Turning on waits for unsaved edits to be submitted or reset.
  await page.getByRole('checkbox', { name: 'Static Field for Sales description' }).check();
  await expect(off.getByRole('button', { name: 'Review done: turn on' })).toBeDisabled();
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await off.getByRole('button', { name: 'Review done: turn on' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Products ↔ Items is on (Bi-Directional)' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'This module is off' })).toHaveCount(0);
  const on = await page.getByLabel('Module').locator('option').allInnerTexts();
  expect(on).toEqual(['Accounts ↔ Customers (Bi-Directional)', 'Products ↔ Items (Bi-Directional)']);
});
