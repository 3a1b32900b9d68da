/*
 * End to end against the real `gatehouse serve` in Chromium, one scenario in order on one
 * fresh data folder: first-run setup (office server and smarthost are local SMTP sinks; it
 * leaves no demo account, so baito@test.jp is discovered from its first message),
 * the block-external switch for baito@test.jp driving what nodemailer gets at RCPT (and the
 * live log naming `block-external` within one second), a block made with the CLI showing in
 * the open window from the event alone (no reload, no request), Gateway.dat import from a file, stop
 * and start from the dashboard, the tester, switching the language; screenshots of every
 * screen in both languages and at 150 %. Any console error or CSP violation fails the test.
 */
import { spawnSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import nodemailer from 'nodemailer';
import { ensureRendererBuilt, launchBrowser, openPage, openTab, realProblems, shot, type OpenedPage } from './harness.js';
import { send, startServe, startSink, type Serve, type Sink } from './serve.js';

let browser: Browser;
let serve: Serve;
let office: Sink;
let provider: Sink;
let opened: OpenedPage;
let page: Page;
let smtpPort = 0;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const EXTERNAL = 'someone@example.com';

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function listenPort(p: Page): Promise<number> {
  const text = (await p.getByTestId('listen').textContent()) ?? '';
  const m = /:(\d+)/.exec(text);
  if (!m) throw new Error(`no port in "${text}"`);
  return Number(m[1]);
}

beforeAll(async () => {
  await ensureRendererBuilt();
  [office, provider] = await Promise.all([startSink(), startSink()]);
  serve = await startServe();
  smtpPort = serve.smtpPort ?? 0;
  browser = await launchBrowser();
  opened = await openPage(browser, serve.adminUrl, { locale: 'ja' });
  page = opened.page;
}, 120_000);

afterAll(async () => {
  await opened?.context.close();
  await browser?.close();
  await serve?.stop();
  await office?.close();
  await provider?.close();
});

describe('gatehouse serve + admin UI', { timeout: 60_000 }, () => {
  it('runs the first-run setup from an empty data folder and lands on a working dashboard', async () => {
    await page.locator('#setup-office-host').waitFor();
    expect(page.url()).not.toContain('token=');
    await shot(page, 'real-ja-setup-empty');
    await page.locator('#setup-office-host').fill('127.0.0.1');
    await page.locator('#setup-office-port').fill(String(office.port));
    await page.locator('#setup-domains').fill('test.jp');
    await page.getByLabel('プロバイダの中継サーバ（スマートホスト）を使う').check();
    await page.locator('#setup-sh-host').fill('127.0.0.1');
    await page.locator('#setup-sh-security').selectOption('none');
    await page.locator('#setup-sh-port').fill(String(provider.port));
    await shot(page, 'real-ja-setup-filled');
    await page.getByRole('button', { name: '保存してゲートウェイを開始' }).click();
    await expect.poll(() => page.getByTestId('service-state').textContent(), { timeout: 10_000 }).toBe('稼働中');
    smtpPort = await listenPort(page);
    expect(await canConnect(smtpPort)).toBe(true);
    await shot(page, 'real-ja-dashboard-after-setup');

    // Internal mail goes to the office server through the new route.
    const r = await send(smtpPort, 'tanaka@test.jp', 'suzuki@test.jp');
    expect(r.ok).toBe(true);
    await expect.poll(() => office.messages.length, { timeout: 10_000 }).toBe(1);
  });

  it('blocks and unblocks baito@test.jp from the accounts switch; the live log names block-external within 1 s', async () => {
    // Setup left no demo accounts: baito@test.jp appears once it has sent through the gateway
    // (accounts are discovered from traffic), which the window shows after a reload.
    expect(await send(smtpPort, 'baito@test.jp', EXTERNAL)).toEqual({ ok: true, accepted: [EXTERNAL] });
    await expect.poll(() => provider.messages.filter((m) => m.from === 'baito@test.jp').length, { timeout: 15_000 }).toBe(1);
    await page.reload();
    await page.getByTestId('service-state').waitFor();
    await openTab(page, 'アカウント');
    const toggle = page.getByRole('switch', { name: /baito@test\.jp/ });
    await toggle.waitFor();
    if (await toggle.isChecked()) {
      await toggle.uncheck();
      await page.getByText(/これから外部へ送信できます/).waitFor();
    }
    const passed = await send(smtpPort, 'baito@test.jp', EXTERNAL);
    expect(passed).toEqual({ ok: true, accepted: [EXTERNAL] });

    await toggle.check();
    await page.getByText(/外部宛てのメールは、これから拒否されます/).waitFor();
    await shot(page, 'real-ja-accounts-blocked');

    await openTab(page, 'ライブログ');
    await page.getByTestId('messages').waitFor();
    const rejected = await send(smtpPort, 'baito@test.jp', EXTERNAL);
    const t0 = Date.now();
    expect(rejected.ok).toBe(false);
    expect(rejected.ok ? '' : rejected.error).toMatch(/550/);
    // The message view shows the refused message at once, from the event stream.
    const msg = page.getByTestId('message-row').filter({ hasText: 'baito@test.jp' }).filter({ has: page.locator('[data-outcome=rejected]') });
    await msg.first().waitFor({ timeout: 1000 });
    expect(Date.now() - t0).toBeLessThanOrEqual(1000);
    // One click away, the receivelog line names the rule (its label; the raw name in the tooltip).
    await page.getByRole('tab', { name: '受信ログ（receivelog）' }).click();
    const row = page.getByTestId('log-row').filter({ has: page.locator('[title^="block-external"]') }).filter({ hasText: 'baito@test.jp' });
    await row.first().waitFor({ timeout: 1000 });
    expect(await row.first().textContent()).toContain('外部への送信を禁止');
    await shot(page, 'real-ja-log-block-external');

    await openTab(page, 'アカウント');
    await toggle.uncheck();
    await page.getByText(/これから外部へ送信できます/).waitFor();
    const again = await send(smtpPort, 'baito@test.jp', EXTERNAL);
    expect(again).toEqual({ ok: true, accepted: [EXTERNAL] });
    // Relayed mail leaves through the smarthost (the provider sink): the first one and this one.
    await expect.poll(() => provider.messages.filter((m) => m.from === 'baito@test.jp').length, { timeout: 15_000 }).toBe(3);
  });

  it('shows a change made with the CLI at once, from the event, without reloading or asking', async () => {
    await openTab(page, 'アカウント');
    const toggle = page.getByRole('switch', { name: /baito@test\.jp/ });
    await toggle.waitFor();
    expect(await toggle.isChecked()).toBe(false);
    const asked: string[] = [];
    const onRequest = (req: { url(): string }) => {
      if (/\/api\/(accounts\.list|config\.get)$/.test(new URL(req.url()).pathname)) asked.push(req.url());
    };
    page.on('request', onRequest);
    let loads = 0;
    page.on('load', () => loads++);
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gatehouse.js'), 'accounts', 'block', 'baito@test.jp', '--data', serve.dataDir], { encoding: 'utf8', timeout: 30_000 });
    expect(cli.status, cli.stderr).toBe(0);
    await expect.poll(() => toggle.isChecked(), { timeout: 5000 }).toBe(true);
    const cli2 = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gatehouse.js'), 'accounts', 'unblock', 'baito@test.jp', '--data', serve.dataDir], { encoding: 'utf8', timeout: 30_000 });
    expect(cli2.status, cli2.stderr).toBe(0);
    await expect.poll(() => toggle.isChecked(), { timeout: 5000 }).toBe(false);
    page.off('request', onRequest);
    expect(asked).toEqual([]);
    expect(loads).toBe(0);
    // The change is the CLI's in the trail, written by the gateway.
    await openTab(page, '変更履歴');
    // In Japanese, with the trail's own English text in the tooltip.
    const entry = page.getByText('baito@test.jp の外部への送信を許可').first();
    await entry.waitFor();
    expect(await entry.getAttribute('title')).toBe('unblock baito@test.jp');
  });

  it('imports a Gateway.dat file', async () => {
    const file = path.join(os.tmpdir(), `Gateway-${process.pid}.dat`);
    await fsp.writeFile(file, `# office servers\r\ntest.jp, 127.0.0.1, ${office.port}\r\ntest.jp, 127.0.0.1, 2599\r\nbranch.test.jp, 127.0.0.1, ${office.port}\r\n`);
    try {
      await openTab(page, '振り分け設定（Gateway.dat）');
      await page.getByRole('button', { name: /Gateway\.dat のインポート/ }).click();
      await page.getByTestId('dat-file').setInputFiles(file);
      await expect.poll(() => page.getByTestId('dat-text').inputValue()).toContain('branch.test.jp');
      await page.getByRole('button', { name: 'インポート', exact: true }).click();
      await page.getByText('2 件の振り分けをインポートしました').waitFor();
      await expect.poll(() => page.getByTestId('route-row').count()).toBe(3);
      await expect.poll(() => page.getByRole('textbox', { name: '3 行目のドメイン' }).inputValue()).toBe('branch.test.jp');
      await page.getByText('予備 1').waitFor();
      await shot(page, 'real-ja-routes-imported');

      // A bad file is refused whole, with its line numbers.
      await page.getByTestId('dat-text').fill('test.jp, 127.0.0.1\nok.jp, 127.0.0.1, 25\n');
      await page.getByRole('button', { name: 'インポート', exact: true }).click();
      // The problem in Japanese, by its code: the line number and what is wrong, no English.
      await page.getByRole('alert').filter({ hasText: '1 行目' }).filter({ hasText: '「ドメイン, サーバの IP, ポート」の形ではありません' }).first().waitFor();
      await expect.poll(() => page.getByTestId('route-row').count()).toBe(3);
    } finally {
      await fsp.rm(file, { force: true });
    }
  });

  it('stops and starts the service from the dashboard', async () => {
    await openTab(page, 'ダッシュボード');
    await page.getByRole('button', { name: '受信を停止' }).click();
    // Asked first, saying that queued mail is still delivered.
    await page.getByRole('dialog').getByText(/キューにあるメールの配送は続きます/).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: '受信を停止' }).click();
    await expect.poll(() => page.getByTestId('service-state').textContent(), { timeout: 10_000 }).toBe('停止中');
    await expect.poll(() => canConnect(smtpPort)).toBe(false);
    await shot(page, 'real-ja-dashboard-stopped');
    await page.getByRole('button', { name: '受信を開始' }).click();
    await expect.poll(() => page.getByTestId('service-state').textContent(), { timeout: 10_000 }).toBe('稼働中');
    smtpPort = await listenPort(page);
    await expect.poll(() => canConnect(smtpPort)).toBe(true);
    const r = await send(smtpPort, 'tanaka@test.jp', 'suzuki@test.jp');
    expect(r.ok).toBe(true);
  });

  it('shows the timeline of baito’s mail to a colleague and an outsider, in Japanese and in English', async () => {
    // The seed scenario: the office server sends for the blocked part-timer to both.
    await openTab(page, 'アカウント');
    const toggle = page.getByRole('switch', { name: /baito@test\.jp/ });
    if (!(await toggle.isChecked())) {
      await toggle.check();
      await page.getByText(/外部宛てのメールは、これから拒否されます/).waitFor();
    }
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({ from: 'baito@test.jp', to: [EXTERNAL, 'boss@test.jp'], subject: '=?utf-8?b?6KaL56mN5pu444Gu5Lu2?=', text: 'hello' });
    transport.close();
    expect(info.rejected.map(String)).toEqual([EXTERNAL]);
    const queueId = /queued as (\S+)/.exec(info.response)![1]!;
    await expect.poll(() => office.messages.filter((m) => m.to.includes('boss@test.jp') && m.from === 'baito@test.jp').length, { timeout: 15_000 }).toBe(1);
    await openTab(page, 'ライブログ');
    const row = page.locator(`[data-testid=message-row][data-ref="${queueId}"]`);
    await expect.poll(() => row.locator('[data-outcome]').first().getAttribute('data-outcome'), { timeout: 10_000 }).toBe('delivered');
    await row.getByTestId('open-timeline').click();
    const tl = page.getByTestId('timeline');
    await tl.getByRole('heading', { name: '見積書の件' }).waitFor();
    expect(await tl.getByTestId('tl-queue-id').textContent()).toBe(queueId);
    await tl.getByText('127.0.0.1 から接続').waitFor();
    await tl.getByText(`宛先 ${EXTERNAL} を拒否しました`).waitFor();
    await tl.locator('[data-step=rcpt] .rule[title=block-external]').getByText('外部への送信を禁止').waitFor();
    await tl.getByText('宛先 boss@test.jp を受け付けました').waitFor();
    await tl.getByText(`メールを受け取り、キューに入れました（キュー ID ${queueId}）`).waitFor();
    await tl.getByText(new RegExp(`127\\.0\\.0\\.1:${office.port} へ配送しました（1 回目）`)).waitFor();
    await shot(page, 'real-ja-timeline');
    await page.keyboard.press('Escape');
    await page.getByTestId('lang').selectOption('en');
    await row.getByTestId('open-timeline').click();
    await tl.getByText('Connection from 127.0.0.1').waitFor();
    await tl.getByText(`Recipient ${EXTERNAL} refused`).waitFor();
    await tl.locator('[data-step=rcpt] .rule[title=block-external]').getByText('External sending blocked').waitFor();
    await tl.getByText(`Message received and queued (queue ID ${queueId})`).waitFor();
    await tl.getByText(new RegExp(`Delivered to 127\\.0\\.0\\.1:${office.port} \\(attempt 1\\)`)).waitFor();
    await shot(page, 'real-en-timeline');
    await page.keyboard.press('Escape');
    await page.getByTestId('lang').selectOption('ja');
    await page.getByRole('tab', { name: 'ダッシュボード', exact: true }).waitFor();
    // Leave baito as the next test expects it: unblocked.
    await openTab(page, 'アカウント');
    await toggle.uncheck();
    await page.getByText(/これから外部へ送信できます/).waitFor();
  });

  it('answers the tester with the rule that fires', async () => {
    await openTab(page, 'アカウント');
    const toggle = page.getByRole('switch', { name: /baito@test\.jp/ });
    await toggle.check();
    await page.getByText(/外部宛てのメールは、これから拒否されます/).waitFor();
    await openTab(page, '送信可否テスト');
    await page.locator('#t-sender').fill('baito@test.jp');
    await page.locator('#t-rcpt').fill(EXTERNAL);
    await page.locator('#t-ip').fill('127.0.0.1');
    await page.getByRole('button', { name: '判定する' }).click();
    const recipient = page.getByTestId('decision').first();
    await expect.poll(() => recipient.getByTestId('decision-rule').textContent()).toBe('block-external');
    expect(await recipient.getByTestId('decision-action').textContent()).toBe('拒否');
    await shot(page, 'real-ja-tester');
    // An untrusted client may not relay at all.
    await page.locator('#t-ip').fill('203.0.113.9');
    await page.getByRole('button', { name: '判定する' }).click();
    await expect.poll(() => recipient.getByTestId('decision-rule').textContent()).toBe('relay-denied');
    // An internal recipient is fine.
    await page.locator('#t-rcpt').fill('suzuki@test.jp');
    await page.locator('#t-ip').fill('127.0.0.1');
    await page.getByRole('button', { name: '判定する' }).click();
    await expect.poll(() => recipient.getByTestId('decision-rule').textContent()).toBe('inbound');
  });

  it('switches the language, keeps it across a reload, and shows every screen in both languages', async () => {
    const screens: [string, string, string][] = [
      ['dashboard', 'ダッシュボード', 'Dashboard'],
      ['accounts', 'アカウント', 'Accounts'],
      ['log', 'ライブログ', 'Live log'],
      ['routes', '振り分け設定（Gateway.dat）', 'Routes (Gateway.dat)'],
      ['settings', '設定', 'Settings'],
      ['queue', 'キュー', 'Queue'],
      ['tester', '送信可否テスト', 'Tester'],
      ['history', '変更履歴', 'History'],
    ];
    for (const [id, ja] of screens) {
      await openTab(page, ja);
      await page.waitForTimeout(300);
      await shot(page, `real-ja-${id}`);
    }
    await page.getByTestId('lang').selectOption('en');
    await page.getByRole('tab', { name: 'Dashboard', exact: true }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.reload();
    await page.getByRole('tab', { name: 'Dashboard', exact: true }).waitFor();
    for (const [id, , en] of screens) {
      await openTab(page, en);
      await page.waitForTimeout(300);
      await shot(page, `real-en-${id}`);
    }
    await page.getByTestId('lang').selectOption('ja');
    await page.getByRole('tab', { name: 'ダッシュボード', exact: true }).waitFor();

    // 150 %: a second window on the same session token (sessionStorage is per tab: use the URL).
    const big = await openPage(browser, serve.adminUrl, { locale: 'ja', scale: 1.5 });
    await big.page.getByTestId('service-state').waitFor();
    await big.page.locator('svg[role=img]').waitFor();
    await shot(big.page, 'real-ja-dashboard-150');
    await openTab(big.page, 'ライブログ');
    await big.page.getByTestId('message-row').first().waitFor();
    await shot(big.page, 'real-ja-log-150');
    expect(realProblems(big.problems)).toEqual([]);
    await big.context.close();

    expect(realProblems(opened.problems)).toEqual([]);
  }, 60_000);
});
