/*
 * The LAN approval page over real sockets: a gateway on a temp folder with its page on
 * loopback, mail held by real SMTP sessions, the page's links read from the notice mails the
 * office sink received, and plain HTTP(S) requests as a browser on another PC would make them.
 * Off by default (no page, notices with CLI instructions); on: one link per approver, the
 * summary of that one message only, strict headers, approve once (a reuse is refused with a
 * clear page and nothing is sent twice), reject needs a reason, a forged or expired token is
 * refused, failures are rate-limited without locking out a valid link, a foreign Origin is
 * refused, a sender's link cancels or sends delayed mail now; HTTPS with the STARTTLS
 * certificate; moved and turned off by a config change without a restart.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatehouseConfig } from '../../main/shared/types.js';
import { mailWithAttachment, openOffice, readable, waitFor, type Office } from './helpers.js';
import { pageLinks, postForm, request, tokenOf } from './page-helpers.js';

let o: Office;
afterEach(async () => {
  await o?.close();
});

const approvalAccount = { pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '', mode: 'approval' as const, approvers: ['boss@test.jp'], standIn: 'sub@test.jp', expireHours: 24 };

function withPage(c: GatehouseConfig, tls: 'off' | 'auto' = 'off'): void {
  c.accounts = [approvalAccount, { pattern: 'haken@test.jp', blockExternal: false, allow: [], note: '', mode: 'delay', delayMinutes: 10 }];
  c.tls = { mode: tls, certFile: '', keyFile: '' };
  c.approvalPage = { enabled: true, listen: { host: '127.0.0.1', port: 0 }, publicUrl: '' };
}

async function hold(o: Office, from = 'baito@test.jp', subject = '見積書の送付'): Promise<string> {
  const r = await o.send(from, ['boss@test.jp', 'client@example.com'], mailWithAttachment(from, ['boss@test.jp', 'client@example.com'], subject));
  expect(r.code).toBe(250);
  return /held as ([^\s)]+)/.exec(r.text)![1]!;
}

const base = (link: string) => link.slice(0, link.indexOf('/h/'));

describe('the LAN approval page', () => {
  it('is off by default: no listener, notices carry the CLI instructions', async () => {
    o = await openOffice((c) => void (c.accounts = [approvalAccount]));
    expect(o.tg.gw.status().approvalPage).toEqual({ running: false, url: null, https: false, error: null, errorCode: null });
    const id = await hold(o);
    await waitFor(() => o.office.messages.some((m) => m.to.includes('boss@test.jp') && m.from === ''), 8000, 'the approval request');
    const request = o.office.messages.find((m) => m.to.includes('boss@test.jp') && m.from === '')!;
    expect(readable(request.raw)).toContain(`gatehouse approvals approve ${id}`);
    expect(pageLinks(o.office, 'boss@test.jp')).toEqual([]);
  });

  it('approve once over HTTP: the summary, strict headers, a reused link refused, nothing sent twice', async () => {
    o = await openOffice((c) => withPage(c));
    const st = o.tg.gw.status().approvalPage!;
    expect(st).toMatchObject({ running: true, https: false, error: null });
    expect(st.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const id = await hold(o);
    // One link per approver: boss and the stand-in each get their own.
    const links = await waitFor(() => {
      const b = pageLinks(o.office, 'boss@test.jp');
      const s = pageLinks(o.office, 'sub@test.jp');
      return b.length && s.length ? { boss: b[0]!, sub: s[0]! } : null;
    }, 8000, 'the approvers’ links');
    expect(links.boss).not.toBe(links.sub);
    expect(links.boss.startsWith(`${st.url}/h/`)).toBe(true);
    expect(readable(o.office.messages.find((m) => m.to.includes('boss@test.jp') && m.from === '')!.raw)).toContain('承認・差し戻し: http://');

    const page = await request(links.boss, { headers: { 'accept-language': 'ja,en;q=0.8' } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(page.headers['content-security-policy']).toMatch(/form-action 'self'/);
    expect(page.headers['content-security-policy']).not.toMatch(/script-src|unsafe-inline/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['set-cookie']).toBeUndefined();
    expect(page.body).toContain('<html lang="ja">');
    expect(page.body).toContain('見積書の送付');
    expect(page.body).toContain('mitsumori.pdf (2.9 KB)');
    expect(page.body).toContain('client@example.com');
    expect(page.body).toContain('お世話になっております。');
    expect(page.body).toContain('boss@test.jp さん用');
    expect(page.body).not.toMatch(/<script|<a href="\/(?!h\/)/);
    const en = await request(`${links.boss}?lang=en`);
    expect(en.body).toContain('<html lang="en">');
    expect(en.body).toContain('Approve and send');
    expect((await request(links.boss, { headers: { 'accept-language': 'en-US,en;q=0.9' } })).body).toContain('<html lang="en">');

    // Reject without a reason: the page comes back with the problem and the token stays usable.
    const noReason = await postForm(base(links.boss), { token: tokenOf(links.boss), action: 'reject', reason: '  ', lang: 'ja' });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toContain('理由を入力してください');
    // A cross-site form (another origin) is refused before anything is looked at.
    const foreign = await postForm(base(links.boss), { token: tokenOf(links.boss), action: 'approve' }, { headers: { origin: 'http://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(o.internet.messages).toHaveLength(0);

    // With no-referrer a browser sends `Origin: null` on the page's own form: that is fine.
    const ok = await postForm(base(links.boss), { token: tokenOf(links.boss), action: 'approve', lang: 'ja' }, { headers: { origin: 'null' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('承認しました');
    await waitFor(() => o.internet.messages.length >= 1, 8000, 'the external copy');

    // The same link again, and the stand-in's link: refused with a clear page, nothing sent again.
    const again = await postForm(base(links.boss), { token: tokenOf(links.boss), action: 'approve', lang: 'en' });
    expect(again.status).toBe(409);
    expect(again.body).toContain('already dealt with');
    const reopened = await request(links.sub, { headers: { 'accept-language': 'ja' } });
    expect(reopened.status).toBe(409);
    expect(reopened.body).toContain('すでに処理されています');
    await new Promise((r) => setTimeout(r, 300));
    expect(o.internet.messages).toHaveLength(1);

    const receive = await o.tg.receive();
    expect(receive.find((e) => e.event === 'hold' && e.rule === 'approved')).toMatchObject({ queueId: id, by: 'lan boss@test.jp' });
    const actions = await o.call('history.actions');
    expect(actions[0]).toMatchObject({ action: 'approved', subject: id, by: { via: 'lan', address: 'boss@test.jp' } });
  });

  it('reject with a reason from the page: the sender gets it in the DSN', async () => {
    o = await openOffice((c) => withPage(c));
    await hold(o);
    const link = await waitFor(() => pageLinks(o.office, 'sub@test.jp')[0], 8000, 'the stand-in’s link');
    const r = await postForm(base(link), { token: tokenOf(link), action: 'reject', reason: '宛先を確認してください', lang: 'ja' });
    expect(r.status).toBe(200);
    expect(r.body).toContain('差し戻しました');
    const dsn = await waitFor(() => o.office.messages.find((m) => m.to.includes('baito@test.jp') && /multipart\/report/i.test(m.raw.toString('latin1'))), 8000, 'the DSN');
    expect(readable(dsn.raw)).toContain('宛先を確認してください');
    expect(readable(dsn.raw)).toContain('lan sub@test.jp');
    expect(o.internet.messages).toHaveLength(0);
  });

  it('forged, malformed and expired tokens are refused; failures are rate-limited, a valid link never', async () => {
    o = await openOffice((c) => withPage(c));
    const id = await hold(o);
    const link = await waitFor(() => pageLinks(o.office, 'boss@test.jp')[0], 8000, 'the link');
    const url = base(link);
    const forged = await request(`${url}/h/${'A'.repeat(43)}`, { headers: { 'accept-language': 'en' } });
    expect(forged.status).toBe(404);
    expect(forged.body).toContain('This link is not valid');
    expect((await request(`${url}/h/not-a-token`)).status).toBe(404);
    expect((await postForm(url, { token: 'x'.repeat(43), action: 'approve' })).status).toBe(404);
    // A token made to expire already (the core issues it; a notice would carry it).
    const expired = await o.tg.gw.outbound.held.issueToken(id, 'approver', 'boss@test.jp', new Date(Date.now() - 1000));
    const exp = await request(`${url}/h/${expired}`, { headers: { 'accept-language': 'ja' } });
    expect(exp.status).toBe(410);
    expect(exp.body).toContain('期限が切れています');
    expect((await postForm(url, { token: expired, action: 'approve' })).status).toBe(410);

    // Keep guessing from one address: past 20 a minute the answer is 429 with Retry-After...
    let last = forged;
    for (let i = 0; i < 25; i++) last = await request(`${url}/h/${String(i).padStart(43, 'B')}`);
    expect(last.status).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    // ...while the approver's real link, from the same address, still works.
    expect((await request(link)).status).toBe(200);
    const ok = await postForm(url, { token: tokenOf(link), action: 'approve', lang: 'en' });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('Approved');
    // Another PC (another address) is not slowed by this one's guesses.
    expect((await request(`${url}/h/${'C'.repeat(43)}`, { localAddress: '127.0.0.9' })).status).toBe(404);
    expect(o.internet.messages.length).toBeLessThanOrEqual(1);
    await waitFor(() => o.internet.messages.length === 1, 8000, 'the external copy');
  });

  it('a sender cancels delayed mail, or sends it now, from the link in the delayed notice', async () => {
    o = await openOffice((c) => withPage(c));
    const first = await hold(o, 'haken@test.jp', '一通目');
    const link1 = await waitFor(() => pageLinks(o.office, 'haken@test.jp')[0], 8000, 'the sender’s link');
    const page = await request(link1, { headers: { 'accept-language': 'ja' } });
    expect(page.body).toContain('一時保留（送信ディレイ）中のメール');
    expect(page.body).toContain('今すぐ送信');
    expect(page.body).toContain('送信取り消し');
    // A sender's link cannot approve.
    expect((await postForm(base(link1), { token: tokenOf(link1), action: 'approve' })).status).toBe(400);
    const cancel = await postForm(base(link1), { token: tokenOf(link1), action: 'cancel', lang: 'ja' });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toContain('送信を取り消しました');
    expect(await o.call('queue.delayed')).toEqual([]);

    await hold(o, 'haken@test.jp', '二通目');
    const link2 = await waitFor(() => pageLinks(o.office, 'haken@test.jp').find((l) => l !== link1), 8000, 'the second link');
    const now = await postForm(base(link2), { token: tokenOf(link2), action: 'send-now', lang: 'en' });
    expect(now.status).toBe(200);
    expect(now.body).toContain('Sent now');
    await waitFor(() => o.internet.messages.length === 1, 8000, 'the external copy');
    const actions = await o.call('history.actions');
    expect(actions.map((a) => a.action)).toEqual(['sent-now', 'cancelled']);
    expect(actions[1]).toMatchObject({ subject: first, by: { via: 'lan', address: 'haken@test.jp' } });
  });

  it('HTTPS with the STARTTLS certificate; follows config changes without a restart', async () => {
    o = await openOffice((c) => withPage(c, 'auto'));
    const st = o.tg.gw.status().approvalPage!;
    expect(st).toMatchObject({ running: true, https: true });
    expect(st.url).toMatch(/^https:\/\//);
    const cert = await fs.readFile(path.join(o.tg.dir, 'tls', 'cert.pem'));
    await hold(o);
    const link = await waitFor(() => pageLinks(o.office, 'boss@test.jp')[0], 8000, 'the link');
    expect(link.startsWith('https://')).toBe(true);
    // Verified against the gateway's own certificate (the host name is the gateway's, not the IP).
    const page = await request(link, { ca: cert });
    expect(page.status).toBe(200);
    expect(page.body).toContain('見積書の送付');
    // Plain HTTP on the TLS port gets nothing useful.
    await expect(request(link.replace('https://', 'http://'))).rejects.toThrow();

    // The public URL changes the links; turning it off stops it (the next notices go without links).
    const cfg = o.tg.gw.store.get().approvalPage;
    await o.call('config.set', { key: 'approvalPage', value: { ...cfg, publicUrl: 'https://gatehouse.test.jp:8443' } });
    await waitFor(() => o.tg.gw.status().approvalPage?.url === 'https://gatehouse.test.jp:8443', 5000, 'the public URL');
    await o.call('config.set', { key: 'approvalPage', value: { ...cfg, enabled: false } });
    await waitFor(() => o.tg.gw.status().approvalPage?.running === false, 5000, 'the page to stop');
    await expect(request(link, { ca: cert })).rejects.toThrow();
    const receive = await o.tg.receive();
    expect(receive.some((e) => e.event === 'service' && /approval page on https:/.test(e.note ?? ''))).toBe(true);
    expect(receive.some((e) => e.event === 'service' && e.note === 'approval page stopped')).toBe(true);
  });

  it('a port that is taken is reported in the status, the gateway runs on', async () => {
    const http = await import('node:http');
    const squatter = http.createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const port = (squatter.address() as { port: number }).port;
    try {
      o = await openOffice((c) => {
        withPage(c);
        c.approvalPage.listen.port = port;
      });
      const st = o.tg.gw.status();
      expect(st.running).toBe(true);
      expect(st.approvalPage).toMatchObject({ running: false, url: null });
      expect(st.approvalPage!.error).toContain('the port is in use');
      expect(st.approvalPage!.errorCode).toBe('port-in-use');
    } finally {
      squatter.close();
    }
  });

  it('the page cannot share the SMTP or admin port (config refused with the field)', async () => {
    o = await openOffice(() => undefined);
    const cfg = o.tg.gw.store.get();
    const clash = await o.call('config.set', { key: 'approvalPage', value: { enabled: true, listen: { host: '127.0.0.1', port: cfg.admin.port }, publicUrl: '' } }).catch((e: { code: string; issues: { path: string; code: string }[] }) => e);
    expect(clash).toMatchObject({ code: 'validation' });
    expect((clash as { issues: { path: string; code: string }[] }).issues).toContainEqual(expect.objectContaining({ path: 'approvalPage.listen.port', code: 'port_clash_with' }));
    const bad = await o.call('config.set', { key: 'approvalPage', value: { enabled: false, listen: { host: '127.0.0.1', port: 8443 }, publicUrl: 'https://x.test.jp/path?q' } }).catch((e: { issues: { path: string; code: string }[] }) => e);
    expect((bad as { issues: { path: string; code: string }[] }).issues).toContainEqual(expect.objectContaining({ path: 'approvalPage.publicUrl', code: 'public_url' }));
  });
});
