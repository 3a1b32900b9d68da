/*
 * The outbound controls worked from the window and from the LAN page, in real Chromium against
 * a real gateway (SMTP sessions in, sinks out, the admin HTTP host, the LAN page over HTTPS):
 * approve and reject with a reason on the Approvals screen (the list and the badge follow the
 * core's events, never a second fetch), send now and cancel delayed mail, unfreeze a frozen
 * sender, the account editor's modes (with the schema's and the core's issues translated at
 * the fields), the Settings cards, and the LAN page from a second browser context (an
 * approver's PC): approve once, the reused link refused with a clear page, a forged and an
 * expired token refused, while the admin window drops the message by itself; and every state
 * of that page in Japanese (the summary, a reason missing, after approve, after reject, a link
 * used, forged, expired or for another action, a wrong address, too many bad links, a failure
 * inside) walked by the English-sentence detector.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ensureRendererBuilt, launchBrowser, openPage, openTab, realProblems, shot } from './harness.js';
import { freezeTobi, openUiOffice, sendHeld, type UiOffice } from './outbound-office.js';
import { pageLinks } from '../outbound/page-helpers.js';
import { readable, waitFor } from '../outbound/helpers.js';
import { englishSentences } from './english-detector.js';
import { startPageServer } from '../../main/core/approval-page/server.js';

let browser: Browser;
let u: UiOffice | null = null;
beforeAll(async () => {
  await ensureRendererBuilt();
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await u?.close();
  u = null;
});

/** Counts the window's calls of one command (events must replace re-fetching). */
function countCalls(page: Page, command: string): { n: number } {
  const c = { n: 0 };
  page.on('request', (r) => {
    if (r.url().endsWith(`/api/${command}`)) c.n++;
  });
  return c;
}

const external = (x: UiOffice, rcpt: string) => x.o.internet.messages.filter((m) => m.to.includes(rcpt));

describe('outbound controls, worked from the window', { timeout: 90_000 }, () => {
  it('Approvals: approve, reject with a reason; the list and the badge follow the events', async () => {
    u = await openUiOffice();
    const first = await sendHeld(u.o, 'baito@test.jp', '見積書の送付');
    const { page, problems, context } = await openPage(browser, u.url, { locale: 'ja' });
    const lists = countCalls(page, 'approvals.list');
    await page.getByTestId('service-state').waitFor();
    const tab = page.getByRole('tab', { name: /^承認待ち/ });
    await expect.poll(() => tab.textContent()).toMatch(/1$/);
    await openTab(page, '承認待ち');
    const detail = page.getByTestId('approval-detail');
    await expect.poll(() => detail.textContent()).toContain('見積書の送付');
    const text = (await detail.textContent())!;
    expect(text).toContain('mitsumori.pdf');
    expect(text).toContain('2.9 KB');
    expect(text).toContain('お世話になっております。');
    expect(text).toContain('client@example.com');

    // New held mail while the screen is open: it appears by itself (the approvals event).
    const second = await sendHeld(u.o, 'baito@test.jp', '請求書の送付');
    await expect.poll(() => page.getByTestId('approval-item').count()).toBe(2);
    await expect.poll(() => tab.textContent()).toMatch(/2$/);

    await page.getByRole('button', { name: `${first} を承認して送信` }).click();
    await page.getByText('承認しました。外部の宛先に送信します').waitFor();
    await waitFor(() => external(u!, 'client@example.com').length === 1, 8000, 'the approved copy');
    await expect.poll(() => page.getByTestId('approval-item').count()).toBe(1);
    await expect.poll(() => tab.textContent()).toMatch(/1$/);

    // Reject: the reason is required, then the sender's bounce carries it.
    await page.getByRole('button', { name: `${second} を差し戻す` }).click();
    const dialog = page.locator('dialog[open]');
    await expect.poll(() => dialog.textContent()).toContain('請求書の送付');
    await dialog.getByRole('button', { name: '差し戻す', exact: true }).click();
    await dialog.getByText('理由を入力してください。').waitFor();
    await page.locator('#reject-reason').fill('添付ファイルが違います');
    await dialog.getByRole('button', { name: '差し戻す', exact: true }).click();
    await page.getByText('差し戻しました。送信者に理由を書いたエラーメールが届きます').waitFor();
    const dsn = await waitFor(() => u!.o.office.messages.find((m) => m.to.includes('baito@test.jp') && /multipart\/report/i.test(m.raw.toString('latin1'))), 8000, 'the DSN');
    expect(readable(dsn.raw)).toContain('添付ファイルが違います');
    expect(readable(dsn.raw)).toContain('ui');
    await page.getByText('承認待ちのメールはありません。').waitFor();
    expect((await tab.textContent())?.trim()).toBe('承認待ち');
    expect(external(u, 'client@example.com')).toHaveLength(1);

    // History: both decisions, with who and when.
    await openTab(page, '変更履歴');
    await page.getByRole('tab', { name: '承認・凍結などの操作' }).click();
    const rows = page.getByTestId('action-row');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).getAttribute('data-action')).toBe('rejected');
    expect(await rows.nth(0).textContent()).toContain('理由: 添付ファイルが違います');
    expect(await rows.nth(1).textContent()).toContain('管理画面');

    // One list fetch at start; everything after came with the events.
    expect(lists.n).toBe(1);
    expect(realProblems(problems)).toEqual([]);
    await context.close();
  });

  it('delayed mail: send now, and cancel after a confirmation (nothing sent)', async () => {
    u = await openUiOffice();
    const now = await sendHeld(u.o, 'haken@test.jp', '納品のご案内', ['now@example.com']);
    const cancel = await sendHeld(u.o, 'haken@test.jp', '資料送付の件', ['cancel@example.com']);
    const { page, problems, context } = await openPage(browser, u.url, { locale: 'en' });
    const fetches = countCalls(page, 'queue.delayed');
    await page.getByTestId('service-state').waitFor();
    await openTab(page, 'Queue');
    await expect.poll(() => page.getByTestId('delayed-row').count()).toBe(2);
    await page.getByRole('button', { name: `Send ${now} now` }).click();
    await page.getByText('✓ Sent now').waitFor();
    await waitFor(() => external(u!, 'now@example.com').length === 1, 8000, 'the sent copy');
    await expect.poll(() => page.getByTestId('delayed-row').count()).toBe(1);

    await page.getByRole('button', { name: `Cancel sending ${cancel}` }).click();
    const dialog = page.locator('dialog[open]');
    await expect.poll(() => dialog.textContent()).toContain('資料送付の件');
    // "Keep it" leaves it be.
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    expect(await page.getByTestId('delayed-row').count()).toBe(1);
    await page.getByRole('button', { name: `Cancel sending ${cancel}` }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Cancel sending' }).click();
    await page.getByText('Cancelled: nothing goes to its external recipients').waitFor();
    await expect.poll(() => page.getByTestId('delayed-row').count()).toBe(0);
    expect(await u.o.call('queue.delayed')).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(external(u, 'cancel@example.com')).toHaveLength(0);
    expect((await u.o.call('history.actions')).map((a) => [a.action, a.by.via])).toEqual([['cancelled', 'ui'], ['sent-now', 'ui']]);
    expect(fetches.n).toBe(1);
    expect(realProblems(problems)).toEqual([]);
    await context.close();
  });

  it('a frozen sender shows on the dashboard as it happens; one click (confirmed) unfreezes it', async () => {
    u = await openUiOffice();
    const { page, problems, context } = await openPage(browser, u.url, { locale: 'ja' });
    await page.getByTestId('service-state').waitFor();
    expect(await page.getByTestId('frozen-senders').count()).toBe(0);
    await freezeTobi(u.o);
    const card = page.getByTestId('frozen-senders');
    await card.waitFor();
    expect(await card.textContent()).toContain('tobi@test.jp');
    expect(await card.textContent()).toContain('1 時間に 3 通（上限 2 通）');
    await card.getByRole('button', { name: 'tobi@test.jp を凍結解除' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: '凍結解除' }).click();
    await page.getByText('tobi@test.jp を凍結解除しました').waitFor();
    expect(await u.o.call('accounts.frozen')).toEqual([]);
    const r = await u.o.send('tobi@test.jp', ['boss@test.jp'], 'From: tobi@test.jp\r\nTo: boss@test.jp\r\nSubject: again\r\n\r\nok\r\n');
    expect(r.code).toBe(250);
    const actions = await u.o.call('history.actions');
    expect(actions[0]).toMatchObject({ action: 'unfrozen', subject: 'tobi@test.jp', by: { via: 'ui' } });
    expect(realProblems(problems)).toEqual([]);
    await context.close();
  });

  it('the account editor: modes with their fields, issues translated, the list shows each mode', async () => {
    u = await openUiOffice();
    const { page, problems, context } = await openPage(browser, u.url, { locale: 'ja' });
    await page.getByTestId('service-state').waitFor();
    await openTab(page, 'アカウント');
    const row = (p: string) => page.locator(`[data-testid="account-row"][data-pattern="${p}"]`);
    await expect.poll(() => row('haken@test.jp').getByTestId('account-mode').textContent()).toBe('一時保留 10 分');
    expect(await row('baito@test.jp').getByTestId('account-mode').textContent()).toBe('上長承認');
    expect(await row('kari@test.jp').getByTestId('account-mode').textContent()).toBe('禁止');

    // haken: approval with nobody to approve -> the schema's issue, in Japanese, at the field.
    await row('haken@test.jp').getByRole('button', { name: 'haken@test.jp を編集' }).click();
    const editor = page.locator('form.editor');
    await editor.getByLabel(/上長承認/).check();
    await editor.locator('button[type=submit]').click();
    await page.locator('#acc-approvers-desc .problem').waitFor();
    expect(await page.locator('#acc-approvers-desc .problem').textContent()).toMatch(/承認者/);
    // An approver outside the office: the core refuses (internal addresses only), at the field.
    await page.locator('#acc-approvers').fill('someone@example.com');
    await editor.locator('button[type=submit]').click();
    await expect.poll(() => page.locator('#acc-approvers-desc .problem').textContent()).toContain('運用ドメイン');
    await page.locator('#acc-approvers').fill('boss@test.jp');
    await page.locator('#acc-standin').fill('sub@test.jp');
    await page.locator('#acc-expire').fill('8');
    await page.locator('#acc-bcc').fill('archive@test.jp');
    await editor.locator('button[type=submit]').click();
    await expect.poll(() => row('haken@test.jp').getByTestId('account-mode').textContent()).toBe('上長承認');
    let haken = u.o.tg.gw.store.get().accounts.find((a) => a.pattern === 'haken@test.jp')!;
    // The delay it had is kept for the day it goes back to delay.
    expect(haken).toMatchObject({ mode: 'approval', blockExternal: false, approvers: ['boss@test.jp'], standIn: 'sub@test.jp', expireHours: 8, bcc: ['archive@test.jp'], delayMinutes: 10 });
    expect(await row('haken@test.jp').textContent()).toContain('BCC archive@test.jp');

    // Back to delay, 7 minutes; a wrong number first.
    await row('haken@test.jp').getByRole('button', { name: 'haken@test.jp を編集' }).click();
    expect(await page.locator('#acc-approvers').inputValue()).toBe('boss@test.jp');
    await editor.getByLabel(/一時保留（送信ディレイ）/).check();
    await page.locator('#acc-delay').fill('0');
    await editor.locator('button[type=submit]').click();
    await page.locator('#acc-delay-desc .problem').waitFor();
    await page.locator('#acc-delay').fill('7');
    await editor.locator('button[type=submit]').click();
    await expect.poll(() => row('haken@test.jp').getByTestId('account-mode').textContent()).toBe('一時保留 7 分');
    haken = u.o.tg.gw.store.get().accounts.find((a) => a.pattern === 'haken@test.jp')!;
    expect(haken).toMatchObject({ mode: 'delay', delayMinutes: 7, approvers: ['boss@test.jp'] });

    // A new account, blocked by default as before; relay for tanaka clears nothing else.
    await page.getByRole('button', { name: '＋ アカウントを追加' }).click();
    await page.locator('#acc-pattern').fill('shinjin@test.jp');
    expect(await editor.getByLabel(/外部への送信を禁止/).isChecked()).toBe(true);
    await editor.locator('button[type=submit]').click();
    await expect.poll(() => row('shinjin@test.jp').getByTestId('account-mode').textContent()).toBe('禁止');
    // The mail follows the new mode at once: haken's external copy waits 7 minutes.
    const id = await sendHeld(u.o, 'haken@test.jp', '確認');
    const delayed = await u.o.call('queue.delayed');
    const d = delayed.find((x) => x.id === id)!;
    expect(Date.parse(d.until) - Date.parse(d.receivedAt)).toBe(7 * 60_000);
    expect(realProblems(problems)).toEqual([]);
    await context.close();
  });

  it('Settings: the 誤送信防止 card and the approval page card save live; HTTP is warned about', async () => {
    u = await openUiOffice();
    const { page, problems, context } = await openPage(browser, u.url, { locale: 'en' });
    await page.getByTestId('service-state').waitFor();
    await openTab(page, 'Settings');
    const controls = page.getByTestId('outbound-controls');
    await controls.scrollIntoViewIfNeeded();
    await page.locator('#set-bcc-over').fill('10');
    await page.locator('#set-admin-address').fill('admin@example.com');
    await controls.getByRole('button', { name: 'Save' }).click();
    // The core's rule (notices stay inside) comes back at the field, translated by its code.
    await expect.poll(() => page.locator('#set-admin-address-desc .problem').textContent()).toContain('internal domain');
    await page.locator('#set-admin-address').fill('admin@test.jp');
    await controls.getByLabel(/550, a permanent error/).check();
    await controls.getByRole('button', { name: 'Save' }).click();
    await controls.getByText('Saved — in effect now').waitFor();
    expect(u.o.tg.gw.store.get().outbound).toMatchObject({ bccConvertOver: 10, adminAddress: 'admin@test.jp', senderLimits: { enabled: true, freeze: 'permanent' } });

    const card = page.getByTestId('approval-page-settings');
    await card.scrollIntoViewIfNeeded();
    await expect.poll(() => card.getByTestId('approval-page-state').textContent()).toMatch(/Running: links start with https:\/\/127\.0\.0\.1:\d+/);
    await page.locator('#set-page-url').fill('https://192.168.0.103:8443/approve');
    await expect.poll(() => page.locator('#set-page-url-desc .problem').count()).toBe(1);
    await page.locator('#set-page-url').fill('https://gatehouse.test.jp:8443');
    await card.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => card.getByTestId('approval-page-state').textContent()).toContain('https://gatehouse.test.jp:8443');
    // A port another program holds: said in the admin's words, the gateway runs on.
    const squatter = (await import('node:http')).createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const taken = (squatter.address() as { port: number }).port;
    await page.locator('#set-page-port').fill(String(taken));
    await card.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => card.getByTestId('approval-page-state').textContent()).toContain(`port ${taken} is used by another program`);
    squatter.close();
    await page.locator('#set-page-port').fill('0');
    await card.getByLabel('Turn on the approval page').uncheck();
    await card.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => card.getByTestId('approval-page-state').textContent()).toContain('Off:');
    expect(u.o.tg.gw.status().approvalPage?.running).toBe(false);
    // STARTTLS off: turning the page on again warns that it would be plain HTTP.
    await u.o.call('config.set', { key: 'tls', value: { mode: 'off', certFile: '', keyFile: '' } });
    await card.getByLabel('Turn on the approval page').check();
    await card.getByTestId('approval-page-http').waitFor();
    expect(realProblems(problems)).toEqual([]);
    await context.close();
  });
});

describe('the LAN approval page from a second browser context', { timeout: 90_000 }, () => {
  it('approve once over HTTPS; the reused link is refused; forged and expired tokens too; the window follows', async () => {
    u = await openUiOffice();
    const id = await sendHeld(u.o, 'baito@test.jp', '見積書の送付');
    // The admin's window, on the Approvals screen.
    const admin = await openPage(browser, u.url, { locale: 'ja' });
    await admin.page.getByTestId('service-state').waitFor();
    await openTab(admin.page, '承認待ち');
    await expect.poll(() => admin.page.getByTestId('approval-item').count()).toBe(1);

    // The approver at another PC: another browser (context), the link from the notice mail.
    const link = await waitFor(() => pageLinks(u!.o.office, 'boss@test.jp')[0], 8000, 'the approver’s link');
    expect(link).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/h\/[A-Za-z0-9_-]{43}$/);
    const approver = await browser.newContext({ locale: 'ja-JP', ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const p = await approver.newPage();
    const pageProblems: string[] = [];
    p.on('console', (m) => {
      // The refusals are 4xx pages on purpose; anything else (a CSP violation) is a problem.
      if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) pageProblems.push(m.text());
    });
    const res = await p.goto(link);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res?.headers()['referrer-policy']).toBe('no-referrer');
    expect(await p.getByRole('heading', { level: 1 }).textContent()).toBe('上長承認の依頼');
    const body = (await p.locator('main').textContent())!;
    expect(body).toContain('見積書の送付');
    expect(body).toContain('mitsumori.pdf (2.9 KB)');
    expect(body).toContain('お世話になっております。');
    // Only that message: no link anywhere but the language switch of this same page.
    const hrefs = await p.locator('a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href')));
    expect(hrefs.every((h) => h?.startsWith('/h/') && h.includes('?lang='))).toBe(true);
    expect(await p.evaluate(() => document.cookie)).toBe('');
    // The English switch, then approve.
    await p.getByRole('link', { name: 'English' }).click();
    await p.getByRole('button', { name: 'Approve and send' }).waitFor();
    await p.getByRole('button', { name: 'Approve and send' }).click();
    await p.getByText('Approved: the message is sent to its external recipients.').waitFor();
    await waitFor(() => external(u!, 'client@example.com').length === 1, 8000, 'the approved copy');
    // The admin's window drops it by itself.
    await admin.page.getByText('承認待ちのメールはありません。').waitFor();

    // The same link again (in the browser's language, Japanese): a clear refusal, nothing sent twice.
    const again = await p.goto(link);
    expect(again?.status()).toBe(409);
    await p.getByText('このメールはすでに処理されています').waitFor();
    // ...and the form posted again (the browser's back button and resubmit), in English.
    await p.goto(`${link}?lang=en`);
    await p.getByText('This message was already dealt with').waitFor();
    // A forged token, and a token that expired.
    const base = link.slice(0, link.indexOf('/h/'));
    const forged = await p.goto(`${base}/h/${'Q'.repeat(43)}?lang=ja`);
    expect(forged?.status()).toBe(404);
    await p.getByText('このリンクは無効です').waitFor();
    const second = await sendHeld(u.o, 'baito@test.jp', '二通目');
    const expiredToken = await u.o.tg.gw.outbound.held.issueToken(second, 'approver', 'boss@test.jp', new Date(Date.now() - 60_000));
    const expired = await p.goto(`${base}/h/${expiredToken}?lang=ja`);
    expect(expired?.status()).toBe(410);
    await p.getByText('このリンクの期限が切れています。').waitFor();
    await new Promise((r) => setTimeout(r, 300));
    expect(external(u, 'client@example.com')).toHaveLength(1);
    const actions = await u.o.call('history.actions');
    expect(actions[0]).toMatchObject({ action: 'approved', subject: id, by: { via: 'lan', address: 'boss@test.jp' } });
    expect(pageProblems).toEqual([]);
    expect(realProblems(admin.problems)).toEqual([]);
    await approver.close();
    await admin.context.close();
  });
  it('every state of the page in Japanese has no English sentence', async () => {
    u = await openUiOffice();
    const approveId = await sendHeld(u.o, 'baito@test.jp', '見積書の送付');
    const rejectId = await sendHeld(u.o, 'baito@test.jp', '請求書の送付');
    const link = await waitFor(() => pageLinks(u!.o.office, 'boss@test.jp')[0], 8000, 'the approver’s link');
    const base = link.slice(0, link.indexOf('/h/'));
    const held = u.o.tg.gw.outbound.held;
    const tokenFor = async (id: string) => `${base}/h/${await held.issueToken(id, 'approver', 'boss@test.jp')}`;
    const approver = await browser.newContext({ locale: 'ja-JP', ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const p = await approver.newPage();
    const seen: string[] = [];
    const check = async (state: string) => {
      expect(await p.evaluate(() => document.documentElement.lang), state).toBe('ja');
      expect(await englishSentences(p), state).toEqual([]);
      seen.push(state);
      await shot(p, `lan-page-ja-${seen.length}`);
    };

    // The summary, then approve: the result page.
    const approveLink = await tokenFor(approveId);
    await p.goto(approveLink);
    await p.getByRole('heading', { level: 1, name: '上長承認の依頼' }).waitFor();
    await check('summary');
    await p.getByRole('button', { name: '承認して送信' }).click();
    await p.locator('[data-result=approve]').waitFor();
    await check('approved');
    // The same link again: the message was dealt with.
    await p.goto(approveLink);
    await p.locator('[data-reason=decided]').waitFor();
    await check('used link (decided)');

    // Reject: a reason of blanks comes back with the problem, then a real one.
    const rejectLink = await tokenFor(rejectId);
    await p.goto(rejectLink);
    await p.locator('#reason').fill('   ');
    await p.getByRole('button', { name: '差し戻す' }).click();
    await p.getByText('差し戻すときは理由を入力してください。').waitFor();
    await check('reason missing');
    await p.locator('#reason').fill('宛先を確認してください');
    await p.getByRole('button', { name: '差し戻す' }).click();
    await p.locator('[data-result=reject]').waitFor();
    await check('rejected');

    // A link for another action (an approver's link asked to cancel), expired, forged.
    const third = await sendHeld(u.o, 'baito@test.jp', '三通目');
    await p.goto(await tokenFor(third));
    await p.getByRole('button', { name: '承認して送信' }).evaluate((b) => ((b as HTMLButtonElement).value = 'cancel'));
    await p.getByRole('button', { name: '承認して送信' }).click();
    await p.locator('[data-reason=wrongAction]').waitFor();
    await check('wrong action');
    const expiredToken = await held.issueToken(third, 'approver', 'boss@test.jp', new Date(Date.now() - 60_000));
    await p.goto(`${base}/h/${expiredToken}`);
    await p.locator('[data-reason=expired]').waitFor();
    await check('expired');
    await p.goto(`${base}/`);
    await p.locator('[data-reason=notFound]').waitFor();
    await check('not found');
    // Forged links until the limiter answers (429): both pages in Japanese.
    let status = 0;
    for (let i = 0; i < 40 && status !== 429; i++) {
      status = (await p.goto(`${base}/h/${String(i).padStart(43, 'Q')}`))?.status() ?? 0;
      if (i === 0) {
        await p.locator('[data-reason=unknown]').waitFor();
        await check('forged');
      }
    }
    expect(status).toBe(429);
    await p.locator('[data-reason=limited]').waitFor();
    await check('too many bad links');
    await approver.close();

    // A failure inside the core (its disk, say): a stand-in core whose decision throws, behind
    // the same server; the page says so in Japanese, the English details go to the log only.
    const logged: string[] = [];
    const item = (await u.o.call('approvals.list'))[0]!;
    const broken = await startPageServer({
      host: '127.0.0.1',
      port: 0,
      handlers: {
        verify: async () => ({ ok: true, item, purpose: 'approver', address: 'boss@test.jp', expiresAt: item.until }),
        consume: async () => {
          throw new Error('EIO: i/o error, write');
        },
      },
      onError: (m) => logged.push(m),
    });
    const other = await browser.newContext({ locale: 'ja-JP', viewport: { width: 800, height: 600 } });
    const q = await other.newPage();
    await q.goto(`http://127.0.0.1:${broken.port}/h/${'A'.repeat(43)}`);
    await q.getByRole('button', { name: '承認して送信' }).click();
    await q.getByRole('heading', { level: 1, name: '処理できませんでした' }).waitFor();
    await q.locator('[data-reason=failed]').waitFor();
    expect(await q.content()).not.toContain('EIO');
    expect(await englishSentences(q)).toEqual([]);
    await shot(q, 'lan-page-ja-failed-800');
    expect(logged).toEqual(['approval page: EIO: i/o error, write']);
    await other.close();
    await broken.close();
    expect(seen).toHaveLength(10);
  });
});
