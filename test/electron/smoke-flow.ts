/*
 * The desktop smoke scenario, over any Playwright page showing the admin UI (the Electron
 * window in smoke.test.ts): open Accounts, switch "block external sending" on for
 * baito@test.jp, send one SMTP message from it to an external address (550 at RCPT), then
 * find the `block-external` line for it in the live log. Also seeds a data folder so the
 * first-run setup is already done. Throws (with what it waited for) when a step fails.
 */
import type { Page } from 'playwright-core';
import { Gateway } from '../../main/core/gateway.js';
import { demoConfig } from '../../main/core/config/index.js';
import { SmtpTestClient } from '../helpers/smtp-client.js';

/** A demo data folder past setup: test.jp on loopback, baito@test.jp present but not blocked. */
export async function seedDataDir(dir: string): Promise<void> {
  const gw = await Gateway.open({ dataDir: dir, createWith: demoConfig() });
  await gw.store.update('cli', 'smoke test: baito@test.jp starts unblocked', (d) => {
    d.accounts = d.accounts.map((a) => ({ ...a, blockExternal: false }));
  });
  await gw.close();
}

/** One SMTP transaction up to RCPT; returns the RCPT reply code. */
export async function rcptCode(port: number, from: string, to: string): Promise<number> {
  const c = await SmtpTestClient.connect(port);
  try {
    await c.greeting;
    await c.cmd('EHLO office.test.jp');
    await c.cmd(`MAIL FROM:<${from}>`);
    return (await c.cmd(`RCPT TO:<${to}>`)).code;
  } finally {
    await c.quit().catch(() => undefined);
  }
}

async function openTab(page: Page, name: RegExp): Promise<void> {
  await page.getByRole('tab', { name }).first().click();
}

export async function smokeFlow(page: Page, smtpPort: number, log: (s: string) => void = () => undefined): Promise<void> {
  const external = 'someone@example.com';
  await openTab(page, /^(アカウント|Accounts)(\s\d+)?$/);
  const toggle = page.getByRole('switch', { name: /baito@test\.jp/ });
  await toggle.waitFor({ timeout: 15_000 });
  if (await toggle.isChecked()) throw new Error('baito@test.jp should start unblocked (seedDataDir)');
  if ((await rcptCode(smtpPort, 'baito@test.jp', external)) !== 250) throw new Error('unblocked account was not relayed');
  log('toggling "block external sending" for baito@test.jp');
  await toggle.check();
  await openTab(page, /^(ライブログ|Live log)(\s\d+)?$/);
  // The switch saves through the core; the next RCPT shows when the change is live.
  let code = 0;
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    code = await rcptCode(smtpPort, 'baito@test.jp', external);
    if (code === 550) break;
  }
  if (code !== 550) throw new Error(`expected 550 at RCPT after blocking, got ${code}`);
  log('sent one message from baito@test.jp: 550 at RCPT; looking for the log line');
  // The message view shows the refused mail; the receivelog line names its rule (tooltip).
  await page.getByTestId('message-row').filter({ hasText: 'baito@test.jp' }).filter({ has: page.locator('[data-outcome=rejected]') }).first().waitFor({ timeout: 5_000 });
  await page.getByRole('tab', { name: /^(受信ログ（receivelog）|Receive log \(receivelog\))/ }).click();
  await page.getByTestId('log-row').filter({ has: page.locator('[title^="block-external"]') }).filter({ hasText: 'baito@test.jp' }).first().waitFor({ timeout: 5_000 });
}
