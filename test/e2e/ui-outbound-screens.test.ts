/*
 * Screenshots of every screen the outbound controls added, on a real gateway with mail in every
 * list (held for approval, delayed, a frozen sender, decisions in the action log), in Japanese
 * and English at 1280x800, 800x600 and 1280x800 at 150 %: the Approvals tab (with its badge),
 * delayed mail in the queue screen, the frozen-sender card on the dashboard and the accounts
 * screen, the account editor in approval mode, the two Settings cards, History's actions tab,
 * the reject dialog and the LAN approval page (a message, the refusal of a forged link). Each
 * view is also checked for console errors, CSP violations, unlabelled controls and English
 * leaking into the Japanese screens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ensureRendererBuilt, launchBrowser, openPage, openTab, realProblems, shot, unlabelledControls } from './harness.js';
import { fill, openUiOffice, type UiOffice } from './outbound-office.js';
import { pageLinks } from '../outbound/page-helpers.js';
import { waitFor } from '../outbound/helpers.js';

let browser: Browser;
beforeAll(async () => {
  await ensureRendererBuilt();
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
});

const SIZES = [
  { name: '1280x800', width: 1280, height: 800, scale: 1 },
  { name: '800x600', width: 800, height: 600, scale: 1 },
  { name: '1280x800@1.5', width: 1280, height: 800, scale: 1.5 },
] as const;

/** Words of English UI that must never show on a Japanese screen (addresses and file names aside). */
const ENGLISH = /\b(Approve|Reject|Delayed|Frozen|Unfreeze|Send now|Cancel sending|Sender|Subject|Attachments|Deadline|Approvers|External|Automatic|Settings|Running|Mis-sent)\b/;

async function japaneseOnly(page: Page, where: string): Promise<void> {
  const text = await page.locator('main').first().innerText();
  expect(ENGLISH.exec(text)?.[0] ?? null, `${where}: English on a Japanese screen`).toBeNull();
}

describe('outbound control screens', { timeout: 180_000 }, () => {
  for (const lang of ['ja', 'en'] as const) {
    for (const size of SIZES) {
      it(`${lang} ${size.name}`, async () => {
        const L = (ja: string, en: string) => (lang === 'ja' ? ja : en);
        const u: UiOffice = await openUiOffice();
        try {
          await fill(u.o);
          const { page, problems, context } = await openPage(browser, u.url, { locale: lang, width: size.width, height: size.height, scale: size.scale });
          const name = (s: string) => `outbound-${lang}-${s}-${size.name}`;
          await page.getByTestId('service-state').waitFor();

          // Dashboard: the frozen sender, prominently.
          await page.getByTestId('frozen-senders').first().waitFor();
          await shot(page, name('dashboard-frozen'));

          // Approvals, with the count on its tab.
          const tab = page.getByRole('tab', { name: new RegExp(`^${L('承認待ち', 'Approvals')}`) });
          await expect.poll(() => tab.textContent()).toMatch(/2$/);
          await openTab(page, L('承認待ち', 'Approvals'));
          await page.getByTestId('approval-item').first().waitFor();
          await page.getByTestId('held-text').waitFor();
          await shot(page, name('approvals'));
          expect(await unlabelledControls(page), 'approvals').toEqual([]);
          if (lang === 'ja') await japaneseOnly(page, 'approvals');
          await page.getByRole('button', { name: new RegExp(L('を差し戻す', '^Reject ')) }).click();
          await page.locator('#reject-reason').waitFor();
          await page.locator('dialog[open] button[type=submit]').click();
          await page.locator('dialog[open] .problem').waitFor();
          await shot(page, name('approvals-reject-dialog'));
          await page.keyboard.press('Escape');

          // Delayed mail in the queue screen.
          await openTab(page, L('キュー', 'Queue'));
          await page.getByTestId('delayed-row').first().waitFor();
          await page.getByTestId('delayed-row').first().getByRole('button', { expanded: false }).click();
          await page.getByTestId('held-summary').waitFor();
          await shot(page, name('queue-delayed'));
          expect(await unlabelledControls(page), 'queue').toEqual([]);

          // Accounts: modes in the list, the frozen card, the editor in approval mode.
          await openTab(page, L('アカウント', 'Accounts'));
          await page.getByTestId('account-row').first().waitFor();
          await shot(page, name('accounts'));
          const row = page.getByTestId('account-row').filter({ hasText: 'baito@test.jp' }).first();
          await row.getByRole('button', { name: new RegExp(L('baito@test\\.jp を編集', '^Edit baito@test\\.jp')) }).click();
          await page.getByTestId('mode-editor').scrollIntoViewIfNeeded();
          await page.locator('#acc-approvers').waitFor();
          await shot(page, name('accounts-editor-approval'));
          expect(await unlabelledControls(page), 'account editor').toEqual([]);
          if (lang === 'ja') await japaneseOnly(page, 'account editor');

          // Settings: the two cards.
          await openTab(page, L('設定', 'Settings'));
          const controls = page.getByTestId('outbound-controls');
          await controls.scrollIntoViewIfNeeded();
          await shot(page, name('settings-outbound'));
          await controls.screenshot({ path: `test-results/screenshots/${name('settings-outbound-card')}.png` });
          const pageCard = page.getByTestId('approval-page-settings');
          await pageCard.scrollIntoViewIfNeeded();
          await expect.poll(() => pageCard.getByTestId('approval-page-state').textContent()).toContain('https://127.0.0.1:');
          await shot(page, name('settings-approval-page'));
          await pageCard.screenshot({ path: `test-results/screenshots/${name('settings-approval-page-card')}.png` });
          expect(await unlabelledControls(page), 'settings').toEqual([]);

          // History: approvals and freezes with who and when.
          await openTab(page, L('変更履歴', 'History'));
          await page.getByRole('tab', { name: L('承認・凍結などの操作', 'Approvals and freezes') }).click();
          await expect.poll(() => page.getByTestId('action-row').count()).toBeGreaterThanOrEqual(3);
          await shot(page, name('history-actions'));
          if (lang === 'ja') await japaneseOnly(page, 'history actions');

          // The LAN page, as an approver's browser on another PC sees it (its own context).
          const link = await waitFor(() => pageLinks(u.o.office, 'boss@test.jp').at(-1), 8000, 'a link');
          const approver = await browser.newContext({ locale: lang === 'ja' ? 'ja-JP' : 'en-US', viewport: { width: size.width, height: size.height }, deviceScaleFactor: size.scale, ignoreHTTPSErrors: true });
          const p2 = await approver.newPage();
          await p2.goto(link);
          await p2.getByRole('heading', { level: 1 }).waitFor();
          await shot(p2, name('lan-page'));
          await p2.goto(`${link.slice(0, link.indexOf('/h/'))}/h/${'Z'.repeat(43)}`);
          await shot(p2, name('lan-page-refused'));
          await approver.close();

          expect(realProblems(problems)).toEqual([]);
          await context.close();
        } finally {
          await u.close();
        }
      });
    }
  }
});
