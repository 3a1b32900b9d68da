/*
 * The window's part of the outbound controls that this change touches, in real Chromium on the
 * fake core: the tester shows a held outcome (hold-approval) with its own pill and the
 * description in the page's language (screenshots in Japanese and English at 1280x800 and
 * 800x600), and the account editor keeps an approval account's mode, approvers and Bcc when it
 * saves a note (the form does not edit them, so it must send them back unchanged).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startAdminServer, type AdminServer } from '../../main/headless/http-server.js';
import { createFake } from './fake-handlers.js';
import { STATIC_DIR, ensureRendererBuilt, launchBrowser, openPage, openTab, realProblems, shot } from './harness.js';

const TOKEN = 'fake-token-outbound-0123456789abcdefghijk';
let browser: Browser;
const servers: AdminServer[] = [];

beforeAll(async () => {
  await ensureRendererBuilt();
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
});

describe('outbound controls in the window', { timeout: 60_000 }, () => {
  for (const lang of ['ja', 'en'] as const) {
    for (const [width, height] of [[1280, 800], [800, 600]] as const) {
      it(`tester: a held outcome (${lang}, ${width}x${height})`, async () => {
        const fake = createFake();
        await fake.handlers['accounts.setMode']({ pattern: 'baito@test.jp', mode: 'approval', approvers: ['boss@test.jp'] }, { via: 'ui' });
        const s = await startAdminServer({ handlers: fake.handlers, subscribe: fake.subscribe, host: '127.0.0.1', port: 0, token: TOKEN, staticDir: STATIC_DIR });
        servers.push(s);
        const { page, problems, context } = await openPage(browser, `${s.url}/#token=${TOKEN}`, { locale: lang, width, height });
        await page.getByTestId('service-state').waitFor();
        await openTab(page, lang === 'ja' ? '送信可否テスト' : 'Tester');
        await page.locator('#t-sender').fill('baito@test.jp');
        await page.locator('#t-rcpt').fill('client@example.com');
        await page.locator('#t-ip').fill('192.168.0.102');
        await page.getByRole('button', { name: lang === 'ja' ? '判定する' : 'Check' }).click();
        const card = page.getByTestId('decision').first();
        await card.waitFor();
        expect(await card.getByTestId('decision-rule').textContent()).toBe('hold-approval');
        expect(await card.getByTestId('decision-action').textContent()).toBe(lang === 'ja' ? '受付・保留' : 'Accepted, held');
        const text = await card.textContent();
        expect(text).toContain(lang === 'ja' ? '上長承認まで保留' : 'held until an approver approves');
        expect(text).toContain('boss@test.jp');
        await shot(page, `outbound-${lang}-tester-held-${width}x${height}`);
        expect(realProblems(problems)).toEqual([]);
        await context.close();
      });
    }
  }

  it('the account editor keeps the mode, approvers and Bcc it does not edit', async () => {
    const fake = createFake();
    await fake.handlers['accounts.setMode']({ pattern: 'baito@test.jp', mode: 'approval', approvers: ['boss@test.jp'] }, { via: 'ui' });
    await fake.handlers['accounts.setBcc']({ pattern: 'baito@test.jp', bcc: ['archive@test.jp'] }, { via: 'ui' });
    const saved: unknown[] = [];
    const save = fake.handlers['accounts.save'];
    fake.handlers['accounts.save'] = async (args, call) => {
      saved.push(args.account);
      return save(args, call);
    };
    const s = await startAdminServer({ handlers: fake.handlers, subscribe: fake.subscribe, host: '127.0.0.1', port: 0, token: TOKEN, staticDir: STATIC_DIR });
    servers.push(s);
    const { page, problems, context } = await openPage(browser, `${s.url}/#token=${TOKEN}`, { locale: 'en' });
    await page.getByTestId('service-state').waitFor();
    await openTab(page, 'Accounts');
    const row = page.getByTestId('account-row').filter({ hasText: 'baito@test.jp' }).first();
    await row.getByRole('button', { name: /^Edit baito@test\.jp/ }).click();
    await page.locator('#acc-note').fill('part-timer, approval');
    await page.locator('form.editor button[type=submit]').click();
    await expect.poll(() => saved.length).toBe(1);
    expect(saved[0]).toMatchObject({ pattern: 'baito@test.jp', blockExternal: false, mode: 'approval', approvers: ['boss@test.jp'], bcc: ['archive@test.jp'], note: 'part-timer, approval' });
    expect(realProblems(problems)).toEqual([]);
    await context.close();
  });
});
