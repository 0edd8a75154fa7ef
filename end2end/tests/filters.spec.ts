import { expect, Page } from '@playwright/test';
import { activate, hydrated, screenshot, signUp, test, uniqueEmail } from './helpers';

async function openFilters(page: Page): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: 'Filters' }).click();
  await expect(page).toHaveURL(/\/filters/);
  await expect(page.getByRole('heading', { name: 'Filters', exact: true })).toBeVisible();
}

test('filter rows: add, value hidden for "is empty", Submit persists, Reset discards, Remove All asks', async ({ page }, testInfo) => {
  await signUp(page, 'Filter Co', uniqueEmail('filters'));
  await hydrated(page);
  await openFilters(page);
  await expect(page.getByLabel('Module')).toHaveValue('accounts_customers');
  // Zoho → QuickBooks is the default direction.
  await expect(page.getByRole('radio', { name: 'Zoho → QuickBooks' })).toBeChecked();
  await expect(page.getByText('No filters: every new or changed record syncs')).toBeVisible();
  await screenshot(page, testInfo, '30-filters-empty');

  // Row 1: Billing State equals CA; the value box hides for "is empty" and returns.
  await page.getByRole('button', { name: 'Add a filter row' }).click();
  await expect(page.getByLabel('Field of row 1')).toBeFocused();
  await page.getByLabel('Field of row 1').selectOption('Billing_State');
  await page.getByLabel('Condition of row 1').selectOption({ label: 'is empty' });
  await expect(page.getByLabel('Value of row 1')).toHaveCount(0);
  await page.getByLabel('Condition of row 1').selectOption({ label: 'equals' });
  await page.getByLabel('Value of row 1').fill('CA');

  // Row 2: Phone is not empty; OR between them.
  await page.getByRole('button', { name: 'Add a filter row' }).click();
  await page.getByLabel('Field of row 2').selectOption('Phone');
  await page.getByLabel('Condition of row 2').selectOption({ label: 'is not empty' });
  await expect(page.getByLabel('Value of row 2')).toHaveCount(0);
  await page.getByRole('radio', { name: 'Match any row (OR)' }).check();
  await expect(page.getByText('Unsaved changes', { exact: true })).toBeVisible();
  await screenshot(page, testInfo, '31-filters-rows');

  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByRole('alert')).toContainText('Filters saved');
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Field of row 1')).toHaveValue('Billing_State');
  await expect(page.getByLabel('Condition of row 1')).toHaveValue('equals');
  await expect(page.getByLabel('Value of row 1')).toHaveValue('CA');
  await expect(page.getByLabel('Condition of row 2')).toHaveValue('is_not_empty');
  await expect(page.getByLabel('Value of row 2')).toHaveCount(0);
  await expect(page.getByRole('radio', { name: 'Match any row (OR)' })).toBeChecked();

  // The other direction has its own (empty) rows, and QuickBooks fields to choose from.
  await page.getByRole('radio', { name: 'QuickBooks → Zoho' }).check();
  await expect(page.getByText('No filters: every new or changed record syncs')).toBeVisible();
  await page.getByRole('button', { name: 'Add a filter row' }).click();
  await expect(page.getByLabel('Field of row 1').locator('option', { hasText: 'Display name' })).toHaveCount(1);
  await page.getByRole('radio', { name: 'Zoho → QuickBooks' }).check();

  // A row without a value is refused next to the row; nothing is saved.
  await page.getByLabel('Value of row 1').fill('');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByRole('alert')).toContainText('Not saved');
  await expect(page.locator('.filter-row').first().locator('.field-error')).toBeVisible();
  await screenshot(page, testInfo, '32-filters-invalid');

  // Reset discards the unsaved edits (including the row added the other way).
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await expect(page.getByLabel('Value of row 1')).toHaveValue('CA');
  await expect(page.getByText('Unsaved changes', { exact: true })).toBeHidden();
  await page.getByRole('radio', { name: 'QuickBooks → Zoho' }).check();
  await expect(page.getByText('No filters: every new or changed record syncs')).toBeVisible();
  await page.getByRole('radio', { name: 'Zoho → QuickBooks' }).check();

  // Removing a row is a per-row control.
  await page.getByRole('button', { name: 'Remove row 2' }).click();
  await expect(page.getByLabel('Field of row 2')).toHaveCount(0);
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await expect(page.getByLabel('Field of row 2')).toHaveValue('Phone');

  // Remove All Filters asks first: "no" keeps them, "yes" removes them for good.
  page.once('dialog', (dialog) => dialog.dismiss());
  await page.getByRole('button', { name: 'Remove All Filters' }).click();
  await expect(page.getByLabel('Field of row 1')).toBeVisible();
  page.once('dialog', (dialog) => {
    expect(dialog.message()).toContain('Remove all filters');
    return dialog.accept();
  });
  await page.getByRole('button', { name: 'Remove All Filters' }).click();
  await expect(page.getByRole('alert')).toContainText('All filters removed');
  await expect(page.getByText('No filters: every new or changed record syncs')).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(page.getByText('No filters: every new or changed record syncs')).toBeVisible();
  await screenshot(page, testInfo, '33-filters-removed');
});

test('the module selector switches pairs; fields come from that module', async ({ page }, testInfo) => {
  await signUp(page, 'Filter Products Co', uniqueEmail('filters-products'));
  await hydrated(page);
  await openFilters(page);
  await page.getByLabel('Module').selectOption('products_items');
  await expect(page).toHaveURL(/\/filters\?pair=products_items/);
  await page.getByRole('button', { name: 'Add a filter row' }).click();
  const field = page.getByLabel('Field of row 1');
  await expect(field.locator('option', { hasText: 'Product Name' })).toHaveCount(1);
  await expect(field.locator('option', { hasText: 'Account Name' })).toHaveCount(0);
  // A number field offers number conditions.
  await field.selectOption('Unit_Price');
  const conditions = await page.getByLabel('Condition of row 1').locator('option').allInnerTexts();
  expect(conditions).toContain('greater than');
  expect(conditions).not.toContain('contains');
  await screenshot(page, testInfo, '34-filters-products');
});

test('a filter makes a record Not Valid in the logs', async ({ page }, testInfo) => {
  // Waits for a real sync run of the in-process worker.
  test.setTimeout(120_000);
  await signUp(page, 'Not Valid Co', uniqueEmail('filters-not-valid'));
  await page.goto('/settings');
  await hydrated(page);
  await page.locator('.connection-card[data-provider="zoho"]').getByRole('link', { name: 'Connect Zoho CRM' }).click();
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.locator('.connection-card[data-provider="qbo"]').getByRole('link', { name: 'Connect QuickBooks Online' }).click();
  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page).toHaveURL(/\/quickbooks\?connected=/);
  // The filter first: filters apply to the records a sync reads from then on.
  await page.goto('/filters');
  await hydrated(page);
  await page.getByRole('button', { name: 'Add a filter row' }).click();
  await page.getByLabel('Field of row 1').selectOption('Billing_State');
  await page.getByLabel('Condition of row 1').selectOption({ label: 'equals' });
  await page.getByLabel('Value of row 1').fill('No Such State');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByRole('alert')).toContainText('Filters saved');
  // Switching the integration on starts the first sync.
  await activate(page, 1);
  await page.goto('/logs?status=not_valid');
  // A run takes a moment: reload until the rows are there.
  await expect(async () => {
    await page.reload();
    await expect(page.locator('tr[data-status="not_valid"]').first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 60_000 });
  await expect(page.locator('tr[data-status="not_valid"] .log-message').first()).toContainText('Billing');
  await screenshot(page, testInfo, '36-filters-not-valid-in-logs');
});
