import { expect } from '@playwright/test';
import { choosePlan, hydrated, screenshot, signUp, test, uniqueEmail } from './helpers';
import { MAIN_STRIPE_URL, MAIN_ZOHO_API_URL } from '../playwright.config';

// The pages a sandbox user meets on the simulated services: the Intuit and Zoho consent pages,
// the Zoho CRM record page (logs.spec.ts follows a Logs row's Module Key to it after a sync) and
// the Stripe Checkout stand-in. These tests start no sync run: the simulators are shared by the
// whole suite, and every full sync adds records that later tests' runs must read.

test('the consent pages name the app, the company or org, and the scopes; Deny connects nothing', async ({ page }, testInfo) => {
  await signUp(page, 'Sandbox Consent Co', uniqueEmail('sandbox-consent'));

  await page.goto('/quickbooks');
  await page.getByRole('link', { name: 'Connect to QuickBooks' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Connect to QuickBooks Online');
  await expect(page).toHaveTitle('Connect to QuickBooks Online · Intuit (sandbox)');
  await expect(page.locator('#sandbox-marker')).toHaveText('Simulated Intuit sign-in (sandbox)');
  await expect(page.getByText('zqsync is asking for access')).toBeVisible();
  await expect(page.locator('#consent-target')).toHaveText('Sandbox Company 9341453050298464');
  await expect(page.locator('#consent-scopes li')).toHaveCount(1);
  await expect(page.locator('#consent-scopes')).toContainText('Read and change your QuickBooks accounting data');
  await expect(page.locator('#consent-scopes')).toContainText('com.intuit.quickbooks.accounting');
  await expect(page.getByRole('button', { name: 'Accept' })).toBeVisible();
  await screenshot(page, testInfo, 'sandbox-01-intuit-consent');
  await page.getByRole('button', { name: 'Deny' }).click();
  await expect(page).toHaveURL(/\/quickbooks\?error=/);

  await page.goto('/settings');
  await page.locator('.connection-card[data-provider="zoho"]').getByRole('link', { name: 'Connect Zoho CRM' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Allow access to your Zoho CRM data');
  await expect(page.locator('#sandbox-marker')).toHaveText('Simulated Zoho Accounts (sandbox)');
  await expect(page.locator('#consent-target')).toHaveText('Sandbox Org');
  await expect(page.getByText('Zoho CRM Professional edition · US data centre')).toBeVisible();
  await expect(page.locator('#consent-scopes li')).toHaveCount(5);
  await expect(page.locator('#consent-scopes')).toContainText('View, create, edit and delete records in every CRM module');
  await expect(page.locator('#consent-scopes')).toContainText('View the fields of each module');
  await expect(page.getByRole('button', { name: 'Accept' })).toBeVisible();
  await screenshot(page, testInfo, 'sandbox-02-zoho-consent');
  await page.getByRole('button', { name: 'Deny' }).click();
  await expect(page).toHaveURL(/\/settings\?error=/);
  await expect(page.locator('.connection-card[data-provider="zoho"]').getByText('Not connected')).toBeVisible();
});

test('the Zoho CRM record page works without JavaScript: line items, a lookup, a 404', async ({ browser }, testInfo) => {
  // A person's browser with scripts off; the pages have none.
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const invoices = await (await page.request.get(`${MAIN_ZOHO_API_URL}/_sandbox/zoho/Invoices`)).json();
  const invoice = invoices.records.find((r: { Invoiced_Items: unknown[] }) => r.Invoiced_Items.length >= 2)
    ?? invoices.records[0];
  const answer = await page.goto(`${MAIN_ZOHO_API_URL}/crm/tab/Invoices/${invoice.id}`);
  expect(answer?.status()).toBe(200);
  await expect(page).toHaveTitle(`Invoices: ${invoice.Subject} · Zoho CRM (sandbox)`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(invoice.Subject);
  await expect(page.locator('#sandbox-marker')).toHaveText('Simulated Zoho CRM (sandbox)');
  await expect(page.getByRole('heading', { name: 'Invoiced Items' })).toBeVisible();
  await expect(page.locator('table.lines tbody tr')).toHaveCount(invoice.Invoiced_Items.length);
  await expect(page.locator('[data-field="Grand_Total"] dd')).toHaveText(/^\$[\d,]+\.\d{2}$/);
  await expect(page.locator('script')).toHaveCount(0);
  await screenshot(page, testInfo, 'sandbox-03-zoho-invoice');

  // The account lookup shows the account's name and leads to its page.
  const accountId: string = invoice.Account_Name.id;
  const account = await (await page.request.get(`${MAIN_ZOHO_API_URL}/_sandbox/zoho/Accounts/${accountId}`)).json();
  await expect(page.locator('[data-field="Account_Name"] dd')).toHaveText(account.Account_Name);
  await page.locator('[data-field="Account_Name"] dd a').click();
  await expect(page).toHaveURL(`${MAIN_ZOHO_API_URL}/crm/tab/Accounts/${accountId}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(account.Account_Name);
  await expect(page.locator('[data-field="Account_Name"] dd')).toHaveText(account.Account_Name);
  await screenshot(page, testInfo, 'sandbox-04-zoho-account');

  // An unknown record: a 404 in the same style.
  const missing = await page.goto(`${MAIN_ZOHO_API_URL}/crm/tab/Accounts/5725767000009999999`);
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Record not found');
  await expect(page.locator('#sandbox-marker')).toHaveText('Simulated Zoho CRM (sandbox)');
  await screenshot(page, testInfo, 'sandbox-05-zoho-not-found');
  await context.close();
});

test('the Checkout stand-in shows the plan, its price and period, and when the trial ends', async ({ page, request }, testInfo) => {
  const email = uniqueEmail('sandbox-checkout');
  await signUp(page, 'Sandbox Checkout Co', email);
  await page.goto('/plan');
  await hydrated(page);
  await (await choosePlan(page, 'standard_monthly', 'Upgrade')).getByRole('button', { name: 'Change to Standard (monthly)' }).click();
  await expect(page).toHaveURL(/\/checkout\/pay\/cs_/);

  // The simulated Stripe's clock (other tests move it): a 15-day trial ends 15 days from it.
  const clock = await (await request.get(`${MAIN_STRIPE_URL}/_sandbox/clock`)).json();
  const trialEnd = new Date(Date.parse(clock.now) + 15 * 86_400_000).toLocaleDateString('en-US', {
    month: 'long',
    day: 'numeric',
    year: 'numeric',
    timeZone: 'UTC',
  });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Subscribe to zqsync Standard');
  await expect(page.locator('#sandbox-marker')).toHaveText('Simulated Stripe (sandbox)');
  await expect(page.locator('#checkout-price')).toHaveText('15 days free');
  // Standard (monthly) costs $49.00 in the plan table (zqsync creates the Stripe catalog from it).
  await expect(page.locator('#checkout-then')).toContainText(`Then $49.00 per month starting ${trialEnd}`);
  await expect(page.locator('#trial-end')).toHaveText(trialEnd);
  await expect(page.locator('#checkout-product')).toContainText('zqsync Standard');
  await expect(page.locator('#checkout-product')).toContainText('$49.00');
  await expect(page.locator('#checkout-period')).toHaveText('Billed monthly');
  await expect(page.locator('#checkout-due')).toHaveText('$0.00');
  await expect(page.getByText(`Email ${email}`)).toBeVisible();
  await expect(page.locator('#card')).toHaveValue('4242 4242 4242 4242');
  await expect(page.locator('#pay')).toHaveText('Start trial');
  await expect(page.locator('#test-cards')).toContainText('4242 4242 4242 4242');
  await expect(page.locator('#test-cards')).toContainText('4000 0000 0000 0341');
  await screenshot(page, testInfo, 'sandbox-06-checkout');

  // A card declined on the page: the same page says so and keeps the number.
  await page.locator('#card').fill('4000 0000 0000 0002');
  await page.locator('#pay').click();
  await expect(page.locator('#error')).toContainText('Your card was declined.');
  await expect(page.locator('#card')).toHaveValue('4000 0000 0000 0002');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Subscribe to zqsync Standard');
  await screenshot(page, testInfo, 'sandbox-07-checkout-declined');

  // Another card goes through; the plan page shows the trial ending on the same day.
  await page.locator('#card').fill('4242 4242 4242 4242');
  await page.locator('#pay').click();
  await expect(page).toHaveURL(/\/plan\?checkout=cs_/);
  await expect(page.locator('#current-plan')).toHaveText('Standard (monthly)');
  await expect(page.locator('#trial-status')).toHaveText(`trial, ends ${trialEnd}`);
});
