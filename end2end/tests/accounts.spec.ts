import { expect } from '@playwright/test';
import { hydrated, PASSWORD, screenshot, signUp, test, uniqueEmail } from './helpers';
import { SHORT_IDLE_PORT } from '../playwright.config';

test('sign up lands on the mapping page inside the shell, then log out and back in', async ({ page }, testInfo) => {
  const email = uniqueEmail('owner');
  await signUp(page, 'Northwind Traders', email);

  await expect(page.getByRole('heading', { name: 'QuickBooks Mapping' })).toBeVisible();
  const nav = page.getByRole('navigation');
  for (const item of ['QuickBooks Mapping', 'Logs', 'Filters', 'Settings']) {
    await expect(nav.getByRole('link', { name: item })).toBeVisible();
  }
  await expect(page.locator('.company-name')).toHaveText('Northwind Traders');
  await expect(page.getByText('Sandbox mode.')).toBeVisible();
  await screenshot(page, testInfo, '01-home-after-signup');

  await page.getByRole('button', { name: email }).click();
  const menu = page.getByRole('menu');
  for (const item of ['Change Plan', 'QuickBooks Online', 'Help']) {
    await expect(menu.getByRole('link', { name: item })).toBeVisible();
  }
  await screenshot(page, testInfo, '02-user-menu-open');
  await menu.getByRole('menuitem', { name: 'Logout' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();

  // The session is really gone: the home page sends us back to log in.
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);

  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText('email or password is not right');
  await screenshot(page, testInfo, '03-login-wrong-password');

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('.company-name')).toHaveText('Northwind Traders');
});

test('a duplicate email gets a clear message on the sign-up page', async ({ page }, testInfo) => {
  const email = uniqueEmail('dup');
  await signUp(page, 'First Co', email);
  await page.context().clearCookies();

  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Company name').fill('Second Co');
  await page.getByLabel('Work email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText('already exists');
  await expect(page).toHaveURL(/\/signup$/);
  await screenshot(page, testInfo, '04-signup-duplicate');
});

test('the page hydrates: controls work and navigation happens without a reload', async ({ page }, testInfo) => {
  await signUp(page, 'Hydration Check Ltd', uniqueEmail('hydrate'));
  await hydrated(page);

  // A marker on window survives only if no full page load happens.
  await page.evaluate(() => ((window as unknown as { zqMarker: number }).zqMarker = 42));
  const menuButton = page.locator('.user-menu-button');
  await expect(menuButton).toHaveAttribute('aria-expanded', 'false');
  await menuButton.click();
  await expect(menuButton).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('menu')).toBeHidden();

  await page.getByRole('navigation').getByRole('link', { name: 'Logs' }).click();
  await expect(page).toHaveURL(/\/logs$/);
  await expect(page.getByRole('heading', { name: 'Logs' })).toBeVisible();
  await expect(page.getByRole('navigation').getByRole('link', { name: 'Logs' })).toHaveAttribute('aria-current', 'page');
  expect(await page.evaluate(() => (window as unknown as { zqMarker?: number }).zqMarker)).toBe(42);
  await screenshot(page, testInfo, '05-logs-client-side');

  // The sign-up form's show-password toggle is interactive too.
  await page.context().clearCookies();
  await page.goto('/signup');
  await hydrated(page);
  const password = page.getByLabel('Password');
  await expect(password).toHaveAttribute('type', 'password');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(password).toHaveAttribute('type', 'text');
});

test('an idle session logs the user out on the next click', async ({ page }, testInfo) => {
  const base = `http://127.0.0.1:${SHORT_IDLE_PORT}`;
  await page.goto(`${base}/signup`);
  await hydrated(page);
  await page.getByLabel('Company name').fill('Idle Industries');
  await page.getByLabel('Work email').fill(uniqueEmail('idle'));
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(`${base}/`);
  await expect(page.locator('.company-name')).toHaveText('Idle Industries');

  // The server under test ends sessions after 3 idle seconds; the page says so when it happens.
  await expect(page.getByRole('alertdialog', { name: 'Your session has ended' })).toBeVisible();
  // The next click goes to the log-in page, which brings the user back to where they were going.
  await page.getByRole('navigation').getByRole('link', { name: 'Settings' }).click();
  await expect(page).toHaveURL(`${base}/login?expired=1&next=/settings`);
  await expect(page.getByText('Your session ended because it was idle')).toBeVisible();
  await screenshot(page, testInfo, '06-idle-logout');

  // A full page load with the dead cookie lands on the same page.
  await page.goto(`${base}/filters`);
  await expect(page).toHaveURL(`${base}/login?next=/filters`);
});

test('log-in and sign-up pages look right before anyone logs in', async ({ page }, testInfo) => {
  await page.goto('/login');
  await hydrated(page);
  await expect(page.getByRole('link', { name: 'Create an account' })).toBeVisible();
  await screenshot(page, testInfo, '07-login-page');
  await page.getByRole('link', { name: 'Create an account' }).click();
  await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
  await screenshot(page, testInfo, '08-signup-page');
});
