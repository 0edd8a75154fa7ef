import { defineConfig } from '@playwright/test';
import { tmpdir } from 'os';

// Two servers, each with its own fresh SQLite database: one with the normal 10-minute idle
// limit, one with a 3-second limit for the idle-logout test. scripts/test sets ZQSYNC_BIN and
// ZQSYNC_SITE_ROOT; run from end2end/ by hand, build first with scripts/build.
const bin = process.env.ZQSYNC_BIN ?? '../target/debug/zqsync';
const runDir = process.env.ZQSYNC_E2E_DIR ?? `${tmpdir()}/zqsync-e2e-${process.pid}`;
// scripts/test picks free ports so that two runs on one machine never collide.
export const MAIN_PORT = Number(process.env.ZQSYNC_E2E_PORT ?? 3101);
export const SHORT_IDLE_PORT = Number(process.env.ZQSYNC_E2E_IDLE_PORT ?? 3102);
/** The main server's simulators take five consecutive ports from here; Stripe is the fifth. */
export const MAIN_SANDBOX_PORT = Number(process.env.ZQSYNC_E2E_SANDBOX_PORT ?? 3110);
export const MAIN_STRIPE_URL = `http://127.0.0.1:${MAIN_SANDBOX_PORT + 4}`;
/** The main server's simulated Zoho CRM API (the second port). */
export const MAIN_ZOHO_API_URL = `http://127.0.0.1:${MAIN_SANDBOX_PORT + 1}`;

function server(port: number, idleSecs: number, sandboxPort: number) {
  return {
    command: `rm -rf ${runDir}/${port} && ${bin} serve`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
    env: {
      ZQSYNC_BIND: `127.0.0.1:${port}`,
      ZQSYNC_DATABASE_URL: `sqlite://${runDir}/${port}/zqsync.db`,
      ZQSYNC_SESSION_IDLE_SECS: String(idleSecs),
      // Emails (file transport) land here, not in the checkout.
      ZQSYNC_DATA_DIR: `${runDir}/${port}`,
      ZQSYNC_SANDBOX_PORT: String(sandboxPort),
      // Every test signs up from 127.0.0.1: lift the per-address sign-up limit (5 per 10
      // minutes by default; server/tests/security.rs tests it).
      ZQSYNC_SIGNUPS_PER_ADDRESS: '10000',
      ...(process.env.ZQSYNC_SITE_ROOT ? { ZQSYNC_SITE_ROOT: process.env.ZQSYNC_SITE_ROOT } : {}),
    },
  };
}

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // A hang fails the run with a report in bounded time, never at CI's own deadline.
  globalTimeout: 40 * 60_000,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${MAIN_PORT}`,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  webServer: [server(MAIN_PORT, 600, MAIN_SANDBOX_PORT), server(SHORT_IDLE_PORT, 3, MAIN_SANDBOX_PORT + 10)],
});
