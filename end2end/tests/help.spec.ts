import { expect } from '@playwright/test';
import { hydrated, screenshot, signUp, test, uniqueEmail } from './helpers';

test('the Help page explains the integration, answers the FAQ and links to support', async ({ page }, testInfo) => {
  await signUp(page, 'Helpful Co', uniqueEmail('help'));
  await hydrated(page);

  // Reached from the user menu.
  await page.locator('.user-menu-button').click();
  await page.getByRole('menu').getByRole('link', { name: 'Help' }).click();
  await expect(page).toHaveURL(/\/help$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Help' })).toBeVisible();
  for (const heading of ['How it works', 'Good to know', 'Questions and answers', 'Support']) {
    await expect(page.getByRole('heading', { level: 2, name: heading })).toBeVisible();
  }

  // The support address comes from the server's configuration (the default here).
  const support = page.locator('#support-email');
  await expect(support).toHaveText('support@zqsync.test');
  await expect(support).toHaveAttribute('href', 'mailto:support@zqsync.test');

  // FAQ answers open on click.
  const question = page.locator('details.faq').filter({ hasText: 'At least one inventory item must be present' });
  const answer = question.locator('p');
  await expect(answer).toBeHidden();
  await question.locator('summary').click();
  await expect(answer).toBeVisible();
  await expect(answer).toContainText('Create one inventory item in QuickBooks');
  await page.locator('details.faq summary', { hasText: 'No fields appear' }).click();
  await expect(page.getByText('press Sync Mappable Fields, which reads the fields')).toBeVisible();
  await screenshot(page, testInfo, 'help-01-page');

  // The links lead to the right Settings tab.
  await page.getByRole('link', { name: 'Settings → Schedule' }).click();
  await expect(page).toHaveURL(/\/settings\?tab=schedule$/);
  await expect(page.getByRole('tab', { name: 'Schedule' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('heading', { name: 'Schedule and conflicts' })).toBeVisible();
});
