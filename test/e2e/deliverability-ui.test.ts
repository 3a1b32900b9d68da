/*
 * The deliverability screens in real Chromium against the real HTTP host and the fake core,
 * in Japanese and English, at 1280x800, 800x600 and 150 %: routes with sender conditions
 * (edited, checked as typed, saved with routes.set, passwords write-only), the routing
 * table's TLS column, "which route does this pair take", the deliverability page (the check
 * with its records to copy, a DKIM key made and its record, the XOAUTH2 app registered and a
 * device-code sign-in shown), and the dashboard's "login expired" alert taking the admin to
 * the sign-in. Every control has an accessible name; no console error or CSP violation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startAdminServer, type AdminServer } from '../../main/headless/http-server.js';
import { createFake, type Fake } from './fake-handlers.js';
import { STATIC_DIR, ensureRendererBuilt, launchBrowser, openPage, openTab, realProblems, shot, unlabelledControls } from './harness.js';

const TOKEN = 'fake-token-0123456789abcdefghijklmnopqrstuv';
let browser: Browser;
const servers: AdminServer[] = [];

async function host(fake: Fake): Promise<string> {
  const s = await startAdminServer({ handlers: fake.handlers, subscribe: fake.subscribe, host: '127.0.0.1', port: 0, token: TOKEN, staticDir: STATIC_DIR });
  servers.push(s);
  return s.url;
}

beforeAll(async () => {
  await ensureRendererBuilt();
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
});

const SIZES = [
  { tag: '1280', width: 1280, height: 800, scale: 1 },
  { tag: '800', width: 800, height: 600, scale: 1 },
  { tag: '150pct', width: 1280, height: 800, scale: 1.5 },
] as const;

/** Scrolls the open screen (not the document) so `el` is at its top. */
async function scrollTo(page: Page, testId: string): Promise<void> {
  await page.getByTestId(testId).evaluate((el) => {
    const screen = el.closest('.screen')!;
    screen.scrollTop += el.getBoundingClientRect().top - screen.getBoundingClientRect().top - 12;
  });
}

describe('deliverability screens on the fake core', { timeout: 120_000 }, () => {
  for (const lang of ['ja', 'en'] as const) {
    const L = (ja: string, en: string) => (lang === 'ja' ? ja : en);

    it(`routes: routes by sender, TLS per route, which route a pair takes (${lang})`, async () => {
      const fake = createFake();
      const url = await host(fake);
      const { page, problems, context } = await openPage(browser, `${url}/#token=${TOKEN}`, { locale: lang, height: 1000 });
      await openTab(page, L('振り分け設定（Gateway.dat）', 'Routes (Gateway.dat)'));
      await page.getByTestId('route-row').first().waitFor();
      const rows = page.getByTestId('sender-route-row');
      await expect.poll(() => rows.count()).toBe(2);

      // TLS of the routing table: on the primary line of each domain.
      await page.getByLabel(L('test.jp の暗号化', 'Encryption for test.jp'), { exact: true }).selectOption('required');
      await page.getByRole('button', { name: L('保存', 'Save'), exact: true }).first().click();
      await expect.poll(() => fake.state.config.routes[0]?.tls).toBe('required');

      // A new route by sender: checked as typed (nothing saved while it is wrong).
      const box = page.getByTestId('sender-routes');
      await box.getByRole('button', { name: L('＋ 振り分けを追加', '＋ Add route') }).click();
      await page.getByLabel(L('振り分け 3 の送信者', 'Sender of route 3')).fill('not an address@');
      await page.getByLabel(L('振り分け 3 のサーバ', 'Servers of route 3')).fill('127.0.0.5:99999');
      await box.locator('.problem').first().waitFor();
      expect(await box.getByRole('button', { name: L('保存', 'Save'), exact: true }).isDisabled()).toBe(true);
      await page.getByLabel(L('振り分け 3 の送信者', 'Sender of route 3')).fill('sales@test.jp');
      await page.getByLabel(L('振り分け 3 のサーバ', 'Servers of route 3')).fill('relay.partner.example:587, 127.0.0.5');
      await page.getByLabel(L('振り分け 3 のログイン', 'Login of route 3')).selectOption('password');
      await page.getByLabel(L('振り分け 3 のユーザー名', 'User name of route 3')).fill('sales');
      await page.getByLabel(L('振り分け 3 のパスワード', 'Password of route 3')).fill('route-secret');
      await page.getByLabel(L('振り分け 3 の暗号化', 'Encryption of route 3')).selectOption('required');
      await expect.poll(() => box.locator('.problem').allTextContents()).toEqual([]);
      await box.getByRole('button', { name: L('保存', 'Save'), exact: true }).click();
      await box.getByText(L('✓ 保存しました。次のメールから反映されます', '✓ Saved — in effect for the next message')).waitFor();
      expect(fake.state.config.delivery.senderRoutes[2]).toEqual({
        destination: '*',
        sender: 'sales@test.jp',
        hosts: [{ host: 'relay.partner.example', port: 587 }, { host: '127.0.0.5', port: 25 }],
        auth: 'password',
        tls: 'required',
        user: 'sales',
        hasPassword: true,
      });
      // Write-only: the password is not shown again.
      expect(await page.getByLabel(L('振り分け 3 のパスワード', 'Password of route 3')).inputValue()).toBe('');

      // Which route does this pair take?
      const which = page.getByTestId('route-which');
      await page.locator('#which-sender').fill('sales@test.jp');
      await page.locator('#which-recipient').fill('buyer@customer.example');
      await which.getByRole('button', { name: L('送り先を表示', 'Show the route') }).click();
      await page.getByTestId('which-answer').getByText(L('送信者ごとの振り分け *|sales@test.jp により relay.partner.example:587 → 127.0.0.5:25 へ', 'Route by sender *|sales@test.jp: to relay.partner.example:587 → 127.0.0.5:25')).waitFor();

      for (const size of SIZES) {
        await page.setViewportSize({ width: size.width, height: size.height });
        await scrollTo(page, 'sender-routes');
        if (size.scale === 1) await shot(page, `deliv-${lang}-routes-${size.tag}`);
      }
      expect(await unlabelledControls(page), 'routes').toEqual([]);
      expect(realProblems(problems)).toEqual([]);
      await context.close();
      // 150 %: its own context (the scale is fixed per context).
      const hi = await openPage(browser, `${url}/#token=${TOKEN}`, { locale: lang, scale: 1.5 });
      await openTab(hi.page, L('振り分け設定（Gateway.dat）', 'Routes (Gateway.dat)'));
      await hi.page.getByTestId('sender-route-row').first().waitFor();
      await scrollTo(hi.page, 'sender-routes');
      await shot(hi.page, `deliv-${lang}-routes-150pct`);
      expect(realProblems(hi.problems)).toEqual([]);
      await hi.context.close();
    });

    it(`deliverability page: the check, a DKIM key, the XOAUTH2 login (${lang})`, async () => {
      const fake = createFake();
      const url = await host(fake);
      for (const size of SIZES) {
        const { page, problems, context } = await openPage(browser, `${url}/#token=${TOKEN}`, { locale: lang, width: size.width, height: size.height, scale: size.scale });
        await openTab(page, L('到達性（SPF・DKIM）', 'Deliverability'));
        const doctor = page.getByTestId('doctor');
        await doctor.getByRole('button', { name: L('確認する', 'Run the check') }).click();
        await expect.poll(() => page.getByTestId('doctor-result').count()).toBeGreaterThan(5);
        // The plain explanation in the admin's language, and the record to copy.
        await doctor.getByText(L('part.test.jp に SPF レコードがありません', 'part.test.jp has no SPF record')).waitFor();
        await doctor.locator('[data-check="dmarc"][data-status="fail"]').getByRole('textbox', { name: L('レコード _dmarc.part.test.jp の値', 'Value of the record _dmarc.part.test.jp') }).waitFor();
        if (size.tag === '1280') {
          expect(await doctor.locator('[data-check="spf"][data-status="fail"] input[aria-label]').first().inputValue()).toBe('part.test.jp');
        }
        await shot(page, `deliv-${lang}-doctor-${size.tag}`);

        if (size.tag === '1280') {
          // A DKIM key: the selector is checked as typed, then the record to publish shows.
          const dkim = page.getByTestId('dkim');
          await page.locator('#dkim-selector').fill('bad_selector');
          await dkim.getByRole('button', { name: L('鍵を作成', 'Make the key') }).click();
          await page.locator('#dkim-selector-desc .problem').waitFor();
          await page.locator('#dkim-selector').fill('');
          await dkim.getByRole('button', { name: L('鍵を作成', 'Make the key') }).click();
          await dkim.getByText(L('test.jp の鍵を DNS に公開してください', 'Now publish the key of test.jp')).waitFor();
          expect(fake.state.config.dkim.keys.map((k) => `${k.domain} ${k.selector} ${k.algorithm}`)).toEqual(['test.jp s1 rsa']);
          await dkim.getByRole('button', { name: L('DNS を確認', 'Check DNS') }).click();
          await page.getByTestId('dkim-published').getByText(L('未公開', 'Not published')).waitFor();
          await scrollTo(page, 'dkim');
          await shot(page, `deliv-${lang}-dkim-1280`);

          // The XOAUTH2 login: register, then sign in with a code.
          const o = page.getByTestId('oauth');
          await page.locator('#oauth-client').fill('11111111-2222-3333-4444-555555555555');
          await page.locator('#oauth-user').fill('not-a-mailbox');
          await o.getByRole('button', { name: L('保存', 'Save'), exact: true }).click();
          await page.locator('#oauth-user-desc .problem').waitFor();
          await page.locator('#oauth-user').fill('office@tenant.onmicrosoft.com');
          await page.locator('#oauth-tenant').fill('tenant.onmicrosoft.com');
          await o.getByRole('button', { name: L('保存', 'Save'), exact: true }).click();
          await o.getByText(L('未サインイン', 'Not signed in')).waitFor();
          expect(fake.state.config.delivery.oauth).toMatchObject({ provider: 'microsoft', clientId: '11111111-2222-3333-4444-555555555555', user: 'office@tenant.onmicrosoft.com', tenant: 'tenant.onmicrosoft.com', hasClientSecret: false });
          await o.getByRole('button', { name: L('コードでサインイン', 'Sign in with a code') }).click();
          await page.getByTestId('oauth-device').getByText('GH7K-2QPL').waitFor();
          await scrollTo(page, 'oauth-signin');
          await shot(page, `deliv-${lang}-oauth-device-1280`);
          expect(await unlabelledControls(page), 'deliverability').toEqual([]);
          // Finished at the provider: the event alone updates the page.
          fake.emit('oauth', { configured: true, provider: 'microsoft', user: 'office@tenant.onmicrosoft.com', inUse: true, signedIn: true, signedInAt: new Date().toISOString(), flow: null });
          await o.getByText(L('サインイン済み', 'Signed in'), { exact: true }).waitFor();
          // The browser sign-in: the provider's page opens in a new window (the system browser in
          // the desktop app); this page waits, and can open it again or cancel.
          const popup = context.waitForEvent('page');
          await o.getByRole('button', { name: L('ブラウザでサインイン', 'Sign in with the browser') }).click();
          expect((await popup).url()).toBe('about:blank#provider-sign-in');
          await page.getByTestId('oauth-browser').getByText(L('サインイン画面が開きました', 'sign-in page opened')).waitFor();
          expect(await page.getByTestId('oauth-browser').locator('.note').count()).toBe(0);
          await page.getByTestId('oauth-browser').getByRole('button', { name: L('キャンセル', 'Cancel') }).click();
          await o.getByText(L('サインインを取り消しました。', 'The sign-in was cancelled.')).waitFor();
          // Google: no device code (its mail scope needs the browser).
          await o.getByLabel('Google Workspace').check();
          await page.locator('#oauth-secret').fill('g-secret');
          await o.getByRole('button', { name: L('保存', 'Save'), exact: true }).click();
          await expect.poll(() => fake.state.config.delivery.oauth?.provider).toBe('google');
          await expect.poll(() => o.getByRole('button', { name: L('コードでサインイン', 'Sign in with a code') }).count()).toBe(0);
          await o.getByRole('button', { name: L('ブラウザでサインイン', 'Sign in with the browser') }).waitFor();
          expect(fake.state.config.delivery.oauth).toMatchObject({ provider: 'google', hasClientSecret: true });
        }
        expect(realProblems(problems)).toEqual([]);
        await context.close();
      }
    });

    it(`dashboard: a failed token refresh says mail waits, not bounced, and leads to the sign-in (${lang})`, async () => {
      const fake = createFake({
        oauth: { configured: true, provider: 'microsoft', user: 'office@tenant.onmicrosoft.com', inUse: true, signedIn: true, flow: null, token: { ok: false, error: 'invalid_grant: AADSTS70000: the refresh token was revoked', errorCode: 'invalid_grant' } },
      });
      const url = await host(fake);
      for (const size of SIZES) {
        const { page, problems, context } = await openPage(browser, `${url}/#token=${TOKEN}`, { locale: lang, width: size.width, height: size.height, scale: size.scale });
        const alert = page.getByTestId('login-alert');
        await alert.getByText(L('スマートホストへのログインが切れています。メールは送信待ちで、エラーメール（不達通知）にはなっていません', 'Smarthost login expired: mail is waiting, not bounced')).waitFor();
        await alert.getByText('AADSTS70000').waitFor();
        await shot(page, `deliv-${lang}-dashboard-alert-${size.tag}`);
        if (size.tag === '1280') {
          await alert.getByRole('button', { name: L('もう一度サインインする', 'Sign in again') }).click();
          await page.getByTestId('oauth').waitFor();
          expect(await page.getByRole('tab', { selected: true }).textContent()).toContain(L('到達性', 'Deliverability'));
          // Working again: the alert goes away from the event alone.
          fake.emit('oauth', { configured: true, provider: 'microsoft', user: 'office@tenant.onmicrosoft.com', inUse: true, signedIn: true, flow: null, token: { ok: true } });
          await openTab(page, L('ダッシュボード', 'Dashboard'));
          await page.getByTestId('service-state').waitFor();
          expect(await page.getByTestId('login-alert').count()).toBe(0);
        }
        expect(realProblems(problems)).toEqual([]);
        await context.close();
      }
    });
  }
});
