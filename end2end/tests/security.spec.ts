import { expect, Page } from '@playwright/test';
import { hydrated, PASSWORD, screenshot, signUp, test, uniqueEmail } from './helpers';

/**
 * Records Content-Security-Policy violations: the `securitypolicyviolation` events of every
 * document the page loads (the listener is installed through the DevTools protocol, which the
 * policy does not govern) and the console errors Chromium prints for them.
 */
async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  const seen: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      seen.push(`console: ${message.text()}`);
    }
  });
  await page.addInitScript(() => {
    const w = window as unknown as { zqCsp: string[] };
    w.zqCsp = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      w.zqCsp.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  // The events of the current document; the console ones of every document so far.
  return async () => [
    ...seen,
    ...(await page.evaluate(() => (window as unknown as { zqCsp?: string[] }).zqCsp ?? [])),
  ];
}

test('every page hydrates and works under the Content-Security-Policy, which is enforced', async ({ page }, testInfo) => {
  const violations = await watchCsp(page);
  const found: string[] = [];

  const login = await page.goto('/login');
  const csp = login?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
  expect(csp).not.toContain('unsafe-inline');
  await hydrated(page);
  found.push(...(await violations()));

  await signUp(page, 'Policy Abiding Ltd', uniqueEmail('csp'));
  await hydrated(page);
  found.push(...(await violations()));

  for (const path of [
    '/',
    '/logs',
    '/filters',
    '/settings',
    '/settings?tab=direction',
    '/settings?tab=history',
    '/settings?tab=inventory',
    '/settings?tab=schedule',
    '/plan',
    '/outbox',
    '/quickbooks',
    '/help',
    '/forgot-password',
    '/forgot-password?sent=1',
    '/reset-password?token=not-a-real-token',
    '/no-such-page',
  ]) {
    await page.goto(path);
    await hydrated(page);
    found.push(...(await violations()));
  }

  // Interactive after hydration: the user menu opens, and client-side navigation works.
  await page.goto('/');
  await hydrated(page);
  const menuButton = page.locator('.user-menu-button');
  await menuButton.click();
  await expect(menuButton).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('Escape');
  await page.getByRole('navigation').getByRole('link', { name: 'Filters' }).click();
  await expect(page).toHaveURL(/\/filters$/);
  await expect(page.getByRole('heading', { name: 'Filters', exact: true })).toBeVisible();
  found.push(...(await violations()));
  await screenshot(page, testInfo, 'security-01-filters-under-csp');
  expect(found).toEqual([]);

  // The watch is not blind: an injected inline script and an inline style are refused, and
  // both refusals are reported.
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.zqInjected = true;';
    document.body.append(script);
    document.body.setAttribute('style', 'background: red');
  });
  await expect.poll(violations).toEqual(
    expect.arrayContaining([expect.stringMatching(/^script-src/), expect.stringMatching(/^style-src/)]),
  );
  expect(await page.evaluate(() => (window as unknown as { zqInjected?: boolean }).zqInjected)).toBeUndefined();
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).not.toBe('rgb(255, 0, 0)');
});

test('no other site can frame zqsync (clickjacking)', async ({ page, baseURL }, testInfo) => {
  await signUp(page, 'Unframeable Co', uniqueEmail('frame'));
  // A page of another origin (about:blank here) that frames the QuickBooks page, where the
  // Activate switch lives: Chromium refuses to show it and puts its error page in the frame.
  await page.goto('about:blank');
  await page.setContent(`<h1>Win a prize</h1><iframe title="framed" src="${baseURL}/quickbooks"></iframe>`);
  await expect
    .poll(() => page.frames().filter((frame) => frame !== page.mainFrame()).map((frame) => frame.url()))
    .toEqual(['chrome-error://chromewebdata/']);
  await expect(page.frameLocator('iframe').getByRole('heading', { name: 'QuickBooks Online' })).toHaveCount(0);
  await screenshot(page, testInfo, 'security-02-framing-refused');
});

test('logging in while the browser holds a dead session cookie lands in the app', async ({ page, browser }, testInfo) => {
  const email = uniqueEmail('stale');
  // Tab 1 shows the log-in page, before any session exists.
  await page.goto('/login');
  await hydrated(page);

  // Tab 2 of the same browser signs up: the browser now holds a session cookie.
  const tab2 = await page.context().newPage();
  await signUp(tab2, 'Stale Cookie Co', email);
  await tab2.close();

  // That session ends elsewhere (logged out from another browser with the same cookie), so the
  // cookie this browser holds is dead, and nothing has told this browser yet.
  const elsewhere = await browser.newContext();
  await elsewhere.addCookies(await page.context().cookies());
  const other = await elsewhere.newPage();
  await other.goto('/');
  await hydrated(other);
  await other.locator('.user-menu-button').click();
  await other.getByRole('menu').getByRole('menuitem', { name: 'Logout' }).click();
  await expect(other).toHaveURL(/\/login$/);
  await elsewhere.close();

  // Logging in from tab 1 sends the dead cookie along; the fresh session must win.
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('.company-name')).toHaveText('Stale Cookie Co');
  // And it is a real session: a full reload stays in the app.
  await page.reload();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('.company-name')).toHaveText('Stale Cookie Co');
  await screenshot(page, testInfo, 'security-03-logged-in-over-dead-cookie');
});

test('words planted in a link never show as our error', async ({ page }, testInfo) => {
  // Leptos brings a form posted without JavaScript back with its error in the URL; a link can
  // carry any error there, and an `?error=` of its own on Settings.
  const planted = Buffer.from(
    JSON.stringify({ Invalid: 'Your account is suspended. Call +1-555-0100 to restore it.' }),
  ).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  await page.goto(`/login?__path=/api/login&__err=${encodeURIComponent(planted)}`);
  await hydrated(page);
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
  await expect(page.getByText('suspended')).toHaveCount(0);

  await signUp(page, 'Spoof Proof Ltd', uniqueEmail('spoof'));
  await page.goto('/settings?error=Your%20account%20is%20suspended.%20Call%20%2B1-555-0100');
  await hydrated(page);
  const alert = page.locator('.banner-error-inline');
  await expect(alert).toHaveText(
    'Connecting Zoho CRM did not work. Start connecting again; if it keeps happening, contact support.',
  );
  await expect(page.getByText('suspended')).toHaveCount(0);
  await screenshot(page, testInfo, 'security-04-planted-error-ignored');
});
