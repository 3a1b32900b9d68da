/*
 * The admin's day in real Chromium against the fake core (fake-handlers.ts: a small office's
 * mail as transactions, timelines and search from the shared MessageBook): every screen and
 * every dialog in Japanese with no English sentence (english-detector.ts); the live log as
 * messages that expand to their SMTP steps and open the timeline (Japanese and English);
 * search across days; CSV export in local time naming the zone; the dashboard's health,
 * problems (each opening its timeline) and route health; pausing sending and holding a domain,
 * each confirmed; stopping receiving confirmed and saying delivery goes on; Gateway.dat
 * "replace all" confirmed; leaving a tab with unsaved edits asks; saving an account says so;
 * Space on an account's switch keeps the focus there; the tester's default client is a host;
 * history and errors in Japanese; and the layout at 800x600 and 150 % on a 1366x768 laptop
 * (tabs on one row that scrolls, no page-wide horizontal scroll, the queue's state and
 * actions on screen). Screenshots at 1280x800, 800x600 and 150 % in both languages go to
 * test-results/screenshots/ (admin-*).
 */
import fsp from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startAdminServer, type AdminServer } from '../../main/headless/http-server.js';
import { createFake, type Fake } from './fake-handlers.js';
import { englishSentences } from './english-detector.js';
import { STATIC_DIR, ensureRendererBuilt, launchBrowser, openPage, openTab, realProblems, shot, unlabelledControls } from './harness.js';

const TOKEN = 'fake-token-0123456789abcdefghijklmnopqrstuv';
let browser: Browser;
const servers: AdminServer[] = [];

async function host(fake: Fake): Promise<string> {
  const s = await startAdminServer({ handlers: fake.handlers, subscribe: fake.subscribe, host: '127.0.0.1', port: 0, token: TOKEN, staticDir: STATIC_DIR });
  servers.push(s);
  return `${s.url}/#token=${TOKEN}`;
}

beforeAll(async () => {
  await ensureRendererBuilt();
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
});

const TABS = {
  dashboard: ['ダッシュボード', 'Dashboard'],
  accounts: ['アカウント', 'Accounts'],
  log: ['ライブログ', 'Live log'],
  routes: ['振り分け設定（Gateway.dat）', 'Routes (Gateway.dat)'],
  deliverability: ['到達性（SPF・DKIM）', 'Deliverability'],
  settings: ['設定', 'Settings'],
  queue: ['キュー', 'Queue'],
  approvals: ['承認待ち', 'Approvals'],
  tester: ['送信可否テスト', 'Tester'],
  history: ['変更履歴', 'History'],
} as const;

async function noEnglish(page: Page, where: string): Promise<void> {
  await page.waitForTimeout(250);
  expect(await englishSentences(page), where).toEqual([]);
}

/** The sizes every screen is seen at: a desktop, a small window, a 1366x768 laptop at 150 %. */
const SIZES = [
  { name: '1280', width: 1280, height: 800, scale: 1 },
  { name: '800', width: 800, height: 600, scale: 1 },
  { name: '150', width: 911, height: 512, scale: 1.5 },
] as const;

describe('the admin’s day, in the window', { timeout: 120_000 }, () => {
  it('walks every screen and every dialog in Japanese without an English sentence', async () => {
    const fake = createFake();
    const { page, problems, context } = await openPage(browser, await host(fake), { locale: 'ja' });
    await page.getByTestId('service-state').waitFor();
    // The detector itself finds an English sentence (and not an id, an address or a code).
    await page.evaluate(() => {
      const p = document.createElement('p');
      p.id = 'probe';
      p.textContent = 'キュー ID m3kx9z3a-0004-7f3k、baito@test.jp、250 2.0.0 Ok — Gateway stopped unexpectedly';
      document.body.append(p);
    });
    expect(await englishSentences(page)).toEqual([expect.stringMatching(/^Gateway stopped unexpectedly /)]);
    await page.evaluate(() => document.getElementById('probe')?.remove());
    const ready: Record<keyof typeof TABS, () => Promise<unknown>> = {
      dashboard: () => page.getByTestId('problem').first().waitFor(),
      accounts: () => page.getByTestId('account-row').first().waitFor(),
      log: () => page.getByTestId('message-row').first().waitFor(),
      routes: () => page.getByTestId('route-row').first().waitFor(),
      // The check runs when asked: its results (good, doubtful, missing, records to publish).
      deliverability: async () => {
        await page.getByTestId('doctor').getByRole('button', { name: '確認する', exact: true }).click();
        await page.getByTestId('doctor-result').first().waitFor();
      },
      settings: () => page.getByTestId('notifications-section').waitFor(),
      queue: () => page.getByTestId('queue-row').first().waitFor(),
      approvals: () => page.getByTestId('held-summary').waitFor(),
      tester: () => page.locator('#t-sender').waitFor(),
      history: () => page.getByTestId('history-row').first().waitFor(),
    };
    for (const id of Object.keys(TABS) as (keyof typeof TABS)[]) {
      await openTab(page, TABS[id][0]);
      await ready[id]();
      await noEnglish(page, id);
    }
    // The live log's other views, a line's detail and a message's steps.
    await openTab(page, 'ライブログ');
    await page.getByTestId('message-row').first().getByRole('button', { name: /SMTP の手順を表示/ }).click();
    await page.getByTestId('message-steps').waitFor();
    await noEnglish(page, 'message steps');
    for (const sub of ['受信ログ（receivelog）', '送信ログ（senderlog）']) {
      await page.getByRole('tab', { name: sub }).click();
      // The newest line: the view follows the end, so the first rows may sit under its header.
      await page.getByTestId('log-row').last().click();
      await page.getByRole('region', { name: '行の詳細' }).waitFor();
      await noEnglish(page, sub);
    }
    // The timeline dialog, from a refused message and from a queued one.
    await openTab(page, 'ダッシュボード');
    await page.getByTestId('problem').filter({ hasText: '外部への送信を禁止' }).first().click();
    await page.getByTestId('timeline').waitFor();
    await noEnglish(page, 'timeline (refused)');
    await page.getByRole('button', { name: '閉じる' }).first().click();
    await openTab(page, 'キュー');
    await page.getByTestId('queue-row').first().getByRole('button', { name: /の経過を表示$/ }).first().click();
    await page.getByTestId('timeline').waitFor();
    await noEnglish(page, 'timeline (queued)');
    await page.keyboard.press('Escape');
    // Every confirmation.
    const confirm = async (open: () => Promise<void>, where: string) => {
      await open();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      await noEnglish(page, where);
      await dialog.getByRole('button', { name: 'キャンセル' }).click();
      await dialog.waitFor({ state: 'hidden' });
    };
    // Approvals: the other waiting message (no subject, no text), and the reject dialog.
    await openTab(page, '承認待ち');
    await page.getByTestId('approval-item').nth(1).click();
    await page.getByTestId('held-summary').getByText('（件名なし）').waitFor();
    await noEnglish(page, 'approval without subject');
    await confirm(() => page.getByRole('button', { name: 'H7Q2P9 を差し戻す' }).click(), 'reject dialog');
    await openTab(page, 'キュー');
    await confirm(() => page.getByTestId('queue-row').first().getByRole('button', { name: /を削除$/ }).click(), 'queue delete');
    await confirm(() => page.getByTestId('queue-row').first().getByRole('button', { name: /エラーメール（不達通知）を返す$/ }).click(), 'queue bounce');
    await openTab(page, 'ダッシュボード');
    await confirm(() => page.getByRole('button', { name: '受信を停止' }).click(), 'stop receiving');
    await confirm(() => page.getByRole('button', { name: '送信を一時停止' }).click(), 'pause sending');
    await page.locator('#dlv-domain').fill('example.com');
    await confirm(() => page.getByRole('button', { name: 'この宛先を保留' }).click(), 'hold domain');
    await openTab(page, '振り分け設定（Gateway.dat）');
    await page.getByRole('button', { name: /Gateway\.dat のインポート/ }).click();
    await page.getByTestId('dat-text').fill('test.jp, 192.168.0.102, 25');
    await page.getByRole('radio', { name: 'すべて置き換え' }).check();
    await noEnglish(page, 'Gateway.dat panel');
    await confirm(() => page.getByRole('button', { name: 'インポート', exact: true }).click(), 'replace all routes');
    await openTab(page, 'アカウント');
    await page.getByRole('button', { name: /アカウントを追加/ }).click();
    await noEnglish(page, 'account editor');
    await page.getByRole('button', { name: 'キャンセル' }).click();
    await page.getByRole('button', { name: 'CSV インポート…' }).click();
    await noEnglish(page, 'CSV import');
    // Leaving a tab with unsaved edits.
    await openTab(page, '設定');
    await page.locator('#set-retry').fill('1, 2, 3');
    await confirm(() => openTab(page, 'キュー'), 'unsaved edits');
    // A notice, and an error from the core with its code (listen-failed).
    await page.getByRole('button', { name: 'テスト通知を送る' }).click();
    await page.getByTestId('notice').waitFor();
    await noEnglish(page, 'notice');
    expect(realProblems(problems)).toEqual([]);
    await context.close();
  });

  it('shows the message timeline in Japanese and in English; search, CSV and the dashboard link to it', async () => {
    for (const lang of ['ja', 'en'] as const) {
      const L = <T,>(ja: T, en: T): T => (lang === 'ja' ? ja : en);
      const fake = createFake();
      const { page, problems, context } = await openPage(browser, await host(fake), { locale: lang });
      await openTab(page, TABS.log[lang === 'ja' ? 0 : 1]);
      // One row per message; a refused one says so and names its rule in the steps.
      const refused = page.getByTestId('message-row').filter({ hasText: 'baito@test.jp' }).filter({ has: page.locator('[data-outcome=rejected]') }).first();
      await refused.waitFor();
      await refused.getByTestId('open-timeline').click();
      const tl = page.getByTestId('timeline');
      await tl.waitFor();
      await tl.locator('[data-step=connect]').waitFor();
      await tl.locator('[data-step=rcpt]').filter({ hasText: L('宛先', 'Recipient') }).filter({ hasText: L('を拒否しました', 'refused') }).first().waitFor();
      const rule = tl.locator('[data-step=rcpt] .rule').first();
      expect(await rule.textContent()).toBe(L('外部への送信を禁止', 'External sending blocked'));
      expect(await rule.getAttribute('title')).toBe('block-external');
      await shot(page, `admin-${lang}-timeline-refused`);
      await page.keyboard.press('Escape');

      // A queued message: its attempts, the reason in words, attachments, the next try.
      await openTab(page, TABS.queue[lang === 'ja' ? 0 : 1]);
      await page.getByTestId('queue-row').filter({ hasText: L('見積書の件（再送）', '見積書の件（再送）') }).getByRole('button', { name: L<RegExp>(/の経過を表示$/, /^Show what happened to/) }).first().click();
      await tl.locator('[data-step=attempt-deferred]').nth(2).waitFor();
      await tl.getByText(L('相手のサーバが接続を受け付けませんでした', 'the server refused the connection')).first().waitFor();
      await tl.getByText('見積書_2025.pdf').waitFor();
      await shot(page, `admin-${lang}-timeline-queued`);
      await page.keyboard.press('Escape');

      // Search across days, then its timeline.
      await openTab(page, TABS.log[lang === 'ja' ? 0 : 1]);
      await page.getByTestId('msg-search').fill('partner.example');
      await page.getByRole('button', { name: L('検索', 'Search'), exact: true }).click();
      await page.getByTestId('search-summary').waitFor();
      const rows = page.getByTestId('message-row');
      expect(await rows.count()).toBeGreaterThan(0);
      for (const text of await rows.allTextContents()) expect(text).toContain('partner.example');
      await shot(page, `admin-${lang}-search`);
      await page.getByRole('button', { name: L('その日のメール一覧に戻る', 'Back to the day’s messages') }).click();

      // CSV: local time, and the header names the zone.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: L('CSV エクスポート', 'Export CSV') }).click()]);
      const csv = (await fsp.readFile((await download.path())!, 'utf8')).replace(/^\uFEFF/, '').split('\r\n');
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      expect(csv[0]).toContain(`(${zone}, UTC`);
      expect(csv[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,/);
      expect(csv[1]).not.toMatch(/Z,/);

      // The dashboard: health, problems in words, each opening its message.
      await openTab(page, TABS.dashboard[lang === 'ja' ? 0 : 1]);
      expect(await page.getByTestId('health').getAttribute('data-level')).toBe('warn');
      await page.getByTestId('route-health').waitFor();
      const deferred = page.getByTestId('problem').filter({ hasText: 'order@partner.example' }).first();
      await deferred.getByText(L('相手のサーバが接続を受け付けませんでした', 'the server refused the connection')).waitFor();
      await deferred.click();
      await tl.locator('[data-step=attempt-deferred]').first().waitFor();
      await page.keyboard.press('Escape');
      // Counts are messages: the queue's deferred tile is the queue's, not attempts.
      expect(await page.getByTestId('queue-deferred').locator('.n').textContent()).toBe('1');
      expect(realProblems(problems)).toEqual([]);
      await context.close();
    }
  });

  it('pauses sending and holds a domain after asking, and says receiving goes on', async () => {
    const fake = createFake();
    const { page, context } = await openPage(browser, await host(fake), { locale: 'ja' });
    const card = page.getByTestId('delivery-card');
    await card.getByTestId('delivery-state').waitFor();
    expect(await card.getByTestId('delivery-state').textContent()).toBe('送信中');
    await card.getByRole('button', { name: '送信を一時停止' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/受信は続き/).waitFor();
    await dialog.getByRole('button', { name: '送信を一時停止' }).click();
    await expect.poll(() => card.getByTestId('delivery-state').textContent()).toBe('送信を一時停止中');
    await page.getByTestId('header-paused').waitFor();
    expect(await page.getByTestId('health').textContent()).toContain('送信を一時停止しています');
    await shot(page, 'admin-ja-dashboard-paused');
    await card.getByRole('button', { name: '送信を再開' }).click();
    await expect.poll(() => card.getByTestId('delivery-state').textContent()).toBe('送信中');
    // Hold a domain: typed check first, then a confirmation.
    await page.locator('#dlv-domain').fill('bad..domain');
    await card.locator('.problem').first().waitFor();
    await page.locator('#dlv-domain').fill('Partner.Example');
    await card.getByRole('button', { name: 'この宛先を保留' }).click();
    await dialog.getByText(/partner\.example（とそのサブドメイン）宛てのメールは/).waitFor();
    await dialog.getByRole('button', { name: 'この宛先を保留' }).click();
    await card.locator('.held').getByText('partner.example').waitFor();
    await card.getByRole('button', { name: 'partner.example 宛ての保留を解除' }).click();
    await card.getByText('保留中のドメインはありません。').waitFor();
    // Stopping receiving asks, and the question says delivery goes on.
    await page.getByRole('button', { name: '受信を停止' }).click();
    await dialog.getByText(/キューにあるメールの配送は続きます/).waitFor();
    await dialog.getByRole('button', { name: '受信を停止' }).click();
    await expect.poll(() => page.getByTestId('service-state').textContent()).toBe('停止中');
    // A start that fails: the core's code in words, the raw text in a tooltip.
    await page.route('**/api/gateway.start', (r) =>
      r.fulfill({ json: { ok: false, error: { code: 'listen-failed', message: 'cannot listen on 0.0.0.0:25: EADDRINUSE address already in use', params: { address: '0.0.0.0:25', reason: 'EADDRINUSE' } } } }),
    );
    await page.getByRole('button', { name: '受信を開始' }).click();
    const alert = page.getByRole('alert').filter({ hasText: '0.0.0.0:25 でメールを受け付けられません' });
    await alert.getByText(/別のプログラム（別のメールサーバなど）が使っています/).waitFor();
    expect(await alert.getAttribute('title')).toContain('EADDRINUSE');
    await noEnglish(page, 'listen-failed');
    await shot(page, 'admin-ja-dashboard-listen-failed');
    await context.close();
  });

  it('confirms Gateway.dat "replace all", guards unsaved edits, says an account was saved and keeps the focus on a switch', async () => {
    const fake = createFake();
    const { page, context } = await openPage(browser, await host(fake), { locale: 'ja' });
    await openTab(page, '振り分け設定（Gateway.dat）');
    await page.getByRole('button', { name: /Gateway\.dat のインポート/ }).click();
    await page.getByTestId('dat-text').fill('test.jp, 192.168.0.110, 25');
    await page.getByRole('radio', { name: 'すべて置き換え' }).check();
    await page.getByRole('button', { name: 'インポート', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('現在の振り分け設定（3 行）を削除し、ファイルの内容に置き換えます。変更履歴から元に戻せます。').waitFor();
    await dialog.getByRole('button', { name: 'キャンセル' }).click();
    expect(fake.state.config.routes).toHaveLength(2);
    await page.getByRole('button', { name: 'インポート', exact: true }).click();
    await dialog.getByRole('button', { name: 'すべて置き換え' }).click();
    await page.getByText('1 件の振り分けをインポートしました').waitFor();
    expect(fake.state.config.routes).toEqual([{ domain: 'test.jp', hosts: [{ host: '192.168.0.110', port: 25 }] }]);

    // Unsaved edits: asked before leaving; staying keeps them, leaving drops them.
    await openTab(page, '設定');
    await page.locator('#set-retry').fill('1, 5, 30');
    await openTab(page, 'キュー');
    await dialog.getByText('この画面には保存していない変更があります。移動すると変更は失われます。').waitFor();
    await shot(page, 'admin-ja-unsaved');
    await dialog.getByRole('button', { name: 'キャンセル' }).click();
    expect(await page.locator('#set-retry').inputValue()).toBe('1, 5, 30');
    await page.getByTestId('delivery-section').getByRole('button', { name: '保存' }).click();
    await expect.poll(() => fake.state.config.delivery.retrySchedule).toEqual([60, 300, 1800]);
    await openTab(page, 'キュー');
    await page.getByTestId('queue-row').first().waitFor();
    // The delay warning must come before the expiry: the core's own rule, as typed.
    await openTab(page, '設定');
    await page.locator('#set-lifetime').fill('2');
    await page.locator('#set-warning').fill('3');
    await page.locator('#set-warning-desc .problem').waitFor();
    await page.locator('#set-warning').fill('1');
    await page.getByTestId('delivery-section').getByRole('button', { name: '保存' }).click();
    await expect.poll(() => fake.state.config.delivery.maxLifetimeSeconds).toBe(7200);

    // Notifications: a threshold and an off switch per condition.
    const n = page.getByTestId('notifications-section');
    await n.locator('#set-notify-queueSize').fill('20');
    await n.getByLabel('配送をあきらめるまでの残り時間').first().uncheck();
    await n.locator('#set-notify-mail').fill('not an address');
    await n.locator('#set-notify-mail-desc .problem').waitFor();
    await n.locator('#set-notify-mail').fill('admin@test.jp');
    await n.scrollIntoViewIfNeeded();
    await shot(page, 'admin-ja-settings-notifications');
    await n.getByRole('button', { name: '保存' }).click();
    await expect.poll(() => fake.state.config.notifications.queueSize.messages).toBe(20);
    expect(fake.state.config.notifications.nearExpiry.enabled).toBe(false);
    expect(fake.state.config.notifications.mailTo).toBe('admin@test.jp');

    // Saving an account says so; Space on a switch keeps the focus on it.
    await openTab(page, 'アカウント');
    await page.getByRole('button', { name: /アカウントを追加/ }).click();
    await page.locator('#acc-pattern').fill('new@test.jp');
    await page.locator('form.editor button[type=submit]').click();
    await page.getByText('new@test.jp を保存しました。次のメールから適用されます').waitFor();
    const sw = page.getByRole('switch', { name: /tanaka@test\.jp/ });
    await sw.focus();
    await page.keyboard.press('Space');
    await page.getByText(/反映しました/).first().waitFor();
    expect(await sw.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await sw.isChecked()).toBe(true);

    // The tester starts from a host of the trusted networks, never a network address.
    await openTab(page, '送信可否テスト');
    const ip = await page.locator('#t-ip').inputValue();
    expect(ip).toBe('192.168.0.102');
    // History in Japanese, the English text in the tooltip.
    await openTab(page, '変更履歴');
    const row = page.getByTestId('history-row').first();
    await row.waitFor();
    expect(await englishSentences(page)).toEqual([]);
    await context.close();
  });

  it('words the core’s error codes: a message approved elsewhere says by whom and when; a sign-in that could not start; a timeout', async () => {
    for (const lang of ['ja', 'en'] as const) {
      const L = <T,>(ja: T, en: T): T => (lang === 'ja' ? ja : en);
      const fake = createFake();
      const { page, problems, context } = await openPage(browser, await host(fake), { locale: lang });
      await openTab(page, TABS.approvals[lang === 'ja' ? 0 : 1]);
      await page.getByTestId('held-summary').waitFor();
      // The approver decided on the LAN page a moment ago; the window has not heard yet.
      fake.decideElsewhere('H7Q2M4', 'approved', { via: 'lan', address: 'boss@test.jp' }, false);
      await page.getByRole('button', { name: L('H7Q2M4 を承認して送信', 'Approve and send H7Q2M4') }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'boss@test.jp' });
      await alert.waitFor();
      expect(await alert.getAttribute('data-code')).toBe('conflict');
      const at = await page.evaluate(() => document.querySelector('[data-code=conflict]')?.textContent ?? '');
      expect(at).toContain(L('このメールはすでに承認されています（boss@test.jp・LAN の承認ページ、', 'This message was already approved (boss@test.jp, LAN approval page, '));
      expect(at).toContain(L('何も変更していません', 'Nothing was changed'));
      // When, in local time as the window shows it (no ISO text), and no "unexpected problem".
      expect(at).toMatch(L(/、2026\/\d\d\/\d\d \d+:\d\d:\d\d）/, /, \d+ \w{3} \d{4}, \d\d:\d\d:\d\d\)/));
      expect(at).not.toMatch(/\d{4}-\d\d-\d\dT/);
      expect(at).not.toContain(L('予期しない', 'unexpected'));
      // The English sentence stays in the tooltip; the decided message left the list.
      expect(await alert.getAttribute('title')).toMatch(/already approved by lan boss@test\.jp/);
      await expect.poll(() => page.getByTestId('approval-item').count()).toBe(1);
      if (lang === 'ja') await noEnglish(page, 'conflict');
      await shot(page, `admin-${lang}-approval-conflict`);

      // A sign-in that could not start: the provider did not answer in time.
      await openTab(page, TABS.deliverability[lang === 'ja' ? 0 : 1]);
      await page.route('**/api/oauth.start', (r) =>
        r.fulfill({ json: { ok: false, error: { code: 'oauth-failed', message: 'sign-in could not start: no answer from login.microsoftonline.com within 15000 ms', params: { reason: 'timeout' } } } }),
      );
      await page.getByRole('button', { name: L('コードでサインイン', 'Sign in with a code') }).click();
      const oauthAlert = page.getByRole('alert').filter({ hasText: L('プロバイダから時間内に応答がありませんでした', 'The provider did not answer in time') });
      await oauthAlert.waitFor();
      expect(await oauthAlert.getAttribute('data-code')).toBe('oauth-failed');
      if (lang === 'ja') await noEnglish(page, 'oauth-failed');
      // A command that timed out on the way (a transport's code).
      await page.route('**/api/doctor.run', (r) => r.fulfill({ json: { ok: false, error: { code: 'timeout', message: 'no answer within 30 s' } } }));
      await page.getByTestId('doctor').getByRole('button', { name: L('確認する', 'Run the check'), exact: true }).click();
      await page.getByRole('alert').filter({ hasText: L('ゲートウェイから時間内に応答がありませんでした', 'The gateway did not answer in time') }).waitFor();
      if (lang === 'ja') await noEnglish(page, 'timeout');
      expect(realProblems(problems)).toEqual([]);
      await context.close();
    }
  });

  it('fits 800x600 and 150 % on a 1366x768 laptop, in both languages, with screenshots of every screen', async () => {
    const fake = createFake();
    const url = await host(fake);
    for (const lang of ['ja', 'en'] as const) {
      for (const size of SIZES) {
        const { page, problems, context } = await openPage(browser, url, { locale: lang, width: size.width, height: size.height, scale: size.scale });
        await page.getByTestId('service-state').waitFor();
        for (const id of Object.keys(TABS) as (keyof typeof TABS)[]) {
          await openTab(page, TABS[id][lang === 'ja' ? 0 : 1]);
          if (id === 'deliverability') {
            await page.getByTestId('doctor').getByRole('button', { name: lang === 'ja' ? '確認する' : 'Run the check', exact: true }).click();
            await page.getByTestId('doctor-result').first().waitFor();
          }
          if (id === 'approvals') await page.getByTestId('held-summary').waitFor();
          await page.waitForTimeout(400);
          await shot(page, `admin-${lang}-${size.name}-${id}`);
          // Nothing makes the whole window scroll sideways; the tabs stay on one row.
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          expect(overflow, `${lang} ${size.name} ${id}`).toBeLessThanOrEqual(0);
          const tabsHeight = await page.getByRole('tablist', { name: lang === 'ja' ? '画面' : 'Sections' }).evaluate((el) => el.getBoundingClientRect().height);
          expect(tabsHeight).toBeLessThan(60);
          // The selected tab is scrolled into view.
          const sel = await page.locator('[role=tab][aria-selected=true]').first().boundingBox();
          expect(sel!.x + sel!.width).toBeLessThanOrEqual(size.width + 1);
          if (id === 'queue') {
            // Every row's state and its last action are on screen.
            for (const r of await page.getByTestId('queue-row').all()) {
              const last = await r.getByRole('button').last().boundingBox();
              expect(last!.x + last!.width, `${size.name} queue actions`).toBeLessThanOrEqual(size.width);
              const state = await r.locator('.pill').first().boundingBox();
              expect(state!.x + state!.width).toBeLessThanOrEqual(size.width);
            }
          }
          if (id === 'approvals') {
            // The chosen message's decisions are on screen, neither cut off at the right nor
            // below the window's bottom edge (they stay in view while the message scrolls).
            for (const b of await page.getByTestId('approval-detail').getByRole('button').all()) {
              const box = await b.boundingBox();
              expect(box!.x + box!.width, `${lang} ${size.name} approval buttons`).toBeLessThanOrEqual(size.width);
              expect(box!.y + box!.height, `${lang} ${size.name} approval buttons`).toBeLessThanOrEqual(size.height);
            }
          }
          if (id === 'log') {
            await page.getByTestId('open-timeline').first().click();
            await page.getByTestId('timeline').waitFor();
            await shot(page, `admin-${lang}-${size.name}-timeline`);
            const box = await page.getByTestId('timeline-dialog').boundingBox();
            expect(box!.width).toBeLessThanOrEqual(size.width);
            await page.keyboard.press('Escape');
          }
        }
        expect(await unlabelledControls(page)).toEqual([]);
        expect(realProblems(problems)).toEqual([]);
        await context.close();
      }
    }
  }, 240_000);
});
