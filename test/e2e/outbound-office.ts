/*
 * The office behind the outbound-control browser tests: a real gateway on a temp folder (the
 * sinks, the clock and the command layer of test/outbound/helpers.ts) with baito@test.jp in
 * approval mode (boss approves, sub stands in), haken@test.jp in delay mode, per-sender limits
 * on, and the LAN approval page on loopback; plus the admin HTTP host on it, as `gatehouse
 * serve` runs it, so the window talks to the real commands and receives the real events.
 * `fill()` puts mail in every list (held for approval, delayed, a frozen sender, decisions in
 * the action log). Everything rejects on failure.
 */
import { createCommands, gatewayPorts } from '../../main/core/commands/index.js';
import { startAdminServer, type AdminServer } from '../../main/headless/http-server.js';
import type { GatehouseConfig } from '../../main/shared/types.js';
import { mailWithAttachment, openOffice, waitFor, type Office } from '../outbound/helpers.js';
import { STATIC_DIR } from './harness.js';

export const TOKEN = 'outbound-ui-token-0123456789abcdefghijklmn';

export interface UiOffice {
  o: Office;
  admin: AdminServer;
  /** The admin window's URL with its token. */
  url: string;
  close(): Promise<void>;
}

export async function openUiOffice(patch: (c: GatehouseConfig) => void = () => undefined): Promise<UiOffice> {
  const o = await openOffice((c) => {
    c.accounts = [
      { pattern: 'baito@test.jp', blockExternal: false, allow: [], note: 'アルバイト', mode: 'approval', approvers: ['boss@test.jp'], standIn: 'sub@test.jp', expireHours: 24 },
      { pattern: 'haken@test.jp', blockExternal: false, allow: [], note: '派遣', mode: 'delay', delayMinutes: 10 },
      { pattern: 'kari@test.jp', blockExternal: true, allow: [], note: '' },
      { pattern: 'tanaka@test.jp', blockExternal: false, allow: [], note: '営業部', bcc: ['archive@test.jp'] },
    ];
    c.outbound.senderLimits = { enabled: true, messagesPerHour: 2, externalRecipientsPerHour: 500, freeze: 'temporary', exempt: ['baito@test.jp', 'haken@test.jp'] };
    c.approvalPage = { enabled: true, listen: { host: '127.0.0.1', port: 0 }, publicUrl: '' };
    patch(c);
  });
  // Past first-run setup: a change made by someone (the window shows its tabs, not Setup).
  await o.call('config.set', { key: 'log', value: { retentionDays: 60 } });
  const gw = o.tg.gw;
  const admin = await startAdminServer({
    handlers: createCommands(gatewayPorts(gw)),
    subscribe: (event, cb) => gw.on(event, cb),
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    staticDir: STATIC_DIR,
  });
  return {
    o,
    admin,
    url: `${admin.url}/#token=${TOKEN}`,
    async close() {
      await admin.close();
      await o.close();
    },
  };
}

/** Sends one message; answers with the held copy's id. */
export async function sendHeld(o: Office, from: string, subject: string, external = ['client@example.com']): Promise<string> {
  const rcpts = ['boss@test.jp', ...external];
  const r = await o.send(from, rcpts, mailWithAttachment(from, rcpts, subject));
  if (r.code !== 250) throw new Error(`send from ${from}: ${r.text}`);
  const m = /held as ([^\s)]+)|queued as ([^\s)]+) \(held\)/.exec(r.text);
  if (!m) throw new Error(`not held: ${r.text}`);
  return (m[1] ?? m[2])!;
}

/** Freezes tobi@test.jp: two messages within its limit, the third goes past it. */
export async function freezeTobi(o: Office): Promise<void> {
  for (let i = 0; i < 3; i++) await o.send('tobi@test.jp', ['boss@test.jp'], `From: tobi@test.jp\r\nTo: boss@test.jp\r\nSubject: ${i}\r\n\r\nhello\r\n`);
  await waitFor(() => o.tg.gw.outbound.frozen.all().length === 1, 5000, 'the freeze');
}

/** Every list has something: two approvals, two delayed, a frozen sender, two decisions. */
export async function fill(o: Office): Promise<{ approvals: string[]; delayed: string[] }> {
  const decided1 = await sendHeld(o, 'baito@test.jp', '先週の議事録');
  const decided2 = await sendHeld(o, 'baito@test.jp', '請求書の再送');
  await o.call('approvals.approve', { id: decided1, as: 'boss@test.jp' }, 'ui');
  await o.call('approvals.reject', { id: decided2, reason: '宛先を確認してください', as: 'sub@test.jp' }, 'cli');
  const approvals = [await sendHeld(o, 'baito@test.jp', '見積書の送付'), await sendHeld(o, 'baito@test.jp', 'Re: 打ち合わせの日程', ['client@example.com', 'yamada@customer.example'])];
  const delayed = [await sendHeld(o, 'haken@test.jp', '納品のご案内'), await sendHeld(o, 'haken@test.jp', '資料送付の件')];
  await freezeTobi(o);
  return { approvals, delayed };
}
