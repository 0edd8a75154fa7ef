import { expect, Page } from '@playwright/test';
import { choosePlan, hydrated, screenshot, signUp, test, uniqueEmail } from './helpers';
import { MAIN_STRIPE_URL } from '../playwright.config';

async function openMenuItem(page: Page, email: string, item: string): Promise<void> {
  await page.getByRole('button', { name: email }).click();
  await page.getByRole('menu').getByRole('link', { name: item }).click();
}

test('upgrade through Checkout, see the trial, change plan again, read the emails in the Outbox', async ({ page }, testInfo) => {
  const email = uniqueEmail('billing');
  await signUp(page, 'Contoso Billing', email);

  await openMenuItem(page, email, 'Change Plan');
  await expect(page).toHaveURL(/\/plan$/);
  await expect(page.getByRole('heading', { name: 'Change Plan' })).toBeVisible();
  await hydrated(page);
  const freemium = page.locator('[data-plan="freemium"]');
  await expect(freemium.locator('.current-chip')).toHaveText('Current plan');
  await expect(page.locator('#current-plan')).toHaveText('Freemium');
  await expect(page.locator('.plan-card')).toHaveCount(3);
  await expect(page.locator('.plan-option')).toHaveCount(5);
  await screenshot(page, testInfo, 'billing-01-plans-on-freemium');

  // Leaving Freemium: Stripe Checkout (the sandbox's stand-in page) asks for a card.
  // The change asks first: the plan, its price and period, the trial and its end date.
  const upgrade = await choosePlan(page, 'standard_monthly', 'Upgrade');
  await expect(upgrade.getByRole('heading')).toHaveText('Change to Standard (monthly)?');
  await expect(upgrade.locator('[data-fact="price"]')).toHaveText(/^\$\d+(\.\d\d)? per month, billed monthly\.$/);
  await expect(upgrade.locator('[data-fact="trial"]')).toContainText(/15-day free trial starts today and ends on \w+ \d+, \d{4}/);
  await expect(upgrade).toContainText("Stripe's secure Checkout page");
  await screenshot(page, testInfo, 'billing-01b-confirm-upgrade');
  await upgrade.getByRole('button', { name: 'Cancel' }).click();
  await expect(upgrade).toBeHidden();
  await expect(page.locator('#current-plan')).toHaveText('Freemium');
  await (await choosePlan(page, 'standard_monthly', 'Upgrade')).getByRole('button', { name: 'Change to Standard (monthly)' }).click();
  await expect(page).toHaveURL(/\/checkout\/pay\/cs_/);
  await expect(page.getByRole('heading', { name: 'Subscribe to zqsync Standard' })).toBeVisible();
  await screenshot(page, testInfo, 'billing-02-checkout-stand-in');
  await page.locator('#pay').click();

  // Back on our page: the new plan, in its trial.
  await expect(page).toHaveURL(/\/plan\?checkout=cs_/);
  await expect(page.locator('#current-plan')).toHaveText('Standard (monthly)');
  await expect(page.locator('#trial-status')).toContainText(/trial, ends \w+ \d+, \d{4}/);
  await expect(page.locator('[data-plan="standard_monthly"] .current-chip')).toBeVisible();
  await expect(page.locator('.plan-chip')).toHaveText('Standard · monthly');
  await screenshot(page, testInfo, 'billing-03-standard-trial');

  // Paid → paid: no card asked, a new trial at once.
  await hydrated(page);
  const paid = await choosePlan(page, 'professional_annual', 'Upgrade');
  await expect(paid.locator('[data-fact="cancel"]')).toHaveText(
    'Your Standard (monthly) subscription is cancelled now, without proration: the unused part is not refunded.',
  );
  await paid.getByRole('button', { name: 'Change to Professional (annual)' }).click();
  await expect(page).toHaveURL(/\/plan$/);
  await expect(page.locator('#current-plan')).toHaveText('Professional (annual)');
  await expect(page.locator('#trial-status')).toContainText('trial, ends');
  await expect(page.locator('[data-plan="standard_monthly"]').getByRole('button', { name: 'Downgrade' })).toBeVisible();
  await screenshot(page, testInfo, 'billing-04-professional-annual');

  // The Outbox (sandbox mode) lists the three emails, newest first.
  await hydrated(page);
  await openMenuItem(page, email, 'Outbox');
  await expect(page).toHaveURL(/\/outbox$/);
  const subjects = page.locator('.email-subject');
  await expect(subjects).toHaveCount(3);
  await expect(subjects.nth(0)).toContainText('Your zqsync Professional (annual) plan has started: free trial until');
  await expect(subjects.nth(1)).toHaveText('Your zqsync Standard (monthly) plan has been cancelled');
  await expect(subjects.nth(2)).toContainText('Your zqsync Standard (monthly) plan has started: free trial until');
  await expect(page.locator('.email-body').first()).toContainText('15-day free trial');
  await expect(page.locator('.email-meta').first()).toContainText(`To ${email}`);
  await screenshot(page, testInfo, 'billing-05-outbox');

  // Downgrade to Freemium: no card, the cancellation email.
  await openMenuItem(page, email, 'Change Plan');
  await hydrated(page);
  const down = await choosePlan(page, 'freemium', 'Downgrade');
  await expect(down.locator('[data-fact="price"]')).toHaveText('Free: nothing is charged.');
  await expect(down.locator('[data-fact="turned-off"]')).toContainText('Turned off:');
  await expect(down.locator('[data-fact="turned-off"]')).toContainText('Quotes ↔ Estimates');
  await expect(down.locator('[data-fact="history"]')).toBeVisible();
  await screenshot(page, testInfo, 'billing-05b-confirm-downgrade');
  await down.getByRole('button', { name: 'Change to Freemium' }).click();
  await expect(page.locator('#current-plan')).toHaveText('Freemium');
  await expect(page.locator('#trial-status')).toHaveCount(0);
  await screenshot(page, testInfo, 'billing-06-back-on-freemium');
});

test('a failed payment at the end of the trial shows a banner and drops to Freemium features', async ({ page, request }, testInfo) => {
  const email = uniqueEmail('declines');
  await signUp(page, 'Fabrikam Declines', email);
  await page.goto('/plan');
  await hydrated(page);
  await (await choosePlan(page, 'standard_monthly', 'Upgrade')).getByRole('button', { name: 'Change to Standard (monthly)' }).click();
  await expect(page).toHaveURL(/\/checkout\/pay\/cs_/);
  // Stripe's test card that is saved fine but declines every later charge.
  await page.locator('#card').fill('4000 0000 0000 0341');
  await page.locator('#pay').click();
  await expect(page.locator('#trial-status')).toContainText('trial, ends');

  // Sixteen days pass in the simulated Stripe: the trial ends and the charge fails.
  const advanced = await request.post(`${MAIN_STRIPE_URL}/_sandbox/clock/advance`, { data: { seconds: 16 * 86400 } });
  expect(advanced.ok()).toBeTruthy();
  await expect(async () => {
    await request.get(`${MAIN_STRIPE_URL}/v1/events?limit=1`, { headers: { Authorization: 'Bearer sk_test_sandbox' } });
    await page.goto('/plan');
    await expect(page.locator('#billing-banner')).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.locator('#billing-banner')).toContainText('Payment for your Standard (monthly) plan failed');
  await expect(page.locator('#billing-banner')).toContainText('mappings and settings are kept');
  await expect(page.locator('.plan-status')).toContainText('Payment overdue: only Freemium modules sync');
  await expect(page.locator('#current-plan')).toHaveText('Standard (monthly)');
  await expect(page.locator('#trial-status')).toHaveCount(0);
  await screenshot(page, testInfo, 'billing-07-payment-failed-banner');
});
